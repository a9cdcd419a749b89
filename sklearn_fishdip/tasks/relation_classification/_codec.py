"""Sentence-level relation classification as augmented text (TANL's format).

Both entities are bracketed in place, without types, and a query follows
that names the head, then the tail; the target repeats the query and gives
the relation's natural name after ``=``::

    source: [ Tolkien ] wrote [ The Lord of the Rings ] The relationship between
            [ The Lord of the Rings ] and [ Tolkien ] is
    target: relationship between [ The Lord of the Rings ] and [ Tolkien ] = author

An input is ``{"tokens": [...], "head": (start, end), "tail": (start, end)}``
with token offsets, ``end`` exclusive; a target is one relation label.

Relation names follow the library's :class:`~sklearn_fishdip.augmented.LabelVerbalizer`
conventions (``label_names`` overrides, then built-in names, then the label
split into lower-case words), with one addition for directed labels in the
SemEval-2010 Task 8 style, ``Type1-Type2(e1,e2)`` and ``Type1-Type2(e2,e1)``,
whose parentheses and direction codes mean nothing to a pretrained model: such
a label is named by the roles of the head, then of the tail, in lower case.
``Component-Whole(e1,e2)`` (the head is the component) is
``"component whole"`` and ``Component-Whole(e2,e1)`` (the head is the whole)
is ``"whole component"``; ``Other`` is ``"other"``. The two directions of a
type so get distinct, readable names.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping, Sequence

from ...augmented._entities import build_verbalizer, escape_tokens
from ...augmented._special import RELATION
from ...augmented._writer import Annotation, write_augmented
from ...utils._validation import check_tokens
from .._codec import TaskCodec

__all__ = [
    "RelationClassificationCodec",
    "check_relation_inputs",
    "decode_relation_label",
    "encode_relation_example",
    "relation_verbalizer",
]

# The query after the source and the start of the target (formats.md 2.3).
QUERY = "The relationship between"
TARGET_START = "relationship between"

# A directed SemEval-2010 Task 8 label: two roles and the direction of the pair.
_DIRECTED = re.compile(r"([A-Za-z]+)-([A-Za-z]+)\((e1,e2|e2,e1)\)")


def _directed_name(label):
    """The head's role, then the tail's, for a ``Type1-Type2(e1,e2)`` label; else None."""
    match = _DIRECTED.fullmatch(label)
    if match is None:
        return None
    first, second, direction = match.groups()
    roles = (first, second) if direction == "e1,e2" else (second, first)
    return " ".join(role.lower() for role in roles)


def relation_verbalizer(labels, label_names=None):
    """The verbalizer of relation labels: natural names, directed labels included.

    Parameters
    ----------
    labels : iterable of str
        The relation labels.
    label_names : dict or None, default=None
        Natural names overriding the defaults (keys that are not labels are
        ignored).

    Returns
    -------
    LabelVerbalizer

    Raises
    ------
    TypeError
        If ``label_names`` is not a dict.
    ValueError
        If a name is blank or holds ``[ ] | =``, or two labels get one name.

    Examples
    --------
    >>> verbalizer = relation_verbalizer(["Component-Whole(e2,e1)", "Other", "Work_For"])
    >>> verbalizer.natural_names
    ('whole component', 'other', 'works for')
    """
    labels = list(labels)
    if label_names is not None and not isinstance(label_names, Mapping):
        raise TypeError(
            f"label_names must be a dict of label -> natural name, got {type(label_names).__name__}"
        )
    names = {label: _directed_name(label) for label in labels}
    names = {label: name for label, name in names.items() if name is not None}
    names.update(label_names or {})
    return build_verbalizer(labels, names)


def _span(value, key, index, n_tokens):
    where = f"X[{index}]"
    if (
        not isinstance(value, Sequence)
        or isinstance(value, (str, bytes))
        or len(value) != 2
        or not all(
            isinstance(bound, numbers.Integral) and not isinstance(bound, bool) for bound in value
        )
    ):
        raise TypeError(f"{where}[{key!r}] must be a pair of integers (start, end), got {value!r}")
    start, end = int(value[0]), int(value[1])
    if not 0 <= start < end <= n_tokens:
        raise ValueError(
            f"{where}[{key!r}] is ({start}, {end}), outside the sentence's {n_tokens} tokens "
            "(need 0 <= start < end <= number of tokens; end is exclusive)"
        )
    return start, end


def check_relation_inputs(X, *, name="X"):
    """Check relation-classification inputs: dicts with tokens and a head and tail span.

    Parameters
    ----------
    X : sequence of dict
        ``{"tokens": [...], "head": (start, end), "tail": (start, end)}``,
        token offsets with ``end`` exclusive; other keys are ignored.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    list of dict
        New dicts with checked tokens and the spans as tuples of ints.

    Raises
    ------
    TypeError
        If ``X`` is not a list, an item is not a dict, its tokens are not a
        list of strings or a span is not a pair of integers.
    ValueError
        If ``X`` is empty, a key is missing, a token is empty or holds
        whitespace, a span lies outside the sentence, or the head and tail
        overlap. Every message names the example (``X[3]``).
    """
    if not isinstance(X, Sequence) or isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} must be a list of dicts {{'tokens', 'head', 'tail'}}, got {type(X).__name__}"
        )
    if len(X) == 0:
        raise ValueError(f"{name} is empty: at least one example is needed")
    checked = []
    for index, x in enumerate(X):
        if not isinstance(x, Mapping):
            raise TypeError(
                f"{name}[{index}] must be a dict {{'tokens': [...], 'head': (start, end), "
                f"'tail': (start, end)}}, got {type(x).__name__}"
            )
        missing = [key for key in ("tokens", "head", "tail") if key not in x]
        if missing:
            raise ValueError(f"{name}[{index}] has no {' or '.join(map(repr, missing))}")
        try:
            tokens = check_tokens(x["tokens"], index=index)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{name}[{index}]: {error}") from None
        head = _span(x["head"], "head", index, len(tokens))
        tail = _span(x["tail"], "tail", index, len(tokens))
        if max(head[0], tail[0]) < min(head[1], tail[1]):
            raise ValueError(
                f"{name}[{index}]: the head {head} and the tail {tail} overlap; they must be "
                "disjoint token spans"
            )
        checked.append({"tokens": tokens, "head": head, "tail": tail})
    return checked


def _source(words, head, tail):
    """The model input of escaped ``words`` with the head and tail spans."""
    sentence, _ = write_augmented(words, [Annotation(*head, ""), Annotation(*tail, "")])
    return f"{sentence} {QUERY} {_pair(words, head, tail)} is"


def _pair(words, head, tail):
    return f"[ {' '.join(words[slice(*head)])} ] and [ {' '.join(words[slice(*tail)])} ]"


def _target(words, head, tail, name):
    """The target text of escaped ``words`` for the relation's natural name."""
    return f"{TARGET_START} {_pair(words, head, tail)} {RELATION} {name}"


def encode_relation_example(x, label=None, label_names=None):
    """The source text of an example and, given its label, its target text.

    Parameters
    ----------
    x : dict
        ``{"tokens": [...], "head": (start, end), "tail": (start, end)}``;
        tokens holding ``[ ] | =`` are escaped reversibly.
    label : str or None, default=None
        The relation label; None returns no target.
    label_names : dict, optional
        Natural names overriding the defaults (see :func:`relation_verbalizer`).

    Returns
    -------
    source : str
    target : str or None

    Examples
    --------
    >>> x = {"tokens": "Tolkien wrote The Lord of the Rings".split(),
    ...      "head": (2, 7), "tail": (0, 1)}
    >>> source, target = encode_relation_example(x, "author")
    >>> source
    '[ Tolkien ] wrote [ The Lord of the Rings ] The relationship between [ The Lord of the Rings ] and [ Tolkien ] is'
    >>> target
    'relationship between [ The Lord of the Rings ] and [ Tolkien ] = author'
    """  # noqa: E501
    (x,) = check_relation_inputs([x], name="x")
    words = escape_tokens(x["tokens"])
    source = _source(words, x["head"], x["tail"])
    if label is None:
        return source, None
    name = relation_verbalizer([label], label_names).verbalize(label)
    return source, _target(words, x["head"], x["tail"], name)


def decode_relation_label(text, labels, label_names=None, *, ignore_case=False):
    """The relation label a generated target names (the text after its last ``=``).

    Parameters
    ----------
    text : str
        A generated target.
    labels : iterable of str
        The known relation labels.
    label_names : dict, optional
        As in :func:`relation_verbalizer`.
    ignore_case : bool, default=False
        Compare names case-insensitively (uncased models).

    Returns
    -------
    str or None
        The label, or None when the text names no known relation.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    verbalizer = relation_verbalizer(labels, label_names)
    return _read_label(text, verbalizer, ignore_case)


def _read_label(text, verbalizer, ignore_case):
    if RELATION not in text:
        return None
    return verbalizer.parse(text.rsplit(RELATION, 1)[1], ignore_case=ignore_case)


class RelationClassificationCodec(TaskCodec):
    """The codec of :class:`~sklearn_fishdip.FishDipRelationClassifier`.

    Targets are relation labels. Fitted attributes: ``classes_`` (the sorted
    labels) and ``relation_verbalizer_``. A target repeats its example's
    entities, so the estimator writes sources and targets with
    :meth:`source` and :meth:`encode_example` (not ``encode``), and predicts
    by ranking the targets of every known relation (:meth:`candidates`)
    rather than by decoding generated text.
    """

    # The target is not the source marked up: a prefix LM numbers it after the source.
    copies_source = False

    def check_targets(self, estimator, X, y):
        for index, label in enumerate(y):
            if not isinstance(label, str) or not label.strip():
                raise ValueError(f"y[{index}] is {label!r}: a relation label must be a string")
        return list(y)

    def fit_vocabulary(self, estimator, targets):
        import numpy as np

        classes = sorted(set(targets))
        return {
            "classes_": np.array(classes),
            "relation_verbalizer_": relation_verbalizer(classes, estimator.label_names),
        }

    def natural_vocabulary(self, estimator):
        # The names as the grammar's type names: building it checks that the
        # tokenizer writes the markup and tells every name apart.
        return estimator.relation_verbalizer_.natural_names, ()

    def source(self, words, x):
        """The model input of an example whose tokens are the escaped ``words``."""
        return _source(words, x["head"], x["tail"])

    def encode_example(self, estimator, words, x, label):
        """The target text of an example (``words`` escaped) and its label."""
        name = estimator.relation_verbalizer_.verbalize(label)
        return _target(words, x["head"], x["tail"], name)

    def candidates(self, estimator, words, x):
        """The target texts of every known relation, in the order of ``classes_``."""
        return [
            _target(words, x["head"], x["tail"], name)
            for name in estimator.relation_verbalizer_.natural_names
        ]
