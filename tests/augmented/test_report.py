import dataclasses

import numpy as np
import pytest

from sklearn_fishdip.augmented._report import DecodeErrors

KINDS = ["wrong_reconstruction", "format_error", "label_error", "entity_error"]


def test_defaults():
    empty = DecodeErrors()
    assert empty.as_dict() == dict.fromkeys([*KINDS, "n_sentences"], 0)
    assert empty.rates() == dict.fromkeys(KINDS, 0.0)
    assert not empty.any


def test_single_sentence_from_flags():
    errors = DecodeErrors(wrong_reconstruction=True, label_error=False, n_sentences=1)
    assert errors.wrong_reconstruction == 1 and type(errors.wrong_reconstruction) is int
    assert errors.label_error == 0 and type(errors.label_error) is int
    assert errors.any


def test_sum_and_rates():
    reports = [
        DecodeErrors(format_error=1, n_sentences=1),
        DecodeErrors(format_error=1, entity_error=1, n_sentences=1),
        DecodeErrors(n_sentences=1),
        DecodeErrors(wrong_reconstruction=1, n_sentences=1),
    ]
    total = sum(reports)
    assert total == DecodeErrors(
        wrong_reconstruction=1, format_error=2, label_error=0, entity_error=1, n_sentences=4
    )
    assert total.rates() == {
        "wrong_reconstruction": 0.25,
        "format_error": 0.5,
        "label_error": 0.0,
        "entity_error": 0.25,
    }
    assert reports[0] + reports[1] == DecodeErrors(format_error=2, entity_error=1, n_sentences=2)
    assert 0 + reports[0] == reports[0]


def test_numpy_integers_accepted():
    errors = DecodeErrors(format_error=np.int64(2), n_sentences=np.int32(3))
    assert errors.as_dict()["format_error"] == 2 and type(errors.format_error) is int


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DecodeErrors().format_error = 1


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"format_error": 0.5, "n_sentences": 1}, TypeError, "format_error must be an integer"),
        ({"n_sentences": "3"}, TypeError, "n_sentences must be an integer, got str"),
        ({"label_error": -1, "n_sentences": 1}, ValueError, "label_error must be non-negative"),
        (
            {"label_error": 2, "entity_error": 3, "n_sentences": 2},
            ValueError,
            "entity_error cannot exceed n_sentences=2",
        ),
        ({"format_error": 1}, ValueError, "format_error cannot exceed n_sentences=0"),
    ],
)
def test_invalid(kwargs, error, message):
    with pytest.raises(error, match=message):
        DecodeErrors(**kwargs)


def test_adding_other_types_fails():
    with pytest.raises(TypeError):
        DecodeErrors() + 1
    with pytest.raises(TypeError):
        1 + DecodeErrors()
    with pytest.raises(TypeError):
        {"format_error": 1} + DecodeErrors()
