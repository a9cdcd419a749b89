"""Torch thread shares inside parallel workers (fake Dask and loky workers)."""

import multiprocessing
import sys
import threading
import types

import pytest
import torch

from sklearn_fishdip.utils import _threads
from sklearn_fishdip.utils._threads import torch_threads_share, worker_thread_share


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    # The test process may itself run under joblib or Dask limits; start from none.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr("joblib.cpu_count", lambda *args, **kwargs: 8)
    previous = torch.get_num_threads()
    yield
    torch.set_num_threads(previous)


class _FakeWorker:
    """What the module reads of a ``distributed.Worker``: ``state.nthreads``."""

    _instances = ()

    def __init__(self, nthreads):
        self.state = types.SimpleNamespace(nthreads=nthreads)


def _fake_dask(monkeypatch, *workers, current=0):
    cls = type("Worker", (_FakeWorker,), {"_instances": list(workers)})
    for worker in workers:
        worker.__class__ = cls

    def get_worker():
        if current is None:
            raise ValueError("No worker found")
        return workers[current]

    monkeypatch.setitem(sys.modules, "distributed", types.SimpleNamespace(get_worker=get_worker))


def test_outside_workers_nothing_changes(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # not imported: no lookup
    torch.set_num_threads(3)
    assert worker_thread_share() is None
    with torch_threads_share() as share:
        assert share is None
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == 3


def test_distributed_imported_but_not_in_a_worker(monkeypatch):
    _fake_dask(monkeypatch, _FakeWorker(2), current=None)
    torch.set_num_threads(3)
    with torch_threads_share() as share:
        assert share is None and torch.get_num_threads() == 3


def test_dask_worker_gets_cores_over_its_threads_and_restores(monkeypatch):
    _fake_dask(monkeypatch, _FakeWorker(4))
    torch.set_num_threads(3)
    with torch_threads_share() as share:
        assert share == 2  # 8 cores, 4 task threads
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == 3


def test_in_process_dask_workers_are_counted_together(monkeypatch):
    # LocalCluster(processes=False, n_workers=2, threads_per_worker=1): one process, 2 tasks.
    _fake_dask(monkeypatch, _FakeWorker(1), _FakeWorker(1))
    monkeypatch.setattr("joblib.cpu_count", lambda *args, **kwargs: 2)
    assert worker_thread_share() == 1


def test_environment_limit_caps_the_share(monkeypatch):
    # Dask's nanny sets OMP_NUM_THREADS=1 for its worker processes by default.
    _fake_dask(monkeypatch, _FakeWorker(1))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.set_num_threads(4)
    with torch_threads_share() as share:
        assert share == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == 4
    # A limit above the share, or one that is not a positive number, does not raise it.
    monkeypatch.setenv("OMP_NUM_THREADS", "16")
    assert worker_thread_share() == 8
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    assert worker_thread_share() == 8


def test_at_least_one_thread(monkeypatch):
    _fake_dask(monkeypatch, _FakeWorker(16))
    assert worker_thread_share() == 1


def test_loky_worker_uses_joblibs_limit(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.setattr(
        multiprocessing, "current_process", lambda: types.SimpleNamespace(name="LokyProcess-3")
    )
    assert worker_thread_share() == 8
    # joblib sets cpu_count() // n_jobs for GridSearchCV(n_jobs=4) on 8 cores.
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    torch.set_num_threads(5)
    with torch_threads_share() as share:
        assert share == 2 and torch.get_num_threads() == 2
    assert torch.get_num_threads() == 5


def test_restored_after_an_exception(monkeypatch):
    _fake_dask(monkeypatch, _FakeWorker(8))
    torch.set_num_threads(3)
    with pytest.raises(RuntimeError, match="boom"), torch_threads_share():
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")
    assert torch.get_num_threads() == 3


def test_each_task_thread_sets_and_restores_its_own(monkeypatch):
    # Torch keeps the thread count per calling thread: a task thread's setting
    # does not leak into the thread that started it.
    _fake_dask(monkeypatch, _FakeWorker(8))
    torch.set_num_threads(3)
    seen = []

    def task():
        with torch_threads_share():
            seen.append(torch.get_num_threads())
        seen.append(torch.get_num_threads())

    thread = threading.Thread(target=task)
    thread.start()
    thread.join()
    assert seen[0] == 1
    assert torch.get_num_threads() == 3


def test_estimator_wraps_training_and_generation(monkeypatch, tiny_t5_path):
    from sklearn_fishdip import FishDipNER
    from tests.estimator_fixtures import NER_X, NER_Y, fast_params

    _fake_dask(monkeypatch, _FakeWorker(8))
    torch.set_num_threads(3)
    seen = []
    wrapped = _threads.torch_threads_share

    def spy():
        seen.append(torch.get_num_threads())
        return wrapped()

    monkeypatch.setattr("sklearn_fishdip._base.torch_threads_share", spy)
    fit_threads = _threads_probe(monkeypatch, "sklearn_fishdip._base.fit_sparse")
    generate_threads = _threads_probe(monkeypatch, "sklearn_fishdip._base.generate_augmented")
    FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)).fit(NER_X, NER_Y).predict(NER_X[:2])
    assert seen == [3, 3]  # entered once around training, once around generation
    assert set(fit_threads) == {1} and set(generate_threads) == {1}
    assert torch.get_num_threads() == 3


def _threads_probe(monkeypatch, target):
    """Replace ``target`` by a wrapper that records torch's thread count at each call."""
    module_name, name = target.rsplit(".", 1)
    function = getattr(sys.modules[module_name], name)
    counts = []

    def probe(*args, **kwargs):
        counts.append(torch.get_num_threads())
        return function(*args, **kwargs)

    monkeypatch.setattr(target, probe)
    return counts


def test_closed_in_process_workers_do_not_count(monkeypatch):
    closed = _FakeWorker(1)
    closed.status = types.SimpleNamespace(name="closed")
    _fake_dask(monkeypatch, _FakeWorker(1), closed)
    monkeypatch.setattr("joblib.cpu_count", lambda *args, **kwargs: 2)
    assert worker_thread_share() == 2
