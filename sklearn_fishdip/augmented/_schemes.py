"""Tagging schemes: strict conversion between tag sequences and entity spans.

Every scheme is read strictly (as seqeval's strict mode does), so a valid tag
sequence and its span set determine each other and conversions round-trip
exactly. Spans are ``(start, end, label)`` with ``end`` exclusive.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["SCHEMES", "check_scheme", "tags_to_spans", "spans_to_tags"]

SCHEMES = ("IOB2", "IOB1", "IOBES", "BILOU")

# Letters per role: begin of a multi-token entity, inside, last, single token.
_LETTERS = {
    "IOB2": {"begin": "B", "inside": "I", "last": "I", "single": "B"},
    "IOB1": {"begin": "I", "inside": "I", "last": "I", "single": "I"},
    "IOBES": {"begin": "B", "inside": "I", "last": "E", "single": "S"},
    "BILOU": {"begin": "B", "inside": "I", "last": "L", "single": "U"},
}
# IOB1 also uses B-, but only to separate two adjacent entities of one type.
_PREFIXES = {"IOB2": "BI", "IOB1": "BI", "IOBES": "BIES", "BILOU": "BILU"}
_ALIASES = {"BIO": "IOB2", "BIOES": "IOBES"}


def check_scheme(scheme: str) -> str:
    """Return the canonical name of a tagging scheme.

    Parameters
    ----------
    scheme : str
        One of ``"IOB2"`` (alias ``"BIO"``), ``"IOB1"``, ``"IOBES"`` (alias
        ``"BIOES"``) or ``"BILOU"``, in any case.

    Returns
    -------
    str
        The canonical upper-case name.

    Raises
    ------
    TypeError
        If ``scheme`` is not a string.
    ValueError
        If the scheme is unknown.
    """
    if not isinstance(scheme, str):
        raise TypeError(f"scheme must be a string, got {type(scheme).__name__}")
    name = scheme.strip().upper()
    name = _ALIASES.get(name, name)
    if name not in SCHEMES:
        raise ValueError(f"unknown tagging scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    return name


def _split_tag(tag, position: int, scheme: str) -> tuple[str, str | None]:
    if not isinstance(tag, str):
        raise TypeError(f"tag at position {position} must be a string, got {type(tag).__name__}")
    if tag == "O":
        return "O", None
    prefix, dash, label = tag.partition("-")
    allowed = _PREFIXES[scheme]
    if not dash or not label or prefix not in allowed:
        raise ValueError(
            f"malformed tag {tag!r} at position {position} for scheme {scheme}: expected 'O' or "
            f"one of {', '.join(p + '-<type>' for p in allowed)}"
        )
    return prefix, label


def tags_to_spans(tags: Sequence[str], scheme: str = "IOB2") -> list[tuple[int, int, str]]:
    """Read entity spans from a tag sequence, strictly.

    Parameters
    ----------
    tags : sequence of str
        One tag per token: ``"O"`` or ``"<prefix>-<type>"``.
    scheme : str, default="IOB2"
        The scheme the tags are written in; see :func:`check_scheme`.

    Returns
    -------
    list of (int, int, str)
        ``(start, end, type)`` spans in order, ``end`` exclusive.

    Raises
    ------
    ValueError
        If a tag is malformed or breaks the scheme (for example ``I-PER`` after
        ``O`` in IOB2, or ``B-PER`` not followed by ``I-PER``/``E-PER`` in IOBES);
        the message names the tag and its position.

    Examples
    --------
    >>> tags_to_spans(["B-ORG", "O", "B-MISC", "I-MISC"])
    [(0, 1, 'ORG'), (2, 4, 'MISC')]
    >>> tags_to_spans(["I-PER", "B-PER"], scheme="IOB1")
    [(0, 1, 'PER'), (1, 2, 'PER')]
    """
    scheme = check_scheme(scheme)
    if isinstance(tags, str) or not isinstance(tags, Sequence):
        raise TypeError(f"tags must be a sequence of strings, got {type(tags).__name__}")
    letters = _LETTERS[scheme]
    spans: list[tuple[int, int, str]] = []
    start, label = None, None  # the entity still open, if any

    def fail(position, tag, reason):
        raise ValueError(f"tag {tag!r} at position {position} {reason} in {scheme}")

    for position, tag in enumerate(tags):
        prefix, tag_label = _split_tag(tag, position, scheme)
        if scheme == "IOB1":
            continues = start is not None and tag_label == label
            if prefix == "B" and not continues:
                fail(position, tag, "may only separate two entities of the same type")
            if prefix == "I" and continues:
                continue
            if start is not None:
                spans.append((start, position, label))
                start, label = None, None
            if prefix != "O":
                start, label = position, tag_label
            continue
        if scheme == "IOB2":
            if prefix == "I":
                if start is None or tag_label != label:
                    previous = tags[position - 1] if position else "the sentence start"
                    fail(position, tag, f"cannot follow {previous!r}")
                continue
            if start is not None:
                spans.append((start, position, label))
                start, label = None, None
            if prefix == "B":
                start, label = position, tag_label
            continue
        # IOBES and BILOU: an open entity must go on with inside or last tags.
        if start is not None:
            if prefix not in (letters["inside"], letters["last"]) or tag_label != label:
                fail(position, tag, f"cannot follow {tags[position - 1]!r}")
            if prefix == letters["last"]:
                spans.append((start, position + 1, label))
                start, label = None, None
            continue
        if prefix in (letters["inside"], letters["last"]):
            previous = tags[position - 1] if position else "the sentence start"
            fail(position, tag, f"cannot follow {previous!r}")
        if prefix == letters["single"]:
            spans.append((position, position + 1, tag_label))
        elif prefix == letters["begin"]:
            start, label = position, tag_label
    if start is not None:
        if scheme in ("IOBES", "BILOU"):
            raise ValueError(
                f"entity {label!r} opened at position {start} is never closed in {scheme} "
                f"(expected a {letters['last']}-{label} tag)"
            )
        spans.append((start, len(tags), label))
    return spans


def spans_to_tags(
    spans: Sequence[tuple[int, int, str]], length: int, scheme: str = "IOB2"
) -> list[str]:
    """Write non-overlapping entity spans as a tag sequence.

    Parameters
    ----------
    spans : sequence of (int, int, str)
        ``(start, end, type)`` spans, ``end`` exclusive, in any order.
    length : int
        The number of tokens.
    scheme : str, default="IOB2"
        The scheme to write; see :func:`check_scheme`.

    Returns
    -------
    list of str
        One tag per token.

    Raises
    ------
    ValueError
        If a span is empty, out of range or overlaps another one.

    Examples
    --------
    >>> spans_to_tags([(0, 1, "ORG"), (2, 4, "MISC")], 5)
    ['B-ORG', 'O', 'B-MISC', 'I-MISC', 'O']
    >>> spans_to_tags([(0, 2, "PER")], 3, scheme="BILOU")
    ['B-PER', 'L-PER', 'O']
    """
    scheme = check_scheme(scheme)
    letters = _LETTERS[scheme]
    tags = ["O"] * length
    previous_end, previous_label = None, None
    for start, end, label in sorted(spans, key=lambda span: (span[0], span[1])):
        if not 0 <= start < end <= length:
            raise ValueError(f"span ({start}, {end}, {label!r}) is empty or outside 0..{length}")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"span ({start}, {end}, {label!r}) overlaps the span before it")
        if end - start == 1:
            tags[start] = f"{letters['single']}-{label}"
        else:
            tags[start] = f"{letters['begin']}-{label}"
            for position in range(start + 1, end - 1):
                tags[position] = f"{letters['inside']}-{label}"
            tags[end - 1] = f"{letters['last']}-{label}"
        # IOB1 marks with B only an entity that directly follows one of its type.
        if scheme == "IOB1" and previous_end == start and previous_label == label:
            tags[start] = f"B-{label}"
        previous_end, previous_label = end, label
    return tags
