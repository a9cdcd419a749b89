"""Reader for CoNLL-style column files (one token per line, tag in the last column)."""

from __future__ import annotations

import os

__all__ = ["load_conll"]


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
