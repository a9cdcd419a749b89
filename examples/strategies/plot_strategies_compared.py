"""
========================================
Sparse fine-tuning strategies compared
========================================

The same 32 CoNLL-2003 sentences, the same number of epochs, six ways of
choosing what to train:

- ``"full"``: every parameter (the dense baseline);
- ``"fish-dip"``: 1% chosen by the squared gradients of the highest-loss
  sentences, chosen again every ``refresh_every`` steps;
- ``"fish"``: 1% chosen once from random sentences;
- ``"dps"``: DPS-Dense, dense and sparse stages alternating;
- ``"bitfit"``: the biases only;
- ``"random"``: a random 1%, a control for the budget.

Parameters that the checkpoint does not provide (on the offline default, the
LM head's transform and bias) are trained by every sparse strategy outside its
budget. The plot compares training curves, the entries each
strategy changed, and time. Two dozen steps on a CPU cannot rank the strategies'
accuracy: the low-resource benchmark does that with full runs.
"""

# %%
# Fit one estimator per strategy
# ------------------------------
import time

from sklearn.base import clone

from sklearn_fishdip import FishDipNER
from sklearn_fishdip.datasets import get_data_home, load_conll, low_resource_subset

X_all, y_all = load_conll(get_data_home() / "conll2003" / "train.txt")
X, y = low_resource_subset(X_all, y_all, 32 / len(X_all), random_state=1)

base = FishDipNER(refresh_every=8, max_epochs=6, random_state=0, verbose=0)
strategies = ["full", "fish-dip", "fish", "dps", "bitfit", "random"]
fitted, seconds = {}, {}
for strategy in strategies:
    start = time.perf_counter()
    # Dense training takes a smaller Adafactor step than sparse training.
    rate = 1e-3 if strategy == "full" else None
    fitted[strategy] = clone(base).set_params(strategy=strategy, learning_rate=rate).fit(X, y)
    seconds[strategy] = time.perf_counter() - start

# %%
# What each strategy changed
# --------------------------
# ``n_updated_parameters_`` counts the entries that differ from the pretrained
# model after fitting, new parameters included.
n_total = fitted["full"].n_parameters_
for strategy in strategies:
    est = fitted[strategy]
    changed = est.n_updated_parameters_
    print(
        f"{strategy:>9}: {changed:>11,} entries changed ({100 * changed / n_total:5.2f}%), "
        f"final loss {est.history_[-1]['train_loss']:.3f}, {seconds[strategy]:.0f} s"
    )

# %%
# Training curves and cost
# ------------------------
import matplotlib.pyplot as plt

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
for strategy in strategies:
    history = fitted[strategy].history_
    left.plot(
        [h["epoch"] for h in history], [h["train_loss"] for h in history], "o-", label=strategy
    )
left.set_yscale("log")
left.set_xlabel("epoch")
left.set_ylabel("training loss")
left.legend(fontsize="small")
right.barh(strategies, [seconds[s] for s in strategies])
right.invert_yaxis()
right.set_xlabel("fit time (s), CPU")
fig.tight_layout()
