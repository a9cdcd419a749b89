"""The PropBank predicates the SRL benchmarks use: those FishDipSRL accepts.

:class:`~sklearn_fishdip.FishDipSRL` refuses an argument span over its own
predicate, and the EWT training file has six such predicates (compound verbs
whose ``C-V`` piece is the predicate's row). The generative benchmark and its
CRF peer both leave them out *before* drawing a fraction, so that one seed
draws the same predicates for both: ``low_resource_subset`` permutes the whole
pool, and a pool six predicates longer permutes differently.
"""


def accepted_predicates(X, y):
    """Indices of the ``(tokens, predicate)`` examples no argument of which covers the predicate.

    >>> X = [(["a", "b", "c"], 1), (["a", "b", "c"], 1)]
    >>> accepted_predicates(X, [[(0, 1, "ARG0")], [(0, 2, "ARG0")]])
    [0]
    """
    return [
        index
        for index, ((_, predicate), spans) in enumerate(zip(X, y))
        if not any(start <= predicate < end for start, end, _ in spans)
    ]


def keep_accepted(X, y, *aligned):
    """``X``, ``y`` and any lists aligned with them (lemmas), keeping the accepted predicates.

    >>> keep_accepted([(["a", "b"], 0), (["a", "b"], 1)], [[], [(0, 2, "ARG0")]], ["x", "y"])
    ([(['a', 'b'], 0)], [[]], ['x'])
    """
    kept = accepted_predicates(X, y)
    return tuple([values[i] for i in kept] for values in (X, y, *aligned))
