"""Torch CPU threads inside parallel workers: each task uses its share of the cores.

Two trainings on 2 cores, each with torch's default of one thread per core,
ran a step in about 20 s instead of 2.5 s: torch's threads spin and wait on
each other. A Dask worker or a joblib (loky) worker therefore limits torch to
its share of the cores while the estimator trains or generates, and puts the
previous setting back afterwards. Outside such workers nothing changes: the
user's own ``torch.set_num_threads`` is respected.

The share is ``cpu_count() // task_threads`` where ``task_threads`` is the
number of tasks that may run at once in this process (the summed ``nthreads``
of the Dask workers living in it, or 1 in a loky worker), capped by an
``OMP_NUM_THREADS`` limit in the environment: Dask's nanny sets it for its
worker processes (1 by default, ``distributed.nanny.pre-spawn-environ``) and
joblib sets it to ``cpu_count() // n_jobs`` for loky workers, so the
scheduler's own policy wins. ``cpu_count`` is joblib's, which honours CPU
affinity, cgroup quotas and ``LOKY_MAX_CPU_COUNT``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys

__all__ = ["torch_threads_share", "worker_thread_share"]

# The variable torch's OpenMP pool reads, and that Dask and joblib set for their workers.
_LIMIT_VARIABLE = "OMP_NUM_THREADS"


def _dask_task_threads():
    """Tasks that may run at once in this process's Dask workers; None outside Dask.

    Only looked up when ``distributed`` is already imported: a Dask worker has
    imported it, and importing it here would cost every other caller.
    """
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        worker = distributed.get_worker()
    except (ValueError, AttributeError):
        return None
    # A LocalCluster(processes=False) runs all its workers in one process, and
    # torch's thread setting is per process: count every worker's task threads.
    workers = [each for each in getattr(type(worker), "_instances", ()) if _alive(each)]
    return max(1, sum(_nthreads(each) for each in workers or (worker,)))


def _alive(worker):
    # Closed workers linger in the weak set until garbage-collected.
    status = getattr(getattr(worker, "status", None), "name", "running")
    return status not in (
        "stopping",
        "stopped",
        "closing",
        "closing_gracefully",
        "closed",
        "failed",
    )


def _nthreads(worker):
    state = getattr(worker, "state", None)
    return int(getattr(state, "nthreads", None) or getattr(worker, "nthreads", 1) or 1)


def _in_loky_worker():
    # joblib's default process backend names its worker processes so.
    return multiprocessing.current_process().name.startswith("LokyProcess")


def _environment_limit():
    try:
        value = int(os.environ.get(_LIMIT_VARIABLE, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def worker_thread_share():
    """Torch threads one task should use in this parallel worker.

    Returns
    -------
    share : int or None
        ``cpu_count() // task_threads`` (at least 1), capped by an
        ``OMP_NUM_THREADS`` limit in the environment, inside a Dask worker
        (``distributed.get_worker()`` succeeds) or a joblib loky worker;
        None elsewhere, where the thread setting is left alone.
    """
    task_threads = _dask_task_threads()
    if task_threads is None:
        if not _in_loky_worker():
            return None
        task_threads = 1
    from joblib import cpu_count

    share = max(1, cpu_count() // task_threads)
    limit = _environment_limit()
    return share if limit is None else min(share, limit)


@contextlib.contextmanager
def torch_threads_share():
    """Limit torch to this worker's share of the CPU cores for the block.

    Inside a Dask or loky worker, ``torch.set_num_threads`` is set to
    :func:`worker_thread_share` on entry and back to its previous value on
    exit (also on an exception). Elsewhere the block runs unchanged.

    Torch keeps the setting per calling thread (OpenMP), so each task thread
    of a multi-threaded Dask worker sets and restores its own.

    Yields
    ------
    share : int or None
        The number of threads in use for the block, or None where nothing
        was changed.

    Examples
    --------
    >>> import torch
    >>> from sklearn_fishdip.utils._threads import torch_threads_share
    >>> before = torch.get_num_threads()
    >>> with torch_threads_share() as share:  # not in a worker: nothing changes
    ...     share is None and torch.get_num_threads() == before
    True
    """
    share = worker_thread_share()
    if share is None:
        yield None
        return
    import torch

    previous = torch.get_num_threads()
    if share == previous:
        yield share
        return
    torch.set_num_threads(share)
    try:
        yield share
    finally:
        torch.set_num_threads(previous)
