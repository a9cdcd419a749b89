import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_fishdip.augmented._special import (
    CLOSE,
    OPEN,
    RELATION,
    SEPARATOR,
    SPECIAL_CHARACTERS,
    contains_special,
    escape_token,
    unescape_token,
)

# Letters of every code name next to the specials and dashes: the hard cases
# for injectivity are tokens that already look like codes.
ADVERSARIAL = st.text(alphabet="-LSBRVAEQDH[]|=x ", max_size=30)


def test_constants():
    assert (OPEN, CLOSE, SEPARATOR, RELATION) == ("[", "]", "|", "=")
    assert SPECIAL_CHARACTERS == frozenset("[]|=")


@pytest.mark.parametrize(
    "text, expected",
    [("a[b", True), ("]", True), ("x|y", True), ("a=b", True), ("U.S.", False), ("", False)],
)
def test_contains_special(text, expected):
    assert contains_special(text) is expected


@pytest.mark.parametrize(
    "token, escaped",
    [
        ("[", "-LSB-"),
        ("]", "-RSB-"),
        ("|", "-VBAR-"),
        ("=", "-EQ-"),
        ("a[1]=b", "a-LSB-1-RSB--EQ-b"),
        ("-LSB-", "-DASH-LSB-"),
        ("-DASH", "-DASH-DASH"),
        ("a-EQb", "a-DASH-EQb"),
        ("--", "--"),
    ],
)
def test_escape_examples(token, escaped):
    assert escape_token(token) == escaped
    assert unescape_token(escaped) == token


@pytest.mark.parametrize("token", ["1996-08-22", "-", "U.S.", "well-known", "-lsb-", "e-mail"])
def test_ordinary_tokens_unchanged(token):
    assert escape_token(token) == token
    assert unescape_token(token) == token


def test_whitespace_kept():
    assert escape_token(" a [ b ") == " a -LSB- b "


@pytest.mark.parametrize("function", [contains_special, escape_token, unescape_token])
def test_non_string_rejected(function):
    with pytest.raises(TypeError, match="must be a string, got int"):
        function(3)


@settings(max_examples=300)
@given(st.one_of(ADVERSARIAL, st.text(max_size=30)))
def test_escape_round_trip(token):
    escaped = escape_token(token)
    assert not contains_special(escaped)
    assert unescape_token(escaped) == token
    # Escaping only inserts characters around the specials: whitespace is untouched.
    assert escaped.split() == [escape_token(part) for part in token.split()]
