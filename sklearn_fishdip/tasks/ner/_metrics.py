"""NER scores: entity precision, recall and F1 with seqeval in strict mode.

seqeval's default mode is lenient and its strict mode silently falls back to
it without a scheme, so the declared tagging scheme is always passed.
"""

from __future__ import annotations

from seqeval import metrics as seqeval_metrics
from seqeval import scheme as seqeval_scheme

from ...augmented._schemes import check_scheme
from ...utils._validation import check_same_length

__all__ = [
    "entity_precision_recall_f1",
    "entity_f1_score",
    "ner_classification_report",
    "ner_f1_scorer",
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


def ner_f1_scorer(estimator, X, y) -> float:
    """Scorer for model selection: entity F1 in the estimator's own ``scheme``.

    Use as ``GridSearchCV(est, grid, scoring=ner_f1_scorer)``.
    """
    return entity_f1_score(y, estimator.predict(X), scheme=getattr(estimator, "scheme", "IOB2"))
