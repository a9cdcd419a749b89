"""
==============================
Named-entity recognition in 40
==============================

Fit :class:`~sklearn_fishdip.FishDipNER` on 40 CoNLL-2003 sentences with
FISH-DIP (1% of the pretrained parameters, re-selected from the highest-loss
sentences), then tag unseen sentences. The model is the offline default:
MiniLM used as a prefix LM (one stack over the sentence and its augmented
text, target positions aligned to the words they copy), which needs no
download.

Two minutes of CPU is far from the paper's 200 epochs: the point here is the
API, the training curve and what the predictions look like. The low-resource
benchmark in the documentation has the figures of full runs.
"""

# %%
# Data
# ----
# ``load_conll`` reads the CoNLL column format; ``low_resource_subset`` draws a
# seeded random subset of training sentences, as the paper's protocol does.
from sklearn_fishdip.datasets import get_data_home, load_conll, low_resource_subset

data = get_data_home() / "conll2003"
X_all, y_all = load_conll(data / "train.txt")
X_train, y_train = low_resource_subset(X_all, y_all, 40 / len(X_all), random_state=0)
X_test, y_test = load_conll(data / "test.txt")
X_test, y_test = X_test[:30], y_test[:30]
print(len(X_train), "training sentences, for example:")
print(list(zip(X_train[0], y_train[0])))

# %%
# Fit
# ---
# ``refresh_every`` counts optimizer steps: 40 sentences at batch 8 are 5
# steps per epoch, so the mask is re-selected every two epochs. Adafactor at
# 1e-2, decaying linearly to 0, is the paper's optimizer. ``verbose=0`` keeps
# the page free of progress bars.
from sklearn_fishdip import FishDipNER

ner = FishDipNER(
    strategy="fish-dip",
    keep_ratio=0.01,
    refresh_every=10,
    max_epochs=16,
    random_state=0,
    verbose=0,
)
ner.fit(X_train, y_train)
print(f"{ner.n_parameters_:,} parameters in the model")
print(f"{ner.n_always_trainable_:,} new ones (not in the checkpoint) trained outside the budget")
print(f"{ner.n_updated_parameters_:,} entries changed by fitting")
print(f"selecting took {ner.timings_['select_s']:.0f} s, training {ner.timings_['train_s']:.0f} s")

# %%
# The training loss per epoch:
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot([h["epoch"] for h in ner.history_], [h["train_loss"] for h in ner.history_], "o-")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_title("FISH-DIP at 1%, 40 sentences")
fig.tight_layout()

# %%
# Predict
# -------
# ``predict`` returns one tag per token. Generation is constrained to copy the
# sentence, so every output maps back onto its tokens; what the decoder still
# had to repair is counted in ``decode_errors_``.
from sklearn_fishdip.metrics import ner_classification_report

y_pred = ner.predict(X_test)
for tokens, gold, pred in list(zip(X_test, y_test, y_pred))[1:4]:
    print(" ".join(tokens))
    print("  gold:", [(t, g) for t, g in zip(tokens, gold) if g != "O"])
    print("  pred:", [(t, p) for t, p in zip(tokens, pred) if p != "O"])
print(ner.decode_errors_)
print(ner_classification_report(y_test, y_pred))

# %%
# ``score`` is entity-level micro F1 (seqeval, strict IOB2), so the estimator
# plugs into scikit-learn's model selection tools as is.
print(f"entity F1 on {len(X_test)} test sentences: {ner.score(X_test, y_test):.3f}")

# %%
# Save and reload
# ---------------
# ``save`` writes a folder: JSON and safetensors with only the entries that
# differ from the pretrained model. ``load`` needs no unpickling.
import tempfile

with tempfile.TemporaryDirectory() as folder:
    ner.save(folder)
    again = FishDipNER.load(folder)
print(again.predict(X_test[:3]) == y_pred[:3])
