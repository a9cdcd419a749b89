"""Benchmark the sparse fine-tuning engine (issue 3, "Benchmark").

Measures, on tokenized CoNLL-2003 training sentences with augmented targets:

- ``refresh_speedup``: per-sample loop / batched squared-gradient importance on
  the same samples, and how far apart their scores are;
- ``step_time_ratio``: wall time of FISH-DIP training / full fine-tuning over
  the same optimizer steps (Adafactor for both, refreshes included), for both
  ranking modes, with the callback's select-vs-train split;
- ``optimizer_state_ratio``: SparseAdamW state bytes of FISH-DIP / dense AdamW.

Prints a table and writes JSON. Nothing here asserts on time.

Run from the repository root::

    python benchmarks/bench_engine.py --quick
    python benchmarks/bench_engine.py            # the full protocol
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

# Before transformers is imported: the benchmark never touches the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Runs from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _provenance import provenance  # noqa: E402

from sklearn_fishdip.augmented import encode_ner  # noqa: E402
from sklearn_fishdip.datasets import load_conll  # noqa: E402
from sklearn_fishdip.models import BERT2BERT_MODEL, load_seq2seq  # noqa: E402
from sklearn_fishdip.sparse import (  # noqa: E402
    FishDip,
    ParameterIndex,
    fit_sparse,
    freezes_zero_gradients,  # noqa: E402
    optimizer_state_bytes,
    resolve_device,
    squared_gradients,
    squared_gradients_loop,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "conll2003" / "train.txt"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "bench_engine.json"

# The protocol, and the reduced one of --quick (under 3 min on 2 cores).
FULL = dict(
    n_importance=25, n_train=1000, steps=300, refresh_every=100, batch_size=8, state_steps=3
)
QUICK = dict(n_importance=6, n_train=80, steps=30, refresh_every=10, batch_size=8, state_steps=2)

GOALS = {
    "refresh_speedup": (">=", 5.0),
    "scores_max_rel_diff": ("<=", 1e-5),
    "step_time_ratio": ("<=", 1.15),
    "optimizer_state_ratio": ("<=", 0.05),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default=BERT2BERT_MODEL, help="model name or path (default: %(default)s)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="reduced protocol: 6 importance samples; 30 steps, refresh_every=10, 80 sentences",
    )
    parser.add_argument(
        "--json", default=str(DEFAULT_JSON), help="output JSON (default: %(default)s)"
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--threads", type=int, default=2, help="torch CPU threads (default: %(default)s)"
    )
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="CoNLL-2003 train file")
    parser.add_argument("--seed", type=int, default=0, help="sentence subset and training seed")
    parser.add_argument(
        "--only",
        action="append",
        choices=["refresh", "steps", "state"],
        help="run only these parts (repeatable; default: all)",
    )
    return parser.parse_args(argv)


def sync(device):
    # CUDA kernels are asynchronous: wait before reading the clock.
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def make_examples(loaded, data, n, seed):
    """``n`` random training sentences (seeded), tokenized with augmented targets."""
    X, y = load_conll(data)
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(X), size=n, replace=False).tolist())
    sources = [" ".join(X[i]) for i in chosen]
    targets = [encode_ner(X[i], y[i]) for i in chosen]
    input_ids = loaded.tokenizer(sources, add_special_tokens=True)["input_ids"]
    labels = loaded.encode_targets(targets)
    return [{"input_ids": s, "labels": t} for s, t in zip(input_ids, labels)]


def fresh_model(args, device):
    loaded = load_seq2seq(args.model)
    return loaded, loaded.model.to(device)


# ---------------------------------------------------------------------------
# Part 1: batched vs per-sample importance
# ---------------------------------------------------------------------------


def bench_refresh(args, protocol, examples, device):
    loaded, model = fresh_model(args, device)
    subset = examples[: protocol["n_importance"]]

    def timed(fn):
        sync(device)
        start = time.perf_counter()
        out = fn()
        sync(device)
        return out, time.perf_counter() - start

    batched = lambda: squared_gradients(model, subset, batch_size=16)  # noqa: E731
    loop = lambda: squared_gradients_loop(model, subset)  # noqa: E731
    batched()  # warm-up (allocator, kernels, hooks)
    loop()
    fast, t_batched = timed(batched)
    slow, t_loop = timed(loop)
    print(f"  loop {t_loop:.2f} s, batched {t_batched:.2f} s", flush=True)

    max_diff = max_ref = worst_param = 0.0
    for name, ref in slow.items():
        diff = float((fast[name] - ref).abs().max())
        peak = float(ref.abs().max())
        max_diff, max_ref = max(max_diff, diff), max(max_ref, peak)
        if peak > 0:
            worst_param = max(worst_param, diff / peak)
    return {
        "refresh_speedup": t_loop / t_batched,
        "scores_max_rel_diff": max_diff / max_ref,
        "refresh": {
            "n_samples": len(subset),
            "importance_batch_size": 16,
            "loop_s": t_loop,
            "batched_s": t_batched,
            "max_abs_diff": max_diff,
            "max_abs_score": max_ref,
            # Stricter: each parameter against its own largest score.
            "max_per_parameter_rel_diff": worst_param,
            "fallback_parameters": list(fast.fallback),
        },
    }


# ---------------------------------------------------------------------------
# Part 2: step time of FISH-DIP vs full fine-tuning
# ---------------------------------------------------------------------------


def train_run(args, protocol, examples, device, strategy):
    loaded, model = fresh_model(args, device)
    sync(device)
    start = time.perf_counter()
    net = fit_sparse(
        model,
        examples,
        strategy,
        optimizer="adafactor",
        max_steps=protocol["steps"],
        batch_size=protocol["batch_size"],
        device=device,
        random_state=args.seed,
        new_parameter_names=loaded.new_parameter_names,
    )
    sync(device)
    wall = time.perf_counter() - start
    update = dict(net.callbacks_)["sparse_update"]
    history = [
        {
            "step": record["step"],
            "seconds": record["seconds"],
            "n_loss_pass": record.get("n_loss_pass"),
            "n_samples": len(record.get("samples", [])),
            "overlap": record["overlap"],
        }
        for record in update.mask_history_
    ]
    return {
        "wall_s": wall,
        "steps": net.n_steps_,
        "s_per_step": wall / net.n_steps_,
        "select_s": update.timings_["select_s"],
        "train_s": update.timings_["train_s"],
        "total_s": update.timings_["total_s"],
        "restores_off_mask": not freezes_zero_gradients(net.optimizer_),
        "selections": history,
    }


def bench_steps(args, protocol, examples, device, checkpoint):
    # Warm-up: first-call costs (thread pools, allocator) must not land on one run.
    warm = 1 if args.quick else 2
    train_run(args, dict(protocol, steps=warm), examples[: 8 * warm], device, "full")
    fish = lambda ranking: FishDip(refresh_every=protocol["refresh_every"], ranking=ranking)  # noqa: E731
    runs = {}
    partial = {"training": {"runs": runs}}
    for label, strategy in (
        ("full_finetuning", "full"),
        ("fish_dip_running", fish("running")),
        ("fish_dip_full_ranking", fish("full")),
    ):
        print(f"  training: {label} ...", flush=True)
        runs[label] = train_run(args, protocol, examples, device, strategy)
        print(f"    {runs[label]['wall_s']:.1f} s", flush=True)
        checkpoint(partial)  # a long run that is cut short keeps what it measured
    base = runs["full_finetuning"]["wall_s"]
    return {
        "step_time_ratio": runs["fish_dip_running"]["wall_s"] / base,
        "step_time_ratio_full_ranking": runs["fish_dip_full_ranking"]["wall_s"] / base,
        "training": {
            "n_sentences": len(examples),
            "steps": protocol["steps"],
            "refresh_every": protocol["refresh_every"],
            "batch_size": protocol["batch_size"],
            "optimizer": "adafactor",
            "runs": runs,
        },
    }


# ---------------------------------------------------------------------------
# Part 3: optimizer state of FISH-DIP with SparseAdamW vs dense AdamW
# ---------------------------------------------------------------------------


def bench_state(args, protocol, examples, device):
    subset = examples[: 8 * protocol["state_steps"]]
    sizes = {}
    for label, strategy in (
        ("dense", "full"),
        ("fish_dip", FishDip(keep_ratio=0.01)),
        ("fish_dip_no_new", FishDip(keep_ratio=0.01, train_new_parameters=False)),
    ):
        loaded, model = fresh_model(args, device)
        net = fit_sparse(
            model,
            subset,
            strategy,
            optimizer="adamw",
            max_steps=protocol["state_steps"],
            batch_size=8,
            device=device,
            random_state=args.seed,
            new_parameter_names=loaded.new_parameter_names,
        )
        sizes[label] = optimizer_state_bytes(net.optimizer_)
        print(f"  {label}: {sizes[label]:,} bytes", flush=True)
    index = ParameterIndex(model, loaded.new_parameter_names)
    return {
        "optimizer_state_ratio": sizes["fish_dip"] / sizes["dense"],
        "optimizer_state_ratio_no_new_parameters": sizes["fish_dip_no_new"] / sizes["dense"],
        "optimizer_state": {
            "keep_ratio": 0.01,
            "steps": protocol["state_steps"],
            "bytes": sizes,
            "n_always_trainable": index.numel(sorted(index.new)),
            "always_trainable_names": sorted(index.new),
        },
    }


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def goal_status(results):
    status = {}
    for key, (op, target) in GOALS.items():
        if key in results:
            value = results[key]
            met = value >= target if op == ">=" else value <= target
            status[key] = {"value": value, "goal": f"{op} {target:g}", "met": bool(met)}
    return status


def print_table(results, protocol):
    meta = results["metadata"]
    mode = "QUICK" if meta["quick"] else "FULL"
    print()
    print(
        f"bench_engine [{mode}] model={meta['model']} device={meta['device']} "
        f"threads={meta['torch_threads']} params={meta['n_parameters']:,}"
    )
    print(
        f"protocol: importance on {protocol['n_importance']} samples; {protocol['steps']} steps, "
        f"refresh_every={protocol['refresh_every']}, batch {protocol['batch_size']}, "
        f"{protocol['n_train']} sentences, Adafactor; optimizer state after "
        f"{protocol['state_steps']} AdamW steps at keep_ratio 0.01"
    )
    rows = []
    if "refresh" in results:
        r = results["refresh"]
        rows += [
            ("importance loop (s)", f"{r['loop_s']:.2f}", ""),
            ("importance batched (s)", f"{r['batched_s']:.2f}", ""),
            ("refresh_speedup", f"{results['refresh_speedup']:.2f}", ">= 5"),
            ("scores_max_rel_diff", f"{results['scores_max_rel_diff']:.2e}", "<= 1e-05"),
            ("  per-parameter max rel diff", f"{r['max_per_parameter_rel_diff']:.2e}", ""),
        ]
    if "training" in results:
        runs = results["training"]["runs"]
        for label, run in runs.items():
            detail = f"{run['wall_s']:.1f} ({run['s_per_step']:.3f} s/step)"
            if label != "full_finetuning":
                detail += f"; select {run['select_s']:.1f} + train {run['train_s']:.1f}"
            rows.append((f"wall {label} (s)", detail, ""))
        rows += [
            ("step_time_ratio (running)", f"{results['step_time_ratio']:.3f}", "<= 1.15"),
            ("step_time_ratio_full_ranking", f"{results['step_time_ratio_full_ranking']:.3f}", ""),
        ]
    if "optimizer_state" in results:
        s = results["optimizer_state"]
        b = s["bytes"]
        rows += [
            ("AdamW state dense (MB)", f"{b['dense'] / 2**20:.1f}", ""),
            ("AdamW state fish-dip (MB)", f"{b['fish_dip'] / 2**20:.2f}", ""),
            ("optimizer_state_ratio", f"{results['optimizer_state_ratio']:.4f}", "<= 0.05"),
            (
                "  ... train_new_parameters=False",
                f"{results['optimizer_state_ratio_no_new_parameters']:.4f}",
                "",
            ),
            ("  always-trainable parameters", f"{s['n_always_trainable']:,}", ""),
        ]
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"{'metric':<{width}}  {'value':>{vwidth}}  goal")
    for name, value, goal in rows:
        print(f"{name:<{width}}  {value:>{vwidth}}  {goal}")
    print()


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    protocol = QUICK if args.quick else FULL
    parts = set(args.only or ["refresh", "steps", "state"])
    device = resolve_device(args.device)

    loaded = load_seq2seq(args.model)
    examples = make_examples(loaded, args.data, protocol["n_train"], args.seed)
    index = ParameterIndex(loaded.model, loaded.new_parameter_names)
    recorded = provenance(__file__, argv)
    results = {
        "metadata": {
            "model": args.model,
            "device": device,
            "device_name": (
                torch.cuda.get_device_name() if device == "cuda" else recorded["cpu"]["model"]
            ),
            "n_parameters": index.numel(),
            **recorded,
            "quick": args.quick,
            "protocol": protocol,
            "seed": args.seed,
            "mean_source_tokens": float(np.mean([len(e["input_ids"]) for e in examples])),
            "mean_target_tokens": float(np.mean([len(e["labels"]) for e in examples])),
        }
    }
    del loaded
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(data):
        path.write_text(json.dumps(data, indent=2) + "\n")

    def checkpoint(partial=None):
        meta = {**results["metadata"], "complete": False}
        write({**results, **(partial or {}), "metadata": meta})

    started = time.perf_counter()
    if "refresh" in parts:
        print("importance: batched vs loop ...", flush=True)
        results.update(bench_refresh(args, protocol, examples, device))
        checkpoint()
    if "state" in parts:
        print("optimizer state: AdamW dense vs fish-dip ...", flush=True)
        results.update(bench_state(args, protocol, examples, device))
        checkpoint()
    if "steps" in parts:
        print("step time: full fine-tuning vs fish-dip ...", flush=True)
        results.update(bench_steps(args, protocol, examples, device, checkpoint))
    results["metadata"]["bench_wall_s"] = time.perf_counter() - started
    results["metadata"]["complete"] = True
    results["goals"] = goal_status(results)
    write(results)
    print_table(results, protocol)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
