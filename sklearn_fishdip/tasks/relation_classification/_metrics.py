"""SemEval-2010 Task 8 scores: the official macro F1 over the nine relation types.

The task's official scorer, ``semeval2010_task8_scorer-v1.2.pl``, scores a run
three ways; the official score is the third, "(9+1)-way evaluation with
directionality taken into account", which :func:`semeval2010_f1_score`
computes without Perl. The rules, read from the scorer's source:

- Each of the nine relation types R (``Cause-Effect``, ...) is scored on its
  own; ``Other`` never is, so predicting ``Other`` only costs recall.
- ``correct(R)``: examples whose predicted label equals the gold label,
  direction included, and whose type is R.
- ``predicted(R)``: examples predicted as R in either direction. The scorer
  counts this as the column of R in its 10-way matrix plus its ``xDIRx``
  count (gold R predicted as R the other way round), so a wrongly directed
  prediction of R is a prediction of R that is not correct.
- ``gold(R)``: examples whose gold type is R, in either direction.
- precision = correct / predicted, recall = correct / gold (0 when the
  denominator is 0), F1 = their harmonic mean (0 when both are 0).
- The macro figures are the plain means of the per-type precision, recall and
  F1 over the relation types that occur in the gold labels (the scorer divides
  by the number of distinct non-``Other`` gold types), so on any real test set
  the mean over all nine. Predictions of a type absent from the gold labels
  count nowhere, as in the scorer.

The scorer prints percentages rounded to two decimals; these functions return
fractions in [0, 1], unrounded.
"""

from __future__ import annotations

from ...utils._scores import precision_recall_f1
from ...utils._validation import check_same_length

__all__ = ["semeval2010_f1_score", "semeval2010_precision_recall_f1", "semeval2010_scorer"]

# The scorer's own label list (its getIDandLabel): anything else makes it stop.
RELATION_TYPES = (
    "Cause-Effect",
    "Component-Whole",
    "Content-Container",
    "Entity-Destination",
    "Entity-Origin",
    "Instrument-Agency",
    "Member-Collection",
    "Message-Topic",
    "Product-Producer",
)
LABELS = frozenset(
    ["Other"]
    + [
        f"{relation}({direction})"
        for relation in RELATION_TYPES
        for direction in ("e1,e2", "e2,e1")
    ]
)


def _relation_types(labels, name):
    """The relation type of each label (``None`` for ``Other``), checking every label."""
    types = []
    for index, label in enumerate(labels):
        if not isinstance(label, str) or label not in LABELS:
            raise ValueError(
                f"{name}[{index}] is {label!r}, not one of the 19 SemEval-2010 Task 8 labels "
                "(a relation type with its direction, such as 'Cause-Effect(e1,e2)', or 'Other')"
            )
        types.append(None if label == "Other" else label[: label.index("(")])
    return types


def semeval2010_precision_recall_f1(y_true, y_pred):
    """Per-type, macro and micro scores of SemEval-2010 Task 8, as the official scorer.

    This is the scorer's "(9+1)-way evaluation with directionality taken into
    account" (see the module docstring for its rules): a prediction counts as
    correct only with the gold relation type *and* direction; a prediction of
    the right type in the wrong direction still counts as a prediction of that
    type, so it lowers its precision as well as its recall; ``Other`` is never
    a positive class.

    Parameters
    ----------
    y_true, y_pred : sequence or 1-d array of str
        Gold and predicted labels, one per example, each one of the 19 labels
        of the task: ``"Other"`` or a relation type with its direction such
        as ``"Component-Whole(e2,e1)"``.

    Returns
    -------
    dict
        ``"per_type"``: for each of the nine relation types, a dict with
        ``"precision"``, ``"recall"``, ``"f1"``, ``"support"`` (gold examples
        of the type), ``"predicted"``, ``"correct"`` and ``"wrong_direction"``
        (gold examples of the type predicted as the type the other way
        round). ``"macro"`` and ``"micro"``: ``{"precision", "recall", "f1"}``
        over ``"types_averaged"``, the relation types present in ``y_true``
        (all nine on the official test set). The official score is
        ``result["macro"]["f1"]``.

    Raises
    ------
    ValueError
        If the sequences differ in length, a label is not one of the 19
        (naming the example), or ``y_true`` holds no relation other than
        ``Other`` (the official macro average is then undefined; the scorer
        divides by zero).

    Examples
    --------
    >>> y_true = ["Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)", "Component-Whole(e1,e2)", "Other"]
    >>> y_pred = ["Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)", "Other", "Component-Whole(e1,e2)"]
    >>> scores = semeval2010_precision_recall_f1(y_true, y_pred)
    >>> scores["per_type"]["Cause-Effect"]
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5, 'support': 2, 'predicted': 2, 'correct': 1, 'wrong_direction': 1}
    >>> scores["types_averaged"], scores["macro"]["f1"]
    (['Cause-Effect', 'Component-Whole'], 0.25)
    """  # noqa: E501
    # A classifier's predict returns an array of labels: taken as the list it holds.
    y_true, y_pred = (y.tolist() if hasattr(y, "tolist") else y for y in (y_true, y_pred))
    check_same_length(y_true, y_pred, names=("y_true", "y_pred"))
    true_types = _relation_types(y_true, "y_true")
    pred_types = _relation_types(y_pred, "y_pred")
    counts = {
        relation: {"support": 0, "predicted": 0, "correct": 0, "wrong_direction": 0}
        for relation in RELATION_TYPES
    }
    for true, pred, true_type, pred_type in zip(y_true, y_pred, true_types, pred_types):
        if true_type is not None:
            counts[true_type]["support"] += 1
        if pred_type is not None:
            counts[pred_type]["predicted"] += 1
            if pred_type == true_type:
                counts[pred_type]["correct" if pred == true else "wrong_direction"] += 1
    per_type = {}
    for relation, count in counts.items():
        precision, recall, f1 = precision_recall_f1(
            count["correct"], count["predicted"], count["support"]
        )
        per_type[relation] = {"precision": precision, "recall": recall, "f1": f1, **count}
    averaged = [relation for relation in RELATION_TYPES if counts[relation]["support"]]
    if not averaged:
        raise ValueError(
            "y_true holds no relation other than 'Other': the official macro-averaged F1 "
            "averages over the relation types of the gold labels and is undefined without any"
        )
    macro = {
        key: sum(per_type[relation][key] for relation in averaged) / len(averaged)
        for key in ("precision", "recall", "f1")
    }
    micro = dict(
        zip(
            ("precision", "recall", "f1"),
            precision_recall_f1(
                *(
                    sum(counts[relation][key] for relation in averaged)
                    for key in ("correct", "predicted", "support")
                )
            ),
        )
    )
    return {"per_type": per_type, "macro": macro, "micro": micro, "types_averaged": averaged}


def semeval2010_f1_score(y_true, y_pred) -> float:
    """The official SemEval-2010 Task 8 score: macro-averaged F1, direction-aware, Other excluded.

    For each of the nine relation types, precision is the number of examples
    predicted with the exact gold label (type and direction) over the number
    predicted as that type in either direction, and recall the same number
    over the gold examples of that type; the score is the mean of the nine
    F1 values. See :func:`semeval2010_precision_recall_f1` for the per-type
    figures and the module docstring for the scorer's rules in full.

    Parameters
    ----------
    y_true, y_pred : sequence of str
        Gold and predicted labels among the task's 19, e.g.
        ``"Component-Whole(e2,e1)"`` or ``"Other"``.

    Returns
    -------
    float
        In [0, 1]; the official scorer prints it as a percentage.

    Examples
    --------
    A wrongly directed prediction is wrong, and predicting ``Other`` for a
    relation only costs recall:

    >>> y_true = ["Message-Topic(e1,e2)", "Message-Topic(e2,e1)", "Other"]
    >>> semeval2010_f1_score(y_true, ["Message-Topic(e1,e2)", "Message-Topic(e1,e2)", "Other"])
    0.5
    >>> semeval2010_f1_score(y_true, ["Message-Topic(e1,e2)", "Other", "Other"])
    0.6666666666666666
    """
    return semeval2010_precision_recall_f1(y_true, y_pred)["macro"]["f1"]


def semeval2010_scorer(estimator, X, y) -> float:
    """Scorer for model selection (``GridSearchCV(scoring=...)``): the official
    SemEval-2010 Task 8 macro F1 of ``estimator.predict(X)`` against ``y``."""
    return semeval2010_f1_score(y, estimator.predict(X))
