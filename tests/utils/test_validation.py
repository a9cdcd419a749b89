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
