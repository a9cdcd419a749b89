import pytest

from sklearn_fishdip.tasks.dialogue_state import (
    joint_goal_accuracy,
    normalize_value,
    slot_accuracy,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("North", "north"),
        ("guest-house", "guest house"),
        ("do n't care", "dontcare"),
        ("DontCare", "dontcare"),
        ("not mentioned", None),
        ("none", None),
        ("", None),
        ("not given", None),
    ],
)
def test_normalization(raw, expected):
    assert normalize_value(raw) == expected


def test_joint_goal_accuracy_by_hand():
    gold = [
        {("hotel", "area"): "north"},
        {("hotel", "area"): "north", ("hotel", "type"): "guest-house"},
        {("taxi", "leaveat"): "10:15"},
        {},
    ]
    pred = [
        {("hotel", "area"): "North", ("hotel", "stars"): "not mentioned"},  # right
        {("hotel", "area"): "north", ("hotel", "type"): "guest house"},  # right
        {("taxi", "leaveat"): "10:30"},  # wrong value
        {("hotel", "parking"): "dontcare"},  # extra slot
    ]
    assert joint_goal_accuracy(gold, pred) == 0.5


def test_slot_accuracy_by_hand():
    slots = [("hotel", "area"), ("hotel", "type"), ("taxi", "leaveat"), ("hotel", "parking")]
    gold = [{("hotel", "area"): "north"}, {("taxi", "leaveat"): "10:15"}]
    pred = [{("hotel", "area"): "north", ("hotel", "parking"): "yes"}, {}]
    # turn 0: area right, type right, leaveat right, parking wrong; turn 1: 3 of 4 right
    assert slot_accuracy(gold, pred, slots=slots) == 6 / 8
    # default slots: the 30 MultiWOZ pairs
    assert slot_accuracy(gold, pred) == pytest.approx(58 / 60)


def test_mismatched_or_empty_inputs_raise():
    with pytest.raises(ValueError, match="must match"):
        joint_goal_accuracy([{}], [])
    with pytest.raises(ValueError, match="empty"):
        slot_accuracy([], [])
    with pytest.raises(ValueError, match="not a \\(domain, slot\\) pair"):
        joint_goal_accuracy([{"area": "x"}], [{}])
