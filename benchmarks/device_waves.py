"""Run ``low_resource.py`` grids in waves against a deadline (a lent GPU's lease).

A lent GPU comes for minutes, one command of at most ten of them, and what a
command writes survives only if it is written before the command is killed.
Long regimes such as CoNLL04 at 800 epochs (issue 15) do not all fit, and how
many fit is unknown until their epoch rate is seen: a small model leaves the
GPU mostly idle, so several runs at once finish sooner, up to a point.

This driver starts one ``low_resource.py`` process per run, one seed per wave
(every fraction and strategy of seed 1 first). It reads each run's epoch count
from its progress bars, and starts the next wave only while every running run
and the new ones are projected to end before ``--budget`` seconds, counting
that more processes stretch the rest of every run (the GPU is shared). A wave
that ends before its rate can be read (runs of a few epochs) is its own
estimate: the next starts if one more wave of that length ends in time. Every
``--poll`` seconds it writes into ``--out``:

- ``results.json``: the finished runs, merged into one ``low_resource.py``
  JSON (``runs`` and the first run's ``metadata``, plus ``driver``: the
  command, budget and launch times), and the log tail of any run that failed;
- ``progress.txt``: each run's state, epochs started and elapsed seconds.

So a command killed at its limit keeps every run that finished. Example, on a
lent GPU with the carry folder of ``device_carry.py``::

    export PYTHONPATH=$PWD/.device/site:$PWD
    python3 benchmarks/device_waves.py --out $OUT --budget 500 \\
        --dataset conll04 --fractions 0.05,0.1 --seeds 1,2,3 \\
        --strategies full,fish-dip --epochs 800 -- \\
        --batch-size 32 --device cuda --threads 1 --data-dir .device/data

Options after ``--`` go to every ``low_resource.py`` run unchanged.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: A tqdm bar at its start: one per epoch in the estimators' verbose output.
_EPOCH_START = re.compile(r"\| 0/\d+ \[")


def epochs_started(log_text, max_epochs):
    """Epochs a run has started, counted from its progress bars.

    Tagging the test set after the last epoch draws one more bar of the same
    shape, so the count stops at ``max_epochs``.
    """
    return min(len(_EPOCH_START.findall(log_text)), max_epochs)


def projected_end(points, epochs, predict_seconds, window=40.0):
    """When a run should end, from its recent epoch rate.

    Parameters
    ----------
    points : list of (float, int)
        ``(time, epochs started)`` readings, oldest first. The rate is taken
        over the last ``window`` seconds, not from the run's start: loading the
        model and the first selection are not epochs.
    epochs : int
        The run's ``max_epochs``.
    predict_seconds : float
        Time added for scoring the test set after the last epoch.

    Returns
    -------
    float or None
        None while too few epochs have passed to tell a rate.
    """
    now, done = points[-1]
    older = [p for p in points if now - p[0] >= window] or points[:1]
    then, done_then = older[-1]
    if done < 3 or done - done_then < 2:
        return None
    rate = (done - done_then) / (now - then)
    return now + (epochs - done) / rate + predict_seconds


def wave_fits(now, ends, remaining, n_new, deadline, load_seconds=30.0):
    """Whether ``n_new`` more runs can start and every run still end in time.

    ``ends`` are the running runs' projected ends and ``remaining`` the share
    of their epochs still to run. The GPU is shared, so ``n + n_new`` runs
    stretch what is left of each by ``(n + n_new) / n``; a new run lasts as
    long as the longest running one would from its start, stretched too.
    """
    n = len(ends)
    if n == 0:
        return True
    stretch = (n + n_new) / n
    worst = max(now + (end - now) * stretch for end in ends)
    whole = max((end - now) / max(share, 1e-9) for end, share in zip(ends, remaining))
    new_end = now + load_seconds + whole * stretch
    return max(worst, new_end) < deadline


class Run:
    """One ``low_resource.py`` process: a (fraction, seed, strategy)."""

    def __init__(self, fraction, seed, strategy, work, args, passthrough):
        self.name = f"{args.dataset}_{fraction}_s{seed}_{strategy}"
        self.log = work / f"{self.name}.log"
        self.json = work / f"{self.name}.json"
        self.command = [
            sys.executable, str(HERE / "low_resource.py"), "--dataset", args.dataset,
            "--fractions", fraction, "--seeds", str(seed), "--strategies", strategy,
            "--epochs", str(args.epochs), "--json", str(self.json),
            "--plot", str(work / f"{self.name}.png"), "--verbose", *passthrough,
        ]  # fmt: skip
        self.started = time.time()
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT)
        self.points = []
        self.epochs = args.epochs

    @property
    def running(self):
        return self.process.poll() is None

    def read(self):
        """Record an epoch reading; return the epochs started."""
        done = epochs_started(self.log.read_bytes().decode("utf-8", "replace"), self.epochs)
        self.points.append((time.time(), done))
        return done


def write_outputs(out, runs, driver):
    merged, lines = {"metadata": None, "runs": [], "failed": {}, "driver": driver}, []
    for run in runs:
        state = "running" if run.running else f"exit {run.process.returncode}"
        done = run.points[-1][1] if run.points else 0
        lines.append(
            f"{run.name:32s} {state:8s} epochs {done:5d} {time.time() - run.started:7.0f} s"
        )
        if run.json.exists() and not run.running:
            written = json.loads(run.json.read_text())
            merged["metadata"] = merged["metadata"] or written["metadata"]
            merged["runs"].extend(written["runs"])
        if not run.running and run.process.returncode != 0:
            merged["failed"][run.name] = run.log.read_text(errors="replace")[-4000:]
    for name, text in (("results.json", json.dumps(merged, indent=1)),
                       ("progress.txt", "\n".join(lines) + "\n")):  # fmt: skip
        partial = out / f".{name}.partial"
        partial.write_text(text)
        partial.replace(out / name)  # never a half-written file when killed


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Options after -- go to every low_resource.py run.",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="folder for each run's log, JSON and plot (default: a new temporary folder; "
        "a lent machine returns at most 8 files from OUT, so they stay out of it)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        required=True,
        help="seconds from start by which every started run should end",
    )
    parser.add_argument("--dataset", default="conll04")
    parser.add_argument("--fractions", default="0.05,0.1")
    parser.add_argument("--seeds", default="1,2,3", help="one wave per seed, in this order")
    parser.add_argument("--strategies", default="full,fish-dip")
    parser.add_argument("--epochs", type=int, default=800)
    parser.add_argument(
        "--predict-seconds",
        type=float,
        default=60.0,
        help="scoring time added to each projection (default: 60)",
    )
    parser.add_argument("--poll", type=float, default=10.0)
    parser.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="seconds after a wave starts before the next is weighed",
    )
    if "--" in argv:
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1 :]
    else:
        passthrough = []
    args = parser.parse_args(argv)
    if args.budget <= 0 or args.poll <= 0 or args.epochs < 1:
        parser.error("--budget and --poll must be positive and --epochs at least 1")
    return args, passthrough


def main(argv=None):
    args, passthrough = parse_args(sys.argv[1:] if argv is None else argv)
    start = time.time()
    deadline = start + args.budget
    args.out.mkdir(parents=True, exist_ok=True)
    if args.work is None:
        work = Path(tempfile.mkdtemp(prefix="device_waves_"))
    else:
        work = args.work
        work.mkdir(parents=True, exist_ok=True)
    waves = [
        [(f, seed, s) for f in args.fractions.split(",") for s in args.strategies.split(",")]
        for seed in (int(s) for s in args.seeds.split(","))
    ]
    driver = {"command": sys.argv if argv is None else argv, "budget_s": args.budget,
              "launched": []}  # fmt: skip
    runs = []

    def launch(wave):
        for fraction, seed, strategy in wave:
            runs.append(Run(fraction, seed, strategy, work, args, passthrough))
            driver["launched"].append([runs[-1].name, round(time.time() - start, 1)])
            print(f"{time.time() - start:6.0f} s  start {runs[-1].name}", flush=True)

    launch(waves.pop(0))
    last_launch = time.time()
    while waves or any(run.running for run in runs):
        time.sleep(args.poll)
        live = [run for run in runs if run.running]
        for run in live:
            run.read()
        write_outputs(args.out, runs, driver)
        if not waves:
            continue
        if live:
            ends = [projected_end(run.points, args.epochs, args.predict_seconds) for run in live]
            if time.time() - last_launch < args.settle or None in ends:
                continue
            remaining = [1 - run.points[-1][1] / args.epochs for run in live]
            fits = wave_fits(time.time(), ends, remaining, len(waves[0]), deadline)
        else:
            # The wave ended before a rate could be projected (short runs): its
            # wall time is the estimate for the next one.
            fits = time.time() + (time.time() - last_launch) < deadline
        if fits:
            launch(waves.pop(0))
            last_launch = time.time()
        else:
            print(f"{time.time() - start:6.0f} s  {len(waves)} wave(s) left out: "
                  "they would not end before the budget", flush=True)  # fmt: skip
            driver["left_out"] = [[f, s, st] for wave in waves for f, s, st in wave]
            waves = []
    for run in runs:
        run.read()
    write_outputs(args.out, runs, driver)
    print(f"{time.time() - start:6.0f} s  done; {args.out / 'results.json'}", flush=True)
    return json.loads((args.out / "results.json").read_text())


if __name__ == "__main__":
    main()
