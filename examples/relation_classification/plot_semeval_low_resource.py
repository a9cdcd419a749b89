"""
===============================================================
Relation classification on 1% of SemEval-2010 Task 8
===============================================================

:class:`~sklearn_fishdip.FishDipRelationClassifier` classifies the relation
between a head and a tail entity of a sentence. Following TANL, the model
reads the sentence with both entities bracketed and a query, and learns to
answer with the relation's natural name::

    [ configuration ] of antenna [ elements ] The relationship between
    [ configuration ] and [ elements ] is
    -> relationship between [ configuration ] and [ elements ] = whole component

It predicts by ranking: the answer of every relation seen in training is
scored under the model, so ``predict_proba`` is exact over the relations and
no malformed answer can come out.

This example trains the default model with FISH-DIP on the FISH-DIP paper's
1% low-resource setting (80 of SemEval's 8,000 training sentences, about
four per label) for three epochs, and scores 60 test sentences with the
accuracy and the task's official macro F1. Expect scores near chance: a few
minutes of CPU and four examples per relation are far from the paper's
budget, and ranking costs one forward pass per relation and sentence.
"""

# %%
# Data: sentences with a head and a tail span, and directed labels
# -----------------------------------------------------------------
from sklearn_fishdip.datasets import get_data_home, load_semeval2010, low_resource_subset

data = get_data_home() / "semeval2010_task8"
X_all, y_all = load_semeval2010(data / "TRAIN_FILE.TXT")
X_test, y_test = load_semeval2010(data / "TEST_FILE_FULL.TXT")
X_train, y_train = low_resource_subset(X_all, y_all, 0.01, random_state=1)
X_test, y_test = X_test[:60], y_test[:60]
print(len(X_train), "training sentences,", len(set(y_train)), "labels")
print(X_train[0], y_train[0])

# %%
# The text the model reads and the one it learns to write; a directed label
# is named by the roles of the head, then the tail:
from sklearn_fishdip.tasks.relation_classification import encode_relation_example

source, target = encode_relation_example(X_train[0], y_train[0])
print(source)
print(target)

# %%
# Fit
# ---
# Three epochs of ten steps, the mask re-selected every ten steps. With the
# default (prefix LM) model, ``training_loss="auto"`` is the grammar loss:
# each target position is normalized over the relations' choices there.
from sklearn_fishdip import FishDipRelationClassifier

classifier = FishDipRelationClassifier(
    keep_ratio=0.01,
    refresh_every=10,
    max_epochs=3,
    batch_size=8,
    random_state=0,
    verbose=0,
)
classifier.fit(X_train, y_train)
print(len(classifier.classes_), "relations known:", classifier.relation_verbalizer_.natural_names)

# %%
# Predict and score
# -----------------
# ``predict`` is the argmax of ``predict_proba``. The official SemEval score
# is the macro F1 over the nine relation types, direction included, ``Other``
# excluded. Test labels not seen in training are left out: ``score`` would
# refuse them, as the classifier can never predict them.
from sklearn.metrics import accuracy_score

from sklearn_fishdip.metrics import semeval2010_f1_score

seen = set(classifier.classes_)
kept = [i for i, label in enumerate(y_test) if label in seen]
X_test, y_test = [X_test[i] for i in kept], [y_test[i] for i in kept]
proba = classifier.predict_proba(X_test)
y_pred = classifier.classes_[proba.argmax(axis=1)]
print(f"{len(X_test)} test sentences")
print(f"accuracy {accuracy_score(y_test, y_pred):.3f}")
print(f"SemEval-2010 Task 8 macro F1 {semeval2010_f1_score(y_test, y_pred):.3f}")

# %%
# The probabilities of the five most likely relations for a few test sentences:
import matplotlib.pyplot as plt
import numpy as np

fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharex=True)
for ax, index in zip(axes, range(3)):
    top = np.argsort(proba[index])[::-1][:5]
    ax.barh(range(5), proba[index][top][::-1])
    ax.set_yticks(range(5), [classifier.classes_[k] for k in top][::-1], fontsize=7)
    ax.set_title(f"gold: {y_test[index]}", fontsize=8)
    ax.set_xlim(0, 1)
fig.supxlabel("predicted probability")
fig.tight_layout()
