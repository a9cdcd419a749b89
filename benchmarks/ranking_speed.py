"""Prediction time of the ranking estimators on the offline default, sharing the source or not.

The relation classifier, the text classifier and the text regressor predict
by scoring every candidate target after the source. On the prefix LM (the
offline default) each source and the ids its candidates share are run once
from a key/value cache, and each candidate's own ids are fed alone
(:meth:`PrefixLMAdapter.shared_source_scores`). This script times
``predict_proba`` (``predict`` for the regressor) on real test items both
ways (the full-row way is the one training uses, one ``(source,
candidate)`` row at a time) and checks that the two give the same
probabilities.

Each estimator is fitted for one epoch on a few training items first: the
time of a forward does not depend on the weights, and the fit only gives the
estimators their labels and vocabulary.

Run from the repository root, offline::

    python benchmarks/ranking_speed.py --threads 1                # ~15 min on this CPU
    python benchmarks/ranking_speed.py --tasks sst2 --n-test 20   # a quick look

It prints a table and writes ``benchmarks/results/ranking_speed.json`` with
the command and the git commit.
"""

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from _provenance import provenance  # noqa: E402

DATA = Path(os.environ.get("FISHDIP_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "ranking_speed.json"
TASKS = ("semeval2010", "sst2", "stsb")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated of {TASKS}")
    parser.add_argument("--n-train", type=int, default=32, help="training items of the 1-epoch fit")
    parser.add_argument("--n-test", type=int, default=200, help="test items timed")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--model", default="minilm-prefix-lm", help="(default: %(default)s)")
    parser.add_argument("--model-kind", default="auto", help="(default: %(default)s)")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    args = parser.parse_args(argv)
    args.tasks = [task.strip() for task in args.tasks.split(",") if task.strip()]
    unknown = sorted(set(args.tasks) - set(TASKS))
    if unknown:
        parser.error(f"unknown tasks {unknown}; choose among {TASKS}")
    return args


def load_task(task, data, model, model_kind):
    """``(estimator, X_train, y_train, X_test, predict)`` of one task."""
    from sklearn_fishdip import (
        FishDipRelationClassifier,
        FishDipTextClassifier,
        FishDipTextRegressor,
    )
    from sklearn_fishdip.datasets import load_glue, load_semeval2010

    common = dict(model=model, model_kind=model_kind, max_epochs=1, random_state=1, verbose=0)
    if task == "semeval2010":
        folder = Path(data) / "semeval2010_task8"
        X, y = load_semeval2010(folder / "TRAIN_FILE.TXT")
        X_test, _ = load_semeval2010(folder / "TEST_FILE_FULL.TXT")
        return FishDipRelationClassifier(**common), X, y, X_test, "predict_proba"
    name = {"sst2": "sst2", "stsb": "stsb"}[task]
    X, y = load_glue(Path(data) / "glue", name, split="train")
    X_test, _ = load_glue(Path(data) / "glue", name, split="dev")
    if task == "sst2":
        return FishDipTextClassifier(**common), X, y, X_test, "predict_proba"
    return FishDipTextRegressor(**common), X, y, X_test, "predict"


def time_call(call):
    start = time.perf_counter()
    out = np.asarray(call())
    return out, time.perf_counter() - start


def run_task(task, args):
    from sklearn_fishdip.models import CausalLMAdapter, ModelAdapter, PrefixLMAdapter

    estimator, X, y, X_test, method = load_task(task, args.data, args.model, args.model_kind)
    # A seeded sample of the training items; it decides which labels the estimator knows.
    order = np.random.default_rng(1).permutation(len(X))[: args.n_train]
    estimator.fit([X[i] for i in order], [y[i] for i in order])
    items = list(X_test[: args.n_test])
    predict = getattr(estimator, method)
    shared, shared_s = time_call(lambda: predict(items))
    # The full-row way: the adapter declines to share, as a model without a cache does.
    with contextlib.ExitStack() as stack:
        for family in (ModelAdapter, CausalLMAdapter, PrefixLMAdapter):
            stack.enter_context(
                mock.patch.object(family, "shared_source_scores", return_value=None)
            )
        full, full_s = time_call(lambda: predict(items))
    n_candidates = len(getattr(estimator, "classes_", getattr(estimator, "values_", [])))
    return {
        "task": task,
        "estimator": type(estimator).__name__,
        "model": args.model,
        "method": method,
        "n_train": int(len(order)),
        "n_test": len(items),
        "n_candidates": n_candidates,
        "full_rows_s": full_s,
        "shared_source_s": shared_s,
        "speedup": full_s / shared_s,
        "max_abs_difference": float(np.max(np.abs(shared - full))),
    }


def main(argv=None):
    import torch

    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    record = provenance(__file__, argv)
    record["settings"] = {key: value for key, value in vars(args).items() if key != "json"}
    record["results"] = []
    print(
        f"{'task':<12} {'items':>5} {'cands':>5} {'full rows s':>11} {'shared s':>9} "
        f"{'speedup':>7} {'max |diff|':>10}"
    )
    for task in args.tasks:
        row = run_task(task, args)
        record["results"].append(row)
        print(
            f"{row['task']:<12} {row['n_test']:>5} {row['n_candidates']:>5} "
            f"{row['full_rows_s']:>11.1f} {row['shared_source_s']:>9.1f} "
            f"{row['speedup']:>7.2f} {row['max_abs_difference']:>10.2e}"
        )
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(record, indent=2))
    return record


if __name__ == "__main__":
    main()
