"""Tagging a file on a Dask cluster: sentences per second with 1 and 2 workers (issue 19).

The recipe of ``docs/user_guide/dask.rst``, measured: a fitted ``FishDipNER``
is scattered to every worker once (it pickles as its sparse difference from
the base model, a few MB where the weights take some 90 MB; each worker
rebuilds the model from its own cached base), then ``client.map`` tags
partitions of the sentences and the answers are gathered in order. For each
worker count it starts a ``LocalCluster(n_workers=k, threads_per_worker=1,
processes=True)``, warms every worker up (it reads the base model once) and
times the tagging alone; the start-up is reported apart. Without
``--no-baseline`` the same sentences are also tagged in this process with
torch's default thread count.

Besides sentences per second, each configuration reports its CPU share: the
CPU seconds its tasks used over (wall seconds x workers). 1.0 means every
worker had a core to itself; on a machine busy with other work it is lower,
and the speed-up of more workers shrinks with it.

Run from the repository root, offline::

    python benchmarks/dask_tagging.py                  # 20 training sentences, 300 to tag
    python benchmarks/dask_tagging.py --load model/    # a model saved by fishdip fit

Prints a table and writes JSON with provenance (default
``benchmarks/results/dask_tagging.json``). The figures depend on what else
the machine runs: the JSON records the load average before and after each
configuration.
"""

import argparse
import json
import os
import pickle
import sys
import time
from pathlib import Path

# Before transformers is imported: the benchmark never touches the network.
# Worker processes inherit the environment.
os.environ["HF_HUB_OFFLINE"] = "1"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Runs from a checkout without installing the package; crf_baseline sits beside us.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from _provenance import provenance  # noqa: E402

from sklearn_fishdip import DEFAULT_MODEL, FishDipNER  # noqa: E402
from sklearn_fishdip.datasets import load_conll  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "conll2003"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "dask_tagging.json"


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", default=str(DEFAULT_DATA / "train.txt"), metavar="FILE")
    parser.add_argument("--test", default=str(DEFAULT_DATA / "test.txt"), metavar="FILE")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="base model to fit from")
    parser.add_argument("--load", metavar="DIR", help="a saved estimator instead of a fit")
    parser.add_argument("--n-train", type=int, default=20, help="first N training sentences")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--n-sentences", type=int, default=300, help="first N test sentences")
    parser.add_argument(
        "--partition-size", type=int, default=25, help="sentences per Dask task (default: 25)"
    )
    parser.add_argument(
        "--workers", default="1,2", help="worker counts to compare, 1 thread each (default: 1,2)"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip tagging in this process")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=str(DEFAULT_JSON), metavar="PATH")
    return parser


def tag_partition(estimator, X):
    """What each Dask task runs: the scattered estimator on one partition.

    Returns the predictions and the CPU seconds the task's thread used (with
    one torch thread, torch computes in the calling thread): on a busy machine
    they tell how much of a core each worker actually got.
    """
    start = time.thread_time()
    predicted = estimator.predict(X)
    return predicted, time.thread_time() - start


def fitted_estimator(args):
    """The estimator to tag with, and how long it took to get."""
    start = time.perf_counter()
    if args.load:
        estimator = FishDipNER.load(args.load)
    else:
        X, y = load_conll(args.train)
        estimator = FishDipNER(
            model=args.model, max_epochs=args.epochs, random_state=args.seed, verbose=0
        ).fit(X[: args.n_train], y[: args.n_train])
    estimator.set_params(device="cpu", verbose=0)
    return estimator, time.perf_counter() - start


def run_cluster(estimator, partitions, n_workers):
    """Tag the partitions on a fresh LocalCluster of ``n_workers`` one-thread workers."""
    from distributed import Client, LocalCluster

    record = {"config": f"dask {n_workers} worker(s) x 1 thread", "n_workers": n_workers}
    record["load_before"] = os.getloadavg()[0]
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        # Pickled once and sent to every worker: the sparse delta, not the weights.
        remote = client.scatter(estimator, broadcast=True, hash=False)
        # Each worker unpickles the estimator (its first read of the base model) before timing.
        warm = [
            client.submit(tag_partition, remote, partitions[0][:1], workers=[address], pure=False)
            for address in client.scheduler_info()["workers"]
        ]
        client.gather(warm)
        record["startup_s"] = time.perf_counter() - start
        start = time.perf_counter()
        futures = client.map(tag_partition, [remote] * len(partitions), partitions, pure=False)
        answers = client.gather(futures)
        record["tag_s"] = time.perf_counter() - start
    record["load_after"] = os.getloadavg()[0]
    record["cpu_s"] = sum(cpu_s for _, cpu_s in answers)
    # 1.0: every worker had a core to itself the whole time.
    record["cpu_share"] = record["cpu_s"] / (record["tag_s"] * n_workers)
    return record, [tags for chunk, _ in answers for tags in chunk]


def run_in_process(estimator, X):
    record = {"config": f"in process, torch {torch.get_num_threads()} threads", "n_workers": 0}
    record["load_before"] = os.getloadavg()[0]
    start, cpu_start = time.perf_counter(), time.process_time()
    predicted = estimator.predict(X)
    record["tag_s"] = time.perf_counter() - start
    record["cpu_s"] = time.process_time() - cpu_start
    record["cpu_share"] = record["cpu_s"] / (record["tag_s"] * torch.get_num_threads())
    record["startup_s"] = 0.0
    record["load_after"] = os.getloadavg()[0]
    return record, predicted


def print_table(runs, n_sentences):
    print(
        f"\n{'configuration':<34} {'start-up s':>10} {'tag s':>8} {'sent/s':>8} "
        f"{'speed-up':>8} {'CPU share':>9} {'load':>10}"
    )
    reference = next((run for run in runs if run["n_workers"] == 1), None)
    for run in runs:
        speedup = reference["tag_s"] / run["tag_s"] if reference else float("nan")
        print(
            f"{run['config']:<34} {run['startup_s']:>10.1f} {run['tag_s']:>8.1f} "
            f"{n_sentences / run['tag_s']:>8.2f} {speedup:>8.2f} {run['cpu_share']:>9.2f} "
            f"{run['load_before']:>4.1f}-{run['load_after']:<4.1f}"
        )


def main(argv=None):
    """Run the benchmark; print a table and write JSON.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments; None reads ``sys.argv``.

    Returns
    -------
    dict
        ``metadata`` and ``runs`` (one per configuration).
    """
    args = build_parser().parse_args(argv)
    worker_counts = [int(value) for value in args.workers.split(",") if value]
    X = load_conll(args.test)[0][: args.n_sentences]
    partitions = [X[i : i + args.partition_size] for i in range(0, len(X), args.partition_size)]
    estimator, fit_s = fitted_estimator(args)
    blob = pickle.dumps(estimator)
    results = {
        "metadata": {
            **provenance(__file__, argv, libraries=("dask", "distributed")),
            "model": args.load or args.model,
            "n_train": None if args.load else args.n_train,
            "epochs": None if args.load else args.epochs,
            "fit_s": fit_s,
            "n_sentences": len(X),
            "n_tokens": sum(len(tokens) for tokens in X),
            "partition_size": args.partition_size,
            "pickled_estimator_bytes": len(blob),
            # What the pickle does not carry: the weights, rebuilt from each worker's base model.
            "model_weights_bytes": sum(
                p.numel() * p.element_size() for p in estimator.model_.parameters()
            ),
            "n_updated_parameters": int(estimator.n_updated_parameters_),
        },
        "runs": [],
    }
    print(
        f"estimator ready in {fit_s:.0f} s; pickles to {len(blob) / 1e3:.0f} kB, its weights "
        f"take {results['metadata']['model_weights_bytes'] / 1e6:.0f} MB "
        f"({estimator.n_updated_parameters_} updated parameters); tagging {len(X)} sentences",
        flush=True,
    )
    outputs = []
    if not args.no_baseline:
        record, predicted = run_in_process(estimator, X)
        results["runs"].append(record)
        outputs.append(predicted)
        print(f"{record['config']}: {record['tag_s']:.1f} s", flush=True)
    for n_workers in worker_counts:
        record, predicted = run_cluster(estimator, partitions, n_workers)
        results["runs"].append(record)
        outputs.append(predicted)
        print(f"{record['config']}: {record['tag_s']:.1f} s", flush=True)
    for record in results["runs"]:
        record["sentences_per_s"] = len(X) / record["tag_s"]
    # Same seeds, same model: every configuration must tag alike.
    results["metadata"]["same_predictions"] = all(out == outputs[0] for out in outputs)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results["runs"], len(X))
    print(f"same predictions in every configuration: {results['metadata']['same_predictions']}")
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
