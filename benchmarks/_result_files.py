"""Reading several benchmark JSONs to summarize their runs together (``--replot``).

One place, so every script's ``--replot`` reads its files alike and refuses
alike a run found in two files: which of the two counts is not clear.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_results(paths):
    """The benchmark JSONs at ``paths``, as ``(path, contents)`` pairs in order."""
    return [(path, json.loads(Path(path).read_text())) for path in paths]


def pooled_runs(loaded, key):
    """Every run of the files, in order; a run whose ``key(run)`` an earlier one had is an error.

    Parameters
    ----------
    loaded : list of (path, dict)
        From :func:`read_results`.
    key : callable
        What tells one run from another (the key of the script's ``--resume``).

    Returns
    -------
    list of (path, dict, dict)
        Each run with its file's path and contents, for what a caller takes
        from the file's metadata.
    """
    pooled, seen = [], set()
    for path, results in loaded:
        for run in results["runs"]:
            if key(run) in seen:
                raise ValueError(f"{path}: the run {key(run)} is also in an earlier file")
            seen.add(key(run))
            pooled.append((path, results, run))
    return pooled
