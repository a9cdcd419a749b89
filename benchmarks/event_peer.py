"""CRF peer for CASIE event triggers (issue 17): trigger identification and classification F1.

The peer users would pick instead of a generative model for the trigger stage:
a linear-chain CRF (``sklearn-crfsuite``) over trigger BIO tags (``B-Databreach``,
``I-Databreach``, ``O``), with the word-shape and context features of
``crf_baseline.py`` (imported, not copied), fitted on seeded low-resource
subsets of the CASIE train split (``low_resource_subset``) and scored on the
test split with :func:`~sklearn_fishdip.tasks.events.event_scores`. It
predicts no arguments, so only the trigger scores are reported.

Needs ``sklearn-crfsuite``, which is not a dependency of the package. Run from
the repository root::

    python benchmarks/event_peer.py --fractions 0.1,1.0 --seeds 1,2,3

Writes JSON (default ``benchmarks/results/event_peer.json``) with provenance.
"""

import argparse
import json
import sys
import time
from pathlib import Path

# Runs from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _provenance import provenance  # noqa: E402
from crf_baseline import (  # noqa: E402
    CRF_PARAMS,
    make_crf,
    parse_float_list,
    parse_int_list,
    require_crfsuite,
    run_fractions,
    sentence_features,
    summarize_fractions,
)

from sklearn_fishdip.datasets import load_casie  # noqa: E402
from sklearn_fishdip.tasks.events import event_scores  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "casie"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "event_peer.json"


def trigger_tags(n_tokens, events):
    """BIO tags of the triggers of one sentence (triggers never overlap in CASIE sentences)."""
    tags = ["O"] * n_tokens
    for event in events:
        start, end, kind = event["trigger"]
        if any(tag != "O" for tag in tags[start:end]):
            continue
        tags[start] = f"B-{kind}"
        for position in range(start + 1, end):
            tags[position] = f"I-{kind}"
    return tags


def tags_to_events(tags):
    """Events (no arguments) from BIO tags; a stray ``I-`` starts no trigger."""
    events, start, kind = [], None, None
    for position, tag in enumerate([*tags, "O"]):
        if start is not None and tag != f"I-{kind}":
            events.append({"trigger": (start, position, kind), "arguments": []})
            start = None
        if tag.startswith("B-"):
            start, kind = position, tag[2:]
    return events


def run_peer(X_train, y_train, X_test, y_test):
    """Fit the CRF on trigger tags and score its triggers; returns a JSON-ready dict."""
    crf = make_crf()
    start = time.perf_counter()
    crf.fit(
        [sentence_features(x) for x in X_train],
        [trigger_tags(len(x), y) for x, y in zip(X_train, y_train)],
    )
    fit_s = time.perf_counter() - start
    predicted = [tags_to_events(t) for t in crf.predict([sentence_features(x) for x in X_test])]
    scores = event_scores([[{**e, "arguments": []} for e in y] for y in y_test], predicted)
    return {
        "trigger_identification": scores["trigger_identification"],
        "trigger_classification": scores["trigger_classification"],
        "fit_s": fit_s,
        "n_train": len(X_train),
        "n_test": len(X_test),
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="the CASIE folder")
    parser.add_argument("--fractions", type=parse_float_list, default=[1.0])
    parser.add_argument("--seeds", type=parse_int_list, default=[1])
    parser.add_argument("--max-test", type=int, default=None, help="score the first N sentences")
    parser.add_argument("--json", default=str(DEFAULT_JSON), help="where to write the results")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        require_crfsuite()
    except ImportError as error:
        raise SystemExit(f"error: {error}") from None
    X_train, y_train, train_report = load_casie(args.data, "train", return_report=True)
    X_test, y_test, test_report = load_casie(args.data, "test", return_report=True)
    X_test, y_test = X_test[: args.max_test], y_test[: args.max_test]
    results = {
        "metadata": {
            **provenance(__file__, argv, libraries=()),
            "data": args.data,
            "n_train_total": len(X_train),
            "n_test": len(X_test),
            "dropped_train": dict(train_report.dropped),
            "dropped_test": dict(test_report.dropped),
            "crf_params": CRF_PARAMS,
            "complete": False,
        },
        "runs": [],
    }
    path = Path(args.json)
    run_fractions(
        results,
        path,
        X_train,
        y_train,
        args.fractions,
        args.seeds,
        lambda X_sub, y_sub, seed: run_peer(X_sub, y_sub, X_test, y_test),
        lambda run: (
            f"trigger identification F1 {run['trigger_identification']['f1']:.4f}, "
            f"classification F1 {run['trigger_classification']['f1']:.4f}"
        ),
    )
    results["summary"] = summarize_fractions(
        results["runs"],
        args.fractions,
        {
            f"{key}_f1": (lambda run, key=key: run[key]["f1"])
            for key in ("trigger_identification", "trigger_classification")
        },
    )
    results["metadata"]["complete"] = True
    path.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
