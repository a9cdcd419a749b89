"""Special characters of augmented natural language and their escaping.

TANL marks annotations with four characters: ``[`` opens an annotated span,
``]`` closes it, ``|`` separates the span from its tags and the tags from one
another, and ``=`` separates a relation from its tail. A source token that
contains one of them would be read back as markup, so both the model input and
the target use :func:`escape_token` on every source token, and decoded words
are mapped back with :func:`unescape_token`.
"""

from __future__ import annotations

import re

__all__ = [
    "OPEN",
    "CLOSE",
    "SEPARATOR",
    "RELATION",
    "SPECIAL_CHARACTERS",
    "contains_special",
    "escape_token",
    "unescape_token",
]

OPEN = "["
CLOSE = "]"
SEPARATOR = "|"
RELATION = "="
SPECIAL_CHARACTERS = frozenset(OPEN + CLOSE + SEPARATOR + RELATION)

# PTB-style codes, readable by a pretrained model and free of special characters.
_CODES = {OPEN: "LSB", CLOSE: "RSB", SEPARATOR: "VBAR", RELATION: "EQ", "-": "DASH"}
_NAMES = "|".join(_CODES.values())
_DECODE = {name: char for char, name in _CODES.items()}

# A dash is escaped only when it could be mistaken for the start of a code;
# that keeps ordinary hyphens ("1996-08-22") as they are and the escape injective.
_ESCAPE_PATTERN = re.compile(rf"[\[\]|=]|-(?={_NAMES})")
_UNESCAPE_PATTERN = re.compile(rf"-({_NAMES})-")


def _check_str(value, name: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")


def contains_special(text: str) -> bool:
    """Tell whether a text contains one of the special characters ``[ ] | =``.

    Parameters
    ----------
    text : str
        Text to check.

    Returns
    -------
    bool
        True when at least one special character occurs in ``text``.

    Raises
    ------
    TypeError
        If ``text`` is not a string.

    Examples
    --------
    >>> contains_special("a=b")
    True
    >>> contains_special("U.S.")
    False
    """
    _check_str(text, "text")
    return not SPECIAL_CHARACTERS.isdisjoint(text)


def escape_token(token: str) -> str:
    """Replace the special characters of a token with readable codes.

    ``[``, ``]``, ``|`` and ``=`` become ``-LSB-``, ``-RSB-``, ``-VBAR-`` and
    ``-EQ-``. A ``-`` directly followed by one of the code names ``LSB``,
    ``RSB``, ``VBAR``, ``EQ`` or ``DASH`` becomes ``-DASH-``, so that a token
    which already looks like a code (``-LSB-`` in Penn Treebank text) comes
    back unchanged from :func:`unescape_token`. Every other character,
    whitespace included, is kept.

    Parameters
    ----------
    token : str
        Source token.

    Returns
    -------
    str
        The escaped token; it contains no special character.

    Raises
    ------
    TypeError
        If ``token`` is not a string.

    Examples
    --------
    >>> escape_token("a[1]")
    'a-LSB-1-RSB-'
    >>> escape_token("1996-08-22")
    '1996-08-22'
    >>> escape_token("-LSB-")
    '-DASH-LSB-'
    """
    _check_str(token, "token")
    return _ESCAPE_PATTERN.sub(lambda match: f"-{_CODES[match.group()]}-", token)


def unescape_token(text: str) -> str:
    """Invert :func:`escape_token`.

    Codes are replaced from left to right without overlap, so
    ``unescape_token(escape_token(t)) == t`` for every string ``t``.

    Parameters
    ----------
    text : str
        Escaped token, for instance a word decoded by the model.

    Returns
    -------
    str
        The original token.

    Raises
    ------
    TypeError
        If ``text`` is not a string.

    Examples
    --------
    >>> unescape_token("a-LSB-1-RSB-")
    'a[1]'
    >>> unescape_token("-DASH-LSB-")
    '-LSB-'
    """
    _check_str(text, "text")
    return _UNESCAPE_PATTERN.sub(lambda match: _DECODE[match.group(1)], text)
