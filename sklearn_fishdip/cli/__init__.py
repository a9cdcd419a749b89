"""The ``fishdip`` command line: fit, predict and evaluate from files."""

from ._commands import scores
from ._main import main
from ._parser import build_parser

__all__ = ["build_parser", "main", "scores"]
