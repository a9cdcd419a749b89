"""Event extraction scores: trigger and argument identification and classification.

A trigger is identified when its span is right and classified when its type
is right too. An argument is identified when its span and its trigger's
(span, type) are right, and classified when its role is right too.

Differences from the TANL reference scorer (on purpose):

1. The reference swaps the gold and predicted argument sets, so its argument
   precision and recall are swapped (F1 is unaffected). Here precision is
   over predicted arguments and recall over gold ones.
2. The reference counts gold arguments only in sentences with at least one
   predicted trigger, which inflates argument recall. Here every gold
   argument counts.
"""

from __future__ import annotations

__all__ = ["event_f1_score", "event_scores"]


def _prf(n_gold, n_pred, n_correct):
    precision = n_correct / n_pred if n_pred else 0.0
    recall = n_correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _sets(events):
    trig_id, trig_cls, arg_id, arg_cls = set(), set(), set(), set()
    for event in events:
        start, end, kind = event["trigger"]
        trig_id.add((start, end))
        trig_cls.add((start, end, kind))
        for a_start, a_end, role in event["arguments"]:
            arg_id.add((a_start, a_end, start, end, kind))
            arg_cls.add((a_start, a_end, role, start, end, kind))
    return trig_id, trig_cls, arg_id, arg_cls


def event_scores(y_true, y_pred):
    """Micro precision, recall and F1 of triggers and arguments.

    Parameters
    ----------
    y_true, y_pred : list of list of dict
        Per sentence, its events ``{"trigger": (start, end, type),
        "arguments": [(start, end, role), ...]}`` (``end`` exclusive).

    Returns
    -------
    dict
        ``{"trigger_identification", "trigger_classification",
        "argument_identification", "argument_classification"}``, each a dict
        of ``precision``, ``recall`` and ``f1``. Every gold argument counts,
        and precision is over predictions (unlike the TANL reference scorer:
        see the module docstring).

    Examples
    --------
    >>> gold = [[{"trigger": (1, 2, "Attack"), "arguments": [(0, 1, "Victim")]}]]
    >>> pred = [[{"trigger": (1, 2, "Attack"), "arguments": [(0, 1, "Attacker")]}]]
    >>> scores = event_scores(gold, pred)
    >>> scores["trigger_classification"]["f1"], scores["argument_classification"]["f1"]
    (1.0, 0.0)
    >>> scores["argument_identification"]["f1"]
    1.0
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} sentences but y_pred has {len(y_pred)}")
    names = (
        "trigger_identification",
        "trigger_classification",
        "argument_identification",
        "argument_classification",
    )
    counts = {name: [0, 0, 0] for name in names}
    for gold, pred in zip(y_true, y_pred):
        for name, g, p in zip(names, _sets(gold), _sets(pred)):
            counts[name][0] += len(g)
            counts[name][1] += len(p)
            counts[name][2] += len(g & p)
    return {name: _prf(*counts[name]) for name in names}


def event_f1_score(y_true, y_pred):
    """Argument classification F1 (the estimator's ``score``).

    Examples
    --------
    >>> gold = [[{"trigger": (1, 2, "Attack"), "arguments": [(0, 1, "Victim")]}]]
    >>> event_f1_score(gold, gold)
    1.0
    """
    return event_scores(y_true, y_pred)["argument_classification"]["f1"]
