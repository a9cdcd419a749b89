"""
=====================================
Joint entity and relation extraction
=====================================

:class:`~sklearn_fishdip.FishDipRelationExtractor` learns entities and the
relations between them as one augmented text, with each relation written on
its head entity::

    [ John Smith | person | works for = Acme ] joined [ Acme | organization ]

This example trains on 40 CoNLL04 sentences with FISH-DIP, shows how targets
look on the way in and predictions on the way out, and scores entities and
strict relations on held-out sentences. Relations need far more training than
two minutes of CPU gives: expect entity scores well above relation scores.
"""

# %%
# Data: targets are entity spans plus relations between them
# -----------------------------------------------------------
from sklearn_fishdip.datasets import get_data_home, load_spert

data = get_data_home() / "conll04"
X_train, y_train = load_spert(data / "train.json")
X_test, y_test = load_spert(data / "test.json")
X_train, y_train = X_train[:40], y_train[:40]
X_test, y_test = X_test[:20], y_test[:20]
print(" ".join(X_train[0]))
print(y_train[0])

# %%
# The augmented text the model is trained to write for that sentence
# (entity types and relation types get natural names):
from sklearn_fishdip.augmented import encode_relations

print(encode_relations(X_train[0], y_train[0]))

# %%
# Fit
# ---
# Relation sentences are longer and denser than NER ones; the same FISH-DIP
# settings as the NER example otherwise.
from sklearn_fishdip import FishDipRelationExtractor

extractor = FishDipRelationExtractor(
    keep_ratio=0.01, refresh_every=10, max_epochs=12, random_state=0, verbose=0
)
extractor.fit(X_train, y_train)
print("entity types:", extractor.entity_types_)
print("relation types:", extractor.relation_types_)

# %%
# Predict and score
# -----------------
# Predictions have the same shape as the targets. ``score`` is strict
# relation F1: a relation counts only when its type and both of its entities
# (span and type) are right.
y_pred = extractor.predict(X_test)
for tokens, gold, pred in list(zip(X_test, y_test, y_pred))[:3]:
    print(" ".join(tokens))
    print("  gold:", gold)
    print("  pred:", pred)
print(extractor.decode_errors_)

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklearn_fishdip.metrics import relation_precision_recall_f1

levels = ["entities", "relations"]
scores = np.array([relation_precision_recall_f1(y_test, y_pred, level=lv) for lv in levels])
fig, ax = plt.subplots(figsize=(5, 3))
width = 0.25
for i, name in enumerate(["precision", "recall", "F1"]):
    ax.bar(np.arange(2) + (i - 1) * width, scores[:, i], width, label=name)
ax.set_xticks(range(2), levels)
ax.set_ylim(0, 1)
ax.set_ylabel(f"micro score, {len(X_test)} test sentences")
ax.legend()
fig.tight_layout()
print({level: round(float(f1), 3) for level, f1 in zip(levels, scores[:, 2])})
