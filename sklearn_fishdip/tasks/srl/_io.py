"""SRL files: PropBank ``gold_conll`` column files with bracket argument columns.

The layout is that of ``propbank/propbank-release`` (and of the EWT copy in
``../shared/data/propbank_ewt_srl``): one token per line, a blank line between
sentences, whitespace-separated columns:

====== ================ ==================================================
column content           example
====== ================ ==================================================
1      document id      ``google/ewt/weblog/00/blogspot.com_...xml``
2      sentence number  ``1``
3      token number     ``4``
4      word             ``nominated``
5      POS tag          ``VBD``
6      parse bit        ``(VP*``
7      predicate lemma  ``nominate`` (``-`` on other rows)
8      roleset          ``nominate.01`` (``-`` on other rows)
9...   arguments        one bracket column per predicate, in the order of the predicate rows
====== ================ ==================================================

An argument column holds one cell per token in the CoNLL-2005 start-end
("bracket") format: ``(ARG0*`` opens an argument, ``*)`` closes it, ``(V*)``
is a one-token argument and ``*`` is inside or outside one. Lines starting with
``#begin document`` or ``#end document`` (as in CoNLL-2012 files) end the
current sentence and are otherwise skipped. The full CoNLL-2012 OntoNotes
layout (word sense, speaker, named entity and coreference columns around the
argument columns) is a different layout and is not read here.

Spans are ``(start, end, label)`` token offsets, ``end`` exclusive.
"""

from __future__ import annotations

import numbers
import os
import re

from ...utils._files import read_text
from .._files import TaskFiles
from ._metrics import srl_precision_recall_f1

__all__ = ["PropBankFiles", "load_propbank_srl", "srl_spans_to_tags", "srl_tags_to_spans"]

# 0-based column indices of the propbank-release layout (see the module docstring).
_WORD, _POS, _ROLESET = 3, 4, 7
_FIRST_ARGUMENT = 8
_DOCUMENT_MARKERS = ("#begin document", "#end document")
# One cell: any opening brackets, the star, then any closing brackets, each
# optionally labelled as CoNLL-2005 allows (``*ARG0)``).
_CELL = re.compile(r"((?:\([^()*\s]+)*)\*((?:[^()*\s]*\))*)")
_OPEN = re.compile(r"\(([^()*\s]+)")
_CLOSE = re.compile(r"([^()*\s]*)\)")


def _sentences(path, text):
    """Yield each sentence as a list of ``(line number, columns)`` rows.

    Every row has the same number of columns, at least the eight fixed ones;
    otherwise a ValueError names the line.
    """
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(_DOCUMENT_MARKERS) or not line.strip():
            if rows:
                yield rows
                rows = []
            continue
        columns = line.split()
        if len(columns) < _FIRST_ARGUMENT:
            raise ValueError(
                f"{path}:{number}: expected at least {_FIRST_ARGUMENT} columns (document, "
                "sentence and token numbers, word, POS, parse bit, predicate lemma, roleset), "
                f"got {len(columns)}: {line.strip()!r}"
            )
        if rows and len(columns) != len(rows[0][1]):
            raise ValueError(
                f"{path}:{number}: {len(columns)} columns, but the sentence's first line "
                f"({rows[0][0]}) has {len(rows[0][1])}; every token of a sentence needs one "
                "argument column per predicate"
            )
        rows.append((number, columns))
    if rows:
        yield rows


def _column_spans(path, rows, column):
    """The ``(start, end, label)`` spans of one bracket argument column.

    Raises a ValueError naming the line for a malformed cell, an argument
    opened inside another one (nesting is not allowed within one column), a
    closing bracket with nothing open or with the wrong label, and an
    argument left open at the end of the sentence.
    """
    spans = []
    opened = None  # (label, start token, line number) of the argument now open
    for position, (number, columns) in enumerate(rows):
        cell = columns[column]
        match = _CELL.fullmatch(cell)
        where = f"{path}:{number}: argument column {column - _FIRST_ARGUMENT + 1}"
        if match is None:
            raise ValueError(
                f"{where}: malformed cell {cell!r}; expected brackets around one '*' such as "
                "'(ARG0*', '*', '*)' or '(V*)'"
            )
        for label in _OPEN.findall(match.group(1)):
            if opened is not None:
                raise ValueError(
                    f"{where}: {label!r} opens inside {opened[0]!r} (opened on line {opened[2]}); "
                    "arguments of one predicate cannot nest"
                )
            opened = (label, position, number)
        for label in _CLOSE.findall(match.group(2)):
            if opened is None:
                raise ValueError(f"{where}: {cell!r} closes an argument that is not open")
            if label and label != opened[0]:
                raise ValueError(
                    f"{where}: {cell!r} closes {label!r} but {opened[0]!r} is open "
                    f"(opened on line {opened[2]})"
                )
            spans.append((opened[1], position + 1, opened[0]))
            opened = None
    if opened is not None:
        raise ValueError(
            f"{path}:{opened[2]}: argument column {column - _FIRST_ARGUMENT + 1}: "
            f"{opened[0]!r} is never closed before the end of the sentence (line {rows[-1][0]})"
        )
    return spans


def load_propbank_srl(path, verbs_only=False, *, encoding: str = "utf-8"):
    """Load a PropBank ``gold_conll`` file: one example per predicate.

    The file layout is described in the module docstring; it is that of the
    ``ewt.{train,dev,test}.gold_conll`` files of
    ``../shared/data/propbank_ewt_srl``. The predicates of a sentence are its
    rows whose roleset (8th column) is not ``-``; the k-th argument column
    belongs to the k-th of them. A sentence without predicates gives no
    example.

    Parameters
    ----------
    path : str or path-like
        The file.
    verbs_only : bool, default=False
        Keep only the predicates whose POS tag (5th column, on the predicate's
        row) starts with ``VB``: the verbal predicates, as in CoNLL-2005. The
        unified PropBank also annotates nominal (``NN*``) and adjectival
        (``JJ*``) predicates, which are kept by default.
    encoding : str, default="utf-8"

    Returns
    -------
    X : list of tuple (list of str, int)
        ``(tokens, predicate_index)``: the sentence's words (4th column) and
        the token position of the predicate's row. Each example has its own
        token list.
    y : list of list of tuple (int, int, str)
        The predicate's arguments as ``(start, end, label)`` token spans,
        ``end`` exclusive, in sentence order. The predicate's own ``V`` span
        is left out; every other span is kept with its label, including
        continuation (``C-ARG1``) and reference (``R-ARG0``) arguments and
        ``C-V``, the detached particle of a phrasal predicate ("turn them
        *in*"), which :func:`srl_precision_recall_f1` scores with ``V`` and so
        never counts.

    Raises
    ------
    ValueError
        If the file cannot be read or decoded or holds no sentence, or on a
        line with too few columns or a column count that differs from the rest
        of its sentence, a number of argument columns that differs from the
        number of predicate rows, a malformed bracket cell, an argument opened
        inside another, a closing bracket with nothing open, an argument never
        closed, or an argument column without exactly one ``V`` span. The
        message gives the path and line number.

    Notes
    -----
    The ``V`` span usually covers just the predicate's row, but it can be
    longer (a multiword predicate such as "flip - flopped" split by the
    tokenizer) and, in a few compound verbs of the EWT data ("x - rays" for
    ``xray.01``), the predicate's row is the ``C-V`` piece. The predicate
    index is always the roleset row, and ``verbs_only`` reads the POS tag of
    that row.

    Examples
    --------
    >>> X, y = load_propbank_srl("../shared/data/propbank_ewt_srl/ewt.dev.gold_conll")  # doctest: +SKIP
    >>> X[0]  # doctest: +SKIP
    (['From', 'the', 'AP', 'comes', 'this', 'story', ':'], 3)
    >>> y[0]  # doctest: +SKIP
    [(0, 3, 'ARG2'), (4, 6, 'ARG1')]
    """  # noqa: E501
    path = os.fspath(path)
    text = read_text(path, encoding=encoding)
    X, y = [], []
    n_sentences = 0
    for rows in _sentences(path, text):
        n_sentences += 1
        predicates = [
            position for position, (_, columns) in enumerate(rows) if columns[_ROLESET] != "-"
        ]
        n_columns = len(rows[0][1]) - _FIRST_ARGUMENT
        if len(predicates) != n_columns:
            raise ValueError(
                f"{path}:{rows[0][0]}: the sentence has {len(predicates)} predicate rows (roleset "
                f"column not '-') but {n_columns} argument columns; each predicate needs one"
            )
        tokens = [columns[_WORD] for _, columns in rows]
        for offset, predicate in enumerate(predicates):
            # Every column is checked, kept or not, so that a file is valid or not
            # whatever verbs_only says.
            spans = _column_spans(path, rows, _FIRST_ARGUMENT + offset)
            verbs = [span for span in spans if span[2] == "V"]
            if len(verbs) != 1:
                raise ValueError(
                    f"{path}:{rows[predicate][0]}: argument column {offset + 1}, for the predicate "
                    f"{rows[predicate][1][_ROLESET]!r}, has {len(verbs)} 'V' spans instead of one"
                )
            if verbs_only and not rows[predicate][1][_POS].startswith("VB"):
                continue
            X.append((list(tokens), predicate))
            y.append([span for span in spans if span[2] != "V"])
    if not n_sentences:
        raise ValueError(f"{path}: the file holds no sentence")
    return X, y


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def srl_spans_to_tags(n_tokens, spans):
    """BIO tags of a predicate's argument spans.

    Parameters
    ----------
    n_tokens : int
        Length of the sentence.
    spans : sequence of (int, int, str)
        Non-overlapping ``(start, end, label)`` spans, ``end`` exclusive, in
        any order.

    Returns
    -------
    list of str
        ``B-<label>`` on each span's first token, ``I-<label>`` on the others
        and ``O`` outside spans, so adjacent spans of one label stay apart.

    Raises
    ------
    ValueError
        If a span is malformed, empty, outside the sentence or overlaps
        another one (BIO tags cannot hold overlapping spans).

    Examples
    --------
    >>> srl_spans_to_tags(5, [(0, 2, "ARG0"), (3, 5, "ARG1")])
    ['B-ARG0', 'I-ARG0', 'O', 'B-ARG1', 'I-ARG1']
    """
    tags = ["O"] * n_tokens
    owner = [None] * n_tokens  # the span that tagged each token, for the overlap message
    for number, span in enumerate(spans):
        if not isinstance(span, (tuple, list)) or len(span) != 3:
            raise ValueError(f"span {number} must be a (start, end, label) triple, got {span!r}")
        start, end, label = span
        if not isinstance(label, str) or not label or label.split() != [label]:
            raise ValueError(f"span {number} {span!r} needs a non-empty label without spaces")
        if not (_is_int(start) and _is_int(end) and 0 <= start < end <= n_tokens):
            raise ValueError(
                f"span {number} {span!r} is empty or outside the sentence of {n_tokens} tokens "
                "(end exclusive)"
            )
        for position in range(start, end):
            if owner[position] is not None:
                raise ValueError(
                    f"span {number} {span!r} overlaps {owner[position]!r} at token {position}; "
                    "BIO tags cannot hold overlapping spans"
                )
            owner[position] = tuple(span)
            tags[position] = ("B-" if position == start else "I-") + label
    return tags


def srl_tags_to_spans(tags):
    """Argument spans of a predicate's BIO tags.

    ``B-X`` starts a span of label ``X`` and ``I-X`` continues it. An ``I-X``
    that does not continue an ``X`` span (after ``O`` or another label) starts
    a new span, as the CoNLL ``conlleval`` script reads it, so that a
    model's inconsistent tags still give spans.

    Parameters
    ----------
    tags : sequence of str
        ``O``, ``B-<label>`` or ``I-<label>``, one per token.

    Returns
    -------
    list of tuple (int, int, str)
        ``(start, end, label)`` spans, ``end`` exclusive, in sentence order.

    Raises
    ------
    ValueError
        If a tag is not ``O``, ``B-<label>`` or ``I-<label>``; the message
        names its position.

    Examples
    --------
    >>> srl_tags_to_spans(["B-ARG0", "I-ARG0", "O", "B-V", "B-C-ARG0"])
    [(0, 2, 'ARG0'), (3, 4, 'V'), (4, 5, 'C-ARG0')]
    """
    spans = []
    current = None  # [start, label] of the span being read
    for position, tag in enumerate(tags):
        if not isinstance(tag, str) or (
            tag != "O" and (len(tag) < 3 or tag[:2] not in ("B-", "I-"))
        ):
            raise ValueError(f"tag {position} is {tag!r}; expected 'O', 'B-<label>' or 'I-<label>'")
        if current is not None and tag != "I-" + current[1]:
            spans.append((current[0], position, current[1]))
            current = None
        if tag != "O" and current is None:
            current = [position, tag[2:]]
    if current is not None:
        spans.append((current[0], len(tags), current[1]))
    return spans


def _as_tags(n_tokens, target):
    """BIO tags of a target given as spans or as tags."""
    if target and all(isinstance(item, str) for item in target):
        return list(target)
    return srl_spans_to_tags(n_tokens, target)


def write_srl(out, X, predicted, gold=None):
    """Write SRL predictions: one block per predicate, one token per line.

    Each line is ``token<TAB>predicate<TAB>[gold<TAB>]predicted``: the
    predicate column is ``V`` on the predicate's row and ``-`` elsewhere, and
    the tag columns are BIO tags of the arguments (``B-ARG0``, ``I-ARG0``,
    ``O``). A blank line separates predicates. Targets may be spans or tags.
    """
    for number, ((tokens, predicate), found) in enumerate(zip(X, predicted)):
        if number:
            out.write("\n")
        columns = [_as_tags(len(tokens), found)]
        if gold is not None:
            columns.insert(0, _as_tags(len(tokens), gold[number]))
        for position, token in enumerate(tokens):
            marks = [token, "V" if position == predicate else "-"]
            marks += [column[position] for column in columns]
            out.write("\t".join(marks) + "\n")


def _report(scores):
    lines = [f"{'label':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for label, row in scores["per_label"].items():
        lines.append(
            f"{label:<16}{row['precision']:>10.4f}{row['recall']:>10.4f}{row['f1']:>10.4f}"
            f"{row['support']:>10}"
        )
    lines.append(
        f"{'overall':<16}{scores['precision']:>10.4f}{scores['recall']:>10.4f}"
        f"{scores['f1']:>10.4f}{scores['support']:>10}"
    )
    return "\n".join(lines) + "\n"


class PropBankFiles(TaskFiles):
    """PropBank ``gold_conll`` files for the command line (see :class:`~.._files.TaskFiles`).

    Read with :func:`load_propbank_srl` (every predicate, verbal or not); an
    unreadable file is a ``ValueError`` naming the path and line, which the
    command line turns into exit status 2. Predictions are written by
    :func:`write_srl` and scored with :func:`srl_precision_recall_f1`.
    """

    description = "PropBank gold_conll column files (one bracket argument column per predicate)"
    output = (
        "writes one block per predicate, 'token predicate predicted' per line "
        "('token predicate gold predicted' when the input has arguments), BIO argument tags, "
        "the predicate's row marked V, a blank line between predicates."
    )
    report = "argument precision, recall and F1 per label and overall (CoNLL-2005 rules)."

    def read(self, path, *, gold):
        return load_propbank_srl(path)

    def write(self, out, X, predicted, gold=None):
        write_srl(out, X, predicted, gold)

    def scores(self, estimator, y_true, y_pred):
        """Micro ``precision``/``recall``/``f1``, ``perfect_props`` and ``per_label`` figures."""
        # An estimator fitted on tags predicts tags: read them back to spans.
        y_pred = [
            srl_tags_to_spans(found) if found and all(isinstance(t, str) for t in found) else found
            for found in y_pred
        ]
        result = srl_precision_recall_f1(y_true, y_pred)
        return {
            "micro": {key: result[key] for key in ("precision", "recall", "f1")},
            "perfect_props": result["perfect_props"],
            "per_label": result["per_label"],
            "text": _report(result),
        }
