"""Hand-computed cases for the event scores."""

import pytest

from sklearn_fishdip.tasks.events import event_f1_score, event_scores


def ev(trigger, *arguments):
    return {"trigger": trigger, "arguments": list(arguments)}


def test_perfect_and_empty():
    gold = [[ev((1, 2, "A"), (0, 1, "r"))], []]
    scores = event_scores(gold, gold)
    assert all(v == {"precision": 1.0, "recall": 1.0, "f1": 1.0} for v in scores.values())
    empty = event_scores([[]], [[]])
    assert empty["trigger_classification"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_identification_versus_classification():
    gold = [[ev((1, 2, "A"), (0, 1, "r"), (2, 3, "s"))]]
    pred = [[ev((1, 2, "B"), (0, 1, "r"))]]  # wrong type: argument trigger type differs too
    scores = event_scores(gold, pred)
    assert scores["trigger_identification"]["f1"] == 1.0
    assert scores["trigger_classification"]["f1"] == 0.0
    assert scores["argument_identification"]["f1"] == 0.0
    pred = [[ev((1, 2, "A"), (0, 1, "s"))]]
    scores = event_scores(gold, pred)
    ident = scores["argument_identification"]
    assert ident["precision"] == 1.0 and ident["recall"] == 0.5
    assert ident["f1"] == pytest.approx(2 / 3)
    assert scores["argument_classification"]["f1"] == 0.0


def test_precision_and_recall_are_not_swapped():
    gold = [[ev((1, 2, "A"), (0, 1, "r"), (2, 3, "s"), (3, 4, "t"))]]
    pred = [[ev((1, 2, "A"), (0, 1, "r"))]]
    result = event_scores(gold, pred)["argument_classification"]
    assert result["precision"] == 1.0
    assert result["recall"] == pytest.approx(1 / 3)


def test_gold_arguments_count_in_sentences_without_predicted_triggers():
    gold = [[ev((1, 2, "A"), (0, 1, "r"))], [ev((1, 2, "A"), (0, 1, "r"))]]
    pred = [[ev((1, 2, "A"), (0, 1, "r"))], []]
    result = event_scores(gold, pred)["argument_classification"]
    assert result["recall"] == 0.5  # the reference would say 1.0
    assert event_f1_score(gold, pred) == pytest.approx(2 / 3)


def test_length_mismatch_is_refused():
    with pytest.raises(ValueError, match="1 sentences"):
        event_scores([[]], [[], []])
