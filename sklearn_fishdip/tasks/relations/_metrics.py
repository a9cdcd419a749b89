"""Joint extraction scores: sets per sentence, entities as ``(start, end, type)``
and relations strictly, as ``(type, head span and type, tail span and type)``."""

from __future__ import annotations

from ...utils._scores import precision_recall_f1
from ...utils._validation import check_same_length

__all__ = ["relation_precision_recall_f1", "relation_f1_score", "relation_f1_scorer"]


def _entity_set(target):
    return {tuple(entity) for entity in target["entities"]}


def _relation_set(target):
    entities = [tuple(entity) for entity in target["entities"]]
    return {
        (label, entities[head], entities[tail]) for head, tail, label in target.get("relations", [])
    }


def relation_precision_recall_f1(y_true, y_pred, *, level="relations"):
    """Micro precision, recall and F1 of joint entity-relation predictions.

    Parameters
    ----------
    y_true, y_pred : list of dict
        ``{"entities": [(start, end, type)], "relations": [(head, tail, type)]}``.
    level : {"relations", "entities"}, default="relations"
        ``"relations"``: strict relation scores, a relation counts when its
        type and both entities' spans and types are right. ``"entities"``:
        typed entity scores.

    Returns
    -------
    precision, recall, f1 : float

    Examples
    --------
    >>> gold = [{"entities": [(0, 1, "Peop"), (2, 3, "Org")], "relations": [(0, 1, "Work_For")]}]
    >>> pred = [{"entities": [(0, 1, "Peop"), (2, 3, "Loc")], "relations": [(0, 1, "Work_For")]}]
    >>> relation_precision_recall_f1(gold, pred)
    (0.0, 0.0, 0.0)
    >>> relation_precision_recall_f1(gold, pred, level="entities")
    (0.5, 0.5, 0.5)
    """
    if level not in ("relations", "entities"):
        raise ValueError(f"level must be 'relations' or 'entities', got {level!r}")
    check_same_length(y_true, y_pred, names=("y_true", "y_pred"))
    read = _relation_set if level == "relations" else _entity_set
    n_true = n_pred = n_correct = 0
    for true, pred in zip(y_true, y_pred):
        true_set, pred_set = read(true), read(pred)
        n_true += len(true_set)
        n_pred += len(pred_set)
        n_correct += len(true_set & pred_set)
    return precision_recall_f1(n_correct, n_pred, n_true)


def relation_f1_score(y_true, y_pred) -> float:
    """Strict relation micro F1; see :func:`relation_precision_recall_f1`."""
    return relation_precision_recall_f1(y_true, y_pred)[2]


def relation_f1_scorer(estimator, X, y) -> float:
    """Scorer for model selection: strict relation micro F1."""
    return relation_f1_score(y, estimator.predict(X))
