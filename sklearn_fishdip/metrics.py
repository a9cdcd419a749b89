"""Evaluation: entity and relation precision, recall and F1, and ready scorers.

NER is scored with seqeval in strict mode with the declared tagging scheme
(seqeval's default mode is lenient and its strict mode silently falls back to
it without a scheme). Joint extraction is scored on sets per sentence:
entities as ``(start, end, type)`` and relations strictly, as
``(type, head span and type, tail span and type)``.
"""

from __future__ import annotations

from seqeval import metrics as seqeval_metrics
from seqeval import scheme as seqeval_scheme

from .augmented._schemes import check_scheme
from .utils._validation import check_same_length

__all__ = [
    "entity_precision_recall_f1",
    "entity_f1_score",
    "ner_classification_report",
    "relation_precision_recall_f1",
    "relation_f1_score",
    "ner_f1_scorer",
    "relation_f1_scorer",
]

_SEQEVAL_SCHEMES = {
    "IOB2": seqeval_scheme.IOB2,
    "IOB1": seqeval_scheme.IOB1,
    "IOBES": seqeval_scheme.IOBES,
    "BILOU": seqeval_scheme.BILOU,
}


def _as_lists(sequences, name):
    # seqeval accepts only lists of lists; tuples and arrays raise deep inside it.
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise TypeError(f"{name} must be a list of tag lists")
    return [list(tags) for tags in sequences]


def _seqeval_arguments(y_true, y_pred, scheme):
    check_same_length(y_true, y_pred, names=("y_true", "y_pred"))
    y_true, y_pred = _as_lists(y_true, "y_true"), _as_lists(y_pred, "y_pred")
    for index, (true, pred) in enumerate(zip(y_true, y_pred)):
        if len(true) != len(pred):
            raise ValueError(
                f"sentence {index} has {len(true)} true tags but {len(pred)} predicted tags"
            )
    return y_true, y_pred, {"mode": "strict", "scheme": _SEQEVAL_SCHEMES[check_scheme(scheme)]}


def entity_precision_recall_f1(y_true, y_pred, *, scheme="IOB2"):
    """Entity-level micro precision, recall and F1 of tag sequences (seqeval, strict).

    Parameters
    ----------
    y_true, y_pred : list of list of str
        Gold and predicted tags, one list per sentence, of equal lengths.
    scheme : {"IOB2", "IOB1", "IOBES", "BILOU"}, default="IOB2"

    Returns
    -------
    precision, recall, f1 : float
        0.0 where undefined (no entities on either side).

    Examples
    --------
    >>> entity_precision_recall_f1([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])
    (1.0, 1.0, 1.0)
    """
    y_true, y_pred, options = _seqeval_arguments(y_true, y_pred, scheme)
    return tuple(
        float(function(y_true, y_pred, zero_division=0, **options))
        for function in (
            seqeval_metrics.precision_score,
            seqeval_metrics.recall_score,
            seqeval_metrics.f1_score,
        )
    )


def entity_f1_score(y_true, y_pred, *, scheme="IOB2") -> float:
    """Entity-level micro F1 of tag sequences (seqeval, strict mode); see
    :func:`entity_precision_recall_f1`."""
    return entity_precision_recall_f1(y_true, y_pred, scheme=scheme)[2]


def ner_classification_report(y_true, y_pred, *, scheme="IOB2", digits=4, output_dict=False):
    """seqeval's per-type classification report in strict mode with ``scheme``."""
    y_true, y_pred, options = _seqeval_arguments(y_true, y_pred, scheme)
    return seqeval_metrics.classification_report(
        y_true, y_pred, digits=digits, output_dict=output_dict, zero_division=0, **options
    )


def _prf(n_true, n_pred, n_correct):
    precision = n_correct / n_pred if n_pred else 0.0
    recall = n_correct / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


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
    return _prf(n_true, n_pred, n_correct)


def relation_f1_score(y_true, y_pred) -> float:
    """Strict relation micro F1; see :func:`relation_precision_recall_f1`."""
    return relation_precision_recall_f1(y_true, y_pred)[2]


def ner_f1_scorer(estimator, X, y) -> float:
    """Scorer for model selection: entity F1 in the estimator's own ``scheme``.

    Use as ``GridSearchCV(est, grid, scoring=ner_f1_scorer)``.
    """
    return entity_f1_score(y, estimator.predict(X), scheme=getattr(estimator, "scheme", "IOB2"))


def relation_f1_scorer(estimator, X, y) -> float:
    """Scorer for model selection: strict relation micro F1."""
    return relation_f1_score(y, estimator.predict(X))
