"""Steps shared by the task codecs: escaping, label vocabularies and reading entities.

Every task that brackets typed spans (NER, joint entity-relation extraction,
and the tasks to come) parses the generated text, checks each bracket's type,
and maps its words back to source token positions; this module does that once
for all of them, without knowing any task.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..exceptions import CrossingSpansWarning
from ..utils._validation import CheckedTokens
from ._aligner import align_words, aligned_span
from ._parser import ParsedText
from ._report import DecodeErrors
from ._special import escape_token
from ._verbalizer import LabelVerbalizer

__all__ = [
    "build_verbalizer",
    "DecodedEntity",
    "read_entities",
    "escape_tokens",
    "warn_crossing",
]


def escape_tokens(tokens: Iterable[str]) -> list[str]:
    """Escape every source token so that it cannot be read as markup."""
    if isinstance(tokens, CheckedTokens):
        # A checked sentence keeps its escaped words: every layer reuses them.
        escaped = getattr(tokens, "escaped_", None)
        if escaped is None:
            escaped = tokens.escaped_ = tuple(escape_token(token) for token in tokens)
        return list(escaped)
    return [escape_token(token) for token in tokens]


def warn_crossing(dropped) -> None:
    """Warn that the annotations in ``dropped`` cross others and were not written."""
    listed = ", ".join(f"({a.start}, {a.end}, {a.label!r})" for a in dropped)
    warnings.warn(
        f"{len(dropped)} span(s) cross another span and cannot be written: {listed}",
        CrossingSpansWarning,
        stacklevel=3,
    )


def build_verbalizer(labels: Iterable[str], label_names=None) -> LabelVerbalizer:
    """Return the verbalizer for ``labels`` given the user's ``label_names``.

    Parameters
    ----------
    labels : iterable of str
        The short labels that must be covered.
    label_names : dict, LabelVerbalizer or None
        Natural-name overrides (keys that are not in ``labels`` are ignored), or
        a ready verbalizer that must cover every label.

    Returns
    -------
    LabelVerbalizer
    """
    labels = list(dict.fromkeys(labels))
    if isinstance(label_names, LabelVerbalizer):
        missing = [label for label in labels if label not in label_names.labels]
        if missing:
            raise ValueError(f"labels {missing} are not in the given verbalizer")
        return label_names
    if label_names is None:
        return LabelVerbalizer(labels)
    if not isinstance(label_names, Mapping):
        raise TypeError(
            "label_names must be a dict of short label -> natural name or a LabelVerbalizer, "
            f"got {type(label_names).__name__}"
        )
    overrides = {key: value for key, value in label_names.items() if key in labels}
    return LabelVerbalizer(labels, overrides)


@dataclass(frozen=True)
class DecodedEntity:
    """An entity read from generated text and mapped onto the source tokens.

    Attributes
    ----------
    start, end : int
        Source token span, ``end`` exclusive.
    label : str
        Short label.
    name : str
        The entity's words as generated (escaped form).
    extra_tags : tuple of tuple of str
        The tags after the type, e.g. ``(("works for", "Acme"),)``.
    """

    start: int
    end: int
    label: str
    name: str
    extra_tags: tuple[tuple[str, ...], ...]


def read_entities(
    parsed: ParsedText,
    source: list[str],
    verbalizer: LabelVerbalizer,
    *,
    ignore_case: bool = False,
) -> tuple[list[DecodedEntity], DecodeErrors]:
    """Type-check and align the parsed entities of one sentence.

    An entity without a type tag, or whose type tag holds ``=``, is a format
    error and is dropped; one whose type is not in ``verbalizer`` is a label
    error and is dropped; one none of whose words align to the source is
    dropped silently, as the reference does.

    Parameters
    ----------
    parsed : ParsedText
        The parse of the generated text.
    source : list of str
        The escaped source tokens.
    verbalizer : LabelVerbalizer
        The allowed types.
    ignore_case : bool, default=False
        Compare case-insensitively (for uncased models).

    Returns
    -------
    entities : list of DecodedEntity
        In the order their brackets close.
    errors : DecodeErrors
        The sentence's reconstruction, format and label flags.
    """
    fold = str.casefold if ignore_case else str
    format_error = parsed.unbalanced
    label_error = False
    alignment = align_words(source, list(parsed.words), ignore_case=ignore_case)
    entities = []
    for entity in parsed.entities:
        if not entity.tags or len(entity.tags[0]) != 1:
            format_error = True
            continue
        label = verbalizer.parse(entity.tags[0][0], ignore_case=ignore_case)
        if label is None:
            label_error = True
            continue
        span = aligned_span(alignment, entity.start, entity.end)
        if span is None:
            continue
        entities.append(DecodedEntity(span[0], span[1], label, entity.name, entity.tags[1:]))
    wrong = fold("".join(parsed.words)) != fold("".join(source))
    errors = DecodeErrors(
        wrong_reconstruction=int(wrong),
        format_error=int(format_error),
        label_error=int(label_error),
        n_sentences=1,
    )
    return entities, errors
