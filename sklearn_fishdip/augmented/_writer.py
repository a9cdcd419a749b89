"""Writing annotated token spans as augmented natural language."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ._special import CLOSE, OPEN, RELATION, SEPARATOR, SPECIAL_CHARACTERS

__all__ = ["Annotation", "write_augmented"]


def _check_position(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    return int(value)


def _check_tag_text(text, what: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"{what} must not be empty or blank, got {text!r}")
    if not SPECIAL_CHARACTERS.isdisjoint(text):
        raise ValueError(f"{what} must not contain any of '[', ']', '|', '=', got {text!r}")


@dataclass(frozen=True)
class Annotation:
    """A token span to write, with its type and relation tags.

    Parameters
    ----------
    start : int
        Position of the first token of the span.
    end : int
        Position after the last token of the span (exclusive), greater than
        ``start``.
    label : str
        Natural type text, written as the first tag. The empty string writes
        no type tag, only the relation tags (as coreference targets do).
    relations : tuple of (str, str), default=()
        ``(relation text, tail surface text)`` pairs, written after the type as
        ``| relation = tail``. A list of pairs is converted to a tuple.

    Raises
    ------
    TypeError
        If a position is not an integer or a text is not a string.
    ValueError
        If ``start < 0``, ``end <= start``, a relation is not a pair, or a
        label, relation or tail text is blank (the label may be ``""``) or
        contains one of ``[ ] | =``.

    Examples
    --------
    >>> Annotation(0, 1, "person", (("works for", "Acme"),))
    Annotation(start=0, end=1, label='person', relations=(('works for', 'Acme'),))
    """

    start: int
    end: int
    label: str
    relations: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        start = _check_position(self.start, "start")
        end = _check_position(self.end, "end")
        if not 0 <= start < end:
            raise ValueError(
                f"span ({self.start}, {self.end}) is invalid: need 0 <= start < end "
                "(end is exclusive)"
            )
        if self.label != "":
            _check_tag_text(self.label, "label")
        if isinstance(self.relations, str) or not isinstance(self.relations, Iterable):
            raise TypeError(
                "relations must be a sequence of (relation, tail) pairs, "
                f"got {type(self.relations).__name__}"
            )
        relations = []
        for pair in self.relations:
            if isinstance(pair, str) or not isinstance(pair, Sequence):
                raise TypeError(
                    f"each relation must be a (relation, tail) pair, got {type(pair).__name__}"
                )
            if len(pair) != 2:
                raise ValueError(f"each relation must be a (relation, tail) pair, got {pair!r}")
            relations.append(tuple(pair))
        for pair in relations:
            _check_tag_text(pair[0], "relation text")
            _check_tag_text(pair[1], "relation tail")
        # Frozen: normalised values are set the way dataclasses do it themselves.
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "relations", tuple(relations))

    def _tag_tokens(self) -> list[str]:
        tokens = []
        if self.label:
            tokens += [SEPARATOR, " ".join(self.label.split())]
        for relation, tail in self.relations:
            tokens += [SEPARATOR, " ".join(relation.split()), RELATION, " ".join(tail.split())]
        return tokens


def _crosses(a: Annotation, b: Annotation) -> bool:
    return a.start < b.start < a.end < b.end or b.start < a.start < b.end < a.end


def write_augmented(
    words: Sequence[str], annotations: Iterable[Annotation]
) -> tuple[str, list[Annotation]]:
    """Write a sentence with its annotations in augmented natural language.

    Each kept annotation becomes ``[ span words | type | relation = tail ]``.
    Annotations are sorted by start, longer first, and arranged as a tree: a
    span inside another is written inside the outer span's words, as in
    ``[ Bank of [ China | location ] | organization ]``. Identical spans
    become nested brackets, the earlier annotation outside. A span that
    crosses an already placed one cannot be written and is returned instead.

    Parameters
    ----------
    words : sequence of str
        The source words, written as they are and separated by single spaces.
        Escape them with :func:`escape_token` first if they may contain
        ``[ ] | =``; otherwise the text cannot be parsed back.
    annotations : iterable of Annotation
        The spans to write, in any order.

    Returns
    -------
    text : str
        The augmented text; every special character stands alone between
        single spaces and tag texts have their whitespace collapsed.
    dropped : list of Annotation
        The annotations that cross a written one, in input order.

    Raises
    ------
    TypeError
        If ``words`` is not a sequence of strings or an annotation is not an
        :class:`Annotation`.
    ValueError
        If a span ends after the last word.

    Examples
    --------
    >>> words = ["Bank", "of", "China", "opened"]
    >>> text, dropped = write_augmented(
    ...     words, [Annotation(2, 3, "location"), Annotation(0, 3, "organization")]
    ... )
    >>> text
    '[ Bank of [ China | location ] | organization ] opened'
    """
    if isinstance(words, str) or not isinstance(words, Sequence):
        raise TypeError(f"words must be a sequence of strings, got {type(words).__name__}")
    for position, word in enumerate(words):
        if not isinstance(word, str):
            raise TypeError(
                f"words must be strings; word {position} is {type(word).__name__}: {word!r}"
            )
    if isinstance(annotations, Annotation) or not isinstance(annotations, Iterable):
        raise TypeError(
            f"annotations must be an iterable of Annotation, got {type(annotations).__name__}"
        )
    annotations = list(annotations)
    for annotation in annotations:
        if not isinstance(annotation, Annotation):
            raise TypeError(
                f"annotations must be Annotation instances, got {type(annotation).__name__}"
            )
        if annotation.end > len(words):
            raise ValueError(
                f"span ({annotation.start}, {annotation.end}) ends after the last of "
                f"{len(words)} words"
            )

    # Sorting is stable, so identical spans keep their input order (first is outer).
    order = sorted(
        range(len(annotations)), key=lambda k: (annotations[k].start, -annotations[k].end)
    )
    # Open spans enclosing the current one. Every span that could cross a later
    # one is still here: a span is only removed once later spans start at or
    # after its end.
    stack: list[Annotation] = []
    kept = []
    dropped_positions = []
    for k in order:
        annotation = annotations[k]
        if any(_crosses(parent, annotation) for parent in stack):
            dropped_positions.append(k)
            continue
        while stack and stack[-1].end < annotation.end:
            stack.pop()
        stack.append(annotation)
        kept.append(annotation)

    # ``kept`` is in tree pre-order, so at each position the spans to open are
    # listed outer first and the spans to close must be reversed (inner first).
    opens: list[list[Annotation]] = [[] for _ in range(len(words) + 1)]
    closes: list[list[Annotation]] = [[] for _ in range(len(words) + 1)]
    for annotation in kept:
        opens[annotation.start].append(annotation)
        closes[annotation.end].append(annotation)
    tokens = []
    for position in range(len(words) + 1):
        for annotation in reversed(closes[position]):
            tokens += annotation._tag_tokens()
            tokens.append(CLOSE)
        if position < len(words):
            tokens += [OPEN] * len(opens[position])
            tokens.append(words[position])
    dropped = [annotations[k] for k in sorted(dropped_positions)]
    return " ".join(tokens), dropped
