"""The ``fishdip`` command line (also ``python -m sklearn_fishdip``): fit, predict, evaluate.

Each task reads and writes its own file format (CoNLL column files for NER,
the CoNLL04 JSON format for joint entity and relation extraction; see
``fishdip --help``). A missing or malformed file, or a model folder of the
wrong kind, gives one line ``fishdip: error: <path>:<line>: ...`` on stderr
and exit status 2, never a traceback. The parser is in ``_parser``, the
commands in ``_commands``; the tasks come from the registry.
"""

from __future__ import annotations

import sys
import warnings

from ._parser import PROG, build_parser

__all__ = ["main"]

# Long messages (e.g. a reader quoting a whole one-line JSON file) are cut to stay readable.
_MAX_MESSAGE = 400


def _one_line(message):
    message = " ".join(str(message).split())
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return message


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a usage error or a bad file.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed by argparse
        return exit_.code if isinstance(exit_.code, int) else 2
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.handler(args)
        except (ValueError, OSError) as error:
            print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
            return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
