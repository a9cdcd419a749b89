"""
=========================================
Cybersecurity events from a few sentences
=========================================

Fit :class:`~sklearn_fishdip.FishDipEventExtractor` on a few CASIE sentences
with FISH-DIP, then extract the events of unseen sentences and print trigger
and argument scores. Two stages in one model, as in TANL: the model first
brackets the triggers with their types, then, once per trigger, brackets
that trigger's arguments with their roles. The model is the offline default,
which needs no download.

Two minutes on a CPU is far from a real training run: the model fits the
sentences it saw, and what it finds in unseen ones shows how far 16
sentences go.
"""

# %%
# Data
# ----
# ``load_casie`` splits the documents into sentences and tokens and keeps
# the events whose trigger lies in one sentence; the report says what it
# dropped and why. Short sentences with events keep the run quick; the
# training sentences come from the (smaller, quicker to read) dev split.
from sklearn_fishdip.datasets import get_data_home, load_casie

folder = get_data_home() / "casie"
X_all, y_all, report = load_casie(folder, "dev", return_report=True)
print(report.n_events, "events kept; dropped:", dict(report.dropped))
print("offsets whose text differs from the annotation:", report.text_mismatch)
short = [i for i, (x, y) in enumerate(zip(X_all, y_all)) if y and len(x) <= 18]
X_train = [X_all[i] for i in short[:16]]
y_train = [y_all[i] for i in short[:16]]
X_test, y_test, _ = load_casie(folder, "test", return_report=True)
short = [i for i, (x, y) in enumerate(zip(X_test, y_test)) if y and len(x) <= 18][:8]
X_test, y_test = [X_test[i] for i in short], [y_test[i] for i in short]
print(" ".join(X_train[0]))
print(y_train[0])

# %%
# Fit
# ---
# CASIE subtypes and roles are written as words: ``DiscoverVulnerability``
# -> "discover vulnerability", ``Vulnerable_System`` -> "vulnerable system".
# The schema (roles allowed per trigger type) is learned from ``y``.
from sklearn_fishdip import FishDipEventExtractor

events = FishDipEventExtractor(
    keep_ratio=0.01, refresh_every=10, max_epochs=10, random_state=0, verbose=0
)
events.fit(X_train, y_train)
print({kind: len(roles) for kind, roles in events.schema_.items()})
print("training loss per epoch:", [round(h["train_loss"], 2) for h in events.history_])

# %%
# Predict and score
# -----------------
# ``predict`` returns events in the form ``fit`` took. Every gold argument
# counts in the scores (unlike the TANL reference scorer).
from sklearn_fishdip.tasks.events import event_scores


def print_scores(y_true, y_pred):
    for name, r in event_scores(y_true, y_pred).items():
        print(f"  {name}: P={r['precision']:.3f} R={r['recall']:.3f} F1={r['f1']:.3f}")


print("the training sentences:")
print_scores(y_train, events.predict(X_train))
y_pred = events.predict(X_test)
for tokens, gold, pred in list(zip(X_test, y_test, y_pred))[:2]:
    print(" ".join(tokens))
    print("  gold:", gold)
    print("  pred:", pred)
print("unseen sentences:")
print_scores(y_test, y_pred)
