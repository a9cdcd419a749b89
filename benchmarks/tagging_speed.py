"""Tagging time of the offline default with batches formed by length or in input order.

``predict`` generates for its sentences in batches of ``max(batch_size, 16)``.
It forms them in order of input length (longest first) and gives the outputs
back in input order, so a batch pads little and its rows finish together.
Before that, batches were consecutive sentences in input order; ``input
order`` here runs that (``predict`` called on one batch's worth of
consecutive sentences at a time).
A sentence's output does not depend on its batch, so both ways must predict
the same tags; the script checks it.

The model is the README's job (``FishDipNER`` on the 1% CoNLL-2003 split,
seed 1) fitted for ``--epochs`` epochs, or a saved estimator (``--load``).
Both ways tag the first ``--n-sentences`` test sentences, alternating, in one
process.

Run from the repository root, offline::

    python benchmarks/tagging_speed.py --threads 1 --save readme_job   # fits, then tags
    python benchmarks/tagging_speed.py --threads 1 --load readme_job   # tags only

It prints a table and writes ``benchmarks/results/tagging_speed.json`` with
the command, the git commit and a SHA-256 digest of the tags, by which runs
of one saved model at two commits show they tag alike.
"""

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from _provenance import provenance  # noqa: E402

DATA = Path(os.environ.get("FISHDIP_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "tagging_speed.json"

#: The two ways, the faster-meant one first.
WAYS = ("by_length", "input_order")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--load", metavar="DIR", help="a saved FishDipNER instead of a fit")
    parser.add_argument("--save", metavar="DIR", help="save the fitted estimator there")
    parser.add_argument("--epochs", type=int, default=20, help="max_epochs of the fit")
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default="minilm-prefix-lm", help="(default: %(default)s)")
    parser.add_argument("--n-sentences", type=int, default=1000, help="first N test sentences")
    parser.add_argument("--repeats", type=int, default=2, help="predicts of each way, alternating")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--train", default=str(DATA / "conll2003" / "train.txt"))
    parser.add_argument("--test", default=str(DATA / "conll2003" / "test.txt"))
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    args = parser.parse_args(argv)
    for name in ("epochs", "n_sentences", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.load and args.save:
        parser.error("--load and --save exclude each other")
    return args


def in_input_order(estimator, X):
    """``estimator.predict(X)`` one generation batch of consecutive sentences at a time.

    ``predict`` generates ``max(batch_size, 16)`` windows a batch; given that
    many sentences (each one window when it fits ``max_source_length``, as
    CoNLL-2003's do), it makes one batch of them, as before batches were
    formed by length.
    """
    size = max(estimator.batch_size, 16)
    predictions = []
    for begin in range(0, len(X), size):
        predictions.extend(estimator.predict(X[begin : begin + size]))
    return predictions


def predict_once(estimator, X, way):
    """Seconds and predictions of one ``predict``, ``way`` one of :data:`WAYS`."""
    start = time.perf_counter()
    predictions = estimator.predict(X) if way == "by_length" else in_input_order(estimator, X)
    return time.perf_counter() - start, predictions


def main(argv=None):
    import torch

    from sklearn_fishdip import FishDipNER
    from sklearn_fishdip.datasets import load_conll, low_resource_subset

    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    record = provenance(__file__, argv)
    record["settings"] = {key: value for key, value in vars(args).items() if key != "json"}
    if args.load:
        estimator = FishDipNER.load(args.load)
        estimator.verbose = 0
    else:
        X, y = load_conll(args.train)
        X, y = low_resource_subset(X, y, args.fraction, random_state=args.seed)
        estimator = FishDipNER(
            model=args.model, max_epochs=args.epochs, random_state=args.seed, verbose=0
        )
        start = time.perf_counter()
        estimator.fit(X, y)
        record["fit_s"] = time.perf_counter() - start
        if args.save:
            estimator.save(args.save)
    X_test, _ = load_conll(args.test)
    X_test = X_test[: args.n_sentences]
    record["n_sentences"] = len(X_test)
    record["predicts"] = []
    outputs = {}
    print(f"{'batches':<12} {'repeat':>6} {'predict s':>10} {'sentences/s':>12}")
    for repeat in range(args.repeats):
        for way in WAYS:
            seconds, predictions = predict_once(estimator, X_test, way)
            outputs.setdefault(way, predictions)
            record["predicts"].append({"batches": way, "repeat": repeat, "predict_s": seconds})
            print(f"{way:<12} {repeat:>6} {seconds:>10.1f} {len(X_test) / seconds:>12.1f}")
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(record, indent=2))
    mean = {
        way: sum(p["predict_s"] for p in record["predicts"] if p["batches"] == way) / args.repeats
        for way in WAYS
    }
    record["speedup"] = mean["input_order"] / mean["by_length"]
    record["same_predictions"] = outputs["by_length"] == outputs["input_order"]
    record["sentences_differing"] = sum(
        a != b for a, b in zip(outputs["by_length"], outputs["input_order"])
    )
    # Runs at two commits (a change to generation) compare their tags by this digest.
    tags = [list(map(str, sentence)) for sentence in outputs["by_length"]]
    record["predictions_sha256"] = hashlib.sha256(json.dumps(tags).encode()).hexdigest()
    Path(args.json).write_text(json.dumps(record, indent=2))
    print(
        f"mean predict: by length {mean['by_length']:.1f} s, input order "
        f"{mean['input_order']:.1f} s, speedup {record['speedup']:.2f}x; "
        f"same predictions: {record['same_predictions']}; tags sha256 "
        f"{record['predictions_sha256'][:12]}"
    )
    return record


if __name__ == "__main__":
    main()
