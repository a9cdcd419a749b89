"""SRL augmented text: the bracketed-predicate source and the arguments-only target."""

from types import SimpleNamespace

import pytest

from sklearn_fishdip.augmented import LabelVerbalizer
from sklearn_fishdip.tasks.srl import SRLCodec, check_srl_inputs, srl_label_names, srl_source

CODEC = SRLCodec()
TOKENS = ["The", "cat", "sat", "on", "the", "mat"]
SPANS = [(0, 2, "ARG0"), (3, 6, "ARGM-LOC")]


def _fitted(X, y, label_names=None):
    """An object with what the codec reads from a fitted estimator."""
    estimator = SimpleNamespace(label_names=label_names, uncased_=False)
    targets = CODEC.check_targets(estimator, check_srl_inputs(X), y)
    for name, value in CODEC.fit_vocabulary(estimator, targets).items():
        setattr(estimator, name, value)
    return estimator, targets


def test_source_brackets_the_predicate_untyped():
    assert srl_source(TOKENS, 2) == "The cat [ sat ] on the mat"
    assert srl_source(TOKENS, 0) == "[ The ] cat sat on the mat"
    assert srl_source(TOKENS, 5) == "The cat sat on the [ mat ]"


def test_target_brackets_the_arguments_only_and_reads_back():
    estimator, targets = _fitted([(TOKENS, 2)], [SPANS])
    text = CODEC.encode(estimator, TOKENS, targets[0])
    assert text == "[ The cat | first argument ] sat [ on the mat | location ]"
    spans, errors = CODEC.decode(estimator, text, TOKENS)
    assert spans == SPANS and not errors.any


def test_the_formats_notes_example_with_raw_names():
    # formats.md 2.4 keeps ARGM-LOC raw; label_names gives that choice back.
    estimator, targets = _fitted([(TOKENS, 2)], [SPANS], {"ARGM-LOC": "ARGM-LOC"})
    text = CODEC.encode(estimator, TOKENS, targets[0])
    assert text == "[ The cat | first argument ] sat [ on the mat | ARGM-LOC ]"
    assert CODEC.decode(estimator, text, TOKENS)[0] == SPANS


def test_label_names():
    names = srl_label_names(["ARG1", "ARGM-TMP", "C-ARG1", "R-ARG0", "ARGM-XYZ", "C-V"])
    assert names == {
        "ARG1": "second argument",
        "ARGM-TMP": "time",
        "C-ARG1": "continuation of second argument",
        "R-ARG0": "reference to first argument",
        "ARGM-XYZ": "ARGM-XYZ",
        "C-V": "continuation of predicate",
    }
    assert srl_label_names(["ARG0"], {"ARG0": "agent", "ARG9": "x"}) == {"ARG0": "agent"}
    verbalizer = LabelVerbalizer(["ARG0"], {"ARG0": "doer"})
    estimator, _ = _fitted([(TOKENS, 2)], [[(0, 2, "ARG0")]], verbalizer)
    assert estimator.verbalizer_ is verbalizer


def test_bio_tags_are_read_as_spans():
    tags = ["B-ARG0", "I-ARG0", "O", "B-ARGM-LOC", "I-ARGM-LOC", "I-ARGM-LOC"]
    _, targets = _fitted([(TOKENS, 2)], [tags])
    assert targets == [SPANS]


def test_decode_drops_unknown_labels_with_a_label_error():
    estimator, _ = _fitted([(TOKENS, 2)], [SPANS])
    spans, errors = CODEC.decode(estimator, "[ The cat | time ] sat on the mat", TOKENS)
    assert spans == [] and errors.label_error


@pytest.mark.parametrize(
    "X, y, error, message",
    [
        ([(TOKENS, 6)], [[]], ValueError, r"X\[0\]: the predicate index 6 is outside the sentence"),
        ([(TOKENS, -1)], [[]], ValueError, r"X\[0\]: the predicate index -1 is outside"),
        ([(TOKENS, "2")], [[]], TypeError, r"X\[0\]: the predicate index must be an integer"),
        ([TOKENS], [[]], TypeError, r"X\[0\] must be a \(tokens, predicate_index\) pair"),
        ("The cat", [[]], TypeError, "X must be a list of"),
        (
            [(TOKENS, 2), (TOKENS, 2)],
            [SPANS, [(1, 4, "ARG0")]],
            ValueError,
            r"y\[1\]: the argument span \(1, 4, 'ARG0'\) covers the predicate 'sat' at token 2",
        ),
        ([(TOKENS, 2)], [[(2, 3, "ARG1")]], ValueError, r"y\[0\]: .* covers the predicate"),
        ([(TOKENS, 2)], [[(0, 2, "A"), (1, 2, "B")]], ValueError, r"y\[0\]: .*overlaps"),
        ([(TOKENS, 2)], [[(4, 9, "A")]], ValueError, r"y\[0\]: .*outside the sentence"),
        ([(TOKENS, 2)], [["O", "B-ARG0"]], ValueError, r"y\[0\]: 2 tags for 6 tokens"),
        ([(TOKENS, 2)], [["O"] * 5 + ["X-A"]], ValueError, r"y\[0\]: tag 5 is 'X-A'"),
        ([(TOKENS, 2)], ["ARG0"], TypeError, r"y\[0\] must be a list of"),
        (
            [(TOKENS, 2), (TOKENS, 2)],
            [SPANS, ["O"] * 6],
            ValueError,
            "mixes span lists and BIO tag lists",
        ),
    ],
)
def test_bad_input_names_the_example(X, y, error, message):
    with pytest.raises(error, match=message):
        _fitted(X, y)
