"""The SRL peer: a CRF over argument BIO tags with predicate-relative features.

What a user without this library would try first for semantic role labeling
with a given predicate (issue 16): the CRF of ``crf_baseline.py`` (the word,
its suffixes and shape, its neighbours) over one BIO tag per token
(``B-ARG0``, ``I-ARG0``, ``O``), with the features that tell it where the
predicate is:

- the token's signed distance to the predicate, exact up to 5 and bucketed
  beyond (``-6..-10``, ``<-10``, ...), and whether it is before, on or after it;
- the predicate's lemma (the ``gold_conll`` file's lemma column), alone and
  joined with that position, and the word joined with the position.

Trained on the same seeded fraction of the training predicates as the
generative estimator (``low_resource_subset`` over the predicates it accepts,
``_srl_predicates``) and scored with
:func:`~sklearn_fishdip.metrics.srl_precision_recall_f1` (micro F1 over
``(label, span)``, ``V`` excluded). Run from the repository root::

    python benchmarks/srl_peer.py --fractions 0.005,0.01,0.05 --seeds 1,2,3

Prints a table and writes JSON (default ``benchmarks/results/srl_peer.json``)
with the command and the commit. Needs ``pip install sklearn-crfsuite``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Runs from a checkout without installing the package; reuses crf_baseline's features.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import crf_baseline  # noqa: E402
from _provenance import provenance  # noqa: E402
from _srl_predicates import keep_accepted  # noqa: E402

from sklearn_fishdip.datasets import (  # noqa: E402
    load_propbank_srl,
    low_resource_subset,
    srl_spans_to_tags,
    srl_tags_to_spans,
)
from sklearn_fishdip.metrics import srl_precision_recall_f1  # noqa: E402

DEFAULT_DATA_DIR = HERE.parent.parent / "shared" / "data" / "propbank_ewt_srl"
DEFAULT_JSON = HERE / "results" / "srl_peer.json"
# Columns of a gold_conll row (0-based): the lemma and the roleset of predicate rows.
_LEMMA, _ROLESET = 6, 7


def predicate_lemmas(path):
    """The lemma of every predicate of a ``gold_conll`` file, in the order of
    :func:`~sklearn_fishdip.datasets.load_propbank_srl` (``verbs_only=False``)."""
    lemmas = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            columns = line.split()
            if len(columns) > _ROLESET and not line.startswith("#") and columns[_ROLESET] != "-":
                lemmas.append(columns[_LEMMA].lower())
    return lemmas


def _distance(offset):
    """The signed distance to the predicate: exact near it, in buckets further away."""
    if abs(offset) <= 5:
        return str(offset)
    sign = "-" if offset < 0 else "+"
    return f"{sign}6..10" if abs(offset) <= 10 else f"{sign}>10"


def srl_features(tokens, predicate, lemma):
    """Per-token crfsuite features: ``crf_baseline``'s and the predicate-relative ones."""
    features = crf_baseline.sentence_features(tokens)
    for i, token_features in enumerate(features):
        offset = i - predicate
        position = "on" if offset == 0 else "before" if offset < 0 else "after"
        token_features.update(
            {
                "pred.distance": _distance(offset),
                "pred.position": position,
                "pred.lemma": lemma,
                "pred.lemma+position": f"{lemma}|{position}",
                "word+position": f"{tokens[i].lower()}|{position}",
                "pred.word": tokens[predicate].lower(),
            }
        )
    return features


def run_peer(X_train, y_train, lemmas_train, X_test, y_test, lemmas_test):
    """Fit the CRF on ``(tokens, predicate)`` examples and score it; a run record."""
    crf = crf_baseline.make_crf()
    start = time.perf_counter()
    crf.fit(
        [srl_features(tokens, p, lemma) for (tokens, p), lemma in zip(X_train, lemmas_train)],
        [srl_spans_to_tags(len(tokens), spans) for (tokens, _), spans in zip(X_train, y_train)],
    )
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    tags = crf.predict(
        [srl_features(tokens, p, lemma) for (tokens, p), lemma in zip(X_test, lemmas_test)]
    )
    predict_s = time.perf_counter() - start
    # A tag sequence may tag the predicate itself: its span is not an argument.
    predicted = [
        [span for span in srl_tags_to_spans(list(sequence)) if not span[0] <= p < span[1]]
        for sequence, (_, p) in zip(tags, X_test)
    ]
    scores = srl_precision_recall_f1(y_test, predicted)
    return {
        "f1": scores["f1"],
        "precision": scores["precision"],
        "recall": scores["recall"],
        "fit_s": fit_s,
        "predict_s": predict_s,
        "n_train": len(X_train),
        "n_test": len(X_test),
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument(
        "--fractions", type=crf_baseline.parse_float_list, default=[0.005, 0.01, 0.05]
    )
    parser.add_argument("--seeds", type=crf_baseline.parse_int_list, default=[1, 2, 3])
    parser.add_argument("--max-test", type=int, default=None, help="score the first N predicates")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    crf_baseline.require_crfsuite()
    train, test = args.data_dir / "ewt.train.gold_conll", args.data_dir / "ewt.test.gold_conll"
    X_train, y_train = load_propbank_srl(train)
    X_test, y_test = load_propbank_srl(test)
    lemmas_train, lemmas_test = predicate_lemmas(train), predicate_lemmas(test)
    if (len(lemmas_train), len(lemmas_test)) != (len(X_train), len(X_test)):
        raise ValueError("the lemma column does not line up with the predicates")
    # The predicates the generative runs keep, before the draw, so one seed draws the same ones.
    X_train, y_train, lemmas_train = keep_accepted(X_train, y_train, lemmas_train)
    X_test, y_test, lemmas_test = keep_accepted(X_test, y_test, lemmas_test)
    X_test, y_test = X_test[: args.max_test], y_test[: args.max_test]
    lemmas_test = lemmas_test[: args.max_test]
    # Subsets of (example, lemma) pairs, drawn as the generative runs draw theirs.
    indexed = list(range(len(X_train)))
    runs = []
    for fraction in args.fractions:
        for seed in args.seeds:
            chosen, y_sub = low_resource_subset(indexed, y_train, fraction, random_state=seed)
            X_sub = [X_train[i] for i in chosen]
            record = run_peer(
                X_sub, y_sub, [lemmas_train[i] for i in chosen], X_test, y_test, lemmas_test
            )
            runs.append({"fraction": fraction, "seed": seed, **record})
            print(
                f"srl {fraction:g} seed {seed}: n_train {record['n_train']} F1 {record['f1']:.3f} "
                f"(P {record['precision']:.3f} R {record['recall']:.3f}) "
                f"fit {record['fit_s']:.0f} s",
                flush=True,
            )
    rows = crf_baseline.summarize_fractions(runs, args.fractions, {"f1": lambda run: run["f1"]})
    print(f"\n{'fraction':>8} {'seeds':>5}  CRF argument F1 (n_test {len(X_test)})")
    for row in rows:
        text = crf_baseline.format_mean_std(row["f1_mean"], row["f1_std"])
        print(f"{row['fraction']:>8g} {row['n_seeds']:>5}  {text}")
    results = {
        "metadata": {
            **provenance(__file__, argv, libraries=("sklearn-crfsuite",)),
            "crf_params": crf_baseline.CRF_PARAMS,
            "n_test": len(X_test),
            "std": "sample standard deviation over seeds (ddof=1)",
        },
        "summary": rows,
        "runs": runs,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
