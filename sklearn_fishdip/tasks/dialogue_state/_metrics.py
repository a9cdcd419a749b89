"""Dialogue state tracking scores: joint goal accuracy and slot accuracy.

Values are compared after the usual MultiWOZ normalization: lower case,
hyphens as spaces, whitespace collapsed, ``do n't care``/``don't care``/
``dont care`` as ``dontcare``; ``none``, ``not mentioned``, ``not given``
and the empty string mean the slot is absent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "joint_goal_accuracy",
    "normalize_state",
    "normalize_value",
    "slot_accuracy",
]

_ABSENT = {"", "none", "not mentioned", "not given"}
_DONTCARE = {"dontcare", "don't care", "do n't care", "dont care", "do not care"}


def normalize_value(value):
    """A slot value as the metrics compare it; ``None`` when it means absent.

    Examples
    --------
    >>> normalize_value(" Do n't Care "), normalize_value("not mentioned")
    ('dontcare', None)
    >>> normalize_value("guest-house")
    'guest house'
    """
    if value is None:
        return None
    text = " ".join(str(value).lower().replace("-", " ").split())
    if text in _ABSENT:
        return None
    if text in _DONTCARE:
        return "dontcare"
    return text


def normalize_state(state):
    """A state ``{(domain, slot): value}`` normalized, absent slots dropped."""
    if not isinstance(state, Mapping):
        raise TypeError(f"a state must be a dict {{(domain, slot): value}}, got {state!r:.60}")
    normalized = {}
    for key, value in state.items():
        if not isinstance(key, (tuple, list)) or len(key) != 2:
            raise ValueError(f"the state key {key!r} is not a (domain, slot) pair")
        value = normalize_value(value)
        if value is not None:
            domain, slot = (" ".join(str(part).lower().split()) for part in key)
            normalized[(domain, slot)] = value
    return normalized


def _pairs(y_true, y_pred):
    if not isinstance(y_true, Sequence) or not isinstance(y_pred, Sequence):
        raise TypeError("y_true and y_pred must be lists of states")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true has {len(y_true)} states but y_pred has {len(y_pred)}; they must match"
        )
    if not y_true:
        raise ValueError("y_true is empty: at least one state is needed")
    return [(normalize_state(t), normalize_state(p)) for t, p in zip(y_true, y_pred)]


def joint_goal_accuracy(y_true, y_pred):
    """Share of turns whose whole predicted state equals the gold state.

    Examples
    --------
    >>> gold = [{("hotel", "area"): "north"}, {("taxi", "leaveat"): "10:15"}]
    >>> pred = [{("hotel", "area"): "North"}, {}]
    >>> joint_goal_accuracy(gold, pred)
    0.5
    """
    pairs = _pairs(y_true, y_pred)
    return sum(gold == pred for gold, pred in pairs) / len(pairs)


def slot_accuracy(y_true, y_pred, slots=None):
    """Share of (turn, slot) decisions that are right, TRADE's slot accuracy.

    Every turn is judged on the same slots: ``slots`` (a list of
    ``(domain, slot)`` pairs; by default the 30 pairs of the five MultiWOZ
    domains plus any pair found in ``y_true`` or ``y_pred``). A slot is right
    when gold and prediction agree on its value, absence included.

    Examples
    --------
    >>> gold = [{("hotel", "area"): "north"}]
    >>> slot_accuracy(gold, [{}], slots=[("hotel", "area"), ("hotel", "stars")])
    0.5
    """
    pairs = _pairs(y_true, y_pred)
    if slots is None:
        from ._codec import MULTIWOZ_SLOTS

        keys = {(d, s) for d, names in MULTIWOZ_SLOTS.items() for s in names}
        for gold, pred in pairs:
            keys.update(gold, pred)
    else:
        keys = {tuple(key) for key in slots}
        if not keys:
            raise ValueError("slots is empty")
    right = sum(gold.get(key) == pred.get(key) for gold, pred in pairs for key in keys)
    return right / (len(pairs) * len(keys))
