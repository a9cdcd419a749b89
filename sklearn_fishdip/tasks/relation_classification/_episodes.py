"""N-way K-shot episodes for few-shot relation classification, and the fixed FewRel split."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state

from ...utils._validation import check_same_length

__all__ = ["FEWREL_SPLIT", "sample_episodes"]


class _RelationSplit(NamedTuple):
    train: tuple[str, ...]
    episode: tuple[str, ...]


FEWREL_SPLIT = _RelationSplit(
    train=("P155", "P177", "P206", "P2094", "P25", "P26", "P361", "P364", "P40", "P410"),
    episode=("P412", "P413", "P463", "P59", "P641", "P921"),
)
"""A fixed split of the 16 relations of FewRel 1.0's ``val_wiki.json``.

``FEWREL_SPLIT.train`` holds 10 relations to fit a model on and
``FEWREL_SPLIT.episode`` the 6 others, to draw test episodes from with
``sample_episodes(..., relations=FEWREL_SPLIT.episode)``, so that episodes only
hold relations the model never saw. The split is the relation ids in Python's
string order (``sorted``, hence ``"P2094"`` before ``"P25"``), the first 10
for training. FewRel's own training file is not public here, so scores on
this split are not comparable with the FewRel leaderboard.
"""


def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def sample_episodes(X, y, n_way, k_shot, n_query, n_episodes, *, relations=None, random_state=None):
    """Draw N-way K-shot episodes for few-shot relation classification.

    Each episode draws ``n_way`` distinct relations, then for each of them
    ``k_shot + n_query`` distinct examples, the first ``k_shot`` for the
    support set and the others for the query set, so the two never share an
    example. Episodes are drawn independently: an example can appear in
    several episodes.

    Parameters
    ----------
    X : list
        The examples (e.g. from :func:`load_fewrel`).
    y : list
        Their relation labels.
    n_way, k_shot, n_query, n_episodes : int
        Relations per episode, support and query examples per relation, and
        the number of episodes; each at least 1.
    relations : sequence, default=None
        The relations to draw from (e.g. ``FEWREL_SPLIT.episode``); all
        labels of ``y`` when None.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws: the same ``random_state`` and data give the same
        episodes. NumPy's global random state is never used, even with None.

    Returns
    -------
    list of tuple
        ``(X_support, y_support, X_query, y_query)`` per episode: lists of
        ``n_way * k_shot`` and ``n_way * n_query`` items of ``X`` (the items
        themselves, not copies) and their labels, grouped by relation in the
        order the relations were drawn.

    Raises
    ------
    TypeError
        If a count is not an integer.
    ValueError
        If ``X`` and ``y`` differ in length, a count is below 1, ``relations``
        repeats a relation or names one without examples, ``n_way`` exceeds
        the relations to draw from, or one of those relations has fewer than
        ``k_shot + n_query`` examples (naming it).

    Examples
    --------
    >>> X = [{"tokens": [str(i)], "head": (0, 1), "tail": (0, 1)} for i in range(12)]
    >>> y = ["P1", "P2", "P3"] * 4
    >>> episodes = sample_episodes(X, y, 2, 1, 2, 5, random_state=0)
    >>> X_support, y_support, X_query, y_query = episodes[0]
    >>> len(episodes), len(X_support), len(X_query)
    (5, 2, 4)
    """
    check_same_length(X, y)
    counts = {"n_way": n_way, "k_shot": k_shot, "n_query": n_query, "n_episodes": n_episodes}
    n_way, k_shot, n_query, n_episodes = (_check_count(*item) for item in counts.items())
    by_relation = {}
    for index, label in enumerate(y):
        by_relation.setdefault(label, []).append(index)
    if relations is None:
        # Sorted, so that the episodes do not depend on the order of the examples' labels.
        candidates = sorted(by_relation)
    else:
        candidates = list(relations)
        repeated = [r for r in candidates if candidates.count(r) > 1]
        if repeated:
            raise ValueError(f"relations repeats {repeated[0]!r}")
        absent = [r for r in candidates if r not in by_relation]
        if absent:
            raise ValueError(
                f"relation {absent[0]!r} of relations has no example in y "
                f"({len(absent)} of {len(candidates)} relations have none)"
            )
    if n_way > len(candidates):
        raise ValueError(
            f"n_way={n_way} but there are only {len(candidates)} relations to draw from"
        )
    needed = k_shot + n_query
    short = [r for r in candidates if len(by_relation[r]) < needed]
    if short:
        raise ValueError(
            f"relation {short[0]!r} has {len(by_relation[short[0]])} examples but an episode "
            f"needs k_shot + n_query = {needed} of each relation ({len(short)} relations have "
            "too few); pass relations= to leave them out"
        )
    # check_random_state(None) is NumPy's global RandomState, which drawing would
    # advance: a fresh, OS-seeded one leaves the global state alone.
    rng = np.random.RandomState() if random_state is None else check_random_state(random_state)
    episodes = []
    for _ in range(n_episodes):
        support, query = [], []
        for choice in rng.choice(len(candidates), size=n_way, replace=False):
            pool = by_relation[candidates[choice]]
            picked = [pool[i] for i in rng.choice(len(pool), size=needed, replace=False)]
            support += picked[:k_shot]
            query += picked[k_shot:]
        # (X_support, y_support, X_query, y_query)
        episodes.append(
            tuple([data[i] for i in part] for part in (support, query) for data in (X, y))
        )
    return episodes
