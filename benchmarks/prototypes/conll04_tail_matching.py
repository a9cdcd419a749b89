"""RESEARCH PROTOTYPE (issue 15, CoNLL04) -- not library code, not a benchmark of record.

Question: on CoNLL04, about 40% of the test sentences lose at least one generated
relation because its tail text names no predicted entity exactly (the
reference's rule, kept by ``FishDipRelationExtractor``). How much strict
relation F1 would two looser readings of the same generated text recover?

- ``exact``: the library's rule (the reference's): the tail must equal a
  predicted entity's words; else the relation is dropped.
- ``contains``: if no entity matches exactly, the nearest entity whose words
  contain the tail's words, or are contained in them.
- ``contains+new``: as ``contains``; failing that, the tail's words found in the
  source (not overlapping the head) become a new entity typed with the relation's
  most frequent tail type in the training subset.

The model is fitted once with the estimator's defaults (or loaded with
``--estimator``); the test sentences are generated once and read three ways.
Writes JSON with the command and commit.

    python benchmarks/prototypes/conll04_tail_matching.py --fraction 0.1 --seed 1 --threads 1
"""

from __future__ import annotations

import argparse
import collections
import json
import pickle
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import torch  # noqa: E402
from crf_baseline import git_state  # noqa: E402

from sklearn_fishdip import FishDipRelationExtractor  # noqa: E402
from sklearn_fishdip.augmented import (  # noqa: E402
    align_words,
    aligned_span,
    canonical_target,
    escape_token,
    parse_augmented,
)
from sklearn_fishdip.datasets import load_spert, low_resource_subset  # noqa: E402
from sklearn_fishdip.metrics import relation_precision_recall_f1  # noqa: E402

MODES = ("exact", "contains", "contains+new")


def _contains(words, part):
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))


def _gap(a, b):
    return min(abs(a[0] - b[1]), abs(b[0] - a[1]))


def read(text, words, estimator, mode, tail_types):
    """Entities and relations of one generated text, tails resolved by ``mode``."""
    parsed = parse_augmented(text)
    alignment = align_words(words, list(parsed.words), ignore_case=True)
    spans, names, tags, seen = [], [], [], {}
    for entity in parsed.entities:
        # As the library reads them: a one-part type tag of a known type, aligned words.
        if not entity.tags or len(entity.tags[0]) != 1:
            continue
        label = estimator.entity_verbalizer_.parse(entity.tags[0][0], ignore_case=True)
        span = aligned_span(alignment, entity.start, entity.end)
        if label is None or span is None:
            continue
        key = (span[0], span[1], label)
        if key not in seen:
            seen[key] = len(spans)
            spans.append(key)
            names.append(entity.name.casefold().split())
            tags.append([])
        tags[seen[key]].extend(entity.tags[1:])
    folded = [w.casefold() for w in words]
    relations = []
    for head in range(len(tags)):
        for tag in tags[head]:
            relation = (
                estimator.relation_verbalizer_.parse(tag[0], ignore_case=True)
                if len(tag) == 2
                else None
            )
            if relation is None:
                continue
            tail = tag[1].casefold().split()
            others = [i for i in range(len(spans)) if i != head]
            found = [i for i in others if names[i] == tail]
            if not found and mode != "exact" and tail:
                found = [
                    i for i in others if _contains(names[i], tail) or _contains(tail, names[i])
                ]
            if not found and mode == "contains+new" and tail:
                h = spans[head]
                starts = [
                    s
                    for s in range(len(folded) - len(tail) + 1)
                    if folded[s : s + len(tail)] == tail and not (s < h[1] and h[0] < s + len(tail))
                ]
                if starts:
                    s = min(starts, key=lambda s: _gap((s, s + len(tail)), h))
                    spans.append((s, s + len(tail), tail_types[relation]))
                    names.append(tail)
                    found = [len(spans) - 1]
            found.sort(key=lambda i: _gap(spans[i], spans[head]))
            for i in found:
                if (head, i, relation) not in relations:
                    relations.append((head, i, relation))
                    break
    return canonical_target({"entities": spans, "relations": relations})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--strategy", default="fish-dip")
    parser.add_argument("--estimator", help="a pickled fitted FishDipRelationExtractor")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json", default=str(ROOT / "benchmarks/results/conll04_tails.json"))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    folder = Path(args.data_dir) / "conll04"
    X_train, y_train = load_spert(folder / "train.json")
    X_test, y_test = load_spert(folder / "test.json")
    X, y = low_resource_subset(X_train, y_train, args.fraction, random_state=args.seed)
    if args.estimator:
        with open(args.estimator, "rb") as handle:
            estimator = pickle.load(handle)
    else:
        estimator = FishDipRelationExtractor(
            strategy=args.strategy, random_state=args.seed, verbose=0
        ).fit(X, y)
    counts = collections.defaultdict(collections.Counter)
    for target in y:
        for _, tail, relation in target["relations"]:
            counts[relation][target["entities"][tail][2]] += 1
    tail_types = {relation: c.most_common(1)[0][0] for relation, c in counts.items()}

    sentences = estimator._check_inputs(X_test)
    words = [[escape_token(token) for token in tokens] for tokens in sentences]
    windows, texts = estimator._generate(sentences, words)
    if any(len(w) != 1 for w in windows):
        raise SystemExit("a test sentence was split into windows; this prototype reads one")
    gold = [canonical_target(t) for t in y_test]
    rows = []
    for mode in MODES:
        predicted = [read(t, w, estimator, mode, tail_types) for t, w in zip(texts, words)]
        p, r, f = relation_precision_recall_f1(gold, predicted)
        ep, er, ef = relation_precision_recall_f1(gold, predicted, level="entities")
        rows.append({"mode": mode, "precision": p, "recall": r, "f1": f, "entity_f1": ef})
        print(f"{mode:13s} relation P {p:.3f} R {r:.3f} F1 {f:.3f}   entity F1 {ef:.3f}")
    record = {
        "command": shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]),
        "git": git_state(),
        "fraction": args.fraction,
        "seed": args.seed,
        "strategy": args.strategy,
        "n_train": len(X),
        "n_test": len(X_test),
        "rows": rows,
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(record, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
