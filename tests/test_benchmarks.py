"""Smoke tests of benchmarks/low_resource.py and benchmarks/crf_baseline.py.

They build their own tiny CoNLL files and a tiny T5 in tmp_path: nothing from
../shared/data is read.
"""

import datetime
import importlib.util
import json
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2

import sklearn_fishdip
from sklearn_fishdip import FishDipNER, all_estimators
from sklearn_fishdip.datasets import load_conll, low_resource_subset
from sklearn_fishdip.sparse import DEFAULT_LEARNING_RATES
from sklearn_fishdip.tasks.relation_classification import (
    FEWREL_SPLIT,
    FishDipRelationClassifier,
    load_semeval2010,
)
from sklearn_fishdip.utils._testing import make_tiny_gpt2, make_tiny_t5

from .estimator_fixtures import global_rng_untouched  # noqa: F401 (used by pytestmark)

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

# Words of the tiny tokenizer's vocabulary, so the tiny T5 sees no <unk>.
SENTENCES = [
    ("John visited Paris", "B-PER O B-LOC"),
    ("Mary joined Google in London", "B-PER O B-ORG O B-LOC"),
    ("Paul met Anna in Rome", "B-PER O B-PER O B-LOC"),
    ("Smith founded Acme", "B-PER O B-ORG"),
    ("they visited New York", "O O B-LOC I-LOC"),
    ("Anna said he met John", "B-PER O O O B-PER"),
    ("Mary visited Berlin today", "B-PER O B-LOC O"),
    ("Google joined Apple", "B-ORG O B-ORG"),
]


def _load(name):
    # The benchmarks are scripts, not a package: import them from their files.
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def low_resource():
    return _load("low_resource")


@pytest.fixture(scope="module")
def crf_baseline():
    return _load("crf_baseline")


def _write_conll(path, sentences):
    lines = ["-DOCSTART- O", ""]
    for text, tags in sentences:
        lines += [f"{word} {tag}" for word, tag in zip(text.split(), tags.split())]
        lines.append("")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data" / "conll2003"
    folder.mkdir(parents=True)
    _write_conll(folder / "train.txt", SENTENCES)
    _write_conll(folder / "test.txt", SENTENCES[:3])
    return folder.parent


@pytest.fixture
def tiny_model(tmp_path):
    model, tokenizer = make_tiny_t5(seed=0, d_model=16)
    path = tmp_path / "tiny_t5"
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


#: The FISH-DIP reference's settings (../shared/docs/algorithms.md, sections 2.2-2.4).
PAPER = {
    "keep_ratio": 0.01,  # rho_0 = rho = 0.01 (--percentage, --subsequent_param_percentage)
    "refresh_every": 100,  # R = --reevaluate_after_steps, every script
    "optimizer": "adafactor",
    "learning_rate": 1e-2,
    "lr_schedule": "linear",  # the Trainer's linear decay to 0, no warm-up
    "batch_size": 8,  # per device (the scripts run 4 GPUs: 32 per step)
    "max_source_length": 256,  # "max len in"
    "max_target_length": 256,  # output length = input length unless set
    "num_beams": 1,  # greedy decoding
    "seeds": [1, 2, 3],  # episodes 1-3 seed the subset draw
    "fractions": {"conll2003": {0.01, 0.05, 0.10}, "conll04": {0.01, 0.05, 0.10}},
}


class _Built(Exception):
    """Raised by a recording estimator's fit: the benchmark built it; stop there."""


def test_defaults_follow_the_paper(low_resource, monkeypatch):
    args = low_resource.parse_args([])
    assert args.datasets == ["conll2003", "conll04"]
    assert args.seeds == PAPER["seeds"]
    for dataset, fractions in args.fractions.items():
        assert set(fractions) <= PAPER["fractions"][dataset], dataset
    assert args.fractions == {"conll2003": [0.01, 0.05], "conll04": [0.05, 0.1]}
    assert args.strategies == ["full", "fish", "fish-dip", "dps", "bitfit", "random"]
    assert args.max_test is None
    assert Path(args.data_dir) == BENCHMARKS.parent.parent / "shared" / "data"
    # A deliberate deviation, documented in docs/benchmarks/low_resource.rst: the paper trains
    # 250 (CoNLL03 1%) to 1000 (CoNLL04 1%) epochs; the CPU default budget is 20 for every strategy.
    assert args.epochs == 20

    # What a run actually trains with: record the estimator the benchmark builds.
    built = []

    def recording_fit(self, X, y):
        built.append((self.task, self.get_params()))
        raise _Built

    for _, Estimator in all_estimators():
        monkeypatch.setattr(Estimator, "fit", recording_fit)
    X, y = [["John"]], [["B-PER"]]
    for dataset in args.datasets:
        for strategy in args.strategies:
            with pytest.raises(_Built):
                low_resource.run_one(args, dataset, strategy, X, y, X, y, 2, "cpu")
    assert len(built) == len(args.datasets) * len(args.strategies)
    assert {task for task, _ in built} == {"ner", "relations"}
    for task, params in built:
        assert params["random_state"] == 2 and params["max_epochs"] == 20
        resolved = params["learning_rate"] or DEFAULT_LEARNING_RATES[params["optimizer"]]
        assert resolved == PAPER["learning_rate"], task
        for name in (
            "keep_ratio",
            "refresh_every",
            "optimizer",
            "lr_schedule",
            "batch_size",
            "max_source_length",
            "max_target_length",
            "num_beams",
        ):
            assert params[name] == PAPER[name], (task, name)
        assert params["autocast"] == "auto"  # bf16 on a GPU, float32 on the CPU
    assert "autocast" not in low_resource.settings_of(args)  # as in files made before it

    built.clear()
    for option, expected in (("bf16", "bf16"), ("none", None)):
        chosen = low_resource.parse_args(["--autocast", option])
        with pytest.raises(_Built):
            low_resource.run_one(chosen, "conll04", "fish-dip", X, y, X, y, 2, "cpu")
        assert built[-1][1]["autocast"] == expected
        assert low_resource.settings_of(chosen)["autocast"] == option
    assert params["group_by_length"] is False
    assert "group_by_length" not in low_resource.settings_of(args)
    grouped = low_resource.parse_args(["--group-by-length"])
    with pytest.raises(_Built):
        low_resource.run_one(grouped, "conll04", "fish-dip", X, y, X, y, 2, "cpu")
    assert built[-1][1]["group_by_length"] is True
    assert low_resource.settings_of(grouped)["group_by_length"] is True


def test_lists_and_learning_rates_parse(low_resource):
    args = low_resource.parse_args(
        [
            "--dataset",
            "conll04",
            "--dataset",
            "conll2003,conll04",
            "--fractions",
            "0.1",
            "--seeds",
            "4,5",
            "--strategies",
            "fish-dip,full",
            "--learning-rate",
            "full=3e-4,fish-dip=0.01",
            "--learning-rate",
            "bitfit=1e-3",
            "--optimizer-for",
            "full=adamw,bitfit=adamw",
            "--optimizer-for",
            "bitfit=adafactor",
        ]
    )
    assert args.datasets == ["conll04", "conll2003"]
    assert args.fractions == {"conll04": [0.1], "conll2003": [0.1]}
    assert args.seeds == [4, 5]
    assert args.strategies == ["fish-dip", "full"]
    assert args.learning_rates == {"full": 3e-4, "fish-dip": 0.01, "bitfit": 1e-3}
    assert args.optimizers == {"full": "adamw", "bitfit": "adafactor"}


@pytest.mark.parametrize(
    "argv",
    [
        ["--dataset", "conll2012"],
        ["--strategies", "lora"],
        ["--learning-rate", "full"],
        ["--learning-rate", "lora=1e-3"],
        ["--learning-rate", "full=-1"],
        ["--optimizer-for", "full"],
        ["--optimizer-for", "full=sgd"],
        ["--optimizer-for", "lora=adamw"],
        ["--fractions", "0"],
        ["--seeds", "a"],
        ["--epochs", "0"],
        ["--crf", "--dataset", "conll04"],
    ],
)
def test_bad_arguments_are_refused(low_resource, argv, capsys):
    with pytest.raises(SystemExit) as raised:
        low_resource.parse_args(argv)
    assert raised.value.code == 2
    assert "error" in capsys.readouterr().err


def test_quick_is_a_smoke_configuration_that_explicit_options_override(low_resource):
    args = low_resource.parse_args(["--quick"])
    assert args.datasets == ["conll2003"]
    assert args.fractions == {"conll2003": [0.01]}
    assert args.seeds == [1]
    assert len(args.strategies) == 2
    assert args.epochs == 1
    assert args.max_test == 20
    args = low_resource.parse_args(["--quick", "--max-test", "5", "--seeds", "2"])
    assert (args.max_test, args.seeds) == (5, [2])


def _run(strategy, seed, f1, fraction=0.01):
    return {
        "dataset": "conll2003",
        "fraction": fraction,
        "seed": seed,
        "strategy": strategy,
        "n_train": 140,
        "n_test": 300,
        "f1": f1,
        "precision": f1,
        "recall": f1,
        "fit_s": 1.0,
        "predict_s": 1.0,
    }


def test_summary_pairs_each_strategy_with_full_on_the_same_seed(low_resource):
    runs = [
        _run("full", 1, 0.10),
        _run("fish-dip", 1, 0.15),
        _run("full", 2, 0.20),
        _run("fish-dip", 2, 0.23),
        # No full run on seed 3: this one has no pair.
        _run("fish-dip", 3, 0.90),
        # Another fraction is another pairing.
        _run("full", 1, 0.50, fraction=0.05),
        _run("fish-dip", 1, 0.40, fraction=0.05),
        {**_run("full", 3, 0.0), "error": "Traceback ..."},
    ]
    rows = {(row["fraction"], row["strategy"]): row for row in low_resource.summarize(runs)}

    fish_dip = rows[(0.01, "fish-dip")]
    assert fish_dip["n_seeds"] == 3 and fish_dip["n_pairs_with_full"] == 2
    assert fish_dip["f1_minus_full_mean"] == pytest.approx(0.04)
    assert fish_dip["f1_minus_full_std"] == pytest.approx(0.0141421, rel=1e-5)
    lower = rows[(0.05, "fish-dip")]
    assert lower["f1_minus_full_mean"] == pytest.approx(-0.10)
    assert lower["f1_minus_full_std"] is None
    full = rows[(0.01, "full")]
    assert full["n_seeds"] == 2 and full["n_pairs_with_full"] == 0
    assert full["f1_minus_full_mean"] is None


def _results_file(path, runs, **settings):
    """A low_resource JSON holding ``runs``, as ``main`` writes it (SRL, first 500 predicates)."""
    base = {"model": "minilm-prefix-lm", "epochs": 20, "optimizer": "adafactor"}
    base |= {"optimizers": {}, "learning_rates": {}}
    metadata = {
        "git": {"commit": "abc", "dirty": False},
        "command": f"python benchmarks/low_resource.py --json {path.name}",
        "device": "cpu",
        "quick": False,
        "complete": True,
        "settings": {**base, "max_test": 500, **settings},
    }
    runs = [{**run, "dataset": "srl", "n_train": 202, "n_test": 500} for run in runs]
    path.write_text(json.dumps({"metadata": metadata, "runs": runs}))
    return str(path)


def test_replot_merges_strategies_trained_with_their_own_optimizers(low_resource, tmp_path, capsys):
    # Full fine-tuning ran with --optimizer-for full=adamw, FISH-DIP without it: one figure.
    full = _results_file(
        tmp_path / "full.json",
        [_run("full", 1, 0.50, 0.005), _run("full", 2, 0.30, 0.005)],
        optimizers={"full": "adamw"},
    )
    fish_dip = _results_file(
        tmp_path / "fishdip.json",
        [_run("fish-dip", 1, 0.40, 0.005), _run("fish-dip", 2, 0.35, 0.005)],
    )
    peer = tmp_path / "peer.json"
    peer_runs = [
        {"fraction": 0.005, "seed": seed, "f1": f1, "precision": f1, "recall": f1}
        | {"fit_s": 3.0, "predict_s": 0.5, "n_train": 202, "n_test": 500}
        for seed, f1 in ((1, 0.20), (2, 0.10), (3, 0.90))
    ]
    # Seed 3 and 1% have no generative run: their CRF runs are left out.
    peer_runs.append({**peer_runs[0], "fraction": 0.01, "n_train": 404})
    peer_meta = {
        "git": {"commit": "def"},
        "command": "python benchmarks/srl_peer.py",
        "n_test": 500,
    }
    peer.write_text(json.dumps({"metadata": peer_meta, "runs": peer_runs}))
    image = tmp_path / "srl.png"

    merged = low_resource.main(
        ["--replot", full, "--replot", fish_dip, "--srl-peer", str(peer), "--plot", str(image)]
    )
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = {row["strategy"]: row for row in merged["summary"]}
    assert list(rows) == ["full", "fish-dip", "crf"]
    assert rows["full"]["f1_mean"] == pytest.approx(0.40)
    assert rows["fish-dip"]["f1_minus_full_mean"] == pytest.approx(-0.025)
    assert rows["crf"]["seeds"] == [1, 2] and rows["crf"]["f1_mean"] == pytest.approx(0.15)
    assert merged["metadata"]["settings"]["optimizers"] == {"full": "adamw"}
    crf_run = next(run for run in merged["runs"] if run["strategy"] == "crf")
    assert crf_run["command"] == "python benchmarks/srl_peer.py"
    out = capsys.readouterr().out
    assert "optimizer=adafactor,full=adamw" in out

    # Two files training the same strategy differently do not measure the same thing.
    other_full = _results_file(tmp_path / "full_s3.json", [_run("full", 3, 0.4, 0.005)])
    with pytest.raises(ValueError, match="trained full with"):
        low_resource.main(["--replot", full, "--replot", other_full, "--plot", str(image)])
    # Nor do files with another shared setting, and a run twice is ambiguous.
    longer = _results_file(tmp_path / "longer.json", [_run("fish-dip", 3, 0.4, 0.005)], epochs=40)
    with pytest.raises(ValueError, match="other settings"):
        low_resource.main(["--replot", fish_dip, "--replot", longer, "--plot", str(image)])
    with pytest.raises(ValueError, match="also in an earlier file"):
        low_resource.main(["--replot", fish_dip, "--replot", fish_dip, "--plot", str(image)])
    # Another fraction may have been trained otherwise: it is only set beside, and named.
    grouped = _results_file(
        tmp_path / "grouped.json", [_run("fish-dip", 1, 0.6, 0.05)], group_by_length=True
    )
    both = low_resource.main(["--replot", fish_dip, "--replot", grouped, "--plot", str(image)])
    assert [row["fraction"] for row in both["summary"]] == [0.005, 0.05]
    assert both["metadata"]["settings_by_fraction"] == {"srl 0.05": {"group_by_length": True}}
    assert "srl 0.05: group_by_length=True" in capsys.readouterr().out
    # A peer run on other predicates is another comparison.
    peer_runs[1]["n_train"] = 190
    peer.write_text(json.dumps({"metadata": peer_meta, "runs": peer_runs}))
    with pytest.raises(ValueError, match="seed 2 has 190 training"):
        low_resource.main(["--replot", full, "--srl-peer", str(peer), "--plot", str(image)])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--replot", "a.json"], "--replot needs --plot"),
        (["--srl-peer", "p.json"], "--srl-peer adds a peer to --replot"),
    ],
)
def test_replot_options_are_checked(low_resource, argv, message, capsys):
    with pytest.raises(SystemExit):
        low_resource.parse_args(argv)
    assert message in capsys.readouterr().err


def test_plot_labels_fractions_below_one_percent(low_resource):
    assert [low_resource._percent(f) for f in (0.005, 0.01, 0.05, 0.1)] == [
        "0.5%",
        "1%",
        "5%",
        "10%",
    ]


def test_tiny_run_writes_json_table_and_plot(
    low_resource, crf_baseline, data_dir, tiny_model, tmp_path, capsys
):
    crf = importlib.util.find_spec("sklearn_crfsuite") is not None
    out = tmp_path / "out"
    argv = [
        "--quick",
        "--fractions",
        "0.5",
        "--max-test",
        "2",
        "--model",
        tiny_model,
        "--data-dir",
        str(data_dir),
        "--json",
        str(out / "results.json"),
        "--plot",
        str(out / "results.png"),
        "--device",
        "cpu",
        "--batch-size",
        "2",
        "--optimizer-for",
        "full=adamw",
        "--checkpoint-dir",
        str(tmp_path / "fits"),
        *(["--crf"] if crf else []),
    ]
    results = low_resource.main(argv)
    # Each fit saved its epochs there and removed its file once complete.
    assert (tmp_path / "fits").is_dir() and list((tmp_path / "fits").iterdir()) == []

    strategies = ["full", "fish-dip", *(["crf"] if crf else [])]
    assert [run["strategy"] for run in results["runs"]] == strategies
    # The same subset, fit and test sentences here, scored with seqeval directly.
    X_train, y_train = load_conll(data_dir / "conll2003" / "train.txt")
    X_sub, y_sub = low_resource_subset(X_train, y_train, 0.5, random_state=1)
    X_test, y_test = load_conll(data_dir / "conll2003" / "test.txt")
    X_test, y_test = X_test[:2], y_test[:2]
    for run in results["runs"]:
        assert "error" not in run, run.get("error")
        assert (run["dataset"], run["fraction"], run["seed"]) == ("conll2003", 0.5, 1)
        assert (run["n_train"], run["n_test"]) == (4, 2)
        assert run["fit_s"] > 0 and run["predict_s"] > 0
        if run["strategy"] == "crf":
            crf_model = crf_baseline.make_crf()
            crf_model.fit([crf_baseline.sentence_features(x) for x in X_sub], y_sub)
            y_pred = [
                list(t)
                for t in crf_model.predict([crf_baseline.sentence_features(x) for x in X_test])
            ]
        else:
            estimator = FishDipNER(
                model=tiny_model,
                strategy=run["strategy"],
                optimizer=run["optimizer"],
                max_epochs=1,
                batch_size=2,
                device="cpu",
                random_state=1,
                verbose=0,
            ).fit(X_sub, y_sub)
            y_pred = estimator.predict(X_test)
            assert run["n_updated_parameters"] == estimator.n_updated_parameters_
            assert run["final_train_loss"] == pytest.approx(estimator.history_[-1]["train_loss"])
            assert run["n_epochs_completed"] == 1 and len(run["history"]) == 1
            assert run["resumed_epochs"] == 0
        expected = [
            score(y_test, y_pred, mode="strict", scheme=IOB2)
            for score in (precision_score, recall_score, f1_score)
        ]
        assert [run["precision"], run["recall"], run["f1"]] == pytest.approx(expected)
    assert [run["optimizer"] for run in results["runs"][:2]] == ["adamw", "adafactor"]
    assert [run["learning_rate"] for run in results["runs"][:2]] == [3e-4, 1e-2]
    fish_dip = results["runs"][1]
    assert fish_dip["n_updated_parameters"] > 0
    assert fish_dip["final_train_loss"] > 0
    assert set(fish_dip["decode_error_rates"]) >= {"wrong_reconstruction", "format_error"}

    written = json.loads((out / "results.json").read_text())
    assert written["runs"] == json.loads(json.dumps(results["runs"]))
    assert written["metadata"]["complete"] is True
    # Provenance: which code, libraries and machine measured the runs.
    metadata = written["metadata"]
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=BENCHMARKS.parent, capture_output=True, text=True
    )
    if head.returncode == 0:
        assert metadata["git"]["commit"] == head.stdout.strip()
        assert isinstance(metadata["git"]["dirty"], bool)
    assert metadata["versions"]["torch"] == torch.__version__
    assert metadata["versions"]["sklearn_fishdip"] == sklearn_fishdip.__version__
    assert metadata["versions"]["python"] == platform.python_version()
    age = datetime.datetime.now(datetime.timezone.utc) - datetime.datetime.fromisoformat(
        metadata["date"]
    )
    assert datetime.timedelta(0) <= age < datetime.timedelta(hours=1)
    assert metadata["device"] == "cpu" and metadata["jobs"] == 1
    assert metadata["settings"]["model"] == tiny_model
    assert metadata["settings"]["batch_size"] == 2
    assert metadata["settings"]["data_dir"] == str(data_dir.resolve())
    assert "checkpoint_dir" not in metadata["settings"]  # where fits are saved changes no result
    assert shlex.split(metadata["command"])[:2] == ["python", str(BENCHMARKS / "low_resource.py")]
    # One seed: each summary row is its run.
    for row, run in zip(written["summary"], written["runs"]):
        assert (row["strategy"], row["n_seeds"], row["f1_mean"]) == (run["strategy"], 1, run["f1"])
        assert row["f1_std"] is None
    assert written["metadata"]["settings"]["epochs"] == 1
    assert written["metadata"]["command"].endswith(" ".join(argv[-4:]))
    assert written["metadata"]["settings"]["optimizers"] == {"full": "adamw"}
    assert written["metadata"]["settings"]["lr_schedule"] == "linear"
    assert len(written["summary"]) == len(strategies)
    assert (out / "results.png").stat().st_size > 0
    table = capsys.readouterr().out
    assert "mean ± std over seeds" in table and "fish-dip" in table
    assert "F1 - full" in table

    # --resume keeps every run made with the same settings and trains nothing.
    again = low_resource.main([*argv, "--resume"])
    assert [run["fit_s"] for run in again["runs"]] == [run["fit_s"] for run in results["runs"]]
    # Each run names the invocation that measured it, kept runs included.
    for run in again["runs"]:
        assert run["command"] == written["metadata"]["command"]
        assert run["git"] == written["metadata"]["git"]
    assert again["metadata"]["command"].endswith("--resume")


def test_jobs_run_in_worker_processes_with_the_same_results(
    low_resource, data_dir, tiny_model, tmp_path
):
    # Workers are spawned processes that import the script from its file: run it as users do.
    argv = [
        "--quick",
        "--fractions",
        "0.5",
        "--seeds",
        "1,2",
        "--max-test",
        "2",
        "--model",
        tiny_model,
        "--data-dir",
        str(data_dir),
        "--device",
        "cpu",
        "--batch-size",
        "2",
    ]
    parallel = tmp_path / "parallel.json"
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "low_resource.py"),
            *argv,
            "--jobs",
            "2",
            "--json",
            str(parallel),
            "--plot",
            str(tmp_path / "parallel.png"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    assert "4 runs on 2 workers" in completed.stdout
    written = json.loads(parallel.read_text())
    assert written["metadata"]["jobs"] == 2 and written["metadata"]["complete"] is True

    serial = low_resource.main(
        [*argv, "--json", str(tmp_path / "serial.json"), "--plot", str(tmp_path / "s.png")]
    )
    by_key = {low_resource._key(run): run for run in written["runs"]}
    assert set(by_key) == {low_resource._key(run) for run in serial["runs"]}
    for run in serial["runs"]:
        twin = by_key[low_resource._key(run)]
        assert "error" not in twin, twin.get("error")
        # Same seed, same subset, same CPU: the same model in either process.
        assert twin["n_train"] == run["n_train"]
        assert twin["final_train_loss"] == pytest.approx(run["final_train_loss"], rel=1e-4)
        assert twin["f1"] == pytest.approx(run["f1"])


def test_crf_baseline_runs_standalone(crf_baseline, data_dir, tmp_path):
    pytest.importorskip("sklearn_crfsuite")
    out = tmp_path / "crf.json"
    results = crf_baseline.main(
        ["--fractions", "0.5,1", "--seeds", "1,2", "--data-dir", str(data_dir), "--json", str(out)]
    )
    assert [(run["fraction"], run["seed"]) for run in results["runs"]] == [
        (0.5, 1),
        (0.5, 2),
        (1.0, 1),
        (1.0, 2),
    ]
    assert [row["n_train"] for row in results["summary"]] == [4, 8]
    # Trained on all eight sentences, the CRF tags three of them back exactly.
    assert [run["f1"] for run in results["runs"][2:]] == [1.0, 1.0]
    # Each run's scores are seqeval's on a CRF fitted here on the same subset.
    X_train, y_train = load_conll(data_dir / "conll2003" / "train.txt")
    X_test, y_test = load_conll(data_dir / "conll2003" / "test.txt")
    for run in results["runs"]:
        X_sub, y_sub = low_resource_subset(
            X_train, y_train, run["fraction"], random_state=run["seed"]
        )
        crf = crf_baseline.make_crf()
        crf.fit([crf_baseline.sentence_features(x) for x in X_sub], y_sub)
        y_pred = [list(t) for t in crf.predict([crf_baseline.sentence_features(x) for x in X_test])]
        expected = [
            score(y_test, y_pred, mode="strict", scheme=IOB2)
            for score in (precision_score, recall_score, f1_score)
        ]
        assert [run["precision"], run["recall"], run["f1"]] == pytest.approx(expected)
    for row in results["summary"]:
        f1 = [run["f1"] for run in results["runs"] if run["fraction"] == row["fraction"]]
        assert row["f1_mean"] == pytest.approx(np.mean(f1))
        assert row["f1_std"] == pytest.approx(np.std(f1, ddof=1))
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))


def test_uncased_crf_sees_no_capitals(crf_baseline, monkeypatch):
    pytest.importorskip("sklearn_crfsuite")
    seen = []
    original = crf_baseline.sentence_features

    def recording(tokens):
        seen.extend(tokens)
        return original(tokens)

    monkeypatch.setattr(crf_baseline, "sentence_features", recording)
    X = [["EU", "rejects", "German", "call"], ["Peter", "Blackburn"]]
    y = [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER"]]
    run = crf_baseline.run_crf(X, y, X, y, uncased=True, max_iterations=5)
    assert run["uncased"] is True
    assert seen and not any(char.isupper() for word in seen for char in word)
    seen.clear()
    crf_baseline.run_crf(X, y, X, y, max_iterations=5)
    assert "EU" in seen


def test_crf_features_cover_shape_and_context(crf_baseline):
    features = crf_baseline.sentence_features(["EU", "rejects", "German", "call"])
    assert features[0]["BOS"] and features[-1]["EOS"]
    assert features[0]["word.shape"] == "X"
    assert features[2]["word[-3:]"] == "man" and features[2]["word[-2:]"] == "an"
    assert features[1]["-1:word.lower"] == "eu" and features[1]["+1:word.istitle"]
    assert crf_baseline.word_shape("McDonald's") == "XxXx'x"
    assert crf_baseline.word_shape("1,000") == "d,d"


def test_missing_crfsuite_fails_with_an_install_hint(crf_baseline, low_resource, monkeypatch):
    # None in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "sklearn_crfsuite", None)
    with pytest.raises(ImportError, match="pip install sklearn-crfsuite"):
        crf_baseline.require_crfsuite()
    with pytest.raises(SystemExit, match="pip install sklearn-crfsuite"):
        crf_baseline.main(["--data-dir", "/nonexistent"])
    with pytest.raises(SystemExit, match="pip install sklearn-crfsuite"):
        low_resource.main(["--crf", "--dataset", "conll2003", "--data-dir", "/nonexistent"])


# ---------------------------------------------------------------------------
# benchmarks/relation_classification.py (issue 16): tiny SemEval and FewRel
# files and a tiny BERT (the prefix LM and the peer's frozen encoder) in tmp_path.
# ---------------------------------------------------------------------------

_RC_SENTENCES = [
    ("<e1>John</e1> joined <e2>Google</e2> .", "Member-Collection(e1,e2)"),
    ("<e1>Mary</e1> visited <e2>Paris</e2> today .", "Entity-Destination(e1,e2)"),
    ("the <e1>bank</e1> of the <e2>river</e2> .", "Component-Whole(e1,e2)"),
    ("<e1>Anna</e1> met <e2>Paul</e2> in Rome .", "Other"),
    ("<e1>Smith</e1> founded <e2>Acme</e2> .", "Product-Producer(e2,e1)"),
    ("the <e1>team</e1> of the <e2>city</e2> .", "Component-Whole(e1,e2)"),
]


@pytest.fixture
def relation_classification(monkeypatch):
    module = _load("relation_classification")
    # The tiny vocabulary knows none of the natural relation names: give each label a
    # distinct known word, so that the targets differ.
    labels = [label for _, label in _RC_SENTENCES] + [*FEWREL_SPLIT.train, *FEWREL_SPLIT.episode]
    words = "john mary smith paul anna berlin paris london rome new york google apple acme "
    words += "bank university city river team game today yesterday monday he she"
    names = dict(zip(dict.fromkeys(labels), words.split()))
    monkeypatch.setattr(module, "LABEL_NAMES", names)
    return module


@pytest.fixture
def rc_data_dir(tmp_path):
    folder = tmp_path / "data"
    semeval = folder / "semeval2010_task8"
    semeval.mkdir(parents=True)
    for name, rows in (("TRAIN_FILE.TXT", _RC_SENTENCES), ("TEST_FILE_FULL.TXT", _RC_SENTENCES)):
        blocks = [
            f'{i + 1}\t"{text}"\r\n{label}\r\nComment:\r\n\r\n'
            for i, (text, label) in enumerate(rows)
        ]
        (semeval / name).write_text("".join(blocks), newline="")
    words = "john mary paul anna smith berlin paris london rome google apple acme".split()
    relations = {}
    for r, relation in enumerate([*FEWREL_SPLIT.train, *FEWREL_SPLIT.episode]):
        relations[relation] = [
            {
                "tokens": [words[(r + i) % len(words)], "met", words[(r + i + 1) % len(words)]],
                "h": ["x", "Q1", [[0]]],
                "t": ["y", "Q2", [[2]]],
            }
            for i in range(3)
        ]
    (folder / "fewrel").mkdir()
    (folder / "fewrel" / "val_wiki.json").write_text(json.dumps(relations))
    return folder


def _rc_argv(data_dir, tiny_bert_path, tmp_path, *extra):
    return [
        "--quick",
        "--peer",
        "--model",
        tiny_bert_path,
        "--model-kind",
        "prefix-lm",
        "--data-dir",
        str(data_dir),
        "--json",
        str(tmp_path / "out" / "rc.json"),
        "--device",
        "cpu",
        "--batch-size",
        "2",
        *extra,
    ]


def test_relation_classification_semeval_runs_and_resumes(
    relation_classification, rc_data_dir, tiny_bert_path, tmp_path, capsys
):
    argv = _rc_argv(rc_data_dir, tiny_bert_path, tmp_path, "--fractions", "0.5", "--max-test", "3")
    argv += ["--strategies", "full,fish-dip"]
    results = relation_classification.main(argv)
    assert [run["strategy"] for run in results["runs"]] == ["full", "fish-dip", "peer"]
    X_train, y_train = load_semeval2010(rc_data_dir / "semeval2010_task8" / "TRAIN_FILE.TXT")
    _, y_sub = low_resource_subset(X_train, y_train, 0.5, random_state=1)
    for run in results["runs"]:
        assert "error" not in run, run.get("error")
        assert (run["dataset"], run["fraction"], run["seed"]) == ("semeval2010", 0.5, 1)
        assert (run["n_train"], run["n_test"]) == (len(y_sub), 3)
        assert 0 <= run["accuracy"] <= 1 and 0 <= run["macro_f1"] <= 1
        assert run["fit_s"] > 0 and run["n_updated_parameters"] > 0
        assert run.get("resumed_epochs", 0) == 0  # the peer has no epochs
    written = json.loads((tmp_path / "out" / "rc.json").read_text())
    assert written["metadata"]["complete"] is True
    assert [row["strategy"] for row in written["summary"]] == ["full", "fish-dip", "peer"]
    assert "mean ± std over seeds" in capsys.readouterr().out
    # The plot lands next to the JSON unless --plot names it; it is a real PNG.
    image = tmp_path / "out" / "rc.png"
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 5000
    # --resume with the same settings trains nothing again.
    again = relation_classification.main([*argv, "--resume"])
    assert [run["fit_s"] for run in again["runs"]] == [run["fit_s"] for run in results["runs"]]
    # --replot summarizes runs of several files together and trains nothing; a run found
    # twice, or files made with other settings, are refused.
    seed2 = json.loads((tmp_path / "out" / "rc.json").read_text())
    for run in seed2["runs"]:
        run["seed"], run["accuracy"] = 2, 1.0 - run["accuracy"]
    other = tmp_path / "out" / "rc_seed2.json"
    other.write_text(json.dumps(seed2))
    merged_image = tmp_path / "merged.png"
    first = str(tmp_path / "out" / "rc.json")
    merged = relation_classification.main(
        ["--replot", first, "--replot", str(other), "--plot", str(merged_image)]
    )
    assert merged_image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [row["n_seeds"] for row in merged["summary"]] == [2, 2, 2]
    assert all(abs(row["accuracy_mean"] - 0.5) < 1e-9 for row in merged["summary"])
    with pytest.raises(ValueError, match="also in an earlier file"):
        relation_classification.main(
            ["--replot", first, "--replot", first, "--plot", str(merged_image)]
        )
    seed2["metadata"]["settings"]["epochs"] = 99
    other.write_text(json.dumps(seed2))
    with pytest.raises(ValueError, match="other settings"):
        relation_classification.main(
            ["--replot", first, "--replot", str(other), "--plot", str(merged_image)]
        )


def test_relation_classification_options_reach_the_estimator_and_the_settings(
    relation_classification, capsys
):
    argv = ["--learning-rate", "0.003", "--epochs", "5", "--keep-ratio", "0.05"]
    args = relation_classification.parse_args(argv)
    estimator = relation_classification.make_estimator(args, "fish-dip", 1, "cpu")
    assert (estimator.learning_rate, estimator.max_epochs) == (0.003, 5)
    assert estimator.keep_ratio == 0.05
    settings = relation_classification.settings_of(args)
    assert (settings["learning_rate"], settings["keep_ratio"]) == (0.003, 0.05)
    # Without the option, the settings are those of files written before it existed.
    default = relation_classification.parse_args([])
    assert (
        relation_classification.make_estimator(default, "fish-dip", 1, "cpu").learning_rate is None
    )
    assert not {"learning_rate", "keep_ratio"} & set(relation_classification.settings_of(default))
    assert relation_classification.make_estimator(default, "full", 1, "cpu").keep_ratio == 0.01
    saving = relation_classification.parse_args(["--checkpoint-dir", "fits"])
    assert relation_classification.make_estimator(saving, "full", 1, "cpu").checkpoint_dir == "fits"
    settings_of = relation_classification.settings_of
    assert settings_of(saving) == settings_of(default)
    assert "autocast" not in settings_of(default)
    bf16 = relation_classification.parse_args(["--autocast", "bf16"])
    assert relation_classification.make_estimator(bf16, "full", 1, "cpu").autocast == "bf16"
    assert settings_of(bf16)["autocast"] == "bf16"
    plain = relation_classification.parse_args(["--autocast", "none"])
    assert relation_classification.make_estimator(plain, "full", 1, "cpu").autocast is None
    assert (
        relation_classification.make_estimator(default, "full", 1, "cpu").group_by_length is False
    )
    assert "group_by_length" not in settings_of(default)
    grouped = relation_classification.parse_args(["--group-by-length", "--checkpoint-dir", "f"])
    made = relation_classification.make_estimator(grouped, "full", 1, "cpu")
    assert (made.group_by_length, made.checkpoint_dir) == (True, "f")
    assert settings_of(grouped)["group_by_length"] is True
    assert default.checkpoint_dir is None
    for bad, message in (
        (["--learning-rate", "0"], "--learning-rate must be positive"),
        (["--keep-ratio", "1.5"], "--keep-ratio must be in (0, 1]"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            relation_classification.parse_args(bad)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_relation_classification_fewrel_episodes_start_from_the_base(
    relation_classification, rc_data_dir, tiny_bert_path, tmp_path, monkeypatch
):
    starts = []
    fit = FishDipRelationClassifier.fit

    def recording_fit(self, X, y):
        starts.append((self.model, sorted(set(y)), self.checkpoint_dir))
        return fit(self, X, y)

    monkeypatch.setattr(FishDipRelationClassifier, "fit", recording_fit)
    argv = _rc_argv(
        rc_data_dir, tiny_bert_path, tmp_path, "--dataset", "fewrel", "--fractions", "1"
    )
    argv += ["--n-query", "1", "--episode-settings", "5way1shot"]
    argv += ["--checkpoint-dir", str(tmp_path / "fits")]
    results = relation_classification.main(argv)
    assert [run["strategy"] for run in results["runs"]] == ["fish-dip", "peer"]
    for run in results["runs"]:
        assert "error" not in run, run.get("error")
        assert (run["setting"], run["n_way"], run["k_shot"], run["n_test"]) == (
            "5way1shot",
            5,
            1,
            5,
        )
    # The base sees the 10 training relations only; the episode starts from its saved weights.
    (base_model, base_labels, base_dir), (episode_model, episode_labels, episode_dir) = starts
    assert base_model == tiny_bert_path and base_labels == sorted(FEWREL_SPLIT.train)
    # Only the base, the long fit, saves its epochs; an episode takes seconds.
    assert (base_dir, episode_dir) == (str(tmp_path / "fits"), None)
    assert results["runs"][0]["base_resumed_epochs"] == 0
    assert episode_model != tiny_bert_path and set(episode_labels) <= set(FEWREL_SPLIT.episode)
    assert results["runs"][0]["base_n_train"] == results["runs"][0]["n_train"] == 30
    assert results["runs"][1]["n_train"] == 0 and results["runs"][1]["n_support"] == 5
    assert not Path(episode_model).exists()  # the saved base is removed at the end


# benchmarks/ranking_speed.py: tiny SemEval, SST-2 and STS-B files and a tiny GPT-2


def test_ranking_speed_times_both_ways_and_finds_the_same_scores(
    rc_data_dir, tmp_path, monkeypatch, capsys
):
    from sklearn_fishdip.generation import _ranking

    module = _load("ranking_speed")
    words = ["good", "bad", "fine", "dull", "great", "poor"]
    sst = [f"a {word} film\t{k % 2}" for k, word in enumerate(words)]
    sts_header = (
        "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore"
    )
    sts = [f"{k}\tg\tf\ty\to\ts\ts\tA {w} cat.\tA cat.\t{k % 3}.0" for k, w in enumerate(words)]
    for task, header, rows in (("SST-2", "sentence\tlabel", sst), ("STS-B", sts_header, sts)):
        (rc_data_dir / "glue" / task).mkdir(parents=True)
        for split in ("train", "dev"):
            (rc_data_dir / "glue" / task / f"{split}.tsv").write_text(
                "\n".join([header, *rows]) + "\n"
            )
    model, tokenizer = make_tiny_gpt2(n_positions=256)[:2]
    model.save_pretrained(tmp_path / "gpt2")
    tokenizer.save_pretrained(tmp_path / "gpt2")
    full_rows = []
    original = _ranking._full_row_scores
    monkeypatch.setattr(
        _ranking, "_full_row_scores", lambda *a, **k: full_rows.append(1) or original(*a, **k)
    )
    out = tmp_path / "speed.json"
    argv = ["--data", str(rc_data_dir), "--model", str(tmp_path / "gpt2"), "--n-train", "6"]
    record = module.main([*argv, "--n-test", "4", "--json", str(out)])
    rows = {row["task"]: row for row in record["results"]}
    assert set(rows) == {"semeval2010", "sst2", "stsb"}
    # Each task's baseline ran the full rows once; the shared path never did.
    assert len(full_rows) == 3
    for row in rows.values():
        assert row["n_test"] == 4 and row["n_candidates"] >= 2
        assert row["full_rows_s"] > 0 and row["shared_source_s"] > 0
        assert row["max_abs_difference"] < 1e-4
    assert rows["stsb"]["method"] == "predict" and rows["sst2"]["method"] == "predict_proba"
    saved = json.loads(out.read_text())
    assert saved["command"] and "git" in saved and len(saved["results"]) == 3
    assert "speedup" in capsys.readouterr().out


def _speed_argv(data_dir, model):
    """training_speed.py on every sentence of the tiny corpus, 2 epochs, one fit each way."""
    argv = ["--data", str(data_dir / "conll2003" / "train.txt"), "--fraction", "1.0"]
    return [*argv, "--model", model, "--model-kind", "prefix-lm", "--epochs", "2", "--repeats", "1"]


def test_training_speed_fits_both_ways_with_the_same_losses(data_dir, tiny_bert_path, tmp_path):
    module = _load("training_speed")
    out = tmp_path / "speed.json"
    argv = _speed_argv(data_dir, tiny_bert_path)
    record = module.main([*argv, "--json", str(out)])
    fits = {fit["logits"]: fit for fit in record["fits"]}
    assert set(fits) == {"selected", "full"} and record["n_train"] == len(SENTENCES)
    assert len(fits["selected"]["train_loss"]) == 2
    assert fits["selected"]["train_loss"] == pytest.approx(fits["full"]["train_loss"], rel=1e-4)
    assert record["speedup"] > 0
    saved = json.loads(out.read_text())
    assert saved["command"] and "git" in saved and saved["speedup"] == record["speedup"]


def test_training_speed_compares_bf16_with_float32(data_dir, tiny_bert_path, tmp_path, monkeypatch):
    module = _load("training_speed")
    from sklearn_fishdip import FishDipNER

    precisions = []
    real_fit = FishDipNER.fit

    def recording_fit(self, X, y):
        precisions.append(self.autocast)
        return real_fit(self, X, y)

    monkeypatch.setattr(FishDipNER, "fit", recording_fit)
    argv = _speed_argv(data_dir, tiny_bert_path)
    record = module.main([*argv, "--compare", "precision", "--json", str(tmp_path / "p.json")])
    assert precisions == ["bf16", None]
    fits = {fit["precision"]: fit for fit in record["fits"]}
    assert set(fits) == {"bf16", "float32"} and record["settings"]["compare"] == "precision"
    # The same fit up to bf16's rounding: close losses, not equal ones.
    bf16, float32 = fits["bf16"]["train_loss"], fits["float32"]["train_loss"]
    assert bf16 != float32 and bf16 == pytest.approx(float32, rel=0.05)
    assert record["speedup"] == pytest.approx(fits["float32"]["fit_s"] / fits["bf16"]["fit_s"])


def test_training_speed_compares_grouped_with_shuffled_batches(
    data_dir, tiny_bert_path, tmp_path, monkeypatch
):
    module = _load("training_speed")
    from sklearn_fishdip import FishDipNER

    grouping = []
    real_fit = FishDipNER.fit

    def recording_fit(self, X, y):
        grouping.append((self.group_by_length, self.autocast))
        return real_fit(self, X, y)

    monkeypatch.setattr(FishDipNER, "fit", recording_fit)
    argv = [*_speed_argv(data_dir, tiny_bert_path), "--batch-size", "2"]
    record = module.main([*argv, "--compare", "batching", "--json", str(tmp_path / "b.json")])
    assert grouping == [(True, "auto"), (False, "auto")]
    fits = {fit["batching"]: fit for fit in record["fits"]}
    assert set(fits) == {"by_length", "random"} and record["settings"]["compare"] == "batching"
    assert record["speedup"] == pytest.approx(fits["random"]["fit_s"] / fits["by_length"]["fit_s"])


def test_tagging_speed_tags_both_ways_alike(data_dir, tiny_bert_path, tmp_path):
    module = _load("tagging_speed")
    conll = data_dir / "conll2003"
    saved = tmp_path / "job"
    argv = ["--train", str(conll / "train.txt"), "--test", str(conll / "train.txt")]
    argv += ["--model", tiny_bert_path, "--fraction", "1.0", "--epochs", "1", "--repeats", "1"]
    record = module.main([*argv, "--save", str(saved), "--json", str(tmp_path / "t.json")])
    assert record["n_sentences"] == len(SENTENCES) and record["fit_s"] > 0
    assert [p["batches"] for p in record["predicts"]] == ["by_length", "input_order"]
    assert record["same_predictions"] and record["sentences_differing"] == 0
    loaded = module.main([*argv, "--load", str(saved), "--json", str(tmp_path / "l.json")])
    assert "fit_s" not in loaded and loaded["same_predictions"]
    assert json.loads((tmp_path / "l.json").read_text())["git"]
    # The saved model tags as the fitted one did: the digest is of the tags alone.
    assert loaded["predictions_sha256"] == record["predictions_sha256"]
    assert len(record["predictions_sha256"]) == 64
    with pytest.raises(SystemExit):
        module.parse_args(["--load", "a", "--save", "b"])


def test_tagging_speed_input_order_predicts_consecutive_batches():
    module = _load("tagging_speed")
    calls = []

    class Recorder:
        batch_size = 8

        def predict(self, X):
            calls.append(list(X))
            return [len(x) for x in X]

    X = [["w"] * n for n in range(1, 41)]
    assert module.in_input_order(Recorder(), X) == list(range(1, 41))
    # Batches of max(batch_size, 16): 16, 16 and the 8 left, in input order.
    assert calls == [X[0:16], X[16:32], X[32:40]]


def test_batch_padding_measures_real_ids_of_both_batchings(tmp_path, monkeypatch):
    module = _load("batch_padding")
    lengths = [10, 1, 9, 2, 8, 3, 7, 4]
    assert module.real_share(lengths, [[0, 1], [2, 3]]) == pytest.approx(22 / 38)
    batches = module.LengthGroupedBatches(lengths, 2, torch.Generator().manual_seed(0))
    plain, grouped = module.epoch_shares(batches, epochs=3)
    # Grouped: pairs (10, 9), (8, 7), (4, 3), (2, 1) in some order, every epoch.
    assert grouped == pytest.approx(44 / 48)
    assert 0 < plain < grouped
    # SRL trains in batches of 8: three batches of these 24 examples.
    examples = [{"input_ids": [0] * n, "labels": [1, 2]} for n in lengths * 3]
    monkeypatch.setattr(module, "training_examples", lambda *args: examples)
    out = tmp_path / "pad.json"
    record = module.main(["--dataset", "srl", "--epochs", "2", "--json", str(out)])
    (row,) = record["results"]
    assert (row["dataset"], row["n_examples"], row["max_ids"]) == ("srl", 24, 12)
    assert row["real_share_grouped"] > row["real_share_shuffled"]
    assert json.loads(out.read_text())["git"]


def test_a_method_keeps_its_colour_in_every_panel(tmp_path, monkeypatch):
    # STS-B has no SetFit bar: without one colour map for the whole figure the
    # methods after it took the next method's colour in that panel only.
    from matplotlib.axes import Axes

    plots = _load("_plots")
    drawn = []
    real_bar = Axes.bar

    def recording_bar(self, *args, **kwargs):
        drawn.append((kwargs["label"], kwargs["color"]))
        return real_bar(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "bar", recording_bar)
    bars = {"n=1000": (0.5, 0.1)}
    panels = [
        {"title": "", "ylabel": "a", "groups": ["n=1000"],
         "series": {"full": bars, "setfit": bars, "logreg": bars}},
        {"title": "", "ylabel": "b", "groups": ["n=1000"],
         "series": {"full": bars, "logreg": bars}},
    ]  # fmt: skip
    plots.draw_panels(tmp_path / "panels.png", panels)
    assert (tmp_path / "panels.png").stat().st_size > 0
    colours = {}
    for label, colour in drawn:
        colours.setdefault(label, set()).add(colour)
    assert colours == {"full": {"C0"}, "setfit": {"C1"}, "logreg": {"C2"}}
    assert len(drawn) == 5


def test_a_single_seed_gets_no_error_bar_and_the_title_says_so(tmp_path, monkeypatch):
    # A zero-length capped bar read as "no spread over seeds" when there was one seed.
    import matplotlib.pyplot as plt

    plots = _load("_plots")
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figure to read it
    panels = [
        {"title": "fewrel 5way1shot", "ylabel": "macro F1", "groups": ["0.1"],
         "series": {"fish-dip": {"0.1": (0.49, None)}, "peer": {"0.1": (0.47, None)}}},
        {"title": "semeval2010", "ylabel": "macro F1", "groups": ["0.05", "0.1"],
         "series": {"fish-dip": {"0.05": (0.40, 0.04), "0.1": (0.61, None)}}},
    ]  # fmt: skip
    plots.draw_panels(tmp_path / "panels.png", panels)

    one_seed, mixed = figures[0].axes
    assert one_seed.get_title() == "fewrel 5way1shot, one seed"
    assert mixed.get_title() == "semeval2010, mean ± std over seeds (no error bar: one seed)"

    def error_segments(ax):
        # One (x, low)-(x, high) segment per bar that has an error bar.
        return [
            segment
            for container in ax.containers
            if getattr(container, "errorbar", None) is not None
            for segment in container.errorbar.lines[2][0].get_segments()
            if len(segment)
        ]

    assert error_segments(one_seed) == []
    (segment,) = error_segments(mixed)  # 5%: three seeds; 10%: one, no bar
    np.testing.assert_allclose(segment, [[0.0, 0.36], [0.0, 0.44]])
    assert plots.spread_note({"full": {"a": (0.5, 0.1)}}) == "mean ± std over seeds"


def test_provenance_names_the_cpu_model_and_its_instruction_sets(tmp_path):
    provenance = _load("_provenance")
    core = (
        "processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n"
        "flags\t\t: fpu sse avx2 avx512f avx512bw avx512_bf16 amx_tile amx_bf16\n"
    )
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(core.format(n=0) + "\n" + core.format(n=1).replace("Xeon", "Other"))
    assert provenance.cpu_description(cpuinfo) == {
        "model": "Intel(R) Xeon(R) Processor",
        "flags": ["avx2", "avx512f", "avx512_bf16", "amx_bf16"],
    }
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu avx2 fma\n")
    assert provenance.cpu_description(cpuinfo) == {"model": "AMD EPYC 7B13", "flags": ["avx2"]}
    # Where the file cannot be read, the model falls back to platform and the flags are unknown.
    unknown = provenance.cpu_description(tmp_path / "missing")
    assert unknown["flags"] is None and unknown["model"] == (
        platform.processor() or platform.machine()
    )
    recorded = provenance.provenance(BENCHMARKS / "low_resource.py", ["--quick"])
    assert set(recorded["cpu"]) == {"model", "flags"} and recorded["cpu"]["model"]
