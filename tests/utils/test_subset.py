"""The low-resource protocol's seeded subset (re-exported by sklearn_fishdip.datasets)."""

import numpy as np
import pytest

from sklearn_fishdip.datasets import low_resource_subset


def test_low_resource_subset_follows_the_protocol():
    X = [[str(i)] for i in range(200)]
    y = [["O"] for _ in range(200)]
    X_small, y_small = low_resource_subset(X, y, 0.01, random_state=1)
    expected = np.random.RandomState(1).permutation(200)[:2]
    assert X_small == [X[i] for i in expected] and len(y_small) == 2
    assert low_resource_subset(X, y, 0.01, random_state=1) == (X_small, y_small)
    assert low_resource_subset(X, y, 0.01, random_state=2)[0] != X_small
    assert len(low_resource_subset(X[:10], y[:10], 0.01, random_state=0)[0]) == 1  # at least one
    assert len(low_resource_subset(X, y, 1.0, random_state=0)[0]) == 200


def test_low_resource_subset_leaves_the_global_rng_alone():
    before = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state)
    low_resource_subset([["a"], ["b"]], [["O"], ["O"]], 0.5, random_state=3)
    assert np.array_equal(before, np.random.get_state()[1])  # noqa: NPY002


@pytest.mark.parametrize(
    "X, y, fraction, error, message",
    [
        ([["a"]], [["O"], ["O"]], 0.5, ValueError, "different lengths"),
        ([["a"]], [["O"]], 0.0, ValueError, r"fraction must be in \(0, 1\]"),
        ([["a"]], [["O"]], 1.5, ValueError, "fraction must be"),
        ([["a"]], [["O"]], "half", TypeError, "fraction must be a number"),
        ([], [], 0.5, ValueError, "X is empty"),
    ],
)
def test_low_resource_subset_bad_input(X, y, fraction, error, message):
    with pytest.raises(error, match=message):
        low_resource_subset(X, y, fraction, random_state=0)
