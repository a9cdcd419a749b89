"""The text classification codec: inputs, sources, label names, regression targets."""

import numpy as np
import pytest

from sklearn_fishdip.tasks.text_classification import (
    TextClassificationCodec,
    TextRegressionCodec,
    check_texts,
    class_verbalizer,
    format_source,
    score_grid,
)


class _Estimator:
    """The attributes the codecs read, without a model."""

    label_names = None
    resolution = 0.2


def test_texts_and_pairs_become_word_tuples():
    assert check_texts(["a  good\tfilm", "bad"]) == [(["a", "good", "film"],), (["bad"],)]
    assert check_texts([("a b", "c"), ["d", "e f"]]) == [(["a", "b"], ["c"]), (["d"], ["e", "f"])]


def test_sources_are_plain_text_for_every_tokenizer():
    assert format_source((["a", "[good]", "film"],)) == "a [good] film"
    pair = format_source((["A", "plane"], ["A", "jet"]))
    assert pair == "sentence 1 : A plane sentence 2 : A jet"


@pytest.mark.parametrize(
    "X, pairs, error, message",
    [
        ("a text", None, TypeError, "X must be a list"),
        ([], None, ValueError, "X is empty"),
        (["good", "  "], None, ValueError, r"X\[1\] is an empty text"),
        ([("a", "")], None, ValueError, r"X\[0\]\[1\] is an empty text"),
        (["good", ("a", "b")], None, ValueError, r"X\[1\] is a pair, but .* single texts"),
        ([("a", "b"), "good"], None, ValueError, r"X\[1\] is a single text, but .* pairs"),
        (["good"], True, ValueError, r"X\[0\] is a single text, but the estimator takes"),
        ([("a", "b")], False, ValueError, r"X\[0\] is a pair, but the estimator takes single"),
        ([("a", "b", "c")], None, TypeError, r"X\[0\] must be a text or .* tuple of 3 items"),
        ([3], None, TypeError, r"X\[0\] must be a text or a \(text_a, text_b\) pair, got int"),
        ([("a", None)], None, TypeError, r"X\[0\]\[1\] must be a string, got NoneType"),
    ],
)
def test_bad_inputs_are_named(X, pairs, error, message):
    with pytest.raises(error, match=message):
        check_texts(X, pairs=pairs)


def test_label_names_are_keyed_by_label_or_its_text():
    verbalizer = class_verbalizer([0, 1], {0: "negative", "1": "positive", "x": "ignored"})
    assert verbalizer.natural_names == ("negative", "positive")
    assert class_verbalizer(["entailment", "not_entailment"]).natural_names == (
        "entailment",
        "not entailment",
    )
    with pytest.raises(TypeError, match="label_names must be a dict"):
        class_verbalizer([0, 1], ["a", "b"])


def test_classification_targets_and_candidates():
    codec, estimator = TextClassificationCodec(), _Estimator()
    labels = codec.check_targets(estimator, None, [np.int64(1), 0, 1])
    assert labels == [1, 0, 1] and type(labels[0]) is int
    for name, value in codec.fit_vocabulary(estimator, labels).items():
        setattr(estimator, name, value)
    assert estimator.classes_.tolist() == [0, 1]
    assert codec.candidates(estimator) == ["0", "1"]
    assert codec.target(estimator, np.int64(1)) == "1"


@pytest.mark.parametrize(
    "y, message",
    [
        (["a", "a"], r"y holds a single class \('a'\): a classifier needs at least 2"),
        (["a", None], r"y\[1\] is None"),
        (["a", 1.5], r"y\[1\] is 1.5"),
        (["a", " "], r"y\[1\] is ' '"),
        ([1, "1"], "same text"),
    ],
)
def test_bad_class_labels(y, message):
    with pytest.raises(ValueError, match=message):
        TextClassificationCodec().check_targets(_Estimator(), None, y)


def test_regression_grid_and_targets_round_to_the_resolution():
    assert score_grid(0.0, 5.0, 0.2).shape == (26,)
    assert score_grid(0.1, 0.9, 0.2).tolist() == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert score_grid(-1, 1, 0.5).tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    codec, estimator = TextRegressionCodec(), _Estimator()
    values = codec.check_targets(estimator, None, [5, 3.75, np.float32(0.1)])
    for name, value in codec.fit_vocabulary(estimator, values).items():
        setattr(estimator, name, value)
    assert codec.target(estimator, 3.75) == "3.8"
    assert codec.target(estimator, 5) == "5.0"
    assert codec.candidates(estimator)[:3] == ["0.0", "0.2", "0.4"]
    estimator.resolution = 0.25
    assert codec.candidates(estimator)[1] == "0.20"  # two decimals for a step of 0.25
    for bad in (None, "3", float("nan"), True):
        with pytest.raises(ValueError, match=r"y\[1\] is .*: a target must be a finite number"):
            codec.check_targets(estimator, None, [1.0, bad])
