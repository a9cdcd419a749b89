"""Bytes a data-parallel fit communicates, per step and per mask selection (issue 19).

Runs ``fit_sparse`` on the offline default model (``minilm-prefix-lm``) over a
few CoNLL-2003 training sentences, once with FISH-DIP and once with full
fine-tuning, on ``--nproc`` gloo ranks of this machine's CPU, and records the
``communication_`` diagnostics of the :class:`SparseUpdate` callback: the bytes
each rank contributed to the collectives of every step (on-mask gradients,
per-sample losses) and of every selection (summed importance, gathered
losses, mask checksum). The bytes do not depend on the backend or the
hardware; the seconds printed beside them are only those of this CPU.

Run from the repository root, offline (it launches itself under ``torchrun``)::

    python benchmarks/distributed_bytes.py                 # ~2 min on 2 CPU cores
    python benchmarks/distributed_bytes.py --nproc 2 --steps 4 --refresh-every 2

It prints a table and writes ``benchmarks/results/distributed_bytes.json``
with the command and git commit.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

# Before transformers is imported: the benchmark never touches the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _provenance import provenance  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "conll2003" / "train.txt"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "distributed_bytes.json"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nproc", type=int, default=2, help="ranks (gloo processes)")
    parser.add_argument("--n-sentences", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8, help="global batch")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--refresh-every", type=int, default=2)
    parser.add_argument("--keep-ratio", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    return parser.parse_args(argv)


def make_examples(loaded, data, n, seed):
    """``n`` random training sentences (seeded), built by the model's adapter."""
    from sklearn_fishdip.augmented import encode_ner
    from sklearn_fishdip.datasets import load_conll

    X, y = load_conll(data)
    chosen = sorted(np.random.default_rng(seed).choice(len(X), size=n, replace=False).tolist())
    model, tokenizer, adapter = loaded.model, loaded.tokenizer, loaded.adapter
    sources = adapter.encode_sources(model, tokenizer, [" ".join(X[i]) for i in chosen])
    targets = adapter.encode_targets(model, tokenizer, [encode_ner(X[i], y[i]) for i in chosen])
    return [adapter.build_example(s, t) for s, t in zip(sources, targets)]


def run_rank(args):
    """One rank: fit both strategies, return rank 0's records (None elsewhere)."""
    from sklearn_fishdip.models import DEFAULT_MODEL, load_model
    from sklearn_fishdip.sparse import FishDip, fit_sparse

    torch.set_num_threads(1)
    records = {}
    for name in ("fish-dip", "full"):
        loaded = load_model(DEFAULT_MODEL)  # a fresh copy of the pretrained model
        examples = make_examples(loaded, args.data, args.n_sentences, args.seed)
        strategy = (
            FishDip(keep_ratio=args.keep_ratio, refresh_every=args.refresh_every)
            if name == "fish-dip"
            else "full"
        )
        start = time.perf_counter()
        net = fit_sparse(
            loaded.model,
            examples,
            strategy,
            max_steps=args.steps,
            batch_size=args.batch_size,
            device="cpu",
            random_state=args.seed,
            new_parameter_names=loaded.new_parameter_names,
            pad_token_id=loaded.tokenizer.pad_token_id,
            adapter=loaded.adapter,
        )
        update = dict(net.callbacks_)["sparse_update"]
        index = update.context_.index
        communication = dict(update.communication_)
        communication["bytes_by_purpose"] = dict(communication["bytes_by_purpose"])
        records[name] = {
            "seconds": time.perf_counter() - start,
            "n_parameters": index.numel(),
            "n_parameter_tensors": len(index.names),
            "n_trained_per_selection": [
                r["n_selected"] + r["n_exempt"] for r in update.mask_history_
            ],
            "selection_steps": [r["step"] for r in update.mask_history_],
            "mask_checksums": update.mask_checksums_,
            "communication": communication,
        }
    return records if torch.distributed.get_rank() == 0 else None


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(args, argv):
    """Run this script under torchrun on ``--nproc`` ranks; collect rank 0's file."""
    partial = Path(args.json).with_suffix(".rank0.json")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={args.nproc}",
        f"--master_port={_free_port()}",
        str(Path(__file__).resolve()),
        *argv,
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", DISTRIBUTED_BYTES_PARTIAL=str(partial))
    subprocess.run(command, env=env, check=True)
    records = json.loads(partial.read_text())
    partial.unlink()
    return records


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if "RANK" in os.environ:  # a rank, started by launch()
        records = run_rank(args)
        if records is not None:
            Path(os.environ["DISTRIBUTED_BYTES_PARTIAL"]).write_text(json.dumps(records))
        return None
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    records = launch(args, argv)
    results = {
        "metadata": {
            **provenance(__file__, argv),
            "backend": "gloo",
            "world_size": args.nproc,
            "settings": {k: v for k, v in vars(args).items() if k not in ("json",)},
            "bytes": "what one rank contributes to the collectives (all-reduce payload, "
            "all-gather share); a ring all-reduce sends about 2 (W-1)/W times the payload",
        },
        "runs": records,
    }
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    return results


def print_table(results):
    print(f"{'strategy':<10} {'params':>11} {'per step (MB)':>14} {'per selection (MB)':>20}")
    for name, run in results["runs"].items():
        comm = run["communication"]
        steps = ", ".join(f"{b / 1e6:.3f}" for b in comm["step_bytes"])
        selections = ", ".join(f"{b / 1e6:.3f}" for b in comm["selection_bytes"])
        print(f"{name:<10} {run['n_parameters']:>11,} {steps:>14} {selections:>20}")
        print(f"{'':<10} by purpose: {comm['bytes_by_purpose']}")


if __name__ == "__main__":
    main()
