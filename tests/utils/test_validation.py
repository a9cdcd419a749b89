import pytest

from sklearn_fishdip.utils._validation import (
    check_same_length,
    check_token_lists,
    check_tokens,
)


def test_token_lists_are_copied_and_checked():
    X = [("EU", "rejects"), ["call"]]
    checked = check_token_lists(X)
    assert checked == [["EU", "rejects"], ["call"]]
    assert checked[1] is not X[1]


@pytest.mark.parametrize(
    "X, error, message",
    [
        ([], ValueError, "X is empty"),
        ("EU rejects", TypeError, "X must be a list of token lists"),
        ([["EU"], "rejects"], TypeError, "tokens of sentence 1 must be a list"),
        ([["EU", None]], TypeError, "token 1 of sentence 0 must be a string, got NoneType"),
        ([["EU", " "]], ValueError, "token 1 of sentence 0 is ' '"),
    ],
)
def test_bad_token_lists(X, error, message):
    with pytest.raises(error, match=message):
        check_token_lists(X)


def test_lengths_must_match():
    check_same_length([["a"]], [["O"]])
    with pytest.raises(ValueError, match="1 sentences but 2 targets"):
        check_same_length([["a"]], [["O"], ["O"]])
    with pytest.raises(TypeError, match="y must be a list"):
        check_same_length([["a"]], None)


def test_tokens_accepts_tuples():
    assert check_tokens(("a", "b")) == ["a", "b"]


def test_a_checked_sentence_is_not_checked_twice(monkeypatch):
    from sklearn_fishdip.utils import _validation

    checked = _validation.check_tokens(["EU", "rejects"])
    assert isinstance(checked, _validation.CheckedTokens) and checked == ["EU", "rejects"]

    # Checking it again returns the same object without looking at its tokens.
    def refuse(value):
        raise AssertionError("checked again")

    monkeypatch.setattr(_validation, "_is_sequence", refuse)
    assert _validation.check_tokens(checked) is checked
    # A plain list equal to it is still checked.
    with pytest.raises(AssertionError, match="checked again"):
        _validation.check_tokens(["EU", "rejects"])


def test_predict_checks_each_sentence_once(monkeypatch, tiny_t5_path):
    from sklearn_fishdip import FishDipNER
    from sklearn_fishdip.utils import _validation
    from tests.estimator_fixtures import NER_X, NER_Y, fast_params

    estimator = FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)).fit(NER_X, NER_Y)
    seen = []
    original = _validation._is_sequence

    def counting(value):
        seen.append(id(value))
        return original(value)

    monkeypatch.setattr(_validation, "_is_sequence", counting)
    estimator.predict(NER_X)
    # X itself once, then each sentence once: generation and decoding reuse the checked lists.
    assert len(seen) == 1 + len(NER_X)


def test_escaped_words_are_computed_once_and_shared_by_windows():
    from sklearn_fishdip.augmented import escape_token
    from sklearn_fishdip.augmented._entities import escape_tokens

    checked = check_tokens(["a[1]", "b", "c|d"])
    first = escape_tokens(checked)
    assert first == [escape_token("a[1]"), "b", escape_token("c|d")] and first[0] != "a[1]"
    assert checked.escaped_ == tuple(first)
    window = checked.window(1, 3)
    assert window == ["b", "c|d"] and window.escaped_ == tuple(first[1:])
    # A caller changing the returned list does not change the cache.
    first[0] = "changed"
    assert escape_tokens(checked)[0] != "changed"
