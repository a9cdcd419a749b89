"""``python -m sklearn_fishdip``: the ``fishdip`` command line."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
