"""NER files: CoNLL-style column files (one token per line, tag in the last column).

:func:`load_conll` is the data-set reader (re-exported by
:mod:`sklearn_fishdip.datasets`); :class:`CoNLLFiles` is what the command line
reads, writes and scores for a NER model.
"""

from __future__ import annotations

import os

from ...utils._files import read_text
from .._files import TaskFiles
from ._metrics import entity_precision_recall_f1, ner_classification_report

__all__ = ["CoNLLFiles", "load_conll", "read_ner", "write_ner"]


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
                tokens.append(columns[0])
                tags.append(tag)
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not {encoding} text ({error.reason})") from error
    close_sentence()
    return X, y


def _check_not_json(path, text):
    # A JSON file read as CoNLL would fail on its (possibly huge) first line; say why instead.
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        line = text[: len(text) - len(stripped)].count("\n") + 1
        raise ValueError(
            f"{path}:{line}: looks like JSON, but a ner model reads CoNLL column files "
            "(one token and its tag per line)"
        )


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
    text = read_text(path)
    _check_not_json(path, text)
    first = None
    for number, line in enumerate(text.splitlines(), start=1):
        columns = line.split()
        if columns and columns[0] != "-DOCSTART-":
            first = (number, len(columns))
            break
    if require_tags or first is None or first[1] > 1:
        return load_conll(path)
    # One token per line, no tags: the layout of a file to tag.
    X, tokens = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        columns = line.split()
        if not columns or columns[0] == "-DOCSTART-":
            if tokens:
                X.append(tokens)
                tokens = []
            continue
        if len(columns) != 1:
            raise ValueError(
                f"{path}:{number}: expected one token per line, as on line {first[0]}, "
                f"got {line.rstrip()!r}"
            )
        tokens.append(columns[0])
    if tokens:
        X.append(tokens)
    return X, None


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
