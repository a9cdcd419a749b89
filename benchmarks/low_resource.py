"""Low-resource benchmark: sparse strategies vs full fine-tuning (issue 6).

The FISH-DIP paper's claim is that sparse fine-tuning with dynamic selection
beats full fine-tuning when data is scarce. For each dataset, fraction of the
training set, seed and strategy this script

1. draws the training subset with ``low_resource_subset(X_train, y_train,
   fraction, random_state=seed)`` (the paper's seeded episodes);
2. fits ``FishDipNER`` (CoNLL-2003) or ``FishDipRelationExtractor`` (CoNLL04)
   with ``random_state=seed`` and the same number of epochs for every strategy;
3. scores on the test set: entity micro F1 (seqeval, strict IOB2, what
   ``FishDipNER.score`` returns) or strict relation micro F1 (what
   ``FishDipRelationExtractor.score`` returns), with precision, recall,
   decode-error rates, fit and predict wall time, ``n_updated_parameters_``
   and the final training loss.

The JSON is rewritten after every run (``metadata.complete`` is false until
the end), so a long run that is stopped keeps its results; ``--resume`` skips
the runs that a previous JSON with the same settings already holds. At the end
it prints mean ± std (sample standard deviation over seeds) per dataset,
fraction and strategy and plots F1 per strategy and fraction.

``--crf`` adds the CRF baseline of ``crf_baseline.py`` (needs ``pip install
sklearn-crfsuite``) and ``--tagger`` the tagging reference of
``tagging_reference.py`` (the default's own MiniLM encoder as a token
classifier) on the same NER subsets and test sentences.

Generation runs about 3 sentences per second on 2 CPU cores (3,453 CoNLL-2003
test sentences: about 20 minutes per run); ``--max-test`` scores on the first
N test sentences only.

Run from the repository root, offline::

    python benchmarks/low_resource.py --quick            # a smoke run, ~10 min on 2 busy cores
    python benchmarks/low_resource.py --crf              # the full protocol (days on CPU)
    python benchmarks/low_resource.py --dataset conll2003 --fractions 0.01 \\
        --strategies full,fish-dip --learning-rate full=3e-4 --optimizer adamw --max-test 500
    python benchmarks/low_resource.py --replot a.json --replot b.json --plot both.png  # no training
"""

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

# Before transformers is imported: the benchmark never touches the network.
os.environ["HF_HUB_OFFLINE"] = "1"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Runs from a checkout without installing the package; crf_baseline sits beside us.
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import crf_baseline  # noqa: E402
import numpy as np  # noqa: E402
import tagging_reference  # noqa: E402
import torch  # noqa: E402
from _plots import draw_panels  # noqa: E402
from _provenance import LIBRARIES, provenance  # noqa: E402
from _result_files import pooled_runs, read_results  # noqa: E402
from _srl_predicates import keep_accepted  # noqa: E402
from _training_options import (  # noqa: E402
    add_training_options,
    estimator_training_options,
    training_settings,
)

from sklearn_fishdip import DEFAULT_MODEL, all_estimators  # noqa: E402
from sklearn_fishdip.datasets import (  # noqa: E402
    load_casie,
    load_conll,
    load_multiwoz,
    load_propbank_srl,
    load_spert,
    low_resource_subset,
)
from sklearn_fishdip.metrics import (  # noqa: E402
    entity_precision_recall_f1,
    relation_precision_recall_f1,
    srl_precision_recall_f1,
)
from sklearn_fishdip.models import MODEL_KINDS  # noqa: E402
from sklearn_fishdip.sparse import DEFAULT_LEARNING_RATES, resolve_device  # noqa: E402
from sklearn_fishdip.tasks.dialogue_state import (  # noqa: E402
    joint_goal_accuracy,
    slot_accuracy,
)
from sklearn_fishdip.tasks.events import event_scores  # noqa: E402

DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "low_resource.json"
DEFAULT_PLOT = ROOT / "benchmarks" / "results" / "low_resource.png"

STRATEGIES = ("full", "fish", "fish-dip", "dps", "bitfit", "random")

#: The estimator of each task, from the library's registry.
ESTIMATORS = dict(all_estimators())

#: Per dataset: task (its estimator comes from ESTIMATORS), files under --data-dir, reader,
#: the paper's fractions.
DATASETS = {
    "conll2003": dict(
        task="ner",
        train="conll2003/train.txt",
        test="conll2003/test.txt",
        load=load_conll,
        fractions=(0.01, 0.05),
        metric="entity micro F1 (seqeval strict IOB2)",
    ),
    "wnut17": dict(
        task="ner",
        train="wnut17/wnut17train.conll",
        test="wnut17/emerging.test.annotated",
        load=load_conll,
        fractions=(0.05,),
        metric="entity micro F1 (seqeval strict IOB2)",
    ),
    "conll04": dict(
        task="relations",
        train="conll04/train.json",
        test="conll04/test.json",
        load=load_spert,
        fractions=(0.05, 0.1),
        metric="strict relation micro F1",
    ),
    "srl": dict(
        task="srl",
        train="propbank_ewt_srl/ewt.train.gold_conll",
        test="propbank_ewt_srl/ewt.test.gold_conll",
        load=lambda path: _load_srl(path),  # defined below, called at run time
        fractions=(0.005, 0.01, 0.05),
        metric="argument micro F1 (CoNLL-2005 rules)",
    ),
    # No train split: dialogues drawn from val.json, fractions of the official 8,438
    # training dialogues (0.005, 0.01, 0.05 -> 42, 84, 422); "f1" holds joint goal accuracy.
    "multiwoz": dict(
        task="dialogue_state",
        train="multiwoz21/val.json",
        test="multiwoz21/test.json",
        load=load_multiwoz,
        subset=lambda X, y, fraction, random_state: _multiwoz_subset(X, y, fraction, random_state),
        fractions=(0.005, 0.01, 0.05),
        metric="joint goal accuracy (5 domains)",
    ),
    # CASIE has one folder and a split file: "casie/<split>" names the split.
    "casie": dict(
        task="events",
        train="casie/train",
        test="casie/test",
        load=lambda path: load_casie(path.parent, path.name),
        fractions=(0.01, 0.05, 0.1),
        metric="argument classification micro F1 (every gold argument counts)",
    ),
}

#: The paper's data sets, run when --dataset is not given; wnut17 is the check that a
#: configuration chosen on CoNLL-2003 is not tuned to one corpus (issue 15).
PAPER_DATASETS = ("conll2003", "conll04")

#: The smoke configuration of --quick; options given explicitly override it.
QUICK = dict(
    datasets=["conll2003"],
    fractions=[0.01],
    seeds=[1],
    strategies=["full", "fish-dip"],
    epochs=1,
    max_test=20,
)

# The shared parameters' defaults, the same for every task's estimator.
_ESTIMATOR_DEFAULTS = ESTIMATORS["ner"]().get_params()


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _split(values):
    """Flatten repeatable, comma-separated option values."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _strategy_pairs(values, option, meaning):
    """Split ``strategy=value`` items; yield ``(item, strategy, value)`` with a known strategy."""
    for item in _split(values):
        strategy, sep, value = (part.strip() for part in item.partition("="))
        if not sep or strategy not in STRATEGIES:
            raise ValueError(
                f"{option} expects strategy={meaning} with a strategy in "
                f"{', '.join(STRATEGIES)}; got {item!r}"
            )
        yield item, strategy, value


def parse_learning_rates(values):
    """Parse ``strategy=lr`` pairs into a dict.

    Parameters
    ----------
    values : list of str
        Items such as ``"full=3e-4"`` or ``"fish-dip=1e-2,bitfit=1e-2"``.

    Returns
    -------
    dict of str to float

    Raises
    ------
    ValueError
        If an item is not ``strategy=lr`` with a known strategy and a positive
        number.
    """
    rates = {}
    for item, strategy, rate in _strategy_pairs(values, "--learning-rate", "lr"):
        try:
            value = float(rate)
        except ValueError:
            raise ValueError(f"--learning-rate {item!r}: {rate!r} is not a number") from None
        if not value > 0:
            raise ValueError(f"--learning-rate {item!r}: the rate must be positive")
        rates[strategy] = value
    return rates


def parse_optimizers(values):
    """Parse ``strategy=optimizer`` pairs into a dict.

    Parameters
    ----------
    values : list of str
        Items such as ``"full=adamw"`` or ``"full=adamw,bitfit=adafactor"``.

    Returns
    -------
    dict of str to str

    Raises
    ------
    ValueError
        If an item is not ``strategy=optimizer`` with a known strategy and
        optimizer.
    """
    chosen = {}
    for item, strategy, name in _strategy_pairs(values, "--optimizer-for", "optimizer"):
        if name not in DEFAULT_LEARNING_RATES:
            raise ValueError(
                f"--optimizer-for {item!r}: the optimizer must be one of "
                f"{', '.join(sorted(DEFAULT_LEARNING_RATES))}"
            )
        chosen[strategy] = name
    return chosen


def build_parser():
    """The argument parser (defaults of ``None`` are filled in by :func:`parse_args`)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dataset",
        action="append",
        help=f"dataset(s): {', '.join(DATASETS)}; repeatable or comma-separated "
        f"(default: {','.join(PAPER_DATASETS)}, the paper's)",
    )
    parser.add_argument(
        "--fractions",
        type=crf_baseline.parse_float_list,
        help="fractions of train for every chosen dataset (default: 0.01,0.05 for conll2003, "
        "0.05 for wnut17, 0.05,0.1 for conll04, 0.005,0.01,0.05 for srl)",
    )
    parser.add_argument(
        "--seeds",
        type=crf_baseline.parse_int_list,
        help="seeds of the subset and of training (default: 1,2,3, the paper's episodes)",
    )
    parser.add_argument(
        "--strategies",
        action="append",
        help=f"strategies, repeatable or comma-separated (default: {','.join(STRATEGIES)})",
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="model name or path (default: %(default)s)"
    )
    parser.add_argument(
        "--model-kind",
        default="auto",
        choices=MODEL_KINDS,
        help="the estimators' model_kind (default: %(default)s)",
    )
    parser.add_argument(
        "--training-loss",
        default=_ESTIMATOR_DEFAULTS["training_loss"],
        choices=("auto", "full", "grammar"),
        help="the estimators' training_loss (default: %(default)s)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        help="max_epochs, the same for every strategy "
        f"(default: {_ESTIMATOR_DEFAULTS['max_epochs']})",
    )
    parser.add_argument(
        "--learning-rate",
        action="append",
        default=[],
        metavar="STRATEGY=LR",
        help="learning rate per strategy, repeatable or comma-separated, e.g. full=3e-4 "
        "(default: the estimator's, 1e-2 with Adafactor and 3e-4 with AdamW)",
    )
    parser.add_argument(
        "--optimizer",
        choices=sorted(DEFAULT_LEARNING_RATES),
        default=_ESTIMATOR_DEFAULTS["optimizer"],
        help="(default: %(default)s)",
    )
    parser.add_argument(
        "--lr-schedule",
        choices=["linear", "constant"],
        default=_ESTIMATOR_DEFAULTS["lr_schedule"],
        help="(default: %(default)s, the estimators')",
    )
    parser.add_argument(
        "--optimizer-for",
        action="append",
        default=[],
        metavar="STRATEGY=OPTIMIZER",
        help="optimizer per strategy overriding --optimizer, repeatable or comma-separated, "
        "e.g. full=adamw (its default learning rate follows it)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=_ESTIMATOR_DEFAULTS["batch_size"],
        help="(default: %(default)s)",
    )
    parser.add_argument(
        "--keep-ratio",
        type=float,
        default=_ESTIMATOR_DEFAULTS["keep_ratio"],
        help="budget of fish-dip, fish and random (default: %(default)s)",
    )
    parser.add_argument(
        "--refresh-every",
        type=int,
        default=_ESTIMATOR_DEFAULTS["refresh_every"],
        help="steps between fish-dip selections (default: %(default)s)",
    )
    parser.add_argument(
        "--max-test", type=int, help="score on the first N test sentences (default: all)"
    )
    parser.add_argument(
        "--crf",
        action="store_true",
        help="also run the CRF baseline (crf_baseline.py) on the same splits, NER only",
    )
    parser.add_argument(
        "--tagger",
        action="store_true",
        help="also run the tagging reference (tagging_reference.py: the default's MiniLM "
        "encoder as a token classifier) on the same splits, NER only",
    )
    parser.add_argument(
        "--data-dir",
        default=str(DEFAULT_DATA_DIR),
        help="folder with conll2003/, wnut17/, conll04/ and propbank_ewt_srl/ "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--json", default=str(DEFAULT_JSON), help="output JSON (default: %(default)s)"
    )
    parser.add_argument("--plot", help=f"output plot (default: {DEFAULT_PLOT.relative_to(ROOT)})")
    parser.add_argument(
        "--replot",
        action="append",
        default=[],
        metavar="JSON",
        help="run nothing: summarize, print and plot the runs of these JSONs together "
        "(repeatable; needs --plot)",
    )
    parser.add_argument(
        "--srl-peer",
        metavar="JSON",
        help="with --replot: add the CRF runs of this benchmarks/srl_peer.py JSON on the "
        "fractions and seeds the replotted SRL runs have",
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    add_training_options(parser.add_argument)
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs at once, each in its own process (default: %(default)s); on a GPU the "
        "small default model leaves room for several",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs of an existing --json file made with the same settings",
    )
    parser.add_argument("--verbose", action="store_true", help="show the estimators' progress bars")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke configuration: conll2003 at 0.01, seed 1, full and fish-dip, 1 epoch, "
        "--max-test 20 (options given explicitly override these)",
    )
    return parser


def parse_args(argv=None):
    """Parse the command line and fill in the defaults (or those of ``--quick``).

    Parameters
    ----------
    argv : list of str or None, default=None

    Returns
    -------
    argparse.Namespace
        With ``datasets`` (list), ``fractions`` (dict dataset -> list of
        float), ``seeds``, ``strategies``, ``epochs``, ``learning_rates``
        (dict strategy -> float) and ``max_test`` resolved.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.replot and not args.plot:
        parser.error("--replot needs --plot, the image to write")
    if args.srl_peer and not args.replot:
        parser.error("--srl-peer adds a peer to --replot's runs: give --replot")
    args.plot = args.plot or str(DEFAULT_PLOT)
    quick = QUICK if args.quick else {}

    datasets = _split(args.dataset) if args.dataset else quick.get("datasets", list(PAPER_DATASETS))
    unknown = [name for name in datasets if name not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}")
    args.datasets = list(dict.fromkeys(datasets))

    fractions = args.fractions or quick.get("fractions")
    args.fractions = {
        name: list(fractions or DATASETS[name]["fractions"]) for name in args.datasets
    }
    args.seeds = args.seeds or quick.get("seeds", [1, 2, 3])

    strategies = _split(args.strategies) if args.strategies else quick.get("strategies", STRATEGIES)
    unknown = [name for name in strategies if name not in STRATEGIES]
    if unknown:
        parser.error(
            f"unknown strategy(ies) {', '.join(unknown)}; choose from {', '.join(STRATEGIES)}"
        )
    args.strategies = list(dict.fromkeys(strategies))

    if args.epochs is None:
        args.epochs = quick.get("epochs", _ESTIMATOR_DEFAULTS["max_epochs"])
    if args.max_test is None:
        args.max_test = quick.get("max_test")
    for name in ("epochs", "batch_size", "refresh_every", "max_test", "jobs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    try:
        args.learning_rates = parse_learning_rates(args.learning_rate)
        args.optimizers = parse_optimizers(args.optimizer_for)
    except ValueError as error:
        parser.error(str(error))
    ner = [name for name in args.datasets if DATASETS[name]["task"] == "ner"]
    for flag in ("crf", "tagger"):
        if getattr(args, flag) and not ner:
            parser.error(f"--{flag} is an NER baseline: it needs an NER --dataset")
    return args


# ---------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------


def _load_srl(path):
    """PropBank predicates, without the few whose argument covers the predicate
    (``_srl_predicates``: FishDipSRL refuses them; the CRF peer drops the same)."""
    return keep_accepted(*load_propbank_srl(path))


def _multiwoz_subset(X, y, fraction, random_state):
    """The turns of ``round(fraction * 8438)`` seeded dialogues: fractions of MultiWOZ's
    official training set, drawn from val.json."""
    from sklearn_fishdip.datasets import dialogue_subset

    return dialogue_subset(X, y, round(fraction * 8438), random_state)


def load_dataset(name, data_dir, max_test=None):
    """Train and test sets of a dataset, the test set cut to ``max_test`` sentences.

    Returns
    -------
    X_train, y_train, X_test, y_test : list
    """
    spec = DATASETS[name]
    X_train, y_train = spec["load"](Path(data_dir) / spec["train"])
    X_test, y_test = spec["load"](Path(data_dir) / spec["test"])
    if max_test is not None:
        X_test, y_test = X_test[:max_test], y_test[:max_test]
    return X_train, y_train, X_test, y_test


def run_one(args, dataset, strategy, X_train, y_train, X_test, y_test, seed, device):
    """Fit one strategy on one subset and score it on the test set.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`parse_args`.
    dataset : str
        A key of :data:`DATASETS`.
    strategy : str
        One of :data:`STRATEGIES`.
    X_train, y_train : list
        The low-resource training subset.
    X_test, y_test : list
        The test sentences.
    seed : int
        The estimator's ``random_state``.
    device : str
        Resolved device.

    Returns
    -------
    dict
        Scores, decode errors, timings and training diagnostics of the run.
    """
    spec = DATASETS[dataset]
    learning_rate = args.learning_rates.get(strategy)
    optimizer = args.optimizers.get(strategy, args.optimizer)
    estimator = ESTIMATORS[spec["task"]](
        model=args.model,
        model_kind=args.model_kind,
        training_loss=args.training_loss,
        strategy=strategy,
        keep_ratio=args.keep_ratio,
        refresh_every=args.refresh_every,
        optimizer=optimizer,
        learning_rate=learning_rate,
        lr_schedule=args.lr_schedule,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        device=device,
        random_state=seed,
        verbose=int(args.verbose),
        **estimator_training_options(args),
    )
    start = time.perf_counter()
    estimator.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = estimator.predict(X_test)
    predict_s = time.perf_counter() - start

    # One predict, scored as the estimator's score() does, with P and R as well.
    if spec["task"] == "ner":
        precision, recall, f1 = entity_precision_recall_f1(y_test, y_pred, scheme=estimator.scheme)
        extra = {}
    elif spec["task"] == "dialogue_state":
        precision = recall = None
        f1 = joint_goal_accuracy(y_test, y_pred)
        extra = {"slot_accuracy": slot_accuracy(y_test, y_pred)}
    elif spec["task"] == "events":
        scores = event_scores(y_test, y_pred)
        precision, recall, f1 = scores["argument_classification"].values()
        extra = {"trigger_classification_f1": scores["trigger_classification"]["f1"]}
    elif spec["task"] == "srl":
        scores = srl_precision_recall_f1(y_test, y_pred)
        precision, recall, f1 = scores["precision"], scores["recall"], scores["f1"]
        extra = {"perfect_props": scores["perfect_props"]}
    else:
        precision, recall, f1 = relation_precision_recall_f1(y_test, y_pred)
        entity_scores = relation_precision_recall_f1(y_test, y_pred, level="entities")
        extra = dict(zip(("entity_precision", "entity_recall", "entity_f1"), entity_scores))
    errors = estimator.decode_errors_
    return {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        **extra,
        "optimizer": optimizer,
        "learning_rate": learning_rate or DEFAULT_LEARNING_RATES[optimizer],
        "fit_s": fit_s,  # this process's share when the fit resumed from a checkpoint
        "resumed_epochs": int(estimator.resumed_epochs_),
        "predict_s": predict_s,
        "predict_sentences_per_s": len(X_test) / predict_s if predict_s > 0 else None,
        "n_updated_parameters": int(estimator.n_updated_parameters_),
        "n_parameters": int(estimator.n_parameters_),
        "n_always_trainable": int(estimator.n_always_trainable_),
        "final_train_loss": estimator.history_[-1]["train_loss"] if estimator.history_ else None,
        "n_epochs_completed": len(estimator.history_),
        "history": estimator.history_,
        "decode_errors": errors.as_dict(),
        "decode_error_rates": errors.rates(),
        "engine_timings": estimator.timings_,
    }


def run_crf_one(X_train, y_train, X_test, y_test):
    """The CRF baseline on one subset, as a run record (see ``crf_baseline.run_crf``)."""
    return crf_baseline.run_crf(X_train, y_train, X_test, y_test)


def plan_runs(args, done=()):
    """The runs still to do, in protocol order, with their data.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`parse_args`.
    done : collection of tuple, default=()
        Keys ``(dataset, fraction, seed, strategy)`` to skip (``--resume``).

    Yields
    ------
    key : tuple
        ``(dataset, fraction, seed, strategy)``, strategy ``"crf"`` included
        with ``--crf`` on NER.
    data : tuple
        ``(X_train, y_train, X_test, y_test)``: the seeded subset and the test set.
    """
    for dataset in args.datasets:
        X_train, y_train, X_test, y_test = load_dataset(dataset, args.data_dir, args.max_test)
        strategies = list(args.strategies)
        if DATASETS[dataset]["task"] == "ner":
            strategies += [name for name in ("crf", "tagger") if getattr(args, name)]
        for fraction in args.fractions[dataset]:
            for seed in args.seeds:
                keys = [(dataset, fraction, seed, s) for s in strategies]
                keys = [key for key in keys if key not in done]
                if not keys:
                    continue
                subset = DATASETS[dataset].get("subset", low_resource_subset)
                X_sub, y_sub = subset(X_train, y_train, fraction, random_state=seed)
                for key in keys:
                    yield key, (X_sub, y_sub, X_test, y_test)


def run_task(args, key, data, device):
    """One run as a record: scores and timings, or ``error`` with the traceback.

    Module-level so that worker processes (``--jobs``) can unpickle it.
    """
    dataset, _, seed, strategy = key
    X_sub, y_sub, X_test, y_test = data
    record = {"n_train": len(X_sub), "n_test": len(X_test)}
    try:
        if strategy == "crf":
            record.update(run_crf_one(X_sub, y_sub, X_test, y_test))
        elif strategy == "tagger":
            # The reference keeps its own settings (TAGGER_PARAMS), whatever --epochs says.
            record.update(tagging_reference.run_tagger(X_sub, y_sub, X_test, y_test, seed=seed))
        else:
            record.update(
                run_one(args, dataset, strategy, X_sub, y_sub, X_test, y_test, seed, device)
            )
    except Exception:  # noqa: BLE001 - one failed run must not lose the others
        record["error"] = traceback.format_exc()
    return record


def _init_worker(threads):
    os.environ["HF_HUB_OFFLINE"] = "1"
    if threads:
        torch.set_num_threads(threads)


def execute(tasks, args, device):
    """Run the tasks, in this process or in ``args.jobs`` worker processes.

    A fit of the small default model leaves a GPU mostly idle, so several at
    once finish the grid sooner; each worker uses ``args.threads`` CPU
    threads. Results come back as runs finish, not in protocol order.

    Yields
    ------
    key, record : tuple, dict
    """
    if args.jobs == 1:
        for key, data in tasks:
            print(f"{key[0]} {key[1]:g} seed {key[2]} {key[3]} ...", flush=True)
            yield key, run_task(args, key, data, device)
        return
    import concurrent.futures
    import multiprocessing

    # Spawned, not forked: a forked child cannot use CUDA that the parent initialized.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=args.jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(args.threads,),
    ) as pool:
        futures = {pool.submit(run_task, args, key, data, device): key for key, data in tasks}
        print(f"{len(futures)} runs on {args.jobs} workers ...", flush=True)
        for future in concurrent.futures.as_completed(futures):
            yield futures[future], future.result()


# ---------------------------------------------------------------------------
# Metadata, summary, table, plot
# ---------------------------------------------------------------------------


def settings_of(args):
    """The settings a run's result depends on (what ``--resume`` must match)."""
    settings = {
        "model": args.model,
        "model_kind": args.model_kind,
        "training_loss": args.training_loss,
        "epochs": args.epochs,
        "optimizer": args.optimizer,
        "optimizers": args.optimizers,
        "learning_rates": args.learning_rates,
        "lr_schedule": args.lr_schedule,
        "batch_size": args.batch_size,
        "keep_ratio": args.keep_ratio,
        "refresh_every": args.refresh_every,
        "max_test": args.max_test,
        "data_dir": str(Path(args.data_dir).resolve()),
    }
    return {**settings, **training_settings(args)}


def make_metadata(args, argv, device):
    """Command line, versions, date, machine and settings of the benchmark."""
    recorded = provenance(__file__, argv, libraries=(*LIBRARIES, "sklearn-crfsuite"))
    return {
        **recorded,
        # Runs at once: fit and predict times are measured under this much sharing.
        "jobs": args.jobs,
        "device": device,
        "device_name": (
            torch.cuda.get_device_name() if device.startswith("cuda") else recorded["cpu"]["model"]
        ),
        "quick": args.quick,
        "datasets": args.datasets,
        "fractions": args.fractions,
        "seeds": args.seeds,
        "strategies": args.strategies,
        "crf": args.crf,
        "tagger": args.tagger,
        "metrics": {name: DATASETS[name]["metric"] for name in args.datasets},
        "std": "sample standard deviation over seeds (ddof=1)",
        "settings": settings_of(args),
        "complete": False,
    }


def _key(run):
    return (run["dataset"], run["fraction"], run["seed"], run["strategy"])


def summarize(runs):
    """Mean and std over seeds per (dataset, fraction, strategy), failed runs left out.

    Each row also holds the paired difference to full fine-tuning: F1 minus the
    F1 of ``full`` on the same dataset, fraction and seed (the same training
    sentences), averaged over the seeds that have both. Seeds change the
    training subset, so this difference varies less than either F1 does.

    Parameters
    ----------
    runs : list of dict

    Returns
    -------
    list of dict
    """
    groups = {}
    for run in runs:
        if "error" not in run:
            groups.setdefault((run["dataset"], run["fraction"], run["strategy"]), []).append(run)
    full_f1 = {
        (run["dataset"], run["fraction"], run["seed"]): run["f1"]
        for (_, _, strategy), members in groups.items()
        if strategy == "full"
        for run in members
    }
    summary = []
    for (dataset, fraction, strategy), members in groups.items():
        row = {
            "dataset": dataset,
            "fraction": fraction,
            "strategy": strategy,
            "n_seeds": len(members),
            "seeds": [run["seed"] for run in members],
            "n_train": members[0]["n_train"],
            "n_test": members[0]["n_test"],
        }
        for key in ("f1", "precision", "recall", "fit_s", "predict_s", "final_train_loss"):
            row[f"{key}_mean"], row[f"{key}_std"] = crf_baseline.mean_std(
                run.get(key) for run in members
            )
        updated = [run["n_updated_parameters"] for run in members if "n_updated_parameters" in run]
        row["n_updated_parameters_mean"] = float(np.mean(updated)) if updated else None
        gaps = [
            run["f1"] - full_f1[(dataset, fraction, run["seed"])]
            for run in members
            if (dataset, fraction, run["seed"]) in full_f1
        ]
        row["n_pairs_with_full"] = len(gaps) if strategy != "full" else 0
        row["f1_minus_full_mean"], row["f1_minus_full_std"] = (
            crf_baseline.mean_std(gaps) if strategy != "full" else (None, None)
        )
        rates = [run["decode_error_rates"] for run in members if "decode_error_rates" in run]
        row["decode_error_rates_mean"] = (
            {kind: float(np.mean([rate[kind] for rate in rates])) for kind in rates[0]}
            if rates
            else None
        )
        summary.append(row)
    order = {name: i for i, name in enumerate([*STRATEGIES, "crf", "tagger"])}
    summary.sort(key=lambda row: (row["dataset"], row["fraction"], order[row["strategy"]]))
    return summary


def print_table(results):
    """Print mean ± std per (dataset, fraction, strategy)."""
    meta = results["metadata"]
    print()
    print(
        f"low_resource{' [QUICK]' if meta['quick'] else ''}: model={meta['settings']['model']} "
        f"epochs={meta['settings']['epochs']} optimizer={meta['settings']['optimizer']}"
        + "".join(f",{k}={v}" for k, v in meta["settings"].get("optimizers", {}).items())
        + " "
        f"device={meta['device']}; mean ± std over seeds"
    )
    for fraction, changed in meta.get("settings_by_fraction", {}).items():
        print(f"  {fraction}: " + ", ".join(f"{key}={value}" for key, value in changed.items()))
    header = (
        f"{'dataset':<9} {'frac':>5} {'n_tr':>5} {'n_te':>5} {'strategy':<9} {'seeds':>5} "
        f"{'F1':>15} {'P':>15} {'R':>15} {'fit s':>7} {'pred s':>7} {'updated':>10} "
        f"{'loss':>7} {'wrong_rec':>9} {'F1 - full':>15}"
    )
    print(header)
    print("-" * len(header))
    for row in results["summary"]:
        fmt = crf_baseline.format_mean_std
        updated = row["n_updated_parameters_mean"]
        loss = row["final_train_loss_mean"]
        rates = row["decode_error_rates_mean"]
        wrong = "-" if rates is None else f"{rates['wrong_reconstruction']:.2f}"
        gap = fmt(row["f1_minus_full_mean"], row["f1_minus_full_std"])
        print(
            f"{row['dataset']:<9} {row['fraction']:>5g} {row['n_train']:>5} {row['n_test']:>5} "
            f"{row['strategy']:<9} {row['n_seeds']:>5} "
            f"{fmt(row['f1_mean'], row['f1_std']):>15} "
            f"{fmt(row['precision_mean'], row['precision_std']):>15} "
            f"{fmt(row['recall_mean'], row['recall_std']):>15} "
            f"{row['fit_s_mean']:>7.1f} {row['predict_s_mean']:>7.1f} "
            f"{'-' if updated is None else f'{updated:,.0f}':>10} "
            f"{'-' if loss is None else f'{loss:.3f}':>7} "
            f"{wrong:>9} {gap:>15}"
        )
    failed = [run for run in results["runs"] if "error" in run]
    for run in failed:
        print(f"FAILED {_key(run)}: {run['error'].strip().splitlines()[-1]}")


def _percent(fraction):
    """0.005 -> '0.5%' (``:.0%`` would round it to '0%', the label of no data)."""
    return f"{fraction * 100:g}%"


def plot(results, path):
    """Bar chart of mean ± std F1 per strategy and fraction, one panel per dataset.

    Parameters
    ----------
    results : dict
        With ``summary`` from :func:`summarize`.
    path : str or path-like
        The image file.
    """
    panels = []
    for dataset in dict.fromkeys(row["dataset"] for row in results["summary"]):
        rows = [row for row in results["summary"] if row["dataset"] == dataset]
        series = {}
        for row in rows:
            series.setdefault(row["strategy"], {})[_percent(row["fraction"])] = (
                row["f1_mean"],
                row["f1_std"],
            )
        panels.append(
            {
                "title": f"{dataset}: test F1",
                "xlabel": "fraction of the training set",
                "ylabel": DATASETS[dataset]["metric"],
                "groups": [_percent(f) for f in sorted({row["fraction"] for row in rows})],
                "series": series,
                "ylim": (0, 1),
            }
        )
    draw_panels(path, panels, width_per_panel=6)


# ---------------------------------------------------------------------------
# Replot: several files' runs in one table and figure
# ---------------------------------------------------------------------------

#: Settings a strategy may have of its own (``--optimizer-for``, ``--learning-rate``).
_PER_STRATEGY = ("optimizers", "learning_rates")


def _own_settings(settings, strategy):
    """The optimizer and learning rate one strategy trained with under ``settings``."""
    return {
        "optimizers": settings.get("optimizers", {}).get(strategy, settings["optimizer"]),
        "learning_rates": settings.get("learning_rates", {}).get(strategy),
    }


def merge_settings(loaded):
    """The settings of several result files, for summarizing their runs together.

    Files must agree on everything but the per-strategy optimizer and learning
    rate, and those must agree for every strategy the files ran: full
    fine-tuning run with ``--optimizer-for full=adamw`` and FISH-DIP run
    without it merge, two files training ``full`` differently do not.

    Parameters
    ----------
    loaded : list of (path, dict)
        The files and their contents.

    Returns
    -------
    dict
        The shared settings, with ``optimizers`` and ``learning_rates`` per
        strategy where a strategy departs from the shared ones.
    """
    (first_path, first), *_ = loaded
    shared = {k: v for k, v in first["metadata"]["settings"].items() if k not in _PER_STRATEGY}
    per_strategy = {}
    for path, results in loaded:
        settings = results["metadata"]["settings"]
        if {k: v for k, v in settings.items() if k not in _PER_STRATEGY} != shared:
            raise ValueError(f"{path} was made with other settings than {first_path}")
        for strategy in dict.fromkeys(run["strategy"] for run in results["runs"]):
            own = _own_settings(settings, strategy)
            where, known = per_strategy.setdefault(strategy, (path, own))
            if known != own:
                raise ValueError(
                    f"{path} trained {strategy} with {own}, {where} with {known}: "
                    "their runs do not measure the same thing"
                )
    merged = {name: {} for name in _PER_STRATEGY}
    for strategy, (_, own) in per_strategy.items():
        if own["optimizers"] != shared["optimizer"]:
            merged["optimizers"][strategy] = own["optimizers"]
        if own["learning_rates"] is not None:
            merged["learning_rates"][strategy] = own["learning_rates"]
    return {**shared, **merged}


def settings_by_fraction(loaded):
    """:func:`merge_settings` for each (dataset, fraction), over the files with runs there.

    Runs of one fraction are compared with each other (mean, the gap to full
    fine-tuning), so their files must agree; two fractions side by side in a
    figure may have been trained with other options (5% of SRL with
    ``--group-by-length``, 0.5% without), which the table then names.
    """
    groups = dict.fromkeys(_group(run) for _, r in loaded for run in r["runs"])
    merged = {}
    for group in groups:
        members = [
            (path, {**results, "runs": [run for run in results["runs"] if _group(run) == group]})
            for path, results in loaded
        ]
        merged[group] = merge_settings([(path, r) for path, r in members if r["runs"]])
    return merged


def _group(run):
    return run["dataset"], run["fraction"]


def srl_peer_runs(path, runs):
    """The CRF runs of a ``benchmarks/srl_peer.py`` JSON beside ``runs``, as strategy ``crf``.

    Only the (fraction, seed) pairs that ``runs`` has, so each bar compares
    the same training predicates; a pair whose predicate counts differ from
    the generative runs' was drawn or scored on other data, and is an error.
    """
    if {run["dataset"] for run in runs} != {"srl"}:
        raise ValueError("--srl-peer compares with SRL runs: the replotted files hold others")
    peer = json.loads(Path(path).read_text())
    ours = {(run["fraction"], run["seed"]): run for run in runs if "error" not in run}
    added = []
    for run in peer["runs"]:
        twin = ours.get((run["fraction"], run["seed"]))
        if twin is None:
            continue
        if (run["n_train"], run["n_test"]) != (twin["n_train"], twin["n_test"]):
            raise ValueError(
                f"{path}: fraction {run['fraction']:g}, seed {run['seed']} has "
                f"{run['n_train']} training and {run['n_test']} test predicates, the "
                f"generative runs {twin['n_train']} and {twin['n_test']}"
            )
        added.append(
            {
                "dataset": "srl",
                "strategy": "crf",
                **{key: peer["metadata"][key] for key in ("git", "command")},
                **run,
            }
        )
    return added


def replot(paths, image, srl_peer=None):
    """Summarize the runs of several JSONs together, print the table and plot it.

    A run (dataset, fraction, seed, strategy) found in two files is an error:
    which one counts is not clear. See :func:`settings_by_fraction` for the
    settings the files must share and :func:`srl_peer_runs` for ``srl_peer``.
    """
    loaded = read_results(paths)
    by_fraction = settings_by_fraction(loaded)
    settings = next(iter(by_fraction.values()))
    runs = [
        {**run, **{k: run.get(k, results["metadata"][k]) for k in ("git", "command")}}
        for _, results, run in pooled_runs(loaded, _key)
    ]
    if srl_peer:
        runs += srl_peer_runs(srl_peer, runs)
    metadata = loaded[0][1]["metadata"]
    merged = {
        "metadata": {
            **metadata,
            "quick": any(results["metadata"]["quick"] for _, results in loaded),
            "complete": all(results["metadata"]["complete"] for _, results in loaded),
            "settings": settings,
            # Where a fraction departs from ``settings``: what it changed.
            "settings_by_fraction": {
                f"{dataset} {fraction:g}": {
                    key: own.get(key)
                    for key in dict.fromkeys([*settings, *own])
                    if settings.get(key) != own.get(key)
                }
                for (dataset, fraction), own in by_fraction.items()
                if own != settings
            },
            "replot": [str(path) for path in paths],
            "srl_peer": srl_peer and str(srl_peer),
        },
        "runs": runs,
        "summary": summarize(runs),
    }
    print_table(merged)
    plot(merged, image)
    print(f"wrote {image}")
    return merged


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def main(argv=None):
    """Run the benchmark; print a table, write JSON and a plot.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments; None reads ``sys.argv``.

    Returns
    -------
    dict
        ``metadata``, ``runs`` (one per dataset, fraction, seed and strategy,
        ``"crf"`` included with ``--crf``; a failed run holds ``error``) and
        ``summary``.
    """
    args = parse_args(argv)
    if args.replot:
        return replot(args.replot, args.plot, args.srl_peer)
    if args.crf:
        try:
            crf_baseline.require_crfsuite()
        except ImportError as error:
            # Before hours of training, not after.
            raise SystemExit(f"error: --crf: {error}") from None
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
            # Kept runs were measured by an earlier invocation: say which code measured them.
            for run in results["runs"]:
                for key in ("git", "command"):
                    run.setdefault(key, previous["metadata"].get(key))
            print(f"resuming: {len(results['runs'])} runs kept from {path}", flush=True)
        else:
            print(f"not resuming: {path} was made with other settings", flush=True)
    done = {_key(run) for run in results["runs"]}
    provenance = {key: results["metadata"][key] for key in ("git", "command")}

    def write():
        results["summary"] = summarize(results["runs"])
        path.write_text(json.dumps(results, indent=2) + "\n")

    started = time.perf_counter()
    tasks = list(plan_runs(args, done))
    for key, outcome in execute(tasks, args, device):
        run = dict(zip(("dataset", "fraction", "seed", "strategy"), key))
        run.update(provenance)
        run.update(outcome)
        label = f"{key[0]} {key[1]:g} seed {key[2]} {key[3]}"
        if "error" in run:
            print(f"{label}: FAILED", flush=True)
            print(run["error"], file=sys.stderr, flush=True)
        else:
            print(
                f"{label}: F1 {run['f1']:.4f}  fit {run['fit_s']:.0f} s  "
                f"predict {run['predict_s']:.0f} s",
                flush=True,
            )
        results["runs"].append(run)
        # Rewritten after every run: a cut benchmark keeps what it measured.
        write()

    results["metadata"]["bench_wall_s"] = time.perf_counter() - started
    results["metadata"]["complete"] = True
    write()
    plot(results, args.plot)
    print_table(results)
    print(f"wrote {path} and {args.plot}")
    return results


if __name__ == "__main__":
    outcome = main()
    sys.exit(1 if any("error" in run for run in outcome["runs"]) else 0)
