import pickle

import pytest

from sklearn_fishdip.augmented._verbalizer import LabelVerbalizer


@pytest.mark.parametrize(
    "label, natural",
    [
        # CoNLL-2003
        ("PER", "person"),
        ("LOC", "location"),
        ("ORG", "organization"),
        ("MISC", "miscellaneous"),
        # CoNLL04
        ("Peop", "person"),
        ("Org", "organization"),
        ("Loc", "location"),
        ("Other", "other"),
        ("Work_For", "works for"),
        ("Kill", "kills"),
        ("OrgBased_In", "organization based in"),
        ("Live_In", "lives in"),
        ("Located_In", "located in"),
        # OntoNotes and ACE
        ("GPE", "country city state"),
        ("NORP", "nationality religious political group"),
        ("FAC", "facility"),
        ("WORK_OF_ART", "work of art"),
        ("VEH", "vehicle"),
        ("WEA", "weapon"),
        # generic rule
        ("DateOfBirth", "date of birth"),
        ("place_of_birth", "place of birth"),
        ("ARGM-TMP", "argm tmp"),
        ("HTTPServer", "http server"),
        ("cell  type", "cell type"),
        ("PERSON", "person"),
    ],
)
def test_default_names(label, natural):
    verbalizer = LabelVerbalizer([label])
    assert verbalizer.verbalize(label) == natural
    assert verbalizer.parse(natural) == label


def test_conll04_round_trip():
    labels = ["Peop", "Org", "Loc", "Other", "Work_For", "Kill", "OrgBased_In", "Live_In"]
    verbalizer = LabelVerbalizer(labels)
    assert verbalizer.labels == tuple(labels)
    assert list(verbalizer) == labels
    assert len(verbalizer) == len(labels)
    for label, natural in zip(labels, verbalizer.natural_names):
        assert verbalizer.verbalize(label) == natural
        assert verbalizer.parse(natural) == label


def test_label_names_override_and_normalize():
    verbalizer = LabelVerbalizer(["PER", "LOC"], {"LOC": "  place \t name "})
    assert verbalizer.natural_names == ("person", "place name")
    assert verbalizer.parse("place   name") == "LOC"
    assert verbalizer.parse(" person ") == "PER"


def test_parse_unknown_and_case():
    verbalizer = LabelVerbalizer(["PER", "DNA"])
    assert verbalizer.parse("organization") is None
    assert verbalizer.parse("Person") is None
    assert verbalizer.parse("Person", ignore_case=True) == "PER"
    assert verbalizer.parse("dna", ignore_case=True) == "DNA"
    assert verbalizer.parse("dna") is None


def test_verbalize_unknown_label():
    verbalizer = LabelVerbalizer(["PER"])
    with pytest.raises(ValueError, match="unknown label 'ORG'; expected one of 'PER'"):
        verbalizer.verbalize("ORG")
    with pytest.raises(TypeError, match="label must be a string"):
        verbalizer.verbalize(1)
    with pytest.raises(TypeError, match="natural must be a string"):
        verbalizer.parse(None)


def test_collision_is_case_insensitive():
    with pytest.raises(
        ValueError, match=r"'PER' -> 'person', 'Peop' -> 'person'; pass label_names"
    ):
        LabelVerbalizer(["PER", "Peop"])
    with pytest.raises(
        ValueError, match=r"case-insensitively\), but 'A' -> 'Thing', 'B' -> 'thing'"
    ):
        LabelVerbalizer(["A", "B"], {"A": "Thing", "B": "thing"})
    # Overriding one of them resolves the clash.
    assert LabelVerbalizer(["PER", "Peop"], {"Peop": "people"}).parse("people") == "Peop"


@pytest.mark.parametrize(
    "labels, label_names, message",
    [
        (["PER", "PER"], None, "labels must be unique; repeated: 'PER'"),
        (["PER", ""], None, r"labels must not be empty or blank; offending labels: ''"),
        (["  "], None, "labels must not be empty or blank"),
        (["A|B"], None, r"labels must not contain any of .*offending labels: 'A\|B'"),
        (["X"], {"X": "a = b"}, r"natural names must not contain .*offending labels: 'X'"),
        (["X"], {"X": " "}, r"natural names must not be empty .*offending labels: 'X'"),
        (["_"], None, r"natural names must not be empty .*offending labels: '_'"),
        (["X"], {"Y": "why", "Z": "zed"}, r"not labels: 'Y', 'Z'"),
    ],
)
def test_invalid_values(labels, label_names, message):
    with pytest.raises(ValueError, match=message):
        LabelVerbalizer(labels, label_names)


@pytest.mark.parametrize(
    "labels, label_names, message",
    [
        ("PER", None, "labels must be an iterable of strings, got str"),
        (5, None, "labels must be an iterable of strings, got int"),
        (["PER", 3], None, "labels must be strings, got int: 3"),
        (["PER"], [("PER", "person")], "label_names must be a mapping"),
        (["PER"], {"PER": 1}, "natural name of label 'PER' must be a string, got int"),
    ],
)
def test_invalid_types(labels, label_names, message):
    with pytest.raises(TypeError, match=message):
        LabelVerbalizer(labels, label_names)


def test_equality_repr_and_pickle():
    first = LabelVerbalizer(["PER", "LOC"])
    second = LabelVerbalizer(["LOC", "PER"], {"PER": "person"})
    assert first == second
    assert hash(first) == hash(second)
    assert first != LabelVerbalizer(["PER", "LOC"], {"LOC": "place"})
    assert first != {"PER": "person", "LOC": "location"}
    assert repr(first) == (
        "LabelVerbalizer(labels=('PER', 'LOC'), label_names={'PER': 'person', 'LOC': 'location'})"
    )
    assert eval(repr(first)) == first
    restored = pickle.loads(pickle.dumps(first))
    assert restored == first and restored.natural_names == first.natural_names


def test_labels_from_generator():
    verbalizer = LabelVerbalizer(label for label in ["PER", "ORG"])
    assert verbalizer.labels == ("PER", "ORG")
