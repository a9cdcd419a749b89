"""NER files: CoNLL-style column files (one token per line, tag in the last column).

:func:`load_conll` is the data-set reader (re-exported by
:mod:`sklearn_fishdip.datasets`); :class:`CoNLLFiles` is what the command line
reads, writes and scores for a NER model.
"""

from __future__ import annotations

import os

from .._files import TaskFiles
from ._metrics import entity_precision_recall_f1, ner_classification_report

__all__ = ["CoNLLFiles", "iter_ner", "load_conll", "read_ner", "write_ner"]


def load_conll(path, *, encoding: str = "utf-8"):
    """Load a CoNLL column file such as CoNLL-2003.

    Sentences are separated by blank lines; ``-DOCSTART-`` lines (document
    boundaries) are skipped and end the current sentence. The token is the
    first column and the tag the last one.

    Parameters
    ----------
    path : str or path-like
        The file.
    encoding : str, default="utf-8"

    Returns
    -------
    X : list of list of str
        The sentences' tokens.
    y : list of list of str
        The sentences' tags.

    Raises
    ------
    ValueError
        If the file cannot be read or decoded, or a line does not hold a token
        and a tag; the message gives the path and line number.

    Examples
    --------
    >>> X, y = load_conll("../shared/data/conll2003/train.txt")  # doctest: +SKIP
    >>> X[0], y[0]  # doctest: +SKIP
    (['EU', 'rejects', 'German', ...], ['B-ORG', 'O', 'B-MISC', ...])
    """
    path = os.fspath(path)
    X, y = [], []
    tokens, tags = [], []

    def close_sentence():
        if tokens:
            X.append(list(tokens))
            y.append(list(tags))
            tokens.clear()
            tags.clear()

    try:
        with open(path, encoding=encoding) as handle:
            for number, line in enumerate(handle, start=1):
                columns = line.split()
                if not columns:
                    close_sentence()
                    continue
                if columns[0] == "-DOCSTART-":
                    close_sentence()
                    continue
                token, tag = _tagged_row(path, number, line, columns)
                tokens.append(token)
                tags.append(tag)
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not {encoding} text ({error.reason})") from error
    close_sentence()
    return X, y


def _tagged_row(path, number, line, columns):
    """``(token, tag)`` of a line of a tagged CoNLL file; a ValueError naming the line."""
    if len(columns) < 2:
        raise ValueError(
            f"{path}:{number}: expected a token and a tag separated by whitespace, "
            f"got {line.rstrip()!r}"
        )
    tag = columns[-1]
    if tag != "O" and (len(tag) < 3 or tag[1] != "-"):
        raise ValueError(
            f"{path}:{number}: malformed tag {tag!r}; expected 'O' or "
            "'<prefix>-<type>' such as 'B-PER'"
        )
    return columns[0], tag


def _ner_sentences(path, require_tags):
    """Yield ``(tokens, tags)`` per sentence of a CoNLL file, reading it line by line.

    The first token line decides the layout: with more than one column (or
    with ``require_tags``) every line must hold a token and a tag, otherwise
    a bare token, and ``tags`` is None.
    """
    tagged = None  # unknown until the first token line
    first_token_line = seen_text = None
    tokens, tags = [], []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                columns = line.split()
                if columns and not seen_text:
                    seen_text = True
                    if line.lstrip()[:1] in ("[", "{"):
                        # A JSON file read as CoNLL would fail on its (possibly huge)
                        # first line; say why instead.
                        raise ValueError(
                            f"{path}:{number}: looks like JSON, but a ner model reads CoNLL "
                            "column files (one token and its tag per line)"
                        )
                if not columns or columns[0] == "-DOCSTART-":
                    if tokens:
                        yield tokens, tags if tagged else None
                        tokens, tags = [], []
                    continue
                if tagged is None:
                    first_token_line, tagged = number, require_tags or len(columns) > 1
                if tagged:
                    token, tag = _tagged_row(path, number, line, columns)
                    tags.append(tag)
                elif len(columns) == 1:
                    token = columns[0]
                else:
                    raise ValueError(
                        f"{path}:{number}: expected one token per line, as on line "
                        f"{first_token_line}, got {line.rstrip()!r}"
                    )
                tokens.append(token)
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not utf-8 text ({error.reason})") from None
    if tokens:
        yield tokens, tags if tagged else None


def read_ner(path, *, require_tags=False):
    """Read a CoNLL column file; tags are optional for prediction.

    Parameters
    ----------
    path : str
    require_tags : bool, default=False
        Refuse a file of bare tokens (one column).

    Returns
    -------
    X : list of list of str
    y : list of list of str or None
        None when the file holds tokens only.
    """
    X, y = [], []
    for tokens, tags in _ner_sentences(path, require_tags):
        X.append(tokens)
        y.append(tags)
    return X, None if X and y[0] is None else y


def iter_ner(path, *, require_tags=False, chunk_size=1000):
    """Read a CoNLL column file lazily, ``chunk_size`` sentences at a time.

    The file is read line by line: a chunk is yielded as soon as it is
    complete, so memory holds one chunk whatever the file's size. The chunks
    concatenate to what :func:`read_ner` returns, and a malformed line raises
    the same ``ValueError`` (with the path and line number) once the reader
    reaches it, after the chunks before it.

    Parameters
    ----------
    path : str
    require_tags : bool, default=False
        Refuse a file of bare tokens (one column).
    chunk_size : int, default=1000
        Sentences per chunk (the last one may hold fewer).

    Yields
    ------
    X : list of list of str
    y : list of list of str or None
        None when the file holds tokens only.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    X, y = [], []
    for tokens, tags in _ner_sentences(path, require_tags):
        X.append(tokens)
        y.append(tags)
        if len(X) == chunk_size:
            yield X, None if tags is None else y
            X, y = [], []
    if X:
        yield X, None if y[0] is None else y


def write_ner(out, X, predicted, gold=None):
    """Write ``token predicted`` per line (``token gold predicted`` with gold tags),
    a blank line between sentences."""
    for index, (tokens, tags) in enumerate(zip(X, predicted)):
        if index:
            out.write("\n")
        gold_tags = gold[index] if gold is not None else None
        for position, (token, tag) in enumerate(zip(tokens, tags)):
            columns = [token, tag] if gold_tags is None else [token, gold_tags[position], tag]
            out.write(" ".join(columns) + "\n")


class CoNLLFiles(TaskFiles):
    """CoNLL column files for the command line (see :class:`~.._files.TaskFiles`)."""

    description = "CoNLL column files (token first, tag last)"
    output = (
        "writes 'token predicted' per line ('token gold predicted' when the input has tags), "
        "a blank line between sentences."
    )
    report = "seqeval's classification report (strict, in the model's scheme)."

    def read(self, path, *, gold):
        return read_ner(path, require_tags=gold)

    def write(self, out, X, predicted, gold=None):
        write_ner(out, X, predicted, gold)

    def iter_read(self, path, *, gold, chunk_size):
        """Chunks of :func:`iter_ner`: the file is read line by line."""
        return iter_ner(path, require_tags=gold, chunk_size=chunk_size)

    def write_chunks(self, out, chunks):
        """Each chunk is written before the next is taken (a blank line between sentences)."""
        started = False
        for X, predicted, gold in chunks:
            if X and started:
                out.write("\n")
            write_ner(out, X, predicted, gold)
            started = started or bool(X)

    def scores(self, estimator, y_true, y_pred):
        """Micro ``precision``/``recall``/``f1`` and seqeval's per-type ``report``
        (strict, in the estimator's ``scheme``)."""
        scheme = estimator.scheme
        precision, recall, f1 = entity_precision_recall_f1(y_true, y_pred, scheme=scheme)
        return {
            "micro": {"precision": precision, "recall": recall, "f1": f1},
            "report": ner_classification_report(y_true, y_pred, scheme=scheme, output_dict=True),
            "text": ner_classification_report(y_true, y_pred, scheme=scheme),
        }
