"""The NER codec: tags and spans as augmented text, and back.

``[ EU | organization ] rejects [ German | miscellaneous ] call to boycott
[ British | miscellaneous ] lamb .``

The public functions (re-exported by :mod:`sklearn_fishdip.augmented`) check
and escape their tokens; :class:`NERCodec`, used by :class:`FishDipNER`
through the shared base, receives words already checked and escaped.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

from ...augmented._entities import build_verbalizer, escape_tokens, read_entities, warn_crossing
from ...augmented._parser import parse_augmented
from ...augmented._report import DecodeErrors
from ...augmented._schemes import check_scheme, spans_to_tags, tags_to_spans
from ...augmented._writer import Annotation, write_augmented
from ...utils._validation import check_spans, check_tokens
from .._codec import TaskCodec

__all__ = [
    "NERCodec",
    "encode_ner",
    "decode_ner",
    "encode_ner_spans",
    "decode_ner_spans",
    "resolve_overlaps",
]


def encode_ner_spans(tokens, spans, label_names=None) -> str:
    """Write a sentence and its (possibly nested) entity spans as augmented text.

    Parameters
    ----------
    tokens : list of str
        The sentence.
    spans : list of (int, int, str)
        ``(start, end, type)``, ``end`` exclusive. Nested spans are written as
        nested brackets; of two crossing spans the second is left out with a
        :class:`~sklearn_fishdip.exceptions.CrossingSpansWarning`.
    label_names : dict or LabelVerbalizer, optional
        Natural names for the types (defaults: ``PER`` -> ``person`` and so on).

    Returns
    -------
    str
    """
    tokens = check_tokens(tokens)
    spans = check_spans(spans, len(tokens))
    verbalizer = build_verbalizer(sorted({label for _, _, label in spans}), label_names)
    return _write(escape_tokens(tokens), spans, verbalizer)


def _write(words, spans, verbalizer) -> str:
    annotations = [
        Annotation(start, end, verbalizer.verbalize(label)) for start, end, label in spans
    ]
    text, dropped = write_augmented(words, annotations)
    if dropped:
        warn_crossing(dropped)
    return text


def encode_ner(tokens, tags, label_names=None, *, scheme: str = "IOB2") -> str:
    """Write a tagged sentence as augmented text.

    Parameters
    ----------
    tokens : list of str
        The sentence; tokens holding ``[ ] | =`` are escaped reversibly.
    tags : list of str
        One tag per token in ``scheme``.
    label_names : dict or LabelVerbalizer, optional
        Natural names for the types, overriding the defaults
        (``PER`` -> ``person``, ``ORG`` -> ``organization``, ...).
    scheme : {"IOB2", "IOB1", "IOBES", "BILOU"}, default="IOB2"
        Tagging scheme of ``tags``, read strictly.

    Returns
    -------
    str
        The augmented text.

    Raises
    ------
    ValueError
        If ``tags`` and ``tokens`` differ in length or a tag breaks the scheme.

    Examples
    --------
    >>> encode_ner(["EU", "rejects", "German", "call"], ["B-ORG", "O", "B-MISC", "O"])
    '[ EU | organization ] rejects [ German | miscellaneous ] call'
    """
    tokens = check_tokens(tokens)
    if isinstance(tags, str) or len(tags) != len(tokens):
        raise ValueError(
            f"got {len(tags)} tags for {len(tokens)} tokens: there must be one tag per token"
        )
    return encode_ner_spans(tokens, tags_to_spans(tags, scheme), label_names)


def decode_ner_spans(text, tokens, labels, label_names=None, *, ignore_case: bool = False):
    """Read entity spans from generated augmented text; never raises on bad text.

    Parameters
    ----------
    text : str
        Generated text.
    tokens : list of str
        The source sentence.
    labels : iterable of str
        The allowed short labels; any other type is a label error.
    label_names : dict or LabelVerbalizer, optional
        As in :func:`encode_ner`.
    ignore_case : bool, default=False
        Compare words and label names case-insensitively (uncased models).

    Returns
    -------
    spans : list of (int, int, str)
        Sorted, without duplicates; nested or overlapping spans are kept.
    errors : DecodeErrors
        This sentence's error flags.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    tokens = check_tokens(tokens)
    labels = list(labels)
    verbalizer = build_verbalizer(labels, label_names)
    return _read(text, escape_tokens(tokens), verbalizer, set(labels), ignore_case=ignore_case)


def _read(text, words, verbalizer, allowed, *, ignore_case):
    entities, errors = read_entities(
        parse_augmented(text), words, verbalizer, ignore_case=ignore_case
    )
    spans = set()
    for entity in entities:
        if entity.label not in allowed:
            errors = replace(errors, label_error=1)
            continue
        # Tags after the type mean nothing for NER: a format error, the entity stays.
        if entity.extra_tags:
            errors = replace(errors, format_error=1)
        spans.add((entity.start, entity.end, entity.label))
    return sorted(spans), errors


def resolve_overlaps(spans):
    """Keep outer spans first: drop every span that overlaps a longer one kept.

    Parameters
    ----------
    spans : iterable of (int, int, str)

    Returns
    -------
    list of (int, int, str)
        Non-overlapping spans, sorted by position. Among equally long
        overlapping spans the earlier one wins.
    """
    kept: list[tuple[int, int, str]] = []
    for start, end, label in sorted(spans, key=lambda s: (s[0] - s[1], s[0], s[2])):
        if all(end <= other_start or start >= other_end for other_start, other_end, _ in kept):
            kept.append((start, end, label))
    return sorted(kept)


def decode_ner(
    text, tokens, labels, label_names=None, *, scheme: str = "IOB2", ignore_case: bool = False
) -> tuple[list[str], DecodeErrors]:
    """Read tags from generated augmented text; never raises on bad text.

    Parameters
    ----------
    text : str
        Generated text.
    tokens : list of str
        The source sentence.
    labels : iterable of str
        The allowed short labels.
    label_names : dict or LabelVerbalizer, optional
        As in :func:`encode_ner`.
    scheme : {"IOB2", "IOB1", "IOBES", "BILOU"}, default="IOB2"
        The scheme of the returned tags.
    ignore_case : bool, default=False
        Compare words and label names case-insensitively (uncased models).

    Returns
    -------
    tags : list of str
        One tag per token. Overlapping entities are resolved outer first.
    errors : DecodeErrors
        This sentence's error flags.

    Examples
    --------
    >>> tags, errors = decode_ner(
    ...     "[ EU | organization ] rejects [ German | miscellaneous ] call",
    ...     ["EU", "rejects", "German", "call"], ["ORG", "MISC", "PER", "LOC"])
    >>> tags
    ['B-ORG', 'O', 'B-MISC', 'O']
    >>> errors.any
    False
    """
    scheme = check_scheme(scheme)
    spans, errors = decode_ner_spans(text, tokens, labels, label_names, ignore_case=ignore_case)
    return spans_to_tags(resolve_overlaps(spans), len(tokens), scheme), errors


class NERCodec(TaskCodec):
    """The codec of :class:`~sklearn_fishdip.FishDipNER`: targets are entity spans.

    Targets are checked from tags in the estimator's ``scheme`` and handled as
    sorted ``(start, end, type)`` spans, nested ones included. Fitted
    attributes: ``labels_`` (entity types seen) and ``verbalizer_``.
    """

    def check_targets(self, estimator, X, y):
        scheme = check_scheme(estimator.scheme)
        spans = []
        for index, (tokens, tags) in enumerate(zip(X, y)):
            if isinstance(tags, str) or not hasattr(tags, "__len__"):
                raise TypeError(f"y[{index}] must be a list of tags, got {type(tags).__name__}")
            if len(tags) != len(tokens):
                raise ValueError(f"sentence {index} has {len(tokens)} tokens but {len(tags)} tags")
            try:
                spans.append(tags_to_spans(list(tags), scheme))
            except (TypeError, ValueError) as error:
                raise type(error)(f"y[{index}]: {error}") from None
        return spans

    def fit_vocabulary(self, estimator, targets):
        labels = sorted({label for spans in targets for _, _, label in spans})
        if not labels:
            warnings.warn(
                "y holds no entity: the model can only learn to tag nothing",
                UserWarning,
                stacklevel=3,
            )
        return {"labels_": labels, "verbalizer_": build_verbalizer(labels, estimator.label_names)}

    def natural_vocabulary(self, estimator):
        return estimator.verbalizer_.natural_names, ()

    def encode(self, estimator, words, target):
        return _write(words, target, estimator.verbalizer_)

    def clip_target(self, target, end):
        return [(start, min(stop, end), label) for start, stop, label in target if start < end]

    def decode(self, estimator, text, words):
        return _read(
            text,
            words,
            estimator.verbalizer_,
            set(estimator.labels_),
            ignore_case=estimator.uncased_,
        )

    def shift_prediction(self, prediction, offset):
        return [(start + offset, end + offset, label) for start, end, label in prediction]

    def merge_predictions(self, parts):
        return [span for part in parts for span in part]
