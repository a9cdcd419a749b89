"""Input validation for ragged text data: token lists and spans over them.

scikit-learn's ``check_array`` does not apply to lists of token lists, so these
checks give the same kind of clear errors for text.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

__all__ = [
    "CheckedTokens",
    "check_fraction",
    "check_tokens",
    "check_token_lists",
    "check_same_length",
    "check_spans",
]


def _where(index: int | None) -> str:
    return "" if index is None else f" of sentence {index}"


def _is_sequence(value) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


class CheckedTokens(list):
    """A sentence :func:`check_tokens` accepted; checking it again returns it as it is.

    The estimators check each sentence once, at their edge. The generation
    functions they call are public and check their own input too, which then
    costs nothing. Any slice of a checked sentence is checked as well
    (:meth:`window`). The sentence also keeps its escaped words once
    :func:`~sklearn_fishdip.augmented.escape_tokens` has computed them, so
    they are computed once too.
    """

    __slots__ = ("escaped_",)

    def window(self, start, end):
        """The checked words ``start:end``, with their escaped words if known."""
        part = CheckedTokens(self[start:end])
        escaped = getattr(self, "escaped_", None)
        if escaped is not None:
            part.escaped_ = escaped[start:end]
        return part


def check_tokens(tokens, *, index: int | None = None) -> list[str]:
    """Check one sentence: a sequence of non-empty strings without whitespace.

    Parameters
    ----------
    tokens : sequence of str
        The sentence's tokens.
    index : int, optional
        Position of the sentence in its data set, used in error messages.

    Returns
    -------
    CheckedTokens
        The tokens as a new list, or ``tokens`` itself when it already is a
        :class:`CheckedTokens`.

    Raises
    ------
    TypeError
        If ``tokens`` is not a sequence (a plain string is refused) or holds
        something other than strings.
    ValueError
        If a token is empty or contains whitespace (it would not survive the
        whitespace-joined augmented text).
    """
    if type(tokens) is CheckedTokens:
        return tokens
    if not _is_sequence(tokens):
        raise TypeError(
            f"tokens{_where(index)} must be a list of strings, got {type(tokens).__name__}"
        )
    checked = CheckedTokens(tokens)
    for position, token in enumerate(checked):
        if not isinstance(token, str):
            raise TypeError(
                f"token {position}{_where(index)} must be a string, got {type(token).__name__} "
                f"({token!r})"
            )
        if not token or token.split() != [token]:
            raise ValueError(
                f"token {position}{_where(index)} is {token!r}: tokens must be non-empty and "
                "contain no whitespace"
            )
    return checked


def check_token_lists(X, *, name: str = "X") -> list[list[str]]:
    """Check a data set of sentences: a non-empty sequence of token lists.

    Parameters
    ----------
    X : sequence of sequence of str
        The sentences.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    list of list of str
        A new list of new token lists.

    Raises
    ------
    TypeError, ValueError
        As :func:`check_tokens`, and ``ValueError`` when ``X`` is empty.
    """
    if not _is_sequence(X):
        raise TypeError(f"{name} must be a list of token lists, got {type(X).__name__}")
    if len(X) == 0:
        raise ValueError(f"{name} is empty: at least one sentence is needed")
    return [check_tokens(tokens, index=index) for index, tokens in enumerate(X)]


def check_same_length(X, y, *, names: tuple[str, str] = ("X", "y")) -> None:
    """Raise a ``ValueError`` unless ``X`` and ``y`` have the same number of items."""
    if not _is_sequence(y):
        raise TypeError(f"{names[1]} must be a list, got {type(y).__name__}")
    if len(X) != len(y):
        raise ValueError(
            f"{names[0]} and {names[1]} have different lengths: {len(X)} sentences but "
            f"{len(y)} targets"
        )


def check_fraction(fraction) -> None:
    """Raise unless ``fraction`` is a number in (0, 1] (a low-resource fraction of train)."""
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
        raise TypeError(f"fraction must be a number, got {type(fraction).__name__}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")


def check_spans(spans, n_tokens: int, *, index: int | None = None) -> list[tuple[int, int, str]]:
    """Check entity spans ``(start, end, type)`` against a sentence of ``n_tokens``.

    Returns the spans as a list of tuples; raises ``TypeError``/``ValueError``
    naming the span for a wrong shape, a non-integer bound, an empty or
    out-of-range span, a non-string or empty type, or a duplicate.
    """
    if not _is_sequence(spans):
        raise TypeError(f"entities{_where(index)} must be a list of (start, end, type)")
    checked = []
    for number, span in enumerate(spans):
        if not _is_sequence(span) or len(span) != 3:
            raise TypeError(
                f"entity {number}{_where(index)} must be a (start, end, type) triple, got {span!r}"
            )
        start, end, label = span
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise TypeError(f"entity {number}{_where(index)} {span!r} needs integer start and end")
        if not isinstance(label, str) or not label:
            raise TypeError(
                f"entity {number}{_where(index)} {span!r} needs a non-empty string type"
            )
        if not 0 <= start < end <= n_tokens:
            raise ValueError(
                f"entity {number}{_where(index)} {span!r} is empty or outside the sentence "
                f"(0..{n_tokens}, end exclusive)"
            )
        checked.append((start, end, label))
    if len(set(checked)) != len(checked):
        duplicate = next(span for span in checked if checked.count(span) > 1)
        raise ValueError(f"entity {duplicate!r}{_where(index)} is listed twice")
    return checked
