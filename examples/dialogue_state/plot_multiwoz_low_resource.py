"""
===========================================
Dialogue state tracking from 4 dialogues
===========================================

Fit :class:`~sklearn_fishdip.FishDipDialogueStateTracker` on the user turns
of 4 MultiWOZ 2.1 dialogues with FISH-DIP (1% of the pretrained
parameters), then predict the belief state of unseen turns and compare its
joint goal accuracy with the copy baseline of
``benchmarks/dst_copy_baseline.py`` (copy every ontology value said
verbatim). The training dialogues come from ``val.json``: the ConvLab-2 copy
of MultiWOZ 2.1 in the shared data has no training split. The model is the
offline default (MiniLM used as a prefix LM), which needs no download.

Two minutes of CPU is far from a real training run: the tracker fits the
turns it saw, and its answers on unseen turns show how far 16 turns go.
"""

# %%
# Data
# ----
# ``load_multiwoz`` gives one example per user turn: the history so far as
# ``(speaker, text)`` turns and the belief state ``{(domain, slot): value}``
# after it. ``n_dialogues`` draws a seeded sample of dialogues (the
# low-resource protocol uses 42, 84 or 422 of ``val.json``).
from sklearn_fishdip.datasets import get_data_home, load_multiwoz

data = get_data_home() / "multiwoz21"
X_train, y_train = load_multiwoz(data / "val.json", n_dialogues=4, random_state=0)
X_test, y_test = load_multiwoz(data / "test.json", n_dialogues=2, random_state=0)
X_train, y_train = X_train[:16], y_train[:16]
X_test, y_test = X_test[:6], y_test[:6]
print(len(X_train), "training turns; the last turn of the first example:")
print(X_train[1][-1])
print(y_train[1])

# %%
# Fit
# ---
# The target lists, for each domain in the state, all its slots with natural
# names (``pricerange`` -> "price range"), ``not given`` where empty. The
# source keeps the most recent turns that fit ``max_source_length``.
from sklearn_fishdip import FishDipDialogueStateTracker

dst = FishDipDialogueStateTracker(
    keep_ratio=0.01,
    refresh_every=10,
    max_epochs=8,
    max_source_length=96,
    max_target_length=96,
    batch_size=8,
    random_state=0,
    verbose=0,
)
dst.fit(X_train, y_train)
print(f"fit in {dst.timings_['train_s'] + dst.timings_['select_s']:.0f} s")
print("training loss per epoch:", [round(h["train_loss"], 2) for h in dst.history_])

# %%
# Predict and score
# -----------------
# ``predict`` returns a state per turn, known ``(domain, slot)`` pairs only;
# text that does not read back is counted in ``decode_errors_``.
from sklearn_fishdip.tasks.dialogue_state import joint_goal_accuracy, slot_accuracy

train_pred = dst.predict(X_train)
print(
    f"the training turns: joint goal accuracy {joint_goal_accuracy(y_train, train_pred):.3f}, "
    f"slot accuracy {slot_accuracy(y_train, train_pred):.3f}"
)
y_pred = dst.predict(X_test)
for history, gold, pred in list(zip(X_test, y_test, y_pred))[:2]:
    print(history[-1][1])
    print("  gold:", gold)
    print("  pred:", pred)
print("decode errors:", dst.decode_errors_)
print(
    f"joint goal accuracy {joint_goal_accuracy(y_test, y_pred):.3f}, "
    f"slot accuracy {slot_accuracy(y_test, y_pred):.3f} on {len(X_test)} test turns"
)

# %%
# The copy baseline
# -----------------
# No learning: for each domain mentioned in the history, copy every ontology
# value said verbatim, the latest mention winning.
import sys
from pathlib import Path

import sklearn_fishdip

sys.path.insert(0, str(Path(sklearn_fishdip.__file__).resolve().parents[1] / "benchmarks"))
from dst_copy_baseline import CopyBaseline, load_ontology  # noqa: E402

copy_pred = CopyBaseline(load_ontology(data / "ontology.json")).predict(X_test)
print(
    f"copy baseline: joint goal accuracy {joint_goal_accuracy(y_test, copy_pred):.3f}, "
    f"slot accuracy {slot_accuracy(y_test, copy_pred):.3f}"
)
