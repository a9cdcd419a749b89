"""The low-resource protocol: a seeded fraction of the training set."""

from __future__ import annotations

from sklearn.utils import check_random_state

from ._validation import check_fraction, check_same_length

__all__ = ["low_resource_subset"]


def low_resource_subset(X, y, fraction, random_state=None):
    """Draw the FISH-DIP paper's low-resource training subset.

    A seeded permutation of the sentences, of which the first
    ``round(fraction * len(X))`` (at least one) are kept, in permuted order.

    Parameters
    ----------
    X : list
        Sentences.
    y : list
        Their targets.
    fraction : float
        In (0, 1], e.g. 0.01 for the paper's 1% setting.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutation; the paper uses seeds 1, 2 and 3. The global
        NumPy random state is not touched when an int is given.

    Returns
    -------
    X_subset, y_subset : list

    Examples
    --------
    >>> X = [["a"], ["b"], ["c"], ["d"]]
    >>> y = [["O"], ["O"], ["O"], ["O"]]
    >>> X_small, y_small = low_resource_subset(X, y, 0.5, random_state=1)
    >>> len(X_small)
    2
    """
    check_same_length(X, y)
    check_fraction(fraction)
    if len(X) == 0:
        raise ValueError("X is empty: there is nothing to draw from")
    order = check_random_state(random_state).permutation(len(X))
    n_kept = max(1, round(fraction * len(X)))
    kept = order[:n_kept]
    return [X[i] for i in kept], [y[i] for i in kept]
