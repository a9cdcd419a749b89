"""
=======================================
Choosing the sparsity with GridSearchCV
=======================================

The estimators are scikit-learn estimators: :func:`~sklearn.base.clone`,
``get_params``/``set_params`` and ``score`` work, so
:class:`~sklearn.model_selection.GridSearchCV` can pick ``keep_ratio`` (the
fraction of pretrained parameters FISH-DIP trains) by cross-validated entity
F1. Each candidate is fitted once per fold and the best is refitted on all the
data.

With 40 sentences, two folds and well under a minute of CPU per fit, the
models are far from trained and the held-out scores are low (when candidates
tie, ``best_params_`` is simply the first of them): the point is the
mechanics. On real budgets, search over ``keep_ratio`` together with
``learning_rate`` and ``max_epochs``, and see the low-resource benchmark for
what full-length runs score.
"""

# %%
# The search
# ----------
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_fishdip import FishDipNER
from sklearn_fishdip.datasets import get_data_home, load_conll, low_resource_subset
from sklearn_fishdip.metrics import ner_f1_scorer

X_all, y_all = load_conll(get_data_home() / "conll2003" / "train.txt")
X, y = low_resource_subset(X_all, y_all, 40 / len(X_all), random_state=2)

search = GridSearchCV(
    FishDipNER(refresh_every=6, max_epochs=3, random_state=0, verbose=0),
    param_grid={"keep_ratio": [0.001, 0.01, 0.1]},
    scoring=ner_f1_scorer,
    cv=KFold(n_splits=2, shuffle=True, random_state=0),
)
search.fit(X, y)
print("best:", search.best_params_, f"cross-validated F1 {search.best_score_:.3f}")

# %%
# Scores per candidate
# --------------------
# ``cv_results_`` holds the per-fold scores and fit times (``return_train_score=True``
# adds the scores on the training folds, at the cost of tagging them too).
import matplotlib.pyplot as plt
import numpy as np

results = search.cv_results_
ratios = np.array(results["param_keep_ratio"], dtype=float)
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
left.errorbar(
    ratios, results["mean_test_score"], yerr=results["std_test_score"], marker="o", capsize=3
)
left.set_xscale("log")
left.set_xlabel("keep_ratio")
left.set_ylabel("entity F1, held-out folds")
right.bar([f"{r:g}" for r in ratios], results["mean_fit_time"])
right.set_xlabel("keep_ratio")
right.set_ylabel("mean fit time (s)")
fig.tight_layout()

# %%
# The refitted best estimator is ready to use:
print(search.best_estimator_.predict([["Peter", "Blackburn", "visited", "Brussels", "."]]))
