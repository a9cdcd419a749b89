"""CRF baseline for low-resource CoNLL-2003 NER (issue 6, "Low-resource benchmark").

The peer users would pick instead of a generative model: a linear-chain CRF
(``sklearn-crfsuite``) on simple word-shape and context features, fitted on the
same seeded low-resource subsets as ``low_resource.py`` (``low_resource_subset``)
and scored with entity micro F1 (seqeval, strict IOB2) on the test set.

Needs ``sklearn-crfsuite``, which is not a dependency of the package::

    pip install sklearn-crfsuite

Run from the repository root::

    python benchmarks/crf_baseline.py --fractions 0.01,0.05 --seeds 1,2,3

Prints mean ± std (sample standard deviation over seeds) per fraction and
writes JSON (default ``benchmarks/results/crf_baseline.json``).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

# Runs from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from _provenance import provenance  # noqa: E402

from sklearn_fishdip.datasets import load_conll, low_resource_subset  # noqa: E402
from sklearn_fishdip.metrics import entity_precision_recall_f1  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "crf_baseline.json"

#: Training and test files of the NER data sets, under ``--data-dir``.
DATASETS = {
    "conll2003": ("conll2003/train.txt", "conll2003/test.txt"),
    "wnut17": ("wnut17/wnut17train.conll", "wnut17/emerging.test.annotated"),
}

#: The CRF's hyperparameters (the sklearn-crfsuite tutorial's, for CoNLL).
CRF_PARAMS = dict(
    algorithm="lbfgs", c1=0.1, c2=0.1, max_iterations=100, all_possible_transitions=True
)

INSTALL_HINT = (
    "the CRF baseline needs sklearn-crfsuite, which is not a dependency of "
    "sklearn-fishdip; install it with: pip install sklearn-crfsuite"
)


def require_crfsuite():
    """Import ``sklearn_crfsuite`` or fail with an installation hint.

    Returns
    -------
    module
        The ``sklearn_crfsuite`` module.

    Raises
    ------
    ImportError
        If ``sklearn-crfsuite`` is not installed; the message says how to
        install it.
    """
    try:
        import sklearn_crfsuite
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return sklearn_crfsuite


def word_shape(word):
    """Collapsed character shape of a word: ``"Xx"``, ``"X.X."``, ``"d,d"``.

    Parameters
    ----------
    word : str

    Returns
    -------
    str
        Upper-case letters become ``X``, lower-case ``x``, digits ``d``, other
        characters stay; runs of the same symbol are collapsed to one.
    """
    shape = []
    for char in word:
        symbol = (
            "X" if char.isupper() else "x" if char.islower() else "d" if char.isdigit() else char
        )
        if not shape or shape[-1] != symbol:
            shape.append(symbol)
    return "".join(shape)


def _word_features(word, prefix):
    return {
        f"{prefix}word.lower": word.lower(),
        f"{prefix}word.istitle": word.istitle(),
        f"{prefix}word.isupper": word.isupper(),
        f"{prefix}word.isdigit": word.isdigit(),
        f"{prefix}word.shape": word_shape(word),
    }


def token_features(tokens, i):
    """Features of token ``i``: the word's own, its neighbours', BOS/EOS.

    Parameters
    ----------
    tokens : list of str
        The sentence.
    i : int
        Position of the token.

    Returns
    -------
    dict
        crfsuite features: lower-cased word, suffixes of 2 and 3 characters,
        istitle, isupper, isdigit and shape of the word, the same (without
        suffixes) for the previous and next words, and ``BOS``/``EOS`` at the
        sentence boundaries.
    """
    word = tokens[i]
    features = {"bias": 1.0, "word[-3:]": word[-3:], "word[-2:]": word[-2:]}
    features.update(_word_features(word, ""))
    if i > 0:
        features.update(_word_features(tokens[i - 1], "-1:"))
    else:
        features["BOS"] = True
    if i < len(tokens) - 1:
        features.update(_word_features(tokens[i + 1], "+1:"))
    else:
        features["EOS"] = True
    return features


def sentence_features(tokens):
    """Per-token feature dicts of a sentence; see :func:`token_features`.

    Parameters
    ----------
    tokens : list of str

    Returns
    -------
    list of dict
    """
    return [token_features(tokens, i) for i in range(len(tokens))]


def make_crf(**overrides):
    """A ``sklearn_crfsuite.CRF`` with :data:`CRF_PARAMS`, updated by ``overrides``.

    Parameters
    ----------
    **overrides
        CRF parameters to change (e.g. ``c1=0.2``).

    Returns
    -------
    sklearn_crfsuite.CRF

    Raises
    ------
    ImportError
        If ``sklearn-crfsuite`` is not installed.
    """
    return require_crfsuite().CRF(**{**CRF_PARAMS, **overrides})


def run_crf(X_train, y_train, X_test, y_test, *, uncased=False, **crf_params):
    """Fit the CRF baseline on one training set and score it on a test set.

    Parameters
    ----------
    X_train, X_test : list of list of str
        Sentences.
    y_train, y_test : list of list of str
        Their IOB2 tags.
    uncased : bool, default=False
        Lower-case every word first, so the CRF sees no capitalization: what
        an uncased model (the offline default's MiniLM tokenizer) sees.
    **crf_params
        Overrides of :data:`CRF_PARAMS`.

    Returns
    -------
    dict
        ``f1``, ``precision``, ``recall`` (entity micro, seqeval strict IOB2),
        ``fit_s``, ``predict_s`` (wall seconds, feature extraction included),
        ``n_train``, ``n_test`` and ``crf_params``.
    """
    crf = make_crf(**crf_params)
    if uncased:
        X_train = [[word.lower() for word in tokens] for tokens in X_train]
        X_test = [[word.lower() for word in tokens] for tokens in X_test]
    start = time.perf_counter()
    crf.fit([sentence_features(tokens) for tokens in X_train], [list(tags) for tags in y_train])
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = crf.predict([sentence_features(tokens) for tokens in X_test])
    predict_s = time.perf_counter() - start
    # Strict IOB2: an I- tag the CRF emits without its B- starts no entity.
    precision, recall, f1 = entity_precision_recall_f1(
        y_test, [list(tags) for tags in y_pred], scheme="IOB2"
    )
    return {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "crf_params": {**CRF_PARAMS, **crf_params},
        "uncased": uncased,
    }


def mean_std(values):
    """Mean and sample standard deviation (ddof=1; None for fewer than 2 values).

    Parameters
    ----------
    values : sequence of float

    Returns
    -------
    mean : float or None
    std : float or None
    """
    values = [float(v) for v in values if v is not None]
    if not values:
        return None, None
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return float(np.mean(values)), std


def run_fractions(results, path, X_train, y_train, fractions, seeds, measure, describe):
    """Measure every seeded subset, appending to ``results["runs"]`` and rewriting ``path``.

    For each fraction and seed, ``measure(X_sub, y_sub, seed)`` on the subset
    ``low_resource_subset`` draws gives a run record (``fraction`` and ``seed``
    added); ``describe(run)`` is its progress line. The JSON is rewritten after
    every run, so a cut run keeps what it measured; its folder is created here.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for fraction in fractions:
        for seed in seeds:
            X_sub, y_sub = low_resource_subset(X_train, y_train, fraction, random_state=seed)
            run = {"fraction": fraction, "seed": seed, **measure(X_sub, y_sub, seed)}
            results["runs"].append(run)
            print(f"fraction {fraction:g} seed {seed}: {describe(run)}", flush=True)
            path.write_text(json.dumps(results, indent=2) + "\n")


def summarize_fractions(runs, fractions, values):
    """One row per fraction: its number of seeds and each value's mean and std over them.

    Parameters
    ----------
    runs : list of dict
        Run records, each with a ``"fraction"``.
    fractions : sequence of float
        The rows, in order.
    values : dict of str to callable
        ``name -> value of a run``; a row holds ``name_mean`` and ``name_std``
        (see :func:`mean_std`).

    Returns
    -------
    list of dict
    """
    rows = []
    for fraction in fractions:
        chosen = [run for run in runs if run["fraction"] == fraction]
        row = {"fraction": fraction, "n_seeds": len(chosen)}
        for name, value in values.items():
            row[f"{name}_mean"], row[f"{name}_std"] = mean_std(value(run) for run in chosen)
        rows.append(row)
    return rows


def format_mean_std(mean, std, digits=3):
    """``"0.481 ± 0.012"``; ``"-"`` for a missing mean, no ``±`` part without std.

    Parameters
    ----------
    mean, std : float or None
    digits : int, default=3

    Returns
    -------
    str
    """
    if mean is None:
        return "-"
    if std is None:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def parse_float_list(text):
    """``"0.01,0.05"`` -> ``[0.01, 0.05]`` (an argparse type)."""
    try:
        values = [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not values or not all(0 < value <= 1 for value in values):
        raise argparse.ArgumentTypeError(f"fractions must be in (0, 1], got {text!r}")
    return values


def parse_int_list(text):
    """``"1,2,3"`` -> ``[1, 2, 3]`` (an argparse type)."""
    try:
        values = [int(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dataset",
        default="conll2003",
        choices=sorted(DATASETS),
        help="NER data set under --data-dir (default: %(default)s)",
    )
    parser.add_argument(
        "--fractions",
        type=parse_float_list,
        default=[0.01, 0.05],
        help="fractions of train, comma-separated (default: 0.01,0.05)",
    )
    parser.add_argument(
        "--seeds",
        type=parse_int_list,
        default=[1, 2, 3],
        help="subset seeds, comma-separated (default: 1,2,3, the paper's episodes)",
    )
    parser.add_argument(
        "--data-dir",
        default=str(DEFAULT_DATA_DIR),
        help="folder holding the data sets' folders (default: %(default)s)",
    )
    parser.add_argument(
        "--max-test", type=int, default=None, help="score on the first N test sentences"
    )
    parser.add_argument(
        "--uncased",
        action="store_true",
        help="lower-case all words first (what an uncased model sees)",
    )
    parser.add_argument("--c1", type=float, default=CRF_PARAMS["c1"])
    parser.add_argument("--c2", type=float, default=CRF_PARAMS["c2"])
    parser.add_argument("--max-iterations", type=int, default=CRF_PARAMS["max_iterations"])
    parser.add_argument(
        "--json", default=str(DEFAULT_JSON), help="output JSON (default: %(default)s)"
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Run the CRF baseline over fractions and seeds; print a table, write JSON.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments; None reads ``sys.argv``.

    Returns
    -------
    dict
        ``metadata``, ``runs`` (one per fraction and seed) and ``summary``
        (mean and std of F1, precision and recall per fraction).
    """
    args = parse_args(argv)
    try:
        crfsuite = require_crfsuite()
    except ImportError as error:
        # A clear message rather than a traceback from the first fit.
        raise SystemExit(f"error: {error}") from None
    data_dir = Path(args.data_dir)
    train_file, test_file = DATASETS[args.dataset]
    X_train, y_train = load_conll(data_dir / train_file)
    X_test, y_test = load_conll(data_dir / test_file)
    if args.max_test is not None:
        X_test, y_test = X_test[: args.max_test], y_test[: args.max_test]
    overrides = dict(c1=args.c1, c2=args.c2, max_iterations=args.max_iterations)

    import pycrfsuite

    results = {
        "metadata": {
            **provenance(__file__, argv, libraries=()),
            "sklearn_crfsuite": getattr(crfsuite, "__version__", "unknown"),
            "python_crfsuite": getattr(pycrfsuite, "__version__", "unknown"),
            "cpu_count": os.cpu_count(),
            "data_dir": str(data_dir),
            "dataset": args.dataset,
            "n_train_total": len(X_train),
            "n_test": len(X_test),
            "crf_params": {**CRF_PARAMS, **overrides},
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
        lambda X_sub, y_sub, seed: run_crf(
            X_sub, y_sub, X_test, y_test, uncased=args.uncased, **overrides
        ),
        lambda run: (
            f"n_train {run['n_train']}, F1 {run['f1']:.4f} (P {run['precision']:.4f}, "
            f"R {run['recall']:.4f}), fit {run['fit_s']:.1f} s"
        ),
    )

    results["summary"] = summarize_fractions(
        results["runs"],
        args.fractions,
        {key: (lambda run, key=key: run[key]) for key in ("f1", "precision", "recall", "fit_s")},
    )
    for row in results["summary"]:
        row["n_train"] = next(
            r["n_train"] for r in results["runs"] if r["fraction"] == row["fraction"]
        )
    results["metadata"]["complete"] = True
    path.write_text(json.dumps(results, indent=2) + "\n")

    print()
    print(
        f"CRF baseline{' (uncased words)' if args.uncased else ''}, {args.dataset}, "
        f"test sentences: {len(X_test)}; mean ± std over seeds"
    )
    print(
        f"{'fraction':>8}  {'n_train':>7}  {'seeds':>5}  {'F1':>15}  {'P':>15}  {'R':>15}  "
        f"{'fit s':>6}"
    )
    for row in results["summary"]:
        print(
            f"{row['fraction']:>8g}  {row['n_train']:>7}  {row['n_seeds']:>5}  "
            f"{format_mean_std(row['f1_mean'], row['f1_std']):>15}  "
            f"{format_mean_std(row['precision_mean'], row['precision_std']):>15}  "
            f"{format_mean_std(row['recall_mean'], row['recall_std']):>15}  "
            f"{row['fit_s_mean']:>6.1f}"
        )
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
