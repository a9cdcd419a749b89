"""GridSearchCV on a dask.distributed LocalCluster gives the sequential search's results."""

import pytest
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_fishdip import FishDipNER
from tests.estimator_fixtures import NER_X, NER_Y, fast_params

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

GRID = {"keep_ratio": [0.05, 0.2]}


def _f1(estimator, X, y):
    return estimator.score(X, y)


def _final_loss(estimator, X, y):
    # Depends on every training step: equal values mean equal trainings, where
    # F1 on six sentences is often 0 for every candidate.
    return -estimator.history_[-1]["train_loss"]


def _search():
    return GridSearchCV(
        FishDipNER(),
        GRID,
        cv=KFold(2),
        scoring={"f1": _f1, "loss": _final_loss},
        refit="loss",
        n_jobs=-1,
    )


def _count_base_model_reads():
    """Run in each worker: count how often the base model is read from disk."""
    from sklearn_fishdip.models import _loading

    original = _loading._load_from_source
    reads = []

    def counting(*args, **kwargs):
        reads.append(kwargs.get("kind"))
        return original(*args, **kwargs)

    _loading._load_from_source = counting
    _loading._test_reads = reads


def _base_model_reads():
    from sklearn_fishdip.models import _loading

    return len(_loading._test_reads)


def _torch_threads_in_fit():
    """A task's share of its worker's cores: torch's thread count inside the wrapper."""
    import torch

    from sklearn_fishdip.utils._threads import torch_threads_share

    with torch_threads_share() as share:
        return share, torch.get_num_threads()


@pytest.fixture(scope="module")
def client():
    # Worker processes inherit the environment, HF_HUB_OFFLINE included (conftest).
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: tests may run side by side
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_grid_search_on_dask_equals_sequential(client, tiny_t5_path):
    params = fast_params(tiny_t5_path, max_epochs=1)
    sequential = _search().set_params(n_jobs=1, estimator__model=tiny_t5_path)
    sequential.estimator.set_params(**params)
    sequential.fit(NER_X, NER_Y)

    client.run(_count_base_model_reads)
    search = _search()
    search.estimator.set_params(**params)
    with joblib.parallel_backend("dask"):
        search.fit(NER_X, NER_Y)

    for key in ("mean_test_f1", "mean_test_loss", "split0_test_loss", "split1_test_loss"):
        assert list(search.cv_results_[key]) == list(sequential.cv_results_[key]), key
    assert search.cv_results_["params"] == sequential.cv_results_["params"]
    assert search.best_params_ == sequential.best_params_
    assert search.predict(NER_X) == sequential.predict(NER_X)

    # Each worker read the base model at most once, however many fits it ran.
    reads = list(client.run(_base_model_reads).values())
    assert len(reads) == 2 and sum(reads) >= 1 and max(reads) == 1, reads
    # One thread each: 2 workers of 1 thread (the nanny's OMP_NUM_THREADS=1 caps it too).
    workers = list(client.scheduler_info()["workers"])
    futures = [client.submit(_torch_threads_in_fit, workers=[w], pure=False) for w in workers]
    assert client.gather(futures) == [(1, 1), (1, 1)]


def _tag(estimator, X):
    return estimator.predict(X)


def test_tagging_recipe_on_dask_equals_one_shot(client, tiny_t5_path, tmp_path):
    # The recipe of docs/user_guide/dask.rst: scatter once, chunks in flight, written in order.
    import io
    import pickle
    from collections import deque

    from tests.cli._helpers import _write_conll

    estimator = FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)).fit(NER_X, NER_Y)
    # What ships to the workers is the sparse delta, not the model.
    weights = sum(p.numel() * p.element_size() for p in estimator.model_.parameters())
    assert len(pickle.dumps(estimator)) < weights
    path = _write_conll(tmp_path / "big.txt", NER_X * 3)
    files = FishDipNER.files
    remote = client.scatter(estimator, broadcast=True)

    def tagged_chunks(in_flight=2):
        pending = deque()
        for X, gold in files.iter_read(path, gold=False, chunk_size=4):
            pending.append((X, gold, client.submit(_tag, remote, X, pure=False)))
            if len(pending) >= in_flight:
                X, gold, future = pending.popleft()
                yield X, future.result(), gold
        for X, gold, future in pending:
            yield X, future.result(), gold

    out = io.StringIO()
    files.write_chunks(out, tagged_chunks())
    expected = io.StringIO()
    X, gold = files.read(path, gold=False)
    files.write(expected, X, estimator.predict(X), gold)
    assert out.getvalue() == expected.getvalue()


def test_dask_tagging_benchmark_smoke(tiny_t5_path, tmp_path):
    # benchmarks/dask_tagging.py on a tiny model and file: one 1-worker cluster.
    import importlib.util
    import json
    from pathlib import Path

    from tests.cli._helpers import _write_conll

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "dask_tagging.py"
    spec = importlib.util.spec_from_file_location("_bench_dask_tagging", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = _write_conll(tmp_path / "data.txt", NER_X, NER_Y)
    out = tmp_path / "out.json"
    results = module.main(
        ["--train", data, "--test", data, "--model", tiny_t5_path, "--n-train", "6"]
        + ["--n-sentences", "4", "--partition-size", "2", "--workers", "1", "--json", str(out)]
    )
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    metadata = results["metadata"]
    assert metadata["same_predictions"] is True
    assert metadata["command"].startswith("python ") and "git" in metadata
    assert metadata["pickled_estimator_bytes"] < metadata["model_weights_bytes"]
    assert [run["n_workers"] for run in results["runs"]] == [0, 1]
    assert all(run["sentences_per_s"] > 0 for run in results["runs"])
