"""Aligning generated words with source tokens.

A model may misspell, drop or add words, so entity positions in the generated
sentence are mapped back to the source by a token-level edit-distance
alignment with the reference TANL tie order.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

__all__ = ["align_words", "aligned_span"]

# Backtrace moves, in the order that breaks ties between equal costs.
_DIAGONAL, _SKIP_SOURCE, _SKIP_OUTPUT = 0, 1, 2


def _check_words(words, name: str) -> list[str]:
    if isinstance(words, str) or not isinstance(words, Sequence):
        raise TypeError(f"{name} must be a sequence of strings, got {type(words).__name__}")
    for position, word in enumerate(words):
        if not isinstance(word, str):
            raise TypeError(
                f"{name} must hold strings; item {position} is {type(word).__name__}: {word!r}"
            )
    return list(words)


def align_words(
    source: Sequence[str], output: Sequence[str], ignore_case: bool = False
) -> list[int | None]:
    """Map each output word to a source token by minimum edit distance.

    Matching words cost 0; substituting, skipping a source token or skipping
    an output word cost 1. Among alignments of equal cost the backtrace, run
    from the end of both sequences, prefers the diagonal step, then skipping
    a source token, then skipping an output word. Every diagonal step aligns,
    substitutions included, so a misspelt word keeps its position. As a
    consequence a fragment that could align to several occurrences of a
    repeated word aligns to the latest one.

    Parameters
    ----------
    source : sequence of str
        The source tokens.
    output : sequence of str
        The generated words, e.g. :attr:`ParsedText.words`.
    ignore_case : bool, default=False
        Compare words case-insensitively (for uncased models).

    Returns
    -------
    list of int or None
        For each output word, the index of its source token, or None when it
        is not aligned. Aligned indices strictly increase.

    Raises
    ------
    TypeError
        If ``source`` or ``output`` is not a sequence of strings.

    Examples
    --------
    >>> source = "the cat saw the cat".split()
    >>> align_words(source, ["cat"])
    [4]
    >>> align_words(source, ["cat", "saw"])
    [1, 2]
    """
    source = _check_words(source, "source")
    output = _check_words(output, "output")
    if ignore_case:
        source = [word.casefold() for word in source]
        output = [word.casefold() for word in output]
    n_source, n_output = len(source), len(output)

    # Costs are kept for two rows only; the chosen moves for the whole table,
    # one byte per cell, row i covering source[:i] against every output prefix.
    previous = list(range(n_output + 1))
    moves = [bytes([_SKIP_OUTPUT]) * (n_output + 1)]
    for i in range(1, n_source + 1):
        word = source[i - 1]
        current = [i] + [0] * n_output
        row = bytearray(n_output + 1)
        row[0] = _SKIP_SOURCE
        for j in range(1, n_output + 1):
            cost = previous[j - 1] + (word != output[j - 1])
            move = _DIAGONAL
            skip = previous[j] + 1
            if skip < cost:
                cost, move = skip, _SKIP_SOURCE
            skip = current[j - 1] + 1
            if skip < cost:
                cost, move = skip, _SKIP_OUTPUT
            current[j] = cost
            row[j] = move
        moves.append(row)
        previous = current

    alignment: list[int | None] = [None] * n_output
    i, j = n_source, n_output
    while i > 0 and j > 0:
        move = moves[i][j]
        if move == _DIAGONAL:
            i, j = i - 1, j - 1
            alignment[j] = i
        elif move == _SKIP_SOURCE:
            i -= 1
        else:
            j -= 1
    return alignment


def aligned_span(alignment: Sequence[int | None], start: int, end: int) -> tuple[int, int] | None:
    """Return the source span covered by aligned output words.

    Parameters
    ----------
    alignment : sequence of int or None
        The result of :func:`align_words`.
    start : int
        First output position of the entity.
    end : int
        Output position after its last word (exclusive); ``end == start``
        gives None.

    Returns
    -------
    tuple of (int, int) or None
        ``(first aligned source index, last aligned source index + 1)`` over
        output positions ``start`` to ``end - 1``, or None when none of them
        is aligned.

    Raises
    ------
    TypeError
        If ``start`` or ``end`` is not an integer.
    ValueError
        If ``0 <= start <= end <= len(alignment)`` does not hold.

    Examples
    --------
    >>> aligned_span([0, None, 3, 4], 1, 3)
    (3, 4)
    >>> aligned_span([0, None, 3, 4], 1, 2) is None
    True
    """
    for value, name in ((start, "start"), (end, "end")):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if not 0 <= start <= end <= len(alignment):
        raise ValueError(
            f"span ({start}, {end}) is outside the {len(alignment)} aligned output words"
        )
    indices = [index for index in alignment[start:end] if index is not None]
    if not indices:
        return None
    return indices[0], indices[-1] + 1
