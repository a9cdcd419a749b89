"""Reading text files with errors that name the path, as the command line reports them."""

from __future__ import annotations

__all__ = ["read_text"]


def read_text(path, *, encoding: str = "utf-8") -> str:
    """The whole text of a file.

    Raises
    ------
    ValueError
        ``"<path>: cannot read the file (...)"`` or ``"<path>: not utf-8 text (...)"``,
        so that the command line can print it as one line.
    """
    try:
        with open(path, encoding=encoding) as handle:
            return handle.read()
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not {encoding} text ({error.reason})") from None
