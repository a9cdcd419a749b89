"""The ``fishdip`` command line: fit, predict and evaluate from files."""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
