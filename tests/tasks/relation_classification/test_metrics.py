"""The official SemEval-2010 Task 8 score on hand-computed cases."""

import pytest

from sklearn_fishdip.tasks.relation_classification import (
    semeval2010_f1_score,
    semeval2010_precision_recall_f1,
)


def test_perfect_predictions_score_one():
    y = ["Cause-Effect(e1,e2)", "Other", "Member-Collection(e2,e1)"]
    assert semeval2010_f1_score(y, list(y)) == 1.0


def test_wrong_direction_counts_as_a_prediction_of_the_type_but_not_as_correct():
    y_true = ["Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)"]
    y_pred = ["Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)"]
    scores = semeval2010_precision_recall_f1(y_true, y_pred)
    cause = scores["per_type"]["Cause-Effect"]
    # 1 correct of 2 predicted as Cause-Effect, of 2 gold: the wrong direction costs both.
    assert (cause["correct"], cause["predicted"], cause["support"]) == (1, 2, 2)
    assert cause["wrong_direction"] == 1
    assert (cause["precision"], cause["recall"], cause["f1"]) == (0.5, 0.5, 0.5)
    assert scores["types_averaged"] == ["Cause-Effect"]
    assert semeval2010_f1_score(y_true, y_pred) == 0.5


def test_other_is_never_a_positive_class():
    y_true = ["Other", "Other", "Entity-Origin(e1,e2)", "Entity-Origin(e1,e2)"]
    # Predicting Other for a relation costs recall only; predicting a relation for
    # Other costs that relation's precision; Other itself is never scored.
    y_pred = ["Other", "Entity-Origin(e1,e2)", "Entity-Origin(e1,e2)", "Other"]
    scores = semeval2010_precision_recall_f1(y_true, y_pred)
    origin = scores["per_type"]["Entity-Origin"]
    assert (origin["precision"], origin["recall"]) == (0.5, 0.5)
    assert "Other" not in scores["per_type"]
    assert scores["macro"]["f1"] == 0.5


def test_hand_computed_macro_over_the_gold_types():
    y_true = [
        "Cause-Effect(e1,e2)",
        "Cause-Effect(e2,e1)",
        "Cause-Effect(e1,e2)",
        "Product-Producer(e2,e1)",
        "Product-Producer(e2,e1)",
        "Other",
        "Other",
    ]
    y_pred = [
        "Cause-Effect(e1,e2)",  # correct
        "Cause-Effect(e1,e2)",  # wrong direction
        "Product-Producer(e2,e1)",  # wrong type
        "Product-Producer(e2,e1)",  # correct
        "Other",  # missed
        "Cause-Effect(e2,e1)",  # false positive on Other
        "Message-Topic(e1,e2)",  # a type absent from the gold labels: counts nowhere
    ]
    scores = semeval2010_precision_recall_f1(y_true, y_pred)
    cause, product = scores["per_type"]["Cause-Effect"], scores["per_type"]["Product-Producer"]
    # Cause-Effect: 1 correct, 3 predicted, 3 gold.
    assert (cause["correct"], cause["predicted"], cause["support"]) == (1, 3, 3)
    assert cause["f1"] == pytest.approx(1 / 3)
    # Product-Producer: 1 correct, 2 predicted, 2 gold.
    assert (product["precision"], product["recall"], product["f1"]) == (0.5, 0.5, 0.5)
    assert scores["per_type"]["Message-Topic"]["predicted"] == 1
    assert scores["types_averaged"] == ["Cause-Effect", "Product-Producer"]
    assert scores["macro"]["f1"] == pytest.approx((1 / 3 + 0.5) / 2)
    assert scores["macro"]["precision"] == pytest.approx((1 / 3 + 0.5) / 2)
    # Micro over the gold types: 2 correct of 5 predicted and 5 gold.
    assert scores["micro"]["precision"] == pytest.approx(2 / 5)
    assert scores["micro"]["recall"] == pytest.approx(2 / 5)
    assert semeval2010_f1_score(y_true, y_pred) == pytest.approx(5 / 12)


def test_every_type_is_reported_and_scores_are_floats():
    scores = semeval2010_precision_recall_f1(["Other", "Cause-Effect(e1,e2)"], ["Other", "Other"])
    assert len(scores["per_type"]) == 9
    assert scores["per_type"]["Cause-Effect"]["f1"] == 0.0
    assert all(type(value) is float for value in scores["macro"].values())


@pytest.mark.parametrize(
    "y_true, y_pred, message",
    [
        (["Other"], ["Other", "Other"], "different lengths"),
        (["Cause-Effect"], ["Other"], r"y_true\[0\] is 'Cause-Effect'"),
        (["Cause-Effect(e1,e2)", "Other"], ["Other", "other"], r"y_pred\[1\] is 'other'"),
        (["Other", "Other"], ["Other", "Cause-Effect(e1,e2)"], "no relation other than 'Other'"),
        ([], [], "no relation other than 'Other'"),
    ],
)
def test_bad_input_is_refused(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        semeval2010_f1_score(y_true, y_pred)
