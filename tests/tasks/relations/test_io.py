"""The relations task's files: the CoNLL04 JSON writer."""

from sklearn_fishdip.tasks.relations._io import relations_record


def test_relations_output_resolves_overlaps_outer_first():
    tokens = ["Anna", "of", "New", "York", "met", "Bob"]
    prediction = {
        "entities": [(0, 1, "Peop"), (0, 4, "Peop"), (2, 4, "Loc"), (5, 6, "Peop")],
        "relations": [(0, 3, "Kill"), (1, 3, "Kill"), (2, 1, "Located_In")],
    }
    record = relations_record(tokens, prediction)
    assert record["tags"] == ["B-Peop", "I-Peop", "I-Peop", "L-Peop", "O", "U-Peop"]
    # Only the relation between kept entities remains, re-indexed.
    assert record["relations"] == [{"head": 0, "tail": 1, "type": "Kill"}]
