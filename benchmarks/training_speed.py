"""Fit time of the offline default two ways: selected or full logits, bf16 or float32,
length-grouped or plainly shuffled batches.

``--compare logits`` (the default): on the prefix LM (the offline default)
and decoder-only LMs, training runs the LM head only on the labelled
positions and, under the ``"grammar"`` loss, only over the ids the batch's
grammar allows (:meth:`ModelAdapter.selected_logits`); the loss and
gradients are those of the full logits. ``--compare precision``: training
under bf16 autocast (``autocast="bf16"``) against float32 (``autocast=None``)
on the same device; the losses then differ by bf16's rounding. ``--compare
batching``: batches of similar lengths (``group_by_length=True``) against
plain shuffling; the same number of steps on other batches, so the losses
differ too.

The script fits the README's job (``FishDipNER`` on the 1% CoNLL-2003 split,
seed 1) for a few epochs both ways, alternating, in one process, and reports
the seconds and each epoch's training loss.

Run from the repository root, offline::

    python benchmarks/training_speed.py --threads 1            # ~10 min on this CPU
    python benchmarks/training_speed.py --epochs 1 --repeats 1  # a quick look
    python benchmarks/training_speed.py --compare precision --threads 1
    python benchmarks/training_speed.py --compare batching --threads 1

It prints a table and writes ``benchmarks/results/training_speed.json`` with
the command and the git commit.
"""

import argparse
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

from _provenance import provenance  # noqa: E402

DATA = Path(os.environ.get("FISHDIP_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "training_speed.json"

#: The two ways each comparison fits, the faster-meant way first.
WAYS = {
    "logits": ("selected", "full"),
    "precision": ("bf16", "float32"),
    "batching": ("by_length", "random"),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="max_epochs of each fit")
    parser.add_argument("--repeats", type=int, default=2, help="fits of each way, alternating")
    parser.add_argument(
        "--compare",
        choices=sorted(WAYS),
        default="logits",
        help="selected against full logits, bf16 autocast against float32, or length-grouped "
        "against plainly shuffled batches (default: logits)",
    )
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=8, help="(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default="minilm-prefix-lm", help="(default: %(default)s)")
    parser.add_argument("--model-kind", default="auto", help="(default: %(default)s)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--data", default=str(DATA / "conll2003" / "train.txt"))
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    args = parser.parse_args(argv)
    for name in ("epochs", "repeats", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    return args


def fit_once(args, X, y, way):
    """Seconds and per-epoch losses of one fit, ``way`` one of :data:`WAYS`' values.

    ``"full"`` turns the logit selection off; ``"bf16"`` and ``"float32"`` set
    ``autocast``; ``"by_length"`` sets ``group_by_length``; ``"selected"`` and
    ``"random"`` are the estimator's defaults.
    """
    from sklearn_fishdip import FishDipNER
    from sklearn_fishdip.models import CausalLMAdapter, ModelAdapter, PrefixLMAdapter

    estimator = FishDipNER(
        model=args.model,
        model_kind=args.model_kind,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=args.seed,
        verbose=0,
        autocast={"bf16": "bf16", "float32": None}.get(way, "auto"),
        group_by_length=way == "by_length",
    )
    patches = []
    if way == "full":
        patches = [
            mock.patch.object(family, "selected_logits", return_value=None)
            for family in (ModelAdapter, CausalLMAdapter, PrefixLMAdapter)
        ]
    for patch in patches:
        patch.start()
    try:
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    finally:
        for patch in patches:
            patch.stop()
    return seconds, [row["train_loss"] for row in estimator.history_]


def main(argv=None):
    import torch

    from sklearn_fishdip.datasets import load_conll, low_resource_subset

    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    X, y = load_conll(args.data)
    X, y = low_resource_subset(X, y, args.fraction, random_state=args.seed)
    record = provenance(__file__, argv)
    record["settings"] = {key: value for key, value in vars(args).items() if key != "json"}
    record["n_train"] = len(X)
    record["fits"] = []
    fast, slow = WAYS[args.compare]
    print(f"{args.compare:<9} {'repeat':>6} {'fit s':>8}  losses per epoch")
    for repeat in range(args.repeats):
        for way in (fast, slow):
            seconds, losses = fit_once(args, X, y, way)
            record["fits"].append(
                {args.compare: way, "repeat": repeat, "fit_s": seconds, "train_loss": losses}
            )
            shown = " ".join(f"{loss:.4f}" for loss in losses)
            print(f"{way:<9} {repeat:>6} {seconds:>8.1f}  {shown}")
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps(record, indent=2))
    mean = {
        way: sum(f["fit_s"] for f in record["fits"] if f[args.compare] == way) / args.repeats
        for way in (fast, slow)
    }
    record["speedup"] = mean[slow] / mean[fast]
    Path(args.json).write_text(json.dumps(record, indent=2))
    print(
        f"mean fit: {fast} {mean[fast]:.1f} s, {slow} {mean[slow]:.1f} s, "
        f"speedup {record['speedup']:.2f}x"
    )
    return record


if __name__ == "__main__":
    main()
