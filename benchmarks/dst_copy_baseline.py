"""The dialogue state tracking peer: copy every ontology value said verbatim in the history.

What a user without a trained model would try first for MultiWOZ (issue 17):
no learning at all. For each user turn, a domain counts as mentioned when its
name (``hotel``, ``train``, ``restaurant``, ``attraction``, ``taxi``) or one
of its ``type`` values (``guest house``, ``museum``, ...) appears in the
history; for each slot of a mentioned domain, every value that
``ontology.json`` lists for that slot is looked up in the history (lower
case, whole words, user and system turns alike), and the latest mention
wins. ``do n't care`` is never copied. The state is scored with
joint goal accuracy and slot accuracy
(:mod:`sklearn_fishdip.tasks.dialogue_state`) on ``test.json``. Run from the
repository root::

    python benchmarks/dst_copy_baseline.py              # all of test.json
    python benchmarks/dst_copy_baseline.py --max-dialogues 50
    python benchmarks/dst_copy_baseline.py --max-test 300   # the turns of low_resource --max-test

Prints a table and writes JSON (default
``benchmarks/results/dst_copy_baseline.json``) with the command and the commit.
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Runs from a checkout without installing the package.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _provenance import provenance  # noqa: E402

from sklearn_fishdip.datasets import load_multiwoz  # noqa: E402
from sklearn_fishdip.tasks.dialogue_state import (  # noqa: E402
    DST_SLOT_NAMES,
    MULTIWOZ_DOMAINS,
    joint_goal_accuracy,
    normalize_value,
    slot_accuracy,
)

DEFAULT_DATA_DIR = HERE.parent.parent / "shared" / "data" / "multiwoz21"
DEFAULT_JSON = HERE / "results" / "dst_copy_baseline.json"
_SHORT_NAMES = {natural: short for short, natural in DST_SLOT_NAMES.items()}


def load_ontology(path, domains=MULTIWOZ_DOMAINS):
    """``{(domain, slot): [value, ...]}`` from ConvLab-2's ``ontology.json`` (the state's
    slot names: ``price range`` -> ``pricerange``), ``do n't care`` left out."""
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    ontology = {}
    for key, values in raw.items():
        domain, slot = key.split("-", 1)
        if domain not in domains:
            continue
        slot = _SHORT_NAMES.get(slot, slot.lower())
        kept = sorted({normalize_value(v) for v in values} - {None, "dontcare"}, key=len)
        ontology[(domain, slot)] = kept[::-1]  # longest first: "north" after "north east"
    return ontology


class CopyBaseline:
    """Predict states by copying ontology values said verbatim in the history."""

    def __init__(self, ontology):
        self.ontology = ontology
        self.patterns = {
            key: re.compile(r"(?<![\w'])(" + "|".join(map(re.escape, values)) + r")(?![\w'])")
            for key, values in ontology.items()
            if values
        }
        domains = {domain for domain, _ in ontology}
        self.domain_patterns = {
            domain: re.compile(
                r"\b("
                + "|".join(map(re.escape, [domain, *ontology.get((domain, "type"), [])]))
                + r")\b"
            )
            for domain in domains
        }

    def predict_one(self, history):
        text = " ".join(
            " ".join(turn_text.lower().replace("-", " ").split()) for _, turn_text in history
        )
        mentioned = {d for d, pattern in self.domain_patterns.items() if pattern.search(text)}
        state = {}
        for (domain, slot), pattern in self.patterns.items():
            if domain not in mentioned:
                continue
            found = pattern.findall(text)
            if found:
                state[(domain, slot)] = found[-1]  # the latest mention wins
        return state

    def predict(self, X):
        return [self.predict_one(history) for history in X]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--max-dialogues", type=int, default=None, help="score the first N test dialogues"
    )
    parser.add_argument(
        "--max-test",
        type=int,
        default=None,
        help="score the first N user turns (after --max-dialogues), as low_resource.py does",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    for name in ("max_dialogues", "max_test"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    return args


def main(argv=None):
    args = parse_args(argv)
    ontology = load_ontology(args.data_dir / "ontology.json")
    X, y, ids = load_multiwoz(args.data_dir / "test.json", return_ids=True)
    if args.max_dialogues is not None:
        keep = list(dict.fromkeys(dialogue for dialogue, _ in ids))[: args.max_dialogues]
        keep = set(keep)
        rows = [i for i, (dialogue, _) in enumerate(ids) if dialogue in keep]
        X, y, ids = [X[i] for i in rows], [y[i] for i in rows], [ids[i] for i in rows]
    if args.max_test is not None:
        X, y, ids = X[: args.max_test], y[: args.max_test], ids[: args.max_test]
    start = time.perf_counter()
    predicted = CopyBaseline(ontology).predict(X)
    seconds = time.perf_counter() - start
    n_dialogues = len({dialogue for dialogue, _ in ids})
    record = {
        "joint_goal_accuracy": joint_goal_accuracy(y, predicted),
        "slot_accuracy": slot_accuracy(y, predicted),
        "n_dialogues": n_dialogues,
        "n_turns": len(X),
        "predict_s": seconds,
    }
    print(f"{'peer':<14} {'dialogues':>9} {'turns':>6} {'joint goal':>10} {'slot acc':>8}")
    print(
        f"{'copy baseline':<14} {n_dialogues:>9} {len(X):>6} "
        f"{record['joint_goal_accuracy']:>10.4f} {record['slot_accuracy']:>8.4f}"
    )
    results = {
        "metadata": {
            **provenance(__file__, argv, libraries=()),
            "test_file": str(args.data_dir / "test.json"),
            "domains": list(MULTIWOZ_DOMAINS),
        },
        "copy_baseline": record,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
