"""Relation-classification benchmark (issue 16): SemEval-2010 Task 8 and FewRel episodes.

SemEval-2010 Task 8 (``--dataset semeval2010``): for each fraction of the
8,000 training sentences, seed and strategy, the training subset is
``low_resource_subset(X_train, y_train, fraction, random_state=seed)``;
``FishDipRelationClassifier(strategy=..., random_state=seed)`` is fitted on
it and scored on the test sentences (the first ``--max-test``): accuracy and
the official macro F1 (nine relation types, direction-aware, Other excluded).
A label absent from a small subset cannot be predicted; it still counts.

FewRel (``--dataset fewrel``, ``val_wiki.json``, 16 relations): a base model
is fitted on a seeded ``fraction`` of the examples of the 10 relations of
``FEWREL_SPLIT.train``; then, for each setting of ``--episodes-settings``
(``5way1shot`` and ``5way5shot``), ``sample_episodes(..., relations=
FEWREL_SPLIT.episode, random_state=seed)`` draws episodes from the 6 other
relations, and each episode's support set is fitted starting from the base
model's weights (saved with ``save_pretrained`` and passed as ``model=``: a
warm start, see ``docs/benchmarks/relation_classification.rst``) and its
queries scored (accuracy, macro F1 over the episode's relations).

``--peer`` adds ``relation_peer.py``: logistic regression on the frozen
encoder's head and tail features, on the same subsets, support sets and test
sentences. The JSON is rewritten after every run (``metadata.complete`` is
false until the end); ``--resume`` keeps the runs of a JSON made with the
same settings. Run from the repository root, offline::

    python benchmarks/relation_classification.py --quick
    python benchmarks/relation_classification.py --dataset semeval2010 --fractions 0.01 \\
        --seeds 1 --strategies fish-dip --peer --max-test 500 --threads 1
    python benchmarks/relation_classification.py --dataset fewrel --peer
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import crf_baseline  # noqa: E402
import low_resource  # noqa: E402
import numpy as np  # noqa: E402
import relation_peer  # noqa: E402
import torch  # noqa: E402
from _plots import draw_panels  # noqa: E402
from _provenance import provenance  # noqa: E402
from _result_files import pooled_runs, read_results  # noqa: E402
from _training_options import (  # noqa: E402
    add_training_options,
    estimator_training_options,
    training_settings,
)
from sklearn.base import clone  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

from sklearn_fishdip import DEFAULT_MODEL  # noqa: E402
from sklearn_fishdip.datasets import low_resource_subset  # noqa: E402
from sklearn_fishdip.models import MODEL_KINDS, load_model  # noqa: E402
from sklearn_fishdip.sparse import resolve_device  # noqa: E402
from sklearn_fishdip.tasks.relation_classification import (  # noqa: E402
    FEWREL_SPLIT,
    FishDipRelationClassifier,
    load_fewrel,
    load_semeval2010,
    sample_episodes,
    semeval2010_f1_score,
)

DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "relation_classification.json"
STRATEGIES = ("full", "fish", "fish-dip", "dps")
#: (n_way, k_shot) of each episode setting.
EPISODE_SETTINGS = {"5way1shot": (5, 1), "5way5shot": (5, 5)}
#: What tells one run from another: the key of ``--resume`` and ``--replot``.
RUN_KEY = ("dataset", "fraction", "seed", "strategy", "setting")
DEFAULT_FRACTIONS = {"semeval2010": (0.01, 0.05, 0.1), "fewrel": (0.1,)}
QUICK = dict(dataset="semeval2010", fractions=[0.01], seeds=[1], strategies=["fish-dip"], epochs=1)
QUICK_MAX_TEST, QUICK_EPISODES = 10, 1
#: ``label_names`` of every classifier (None: the library's natural names); tests with
#: a tiny vocabulary set distinct names here.
LABEL_NAMES = None


def build_parser():
    """The argument parser (``None`` defaults are filled in by :func:`parse_args`)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--dataset", choices=sorted(DEFAULT_FRACTIONS), help="(default: semeval2010)")
    add(
        "--fractions",
        type=crf_baseline.parse_float_list,
        help="SemEval: fractions of train (default 0.01,0.05,0.1); FewRel: fraction of the "
        "10 training relations' 7,000 examples the base model is fitted on (default 0.1)",
    )
    add("--seeds", type=crf_baseline.parse_int_list, help="(default: 1,2,3)")
    add("--strategies", action="append", help=f"of {','.join(STRATEGIES)} (default: all)")
    add("--epochs", type=int, help="max_epochs of every fit (default: the estimator's, 20)")
    add(
        "--learning-rate",
        type=float,
        help="learning_rate of every fit (default: the estimator's, 1e-2 with Adafactor)",
    )
    add(
        "--keep-ratio",
        type=float,
        help="keep_ratio of the sparse strategies (default: the estimator's, 0.01)",
    )
    add("--max-test", type=int, help="SemEval: score the first N test sentences (default: all)")
    add("--peer", action="store_true", help="also run the logistic-regression peer")
    add("--episodes", type=int, help="FewRel: episodes per setting and seed (default: 20)")
    add("--n-query", type=int, default=5, help="FewRel: queries per relation (default: 5)")
    add("--episode-settings", default=",".join(EPISODE_SETTINGS), help="FewRel: %(default)s")
    add("--model", default=DEFAULT_MODEL, help="(default: %(default)s)")
    add("--model-kind", default="auto", choices=MODEL_KINDS, help="(default: %(default)s)")
    add("--batch-size", type=int, default=8, help="(default: %(default)s)")
    add("--data-dir", default=str(DEFAULT_DATA_DIR), help="(default: %(default)s)")
    add("--json", default=str(DEFAULT_JSON), help="(default: %(default)s)")
    add("--plot", help="bar chart of macro F1 per fraction and strategy (default: next to --json)")
    add(
        "--replot",
        action="append",
        default=[],
        metavar="JSON",
        help="run nothing: summarize, print and plot the runs of these JSONs together "
        "(repeatable; needs --plot)",
    )
    add("--device", default="auto", choices=["auto", "cpu", "cuda"])
    add("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    add_training_options(add)
    add("--resume", action="store_true", help="keep the runs of a --json with the same settings")
    add("--verbose", action="store_true", help="show the estimators' progress bars")
    add("--quick", action="store_true", help=f"smoke: {QUICK}, {QUICK_MAX_TEST} test sentences")
    return parser


def parse_args(argv=None):
    """Parse ``argv`` (None: ``sys.argv``) and fill in the defaults (or ``--quick``'s)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    quick = QUICK if args.quick else {}
    args.dataset = args.dataset or quick.get("dataset", "semeval2010")
    args.fractions = (
        args.fractions or quick.get("fractions") or list(DEFAULT_FRACTIONS[args.dataset])
    )
    args.seeds = args.seeds or quick.get("seeds", [1, 2, 3])
    strategies = (
        low_resource._split(args.strategies)
        if args.strategies
        else quick.get("strategies", list(STRATEGIES))
    )
    unknown = [name for name in strategies if name not in STRATEGIES]
    if unknown:
        parser.error(f"unknown strategy(ies) {', '.join(unknown)}; choose from {STRATEGIES}")
    args.strategies = list(dict.fromkeys(strategies))
    args.settings = low_resource._split([args.episode_settings])
    if any(name not in EPISODE_SETTINGS for name in args.settings):
        parser.error(f"--episode-settings: choose from {', '.join(EPISODE_SETTINGS)}")
    if args.epochs is None:
        args.epochs = quick.get("epochs", FishDipRelationClassifier().max_epochs)
    if args.max_test is None and args.quick:
        args.max_test = QUICK_MAX_TEST
    if args.replot and not args.plot:
        parser.error("--replot needs --plot, the image to write")
    if args.episodes is None:
        args.episodes = QUICK_EPISODES if args.quick else 20
    for name in ("epochs", "max_test", "episodes", "n_query", "batch_size", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    if args.learning_rate is not None and not args.learning_rate > 0:
        parser.error(f"--learning-rate must be positive, got {args.learning_rate}")
    if args.keep_ratio is not None and not 0 < args.keep_ratio <= 1:
        parser.error(f"--keep-ratio must be in (0, 1], got {args.keep_ratio}")
    return args


def make_estimator(args, strategy, seed, device, model=None):
    """The classifier of one run; ``model`` overrides ``args.model`` (a warm start)."""
    # A saved base is read as the kind the original checkpoint was loaded as: "auto"
    # on its config could make another text-to-text model of the same weights.
    kind = args.model_kind if model is None else load_model(args.model, args.model_kind).kind
    return FishDipRelationClassifier(
        model=model or args.model,
        model_kind=kind,
        strategy=strategy,
        max_epochs=args.epochs,
        learning_rate=args.learning_rate,
        **({} if args.keep_ratio is None else {"keep_ratio": args.keep_ratio}),
        batch_size=args.batch_size,
        device=device,
        random_state=seed,
        label_names=LABEL_NAMES,
        verbose=int(args.verbose),
        **{
            **estimator_training_options(args),
            # An episode's fit takes seconds: only the runs that start from the
            # pretrained model (SemEval, a FewRel base) save their epochs.
            "checkpoint_dir": args.checkpoint_dir if model is None else None,
        },
    )


def scores(y_true, y_pred, semeval):
    """Accuracy and macro F1: SemEval's official one, or sklearn's over the gold relations."""
    f1 = (
        semeval2010_f1_score(y_true, y_pred)
        if semeval
        else f1_score(y_true, y_pred, labels=sorted(set(y_true)), average="macro", zero_division=0)
    )
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "macro_f1": float(f1)}


def fit_and_predict(estimator, X_train, y_train, X_test):
    """Fit, predict and time; the estimator's diagnostics as a record."""
    start = time.perf_counter()
    estimator.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = estimator.predict(X_test).tolist()
    history = estimator.history_
    return {
        "y_pred": y_pred,
        "fit_s": fit_s,  # this process's share when the fit resumed from a checkpoint
        "resumed_epochs": int(estimator.resumed_epochs_),
        "predict_s": time.perf_counter() - start,
        "n_updated_parameters": int(estimator.n_updated_parameters_),
        "n_parameters": int(estimator.n_parameters_),
        "final_train_loss": history[-1]["train_loss"] if history else None,
        # Per-epoch losses: whether a small subset was memorized (loss near 0) early.
        "history": history,
        "n_classes": len(estimator.classes_),
    }


def run_semeval(args, strategy, data, seed, device):
    """One SemEval run: fit on the subset, score the test sentences."""
    X_sub, y_sub, X_test, y_test = data
    if strategy == "peer":
        record = relation_peer.run_peer(X_sub, y_sub, X_test, model=args.model, seed=seed)
    else:
        estimator = make_estimator(args, strategy, seed, device)
        record = fit_and_predict(estimator, X_sub, y_sub, X_test)
    record.update(scores(y_test, record.pop("y_pred"), semeval=True))
    return record


def base_folder(args, strategy, X_base, y_base, seed, device, cache):
    """Fit the 10-relation base model once per (strategy, seed, data) and save its weights.

    Returns
    -------
    folder : str
        ``save_pretrained`` of the fitted model and tokenizer: a checkpoint
        that ``model=`` accepts, so that an episode's fit starts from it.
    info : dict
        The base fit's time and diagnostics.
    """
    key = (strategy, seed, len(X_base))
    if key not in cache:
        estimator = make_estimator(args, strategy, seed, device)
        start = time.perf_counter()
        estimator.fit(X_base, y_base)
        folder = tempfile.mkdtemp(prefix="rc_base_")
        estimator.model_.save_pretrained(folder)
        estimator.tokenizer_.save_pretrained(folder)
        info = {
            "base_fit_s": time.perf_counter() - start,
            "base_resumed_epochs": int(estimator.resumed_epochs_),
            "base_n_updated_parameters": int(estimator.n_updated_parameters_),
            "base_n_train": len(X_base),
        }
        cache[key] = (folder, info)
    return cache[key]


def run_fewrel(args, strategy, data, seed, setting, device, cache):
    """One FewRel setting: every episode's support set fitted from the base, queries scored."""
    X_base, y_base, X_rest, y_rest = data
    n_way, k_shot = EPISODE_SETTINGS[setting]
    episodes = sample_episodes(
        X_rest,
        y_rest,
        n_way,
        k_shot,
        args.n_query,
        args.episodes,
        relations=FEWREL_SPLIT.episode,
        random_state=seed,
    )
    # n_train: what the base saw (the peer has no base: 0); each episode adds its support.
    record = {"n_way": n_way, "k_shot": k_shot, "n_episodes": len(episodes), "n_train": 0}
    record["n_support"] = n_way * k_shot
    if strategy != "peer":
        folder, info = base_folder(args, strategy, X_base, y_base, seed, device, cache)
        record.update(info, n_train=info["base_n_train"])
        # clone keeps every hyper-parameter; only the starting weights change.
        template = clone(make_estimator(args, strategy, seed, device, model=folder))
    per_episode = []
    for X_support, y_support, X_query, y_query in episodes:
        if strategy == "peer":
            run = relation_peer.run_peer(X_support, y_support, X_query, model=args.model, seed=seed)
        else:
            run = fit_and_predict(clone(template), X_support, y_support, X_query)
        run.update(scores(y_query, run.pop("y_pred"), semeval=False))
        per_episode.append(run)
    for name in ("accuracy", "macro_f1", "fit_s", "predict_s", "n_updated_parameters"):
        record[name] = float(np.mean([run[name] for run in per_episode]))
    record["episode_accuracies"] = [run["accuracy"] for run in per_episode]
    return record


def load_data(args):
    """The dataset's ``(train part, test part)`` lists, before the per-seed subsets."""
    data_dir = Path(args.data_dir)
    if args.dataset == "semeval2010":
        X_train, y_train = load_semeval2010(data_dir / "semeval2010_task8" / "TRAIN_FILE.TXT")
        X_test, y_test = load_semeval2010(data_dir / "semeval2010_task8" / "TEST_FILE_FULL.TXT")
        if args.max_test is not None:
            X_test, y_test = X_test[: args.max_test], y_test[: args.max_test]
        return X_train, y_train, X_test, y_test
    X, y = load_fewrel(data_dir / "fewrel" / "val_wiki.json")
    train = set(FEWREL_SPLIT.train)
    base = [i for i, label in enumerate(y) if label in train]
    rest = [i for i, label in enumerate(y) if label not in train]
    return [X[i] for i in base], [y[i] for i in base], [X[i] for i in rest], [y[i] for i in rest]


def plan_runs(args, done=()):
    """Yield ``(key, data)``: key ``(dataset, fraction, seed, strategy, setting)``."""
    X_train, y_train, X_test, y_test = load_data(args)
    methods = [*args.strategies, *(["peer"] if args.peer else [])]
    settings = ["test"] if args.dataset == "semeval2010" else args.settings
    for fraction in args.fractions:
        for seed in args.seeds:
            X_sub, y_sub = low_resource_subset(X_train, y_train, fraction, random_state=seed)
            for method in methods:
                for setting in settings:
                    key = (args.dataset, fraction, seed, method, setting)
                    if key not in done:
                        yield key, (X_sub, y_sub, X_test, y_test)


def settings_of(args):
    """What a run's result depends on (``--resume`` must match it)."""
    names = ("model", "model_kind", "epochs", "batch_size", "max_test", "episodes", "n_query")
    settings = {
        **{name: getattr(args, name) for name in names},
        "dataset": args.dataset,
        "data_dir": str(Path(args.data_dir).resolve()),
    }
    for name in ("learning_rate", "keep_ratio"):  # absent from files made before the options
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    return {**settings, **training_settings(args)}


def summarize(runs):
    """Mean ± std (ddof=1) over seeds per (dataset, fraction, strategy, setting)."""
    groups = {}
    for run in runs:
        if "error" not in run:
            key = tuple(run[name] for name in ("dataset", "fraction", "strategy", "setting"))
            groups.setdefault(key, []).append(run)
    summary = []
    for (dataset, fraction, strategy, setting), members in groups.items():
        row = {"dataset": dataset, "fraction": fraction, "strategy": strategy, "setting": setting}
        row.update(n_seeds=len(members), n_train=members[0]["n_train"])
        row["n_test"] = members[0]["n_test"]
        for name in ("accuracy", "macro_f1", "fit_s", "predict_s", "n_updated_parameters"):
            row[f"{name}_mean"], row[f"{name}_std"] = crf_baseline.mean_std(
                run.get(name) for run in members
            )
        summary.append(row)
    order = {name: i for i, name in enumerate([*STRATEGIES, "peer"])}
    summary.sort(key=lambda r: (r["setting"], r["fraction"], order[r["strategy"]]))
    return summary


def plot(results, path):
    """Macro F1, mean ± std over seeds, per fraction and strategy; one panel per setting."""
    panels = []
    for setting in dict.fromkeys(row["setting"] for row in results["summary"]):
        rows = [row for row in results["summary"] if row["setting"] == setting]
        series = {}
        for row in rows:
            series.setdefault(row["strategy"], {})[f"{row['fraction']:g}"] = (
                row["macro_f1_mean"],
                row["macro_f1_std"],
            )
        dataset = rows[0]["dataset"]
        panels.append(
            {
                "title": f"{dataset} {setting}",
                "xlabel": "fraction of the training set"
                if dataset == "semeval2010"
                else "fraction of the base relations' examples",
                "ylabel": "macro F1 (official)" if dataset == "semeval2010" else "macro F1",
                "groups": [f"{f:g}" for f in sorted({row["fraction"] for row in rows})],
                "series": series,
                "ylim": (0, 1),
            }
        )
    draw_panels(path, panels)


def print_table(results):
    """Print the summary: mean ± std over seeds."""
    meta = results["metadata"]
    print(
        f"\nrelation_classification{' [QUICK]' if meta['quick'] else ''}: "
        f"model={meta['settings']['model']} epochs={meta['settings']['epochs']} "
        f"device={meta['device']}; mean ± std over seeds"
    )
    header = (
        f"{'setting':<10} {'frac':>5} {'n_tr':>5} {'n_te':>5} {'strategy':<9} {'seeds':>5} "
        f"{'accuracy':>15} {'macro F1':>15} {'fit s':>8} {'pred s':>8} {'updated':>10}"
    )
    print(header)
    print("-" * len(header))
    fmt = crf_baseline.format_mean_std
    for row in results["summary"]:
        updated = row["n_updated_parameters_mean"]
        print(
            f"{row['setting']:<10} {row['fraction']:>5g} {row['n_train']:>5} {row['n_test']:>5} "
            f"{row['strategy']:<9} {row['n_seeds']:>5} "
            f"{fmt(row['accuracy_mean'], row['accuracy_std']):>15} "
            f"{fmt(row['macro_f1_mean'], row['macro_f1_std']):>15} "
            f"{row['fit_s_mean']:>8.1f} {row['predict_s_mean']:>8.1f} "
            f"{'-' if updated is None else f'{updated:,.0f}':>10}"
        )
    for run in results["runs"]:
        if "error" in run:
            print(f"FAILED {run['strategy']} seed {run['seed']}: {run['error'].splitlines()[-1]}")


def replot(paths, image):
    """Summarize the runs of several JSONs together, print the table and plot it.

    The files must share their settings (model, epochs, test sentences, ...:
    what ``--resume`` also compares), and a run (dataset, fraction, seed,
    strategy, setting) found in two files is an error: which one counts is
    not clear.
    """
    loaded = read_results(paths)
    first = loaded[0][1]["metadata"]
    for path, results in loaded:
        if results["metadata"]["settings"] != first["settings"]:
            raise ValueError(f"{path} was made with other settings than {paths[0]}")
    runs = [run for _, _, run in pooled_runs(loaded, lambda r: tuple(r[k] for k in RUN_KEY))]
    quick = any(results["metadata"].get("quick", False) for _, results in loaded)
    merged = {
        "metadata": {**first, "quick": quick, "replot": [str(p) for p in paths]},
        "runs": runs,
        "summary": summarize(runs),
    }
    print_table(merged)
    plot(merged, image)
    print(f"wrote {image}")
    return merged


def make_metadata(args, argv, device):
    """Command line, git state, versions, machine and settings."""
    return {
        **provenance(__file__, argv),
        "device": device,
        "quick": args.quick,
        "fractions": args.fractions,
        "seeds": args.seeds,
        "strategies": args.strategies,
        "peer": args.peer,
        "episode_settings": args.settings if args.dataset == "fewrel" else None,
        "fewrel_split": FEWREL_SPLIT._asdict() if args.dataset == "fewrel" else None,
        "metrics": "accuracy; macro F1: SemEval official (Other excluded) or, for FewRel, "
        "sklearn macro F1 over the episode's relations, averaged over episodes",
        "std": "sample standard deviation over seeds (ddof=1)",
        "settings": settings_of(args),
        "complete": False,
    }


def main(argv=None):
    """Run the benchmark, print the table and write the JSON.

    Parameters
    ----------
    argv : list of str or None, default=None

    Returns
    -------
    dict
        ``metadata``, ``runs`` (a failed run holds ``error``) and ``summary``.
    """
    args = parse_args(argv)
    if args.replot:
        return replot(args.replot, args.plot)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    results = {"metadata": make_metadata(args, argv, device), "runs": []}
    if args.resume and path.exists():
        previous = json.loads(path.read_text())
        if previous.get("metadata", {}).get("settings") == results["metadata"]["settings"]:
            results["runs"] = [run for run in previous.get("runs", []) if "error" not in run]
            print(f"resuming: {len(results['runs'])} runs kept from {path}", flush=True)
        else:
            print(f"not resuming: {path} was made with other settings", flush=True)
    done = {tuple(run[name] for name in RUN_KEY) for run in results["runs"]}
    provenance = {key: results["metadata"][key] for key in ("git", "command")}

    def write():
        results["summary"] = summarize(results["runs"])
        path.write_text(json.dumps(results, indent=2) + "\n")

    cache = {}
    started = time.perf_counter()
    try:
        for key, data in plan_runs(args, done):
            label = " ".join(map(str, key))
            print(f"{label} ...", flush=True)
            run = dict(zip(RUN_KEY, key), **provenance)
            run.update(n_train=len(data[0]), n_test=len(data[2]))
            try:
                if args.dataset == "semeval2010":
                    run.update(run_semeval(args, key[3], data, key[2], device))
                else:
                    run.update(run_fewrel(args, key[3], data, key[2], key[4], device, cache))
                    run["n_test"] = run["n_episodes"] * run["n_way"] * args.n_query
                print(
                    f"{label}: accuracy {run['accuracy']:.4f} macro F1 {run['macro_f1']:.4f} "
                    f"fit {run['fit_s']:.0f} s predict {run['predict_s']:.0f} s",
                    flush=True,
                )
            except Exception:  # noqa: BLE001 - one failed run must not lose the others
                run["error"] = traceback.format_exc()
                print(f"{label}: FAILED\n{run['error']}", file=sys.stderr, flush=True)
            results["runs"].append(run)
            # Rewritten after every run: a cut benchmark keeps what it measured.
            write()
    finally:
        for folder, _ in cache.values():
            shutil.rmtree(folder, ignore_errors=True)
    results["metadata"]["bench_wall_s"] = time.perf_counter() - started
    results["metadata"]["complete"] = True
    write()
    print_table(results)
    image = Path(args.plot) if args.plot else path.with_suffix(".png")
    plot(results, image)
    print(f"wrote {path} and {image}")
    return results


if __name__ == "__main__":
    outcome = main()
    sys.exit(1 if any("error" in run for run in outcome["runs"]) else 0)
