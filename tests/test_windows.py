"""Word windows of long sources (``sklearn_fishdip._windows``), on a word-level tokenizer."""

import pytest

from sklearn_fishdip import FishDipNER
from sklearn_fishdip.utils._testing import make_tiny_tokenizer

WORDS = ["w"] * 10


def _estimator(max_source_length):
    # The word-level tokenizer gives one id per word plus the end-of-sequence id.
    return FishDipNER(max_source_length=max_source_length)


def test_windows_are_consecutive_and_fit_the_budget():
    tokenizer = make_tiny_tokenizer()
    estimator = _estimator(5)  # 4 words after the end-of-sequence id
    assert estimator._word_budget(tokenizer) == 4
    assert estimator._windows(tokenizer, WORDS) == [(0, 4), (4, 8), (8, 10)]
    assert _estimator(64)._windows(tokenizer, WORDS) == [(0, 10)]


@pytest.mark.parametrize(
    "start, end, window",
    [
        (0, 1, (0, 4)),  # a one-word span: the window that holds it
        (5, 6, (4, 8)),
        (9, 10, (8, 10)),
        (2, 6, (0, 6)),  # a span across a window's end stays whole
        (7, 10, (4, 10)),
    ],
)
def test_the_window_around_a_span_holds_its_start_and_reaches_its_end(start, end, window):
    tokenizer = make_tiny_tokenizer()
    assert _estimator(5)._window_around(tokenizer, WORDS, start, end) == window


def test_the_window_is_measured_on_the_bracketed_words():
    tokenizer = make_tiny_tokenizer()
    bracketed = list(WORDS)
    bracketed[1] = "[ w ]"  # three ids: the brackets take room in the source
    # windows (0, 2), (2, 6), (6, 10) instead of (0, 4), (4, 8), (8, 10)
    assert _estimator(5)._window_around(tokenizer, bracketed, 5, 6) == (2, 6)
    assert _estimator(5)._window_around(tokenizer, WORDS, 5, 6) == (4, 8)
