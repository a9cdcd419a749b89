import pytest

from sklearn_fishdip.metrics import (
    entity_f1_score,
    entity_precision_recall_f1,
    ner_classification_report,
    relation_f1_score,
    relation_precision_recall_f1,
)


def test_entity_scores_are_strict():
    # Lenient (conlleval) mode would count the I-PER start as an entity: strict does not.
    y_true = [["B-PER", "I-PER", "O", "B-LOC"]]
    y_pred = [["I-PER", "I-PER", "O", "B-LOC"]]
    precision, recall, f1 = entity_precision_recall_f1(y_true, y_pred)
    assert (precision, recall) == (1.0, 0.5)
    assert f1 == pytest.approx(2 / 3)


def test_entity_scores_in_bilou_and_without_entities():
    y = [["U-PER", "O", "B-LOC", "L-LOC"]]
    assert entity_f1_score(y, y, scheme="BILOU") == 1.0
    assert entity_f1_score([["O"]], [["O"]]) == 0.0
    report = ner_classification_report(y, y, scheme="BILOU", output_dict=True)
    assert report["PER"]["f1-score"] == 1.0


def test_entity_scores_accept_tuples_and_check_lengths():
    assert entity_f1_score([("B-PER",)], [("B-PER",)]) == 1.0
    with pytest.raises(ValueError, match="sentence 0 has 2 true tags but 1 predicted"):
        entity_f1_score([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="different lengths"):
        entity_f1_score([["O"]], [])
    with pytest.raises(ValueError, match="unknown tagging scheme"):
        entity_f1_score([["O"]], [["O"]], scheme="XYZ")


def test_relation_scores_need_both_entities_right():
    gold = [
        {
            "entities": [(0, 1, "Peop"), (2, 3, "Org"), (4, 5, "Loc")],
            "relations": [(0, 1, "Work_For"), (1, 2, "OrgBased_In")],
        }
    ]
    pred = [
        {
            "entities": [(0, 1, "Peop"), (2, 3, "Org"), (4, 6, "Loc")],
            "relations": [(0, 1, "Work_For"), (1, 2, "OrgBased_In"), (0, 2, "Live_In")],
        }
    ]
    precision, recall, f1 = relation_precision_recall_f1(gold, pred)
    assert (precision, recall) == (pytest.approx(1 / 3), 0.5)
    assert f1 == pytest.approx(0.4)
    assert relation_precision_recall_f1(gold, pred, level="entities")[:2] == (
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
    )
    assert relation_f1_score(gold, gold) == 1.0
    with pytest.raises(ValueError, match="level must be"):
        relation_precision_recall_f1(gold, pred, level="spans")
