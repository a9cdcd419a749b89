"""Sentence-level relation classification data: SemEval-2010 Task 8, FewRel, episodes.

Both readers return ``X, y`` in one form: ``X`` a list of
``{"tokens": [...], "head": (start, end), "tail": (start, end)}`` with token
offsets, ``end`` exclusive, and ``y`` the relation labels. Episodes drawn from
such data are in :mod:`._episodes`.
"""

from __future__ import annotations

import json
import numbers
import os
import re
from collections.abc import Mapping, Sequence
from itertools import groupby

from ...utils._files import read_text
from .._files import TaskFiles
from ._metrics import LABELS, semeval2010_precision_recall_f1

__all__ = ["SemEvalFiles", "load_fewrel", "load_semeval2010"]


# Entity markers delimit tokens wherever they stand, even glued to a word or
# to punctuation ("continuum<e2>bath", "<e1>configuration</e1>,").
_MARKER = re.compile(r"</?[eE]\d*>")
# A word keeps inner hyphens, apostrophes and periods ("left-handed",
# "Karen's", "3.5"); any other non-space character is a token of its own.
_TOKEN = re.compile(r"\w+(?:[-'.]\w+)*|[^\w\s]")
_SENTENCE_LINE = re.compile(r'(\d+)\t"(.*)"')


def _tokenize_marked(sentence):
    """Tokens of a SemEval sentence and the spans of its ``<e1>`` and ``<e2>``."""
    tokens, opened, spans, position = [], {}, {}, 0
    for match in _MARKER.finditer(sentence):
        tokens += _TOKEN.findall(sentence[position : match.start()])
        position = match.end()
        marker = match.group()
        name = marker.strip("</>")
        if name not in ("e1", "e2"):
            raise ValueError(f"unknown marker {marker!r}: only <e1>, </e1>, <e2>, </e2> are known")
        if marker[1] != "/":
            if name in opened or name in spans:
                raise ValueError(f"{marker} appears twice")
            if opened:
                raise ValueError(f"{marker} opens inside <{next(iter(opened))}>")
            opened[name] = len(tokens)
        else:
            if name not in opened:
                raise ValueError(f"{marker} closes an entity that is not open")
            start = opened.pop(name)
            if start == len(tokens):
                raise ValueError(f"<{name}>...{marker} holds no token")
            spans[name] = (start, len(tokens))
    tokens += _TOKEN.findall(sentence[position:])
    if opened:
        raise ValueError(f"<{next(iter(opened))}> is never closed")
    missing = [f"<{name}>" for name in ("e1", "e2") if name not in spans]
    if missing:
        raise ValueError(f"no {' or '.join(missing)} entity")
    return tokens, spans["e1"], spans["e2"]


def _blocks(text):
    """``[(line number, line), ...]`` per run of non-blank lines."""
    numbered = [(number, line.strip()) for number, line in enumerate(text.split("\n"), 1)]
    runs = groupby(numbered, key=lambda item: bool(item[1]))
    return [list(run) for filled, run in runs if filled]


def load_semeval2010(path, *, encoding: str = "utf-8"):
    """Load a SemEval-2010 Task 8 file (``TRAIN_FILE.TXT``, ``TEST_FILE_FULL.TXT``).

    The file is a sequence of blocks separated by blank lines (CRLF or LF
    line endings), each of three lines::

        1<TAB>"The system ... an arrayed <e1>configuration</e1> of antenna <e2>elements</e2>."
        Component-Whole(e2,e1)
        Comment: Not a collection: there is structure here, organisation.

    The sentence, without its enclosing quotes, is tokenized by a simple
    regular expression: tokens are separated at whitespace, each punctuation
    mark or symbol is a token of its own, and a word keeps inner hyphens,
    apostrophes and periods (``"left-handed"``, ``"Karen's"``, ``"3.5"``).
    The entity markers are removed and always end a token, even when glued
    to a word or to punctuation (``"<e1>configuration</e1>,"`` gives
    ``"configuration"``, ``","``).

    Parameters
    ----------
    path : str or path-like
    encoding : str, default="utf-8"

    Returns
    -------
    X : list of dict
        ``{"tokens": [...], "head": (start, end), "tail": (start, end)}``,
        ``head`` the tokens marked ``<e1>`` and ``tail`` those marked
        ``<e2>``, ``end`` exclusive.
    y : list of str
        The labels exactly as in the file, direction included:
        ``"Component-Whole(e2,e1)"`` (e2 is the component, e1 the whole) or
        ``"Other"``. Sentence ids and comments are not returned.

    Raises
    ------
    ValueError
        Naming the file and line: when the file cannot be read, a block does
        not have three lines, the first is not ``id<TAB>"sentence"``, the
        markers are missing, unbalanced or empty, the label is not one of
        the task's 19, the third line does not start with ``Comment:``, an id
        repeats, or the file holds no block.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "TRAIN_FILE.TXT"
    ...     _ = path.write_bytes(
    ...         b'1\\t"An arrayed <e1>configuration</e1>, of <e2>elements</e2>."\\r\\n'
    ...         b"Component-Whole(e2,e1)\\r\\nComment:\\r\\n\\r\\n"
    ...     )
    ...     X, y = load_semeval2010(path)
    >>> X[0]["tokens"]
    ['An', 'arrayed', 'configuration', ',', 'of', 'elements', '.']
    >>> X[0]["head"], X[0]["tail"], y[0]
    ((2, 3), (5, 6), 'Component-Whole(e2,e1)')
    """
    X, y, _ = _read_semeval(os.fspath(path), encoding)
    return X, y


def _read_semeval(path, encoding):
    """``(X, y, ids)`` of a SemEval-2010 Task 8 file (see :func:`load_semeval2010`)."""
    text = read_text(path, encoding=encoding)  # universal newlines: CRLF reads as "\n"
    X, y, seen = [], [], {}
    for block in _blocks(text):
        if len(block) != 3:
            raise ValueError(
                f"{path}:{block[0][0]}: expected a block of 3 lines (id and sentence, label, "
                f"comment) followed by a blank line, got {len(block)} lines"
            )
        (number, line), (label_number, label), (comment_number, comment) = block
        match = _SENTENCE_LINE.fullmatch(line)
        if match is None:
            raise ValueError(
                f"{path}:{number}: expected '<id><TAB>\"<sentence>\"', got {line[:60]!r}"
            )
        identifier, sentence = match.groups()
        where = f"sentence {identifier}"
        if identifier in seen:
            raise ValueError(
                f"{path}:{number}: {where} repeats an id (first on line {seen[identifier]})"
            )
        seen[identifier] = number
        try:
            tokens, head, tail = _tokenize_marked(sentence)
        except ValueError as error:
            raise ValueError(f"{path}:{number}: {where}: {error}") from None
        if label not in LABELS:
            raise ValueError(
                f"{path}:{label_number}: {where}: unknown label {label!r}; expected one of the 19 "
                "SemEval-2010 Task 8 labels, such as 'Cause-Effect(e1,e2)' or 'Other'"
            )
        if not comment.startswith("Comment:"):
            raise ValueError(
                f"{path}:{comment_number}: {where}: expected the 'Comment:' line, "
                f"got {comment[:60]!r}"
            )
        X.append({"tokens": tokens, "head": head, "tail": tail})
        y.append(label)
    if not X:
        raise ValueError(f"{path}: no example found (expected blocks of 3 lines)")
    return X, y, list(seen)


def _read_json(path, encoding):
    try:
        return json.loads(read_text(path, encoding=encoding))
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}:{error.lineno}: not valid JSON ({error.msg}, column {error.colno})"
        ) from None


def _relation_names(relation_names, encoding):
    """``{relation id: name}`` from a ``pid2name.json`` path or a mapping."""
    if isinstance(relation_names, (str, os.PathLike)):
        source = os.fspath(relation_names)
        relation_names = _read_json(source, encoding)
    else:
        source = "relation_names"
    if not isinstance(relation_names, Mapping):
        raise ValueError(
            f"{source}: expected a mapping from relation id to name, got "
            f"{type(relation_names).__name__}"
        )
    names = {}
    for relation, value in relation_names.items():
        # pid2name.json maps each id to [name, description]; a plain name is accepted too.
        if isinstance(value, Sequence) and not isinstance(value, str) and value:
            value = value[0]
        if not isinstance(value, str) or not value:
            raise ValueError(
                f"{source}: relation {relation!r} maps to {value!r}, expected a name or "
                "[name, description]"
            )
        names[relation] = value
    return names, source


def _fewrel_span(entity, key, kept, n_tokens):
    if not (isinstance(entity, Sequence) and len(entity) == 3):
        raise ValueError(f"{key!r} is not [surface, entity id, [[token indices], ...]]")
    mentions = entity[2]
    if not (isinstance(mentions, Sequence) and mentions and isinstance(mentions[0], Sequence)):
        raise ValueError(f"{key!r} has no list of token indices")
    indices = mentions[0]
    if not indices:
        raise ValueError(f"{key!r} has an empty list of token indices")
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0:
            raise ValueError(f"{key!r} has token index {index!r}, not a token position")
        if index >= n_tokens:
            raise ValueError(f"{key!r} has token index {index}, outside the {n_tokens} tokens")
    positions = [kept[index] for index in indices if index in kept]
    if not positions:
        raise ValueError(f"{key!r} covers only whitespace tokens")
    return min(positions), max(positions) + 1


def _fewrel_example(instance):
    if not isinstance(instance, Mapping):
        raise ValueError(f"expected an object, got {type(instance).__name__}")
    for key in ("tokens", "h", "t"):
        if key not in instance:
            raise ValueError(f"has no {key!r}")
    raw = instance["tokens"]
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValueError("'tokens' is not a list of strings")
    kept, tokens = {}, []  # kept: position in the file -> position in tokens
    for position, token in enumerate(raw):
        if not isinstance(token, str):
            raise ValueError(f"token {position} is {token!r}, not a string")
        # val_wiki.json holds whitespace-only tokens (" ", "\xa0", "\n"): they are
        # dropped, as whitespace-joined text could not keep them.
        if not token.strip():
            continue
        if token.split() != [token]:
            raise ValueError(f"token {position} is {token!r}: a token cannot contain whitespace")
        kept[position] = len(tokens)
        tokens.append(token)
    if not tokens:
        raise ValueError("has no token")
    head = _fewrel_span(instance["h"], "h", kept, len(raw))
    tail = _fewrel_span(instance["t"], "t", kept, len(raw))
    return {"tokens": tokens, "head": head, "tail": tail}


def load_fewrel(path, *, relation_names=None, encoding: str = "utf-8"):
    """Load a FewRel file (``val_wiki.json``, ``val_pubmed.json``): ``{relation: [instance]}``.

    Each instance is ``{"tokens": [...], "h": [surface, entity id, [[token
    indices], ...]], "t": [...]}``. An entity's span is taken from its first
    list of token indices, from their minimum to their maximum plus one; when
    those indices are not contiguous the span covers the gap too (a span
    cannot have holes). Whitespace-only tokens (``val_wiki.json`` has some,
    such as ``"\\xa0"``) are dropped and the spans shifted to match.

    Parameters
    ----------
    path : str or path-like
    relation_names : str, path-like or mapping, default=None
        Return relation names rather than ids: the path of FewRel's
        ``pid2name.json`` (``{id: [name, description]}``) or a mapping from
        relation id to name (or to ``[name, description]``).
    encoding : str, default="utf-8"

    Returns
    -------
    X : list of dict
        ``{"tokens": [...], "head": (start, end), "tail": (start, end)}``,
        ``end`` exclusive, in file order (relation by relation).
    y : list of str
        The relation ids (``"P155"``), or their names with ``relation_names``.

    Raises
    ------
    ValueError
        If a file cannot be read or is not valid JSON (with the line), is not
        an object of lists, an instance is malformed (naming its relation and
        index and the problem), or a relation has no name in
        ``relation_names``.
    """
    path = os.fspath(path)
    data = _read_json(path, encoding)
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{path}: expected a JSON object {{relation: [instance, ...]}}, got "
            f"{type(data).__name__}"
        )
    names = source = None
    if relation_names is not None:
        names, source = _relation_names(relation_names, encoding)
    X, y = [], []
    for relation, instances in data.items():
        if not isinstance(instances, list):
            raise ValueError(
                f"{path}: relation {relation!r}: expected a list of instances, got "
                f"{type(instances).__name__}"
            )
        if names is not None and relation not in names:
            raise ValueError(f"{path}: relation {relation!r} has no name in {source}")
        label = relation if names is None else names[relation]
        for index, instance in enumerate(instances):
            try:
                X.append(_fewrel_example(instance))
            except ValueError as error:
                raise ValueError(
                    f"{path}: relation {relation!r}, instance {index}: {error}"
                ) from None
            y.append(label)
    return X, y


def _read_unlabelled(path, encoding):
    """X of a file of ``id<TAB>"sentence"`` lines only (the unlabelled test file), with
    each example's ``"id"``; None when the file has other lines (labels, comments)."""
    text = read_text(path, encoding=encoding)
    lines = [(number, line.strip()) for number, line in enumerate(text.split("\n"), 1)]
    lines = [(number, line) for number, line in lines if line]
    matches = [(number, _SENTENCE_LINE.fullmatch(line)) for number, line in lines]
    if not matches or any(match is None for _, match in matches):
        return None
    X, seen = [], {}
    for number, match in matches:
        identifier, sentence = match.groups()
        if identifier in seen:
            raise ValueError(
                f"{path}:{number}: sentence {identifier} repeats an id (first on line "
                f"{seen[identifier]})"
            )
        seen[identifier] = number
        try:
            tokens, head, tail = _tokenize_marked(sentence)
        except ValueError as error:
            raise ValueError(f"{path}:{number}: sentence {identifier}: {error}") from None
        X.append({"tokens": tokens, "head": head, "tail": tail, "id": identifier})
    return X


class SemEvalFiles(TaskFiles):
    """SemEval-2010 Task 8 files for the command line (see :class:`~.._files.TaskFiles`).

    ``read`` takes the labelled format of :func:`load_semeval2010` and, where
    no labels are needed (``fishdip predict``), also a file of
    ``id<TAB>"sentence"`` lines only; each example keeps its sentence id as
    ``"id"`` (ignored by the estimator). ``write`` writes the official
    scorer's answer format, ``id<TAB>label`` per line.
    """

    description = 'SemEval-2010 Task 8 files (id<TAB>"sentence with <e1>, <e2>", label, comment)'
    output = "writes one 'id<TAB>label' line per sentence, the official scorer's answer format."
    report = "accuracy and the official SemEval-2010 Task 8 macro F1 (9+1-way, directed)."

    def read(self, path, *, gold):
        path = os.fspath(path)
        if not gold:
            X = _read_unlabelled(path, "utf-8")
            if X is not None:
                return X, None
        X, y, ids = _read_semeval(path, "utf-8")
        for x, identifier in zip(X, ids):
            x["id"] = identifier
        return X, y

    def write(self, out, X, predicted, gold=None):
        """``id<TAB>label`` per example (the position from 1 where X holds no ids)."""
        for index, (x, label) in enumerate(zip(X, predicted), 1):
            out.write(f"{x.get('id', index)}\t{label}\n")

    def scores(self, estimator, y_true, y_pred):
        """``accuracy`` and the official macro ``precision``/``recall``/``f1``."""
        y_true, y_pred = list(y_true), [str(label) for label in y_pred]
        accuracy = sum(t == p for t, p in zip(y_true, y_pred)) / max(1, len(y_true))
        macro = semeval2010_precision_recall_f1(y_true, y_pred)["macro"]
        text = (
            f"accuracy {accuracy:.4f}\n"
            f"SemEval-2010 Task 8 macro precision {macro['precision']:.4f}  "
            f"recall {macro['recall']:.4f}  f1 {macro['f1']:.4f} (official score)\n"
        )
        return {"accuracy": accuracy, **macro, "text": text}
