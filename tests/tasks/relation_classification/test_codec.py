"""Relation classification as augmented text: inputs, targets and relation names."""

import pytest

from sklearn_fishdip.tasks.relation_classification import (
    check_relation_inputs,
    decode_relation_label,
    encode_relation_example,
    relation_verbalizer,
)
from sklearn_fishdip.tasks.relation_classification._metrics import LABELS

TOLKIEN = {"tokens": "Tolkien wrote The Lord of the Rings".split(), "head": (2, 7), "tail": (0, 1)}


def test_source_and_target_are_written_as_formats_md_2_3():
    source, target = encode_relation_example(TOLKIEN, "author")
    assert source == (
        "[ Tolkien ] wrote [ The Lord of the Rings ] The relationship between "
        "[ The Lord of the Rings ] and [ Tolkien ] is"
    )
    assert target == "relationship between [ The Lord of the Rings ] and [ Tolkien ] = author"
    # Decoding takes the text after the last "=".
    assert decode_relation_label(target, ["author", "founder"]) == "author"


def test_round_trip_with_markup_in_tokens_and_adjacent_entities():
    x = {"tokens": ["a=b", "[x]", "said", "|"], "head": (0, 1), "tail": (1, 2)}
    source, target = encode_relation_example(x, "Cause-Effect(e2,e1)")
    assert source.startswith("[ a-EQ-b ] [ -LSB-x-RSB- ] said -VBAR- The relationship between")
    assert target.endswith("= effect cause")
    # Only the text after the last "=" names the relation: escaped "=" cannot confuse it.
    assert decode_relation_label(target, ["Cause-Effect(e2,e1)", "Other"]) == "Cause-Effect(e2,e1)"
    assert decode_relation_label("relationship between = nonsense", ["Other"]) is None
    assert decode_relation_label("no equals sign", ["Other"]) is None
    assert decode_relation_label("x = OTHER", ["Other"], ignore_case=True) == "Other"


def test_semeval_labels_get_unique_readable_names_by_the_roles_of_head_and_tail():
    labels = sorted(LABELS)
    verbalizer = relation_verbalizer(labels)
    names = dict(zip(labels, verbalizer.natural_names))
    assert names["Component-Whole(e1,e2)"] == "component whole"
    assert names["Component-Whole(e2,e1)"] == "whole component"
    assert names["Instrument-Agency(e2,e1)"] == "agency instrument"
    assert names["Other"] == "other"
    assert len(set(names.values())) == 19
    assert all(not set(name) & set("[]|=(),") for name in names.values())
    # label_names still overrides, directed labels included.
    custom = relation_verbalizer(labels, {"Other": "no relation", "Cause-Effect(e1,e2)": "causes"})
    assert custom.verbalize("Cause-Effect(e1,e2)") == "causes"
    assert custom.verbalize("Other") == "no relation"


def test_other_labels_follow_the_library_conventions():
    verbalizer = relation_verbalizer(
        ["Work_For", "located in the administrative territorial entity"]
    )
    assert verbalizer.natural_names == (
        "works for",
        "located in the administrative territorial entity",
    )
    with pytest.raises(ValueError, match="must not contain"):
        relation_verbalizer(["A"], {"A": "a = b"})
    with pytest.raises(TypeError, match="label_names must be a dict"):
        relation_verbalizer(["A"], ["a"])


@pytest.mark.parametrize(
    "X, error, message",
    [
        ("John met Mary", TypeError, "X must be a list of dicts"),
        ([], ValueError, "X is empty"),
        ([TOLKIEN, ["John", "met"]], TypeError, r"X\[1\] must be a dict"),
        ([{"tokens": ["a"], "head": (0, 1)}], ValueError, r"X\[0\] has no 'tail'"),
        ([{**TOLKIEN, "head": (5, 9)}], ValueError, r"X\[0\]\['head'\] is \(5, 9\), outside"),
        ([{**TOLKIEN, "tail": (1, 1)}], ValueError, r"X\[0\]\['tail'\] is \(1, 1\)"),
        ([TOLKIEN, {**TOLKIEN, "tail": (3, 4)}], ValueError, r"X\[1\]: the head .* overlap"),
        ([{**TOLKIEN, "head": "2:7"}], TypeError, "must be a pair of integers"),
        ([{**TOLKIEN, "head": (2.0, 7)}], TypeError, "must be a pair of integers"),
        ([TOLKIEN, {**TOLKIEN, "tokens": ["a b", "c"]}], ValueError, r"X\[1\]: token 0"),
        ([{**TOLKIEN, "tokens": "Tolkien wrote"}], TypeError, r"X\[0\]: tokens"),
    ],
)
def test_bad_inputs_name_the_example(X, error, message):
    with pytest.raises(error, match=message):
        check_relation_inputs(X)


def test_checked_inputs_are_new_dicts_with_tuple_spans():
    x = {"tokens": ["a", "b"], "head": [0, 1], "tail": [1, 2], "id": "7"}
    (checked,) = check_relation_inputs([x])
    assert checked == {"tokens": ["a", "b"], "head": (0, 1), "tail": (1, 2)}
    assert x["head"] == [0, 1]  # the input is left as it is
