"""Smoke test of benchmarks/glue_low_resource.py on tiny TSVs and a tiny model."""

import importlib.util
import json
from pathlib import Path

import pytest

from sklearn_fishdip.utils._testing import make_tiny_gpt2

from ...estimator_fixtures import global_rng_untouched  # noqa: F401

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "glue_low_resource.py"


def _load():
    spec = importlib.util.spec_from_file_location("_bench_glue_low_resource", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def test_quick_run_writes_scores_and_provenance(tmp_path):
    bench = _load()
    words = ["good", "bad", "fine", "dull", "great", "poor", "nice", "awful"]
    sst = [f"a {word} film\t{k % 2}" for k, word in enumerate(words)]
    _write(tmp_path / "glue" / "SST-2" / "train.tsv", "sentence\tlabel", sst * 2)
    _write(tmp_path / "glue" / "SST-2" / "dev.tsv", "sentence\tlabel", sst)
    header = (
        "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore"
    )
    sts = [f"{k}\tg\tf\ty\to\ts\ts\tA {w} cat.\tA cat.\t{k % 5}.0" for k, w in enumerate(words)]
    _write(tmp_path / "glue" / "STS-B" / "train.tsv", header, sts * 2)
    _write(tmp_path / "glue" / "STS-B" / "dev.tsv", header, sts)
    model, tokenizer = make_tiny_gpt2(n_positions=256)[:2]
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    out = tmp_path / "out.json"
    report = bench.main(
        [
            "--quick",
            "--data-dir",
            str(tmp_path / "glue"),
            "--tasks",
            "SST-2,STS-B",
            "--sizes",
            "8",
            "--methods",
            "full,fish-dip",
            "--model",
            str(tmp_path / "model"),
            "--json",
            str(out),
        ]
    )
    saved = json.loads(out.read_text())
    assert saved["results"] == json.loads(json.dumps(report["results"]))
    assert "git" in saved and saved["command"]
    found = {(row["task"], row["method"]): row for row in saved["results"]}
    assert set(found) == {(t, m) for t in ("SST-2", "STS-B") for m in ("full", "fish-dip")}
    assert set(found["SST-2", "full"]["summary"]) == {"accuracy"}
    assert set(found["STS-B", "fish-dip"]["summary"]) == {"pearson", "spearman"}
    assert found["SST-2", "full"]["runs"][0]["seed"] == 1


def test_resume_keeps_finished_runs_and_adds_the_missing(tmp_path, capsys, monkeypatch):
    bench = _load()
    built = []

    def recording(**params):
        built.append(params)
        return bench.FishDipTextClassifier.__wrapped__(**params)

    recording.__wrapped__ = bench.FishDipTextClassifier
    monkeypatch.setattr(bench, "FishDipTextClassifier", recording)
    words = ["good", "bad", "fine", "dull", "great", "poor", "nice", "awful"]
    sst = [f"a {word} film\t{k % 2}" for k, word in enumerate(words)]
    _write(tmp_path / "glue" / "SST-2" / "train.tsv", "sentence\tlabel", sst * 2)
    _write(tmp_path / "glue" / "SST-2" / "dev.tsv", "sentence\tlabel", sst)
    model, tokenizer = make_tiny_gpt2(n_positions=256)[:2]
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    out = tmp_path / "out.json"
    common = [
        "--quick",
        "--data-dir",
        str(tmp_path / "glue"),
        "--tasks",
        "SST-2",
        "--sizes",
        "8",
        "--model",
        str(tmp_path / "model"),
        "--json",
        str(out),
        "--threads",
        "1",
    ]
    first = bench.main([*common, "--methods", "full"])
    (full_run,) = first["results"][0]["runs"]
    plot = tmp_path / "plot.png"
    second = bench.main([*common, "--methods", "full,fish-dip", "--resume", "--plot", str(plot)])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    found = {row["method"]: row for row in second["results"]}
    assert set(found) == {"full", "fish-dip"}
    # The finished run is carried over as it was (same wall time), not run again.
    assert found["full"]["runs"] == [full_run]
    assert json.loads(out.read_text())["results"] == json.loads(json.dumps(second["results"]))
    assert "full" in capsys.readouterr().out
    # Other training settings: nothing is carried over.
    third = bench.main([*common, "--methods", "full", "--resume", "--keep-ratio", "0.5"])
    assert third["results"][0]["runs"][0]["seconds"] != full_run["seconds"]
    # A strategy's own optimizer is one of its settings, and reaches the estimator.
    fourth = bench.main(
        [*common, "--methods", "full", "--resume", "--keep-ratio", "0.5",
         "--optimizer-for", "full=adamw", "--learning-rate", "full=1e-3"]
    )  # fmt: skip
    (run,) = fourth["results"][0]["runs"]
    assert run["settings"]["optimizer"] == "adamw" and run["settings"]["learning_rate"] == "0.001"
    assert run["seconds"] != third["results"][0]["runs"][0]["seconds"]
    assert (built[-1]["optimizer"], built[-1]["learning_rate"]) == ("adamw", 1e-3)
    assert (built[0]["optimizer"], built[0]["learning_rate"]) == ("adafactor", None)


def test_subsets_are_stratified_and_seeded():
    bench = _load()
    X, y = [f"t{k}" for k in range(100)], [k % 4 == 0 for k in range(100)]
    X_small, y_small = bench.subset("SST-2", X, y, 20, seed=1)
    assert len(X_small) == 20 and sum(y_small) == 5
    assert bench.subset("SST-2", X, y, 20, seed=1) == (X_small, y_small)
    assert bench.task_scores("CoLA", [0, 1], [0, 1]) == {"matthews": 1.0}
    assert set(bench.task_scores("MRPC", [0, 1], [0, 1])) == {"accuracy", "f1"}


def _report(rows):
    return {
        "results": [
            {
                "task": task,
                "size": 500,
                "method": method,
                "runs": [{"seed": 1, "seconds": 1.0, metric: value}],
                "summary": {metric: {"mean": value, "std": None}},
            }
            for task, method, metric, value in rows
        ]
    }


def test_replot_merges_slices_without_running_anything(tmp_path, capsys):
    bench = _load()
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(_report([("RTE", "logreg", "accuracy", 0.55)])))
    second.write_text(
        json.dumps(_report([("MRPC", "setfit", "f1", 0.8), ("RTE", "full", "accuracy", 0.51)]))
    )
    image = tmp_path / "merged.png"
    report = bench.main(["--replot", str(first), "--replot", str(second), "--plot", str(image)])
    # Tasks in the order first seen, methods in the script's order (strategies, then peers).
    assert [(row["task"], row["method"]) for row in report["results"]] == [
        ("RTE", "full"),
        ("RTE", "logreg"),
        ("MRPC", "setfit"),
    ]
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "setfit" in capsys.readouterr().out
    # A row in two files is refused: which one to draw is not clear.
    with pytest.raises(ValueError, match="also in an earlier file"):
        bench.main(["--replot", str(first), "--replot", str(first), "--plot", str(image)])
    with pytest.raises(SystemExit):
        bench.main(["--replot", str(first)])  # no --plot


def test_replot_draws_only_the_sizes_asked_for(tmp_path):
    bench = _load()
    report = _report([("SST-2", "setfit", "accuracy", 0.79), ("SST-2", "full", "accuracy", 0.77)])
    report["results"][0]["size"] = 1000
    path, image = tmp_path / "a.json", tmp_path / "a.png"
    path.write_text(json.dumps(report))
    both = bench.main(["--replot", str(path), "--plot", str(image)])
    assert [(row["size"], row["method"]) for row in both["results"]] == [
        (500, "full"),
        (1000, "setfit"),
    ]
    only = bench.main(["--replot", str(path), "--sizes", "1000", "--plot", str(image)])
    assert [(row["size"], row["method"]) for row in only["results"]] == [(1000, "setfit")]
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


PEER_X = ["a good film", "a bad film", "a fine film", "a dull film"] * 2
PEER_Y = [1, 0, 1, 0] * 2
PEER_PAIRS = [("a cat sits", "a cat"), ("a dog runs", "the sky")] * 4
PEER_SCORES = [4.0, 0.5] * 4


def test_fine_tuned_head_peer_is_seeded_and_answers_every_dev_item(tiny_bert_path):
    bench = _load()
    args = bench.parse_args(["--minilm", tiny_bert_path, "--max-epochs", "2"])
    args.batch_size = 4
    first = bench.run_head("SST-2", PEER_X, PEER_Y, PEER_X[:3], args, seed=1)
    again = bench.run_head("SST-2", PEER_X, PEER_Y, PEER_X[:3], args, seed=1)
    assert first == again and len(first) == 3 and set(first) <= {0, 1}
    scores = bench.run_head("STS-B", PEER_PAIRS, PEER_SCORES, PEER_PAIRS[:2], args, seed=1)
    assert len(scores) == 2 and all(isinstance(float(s), float) for s in scores)


def test_frozen_encoder_and_setfit_peers_run_on_a_local_checkpoint(tiny_bert_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("setfit")
    bench = _load()
    args = bench.parse_args(["--minilm", tiny_bert_path, "--setfit-iterations", "1"])
    labels = bench.run_logreg("SST-2", PEER_X, PEER_Y, PEER_X[:3], args, seed=1)
    assert len(labels) == 3 and set(labels) <= {0, 1}
    # Pairs are featurized as [u, v, |u - v|, u * v]; STS-B gets a ridge regression.
    scores = bench.run_logreg("STS-B", PEER_PAIRS, PEER_SCORES, PEER_PAIRS[:2], args, seed=1)
    assert len(scores) == 2 and scores[0] != scores[1]
    assert bench.run_setfit("STS-B", PEER_PAIRS, PEER_SCORES, PEER_PAIRS, args, seed=1) is None
    predicted = bench.run_setfit("SST-2", PEER_X, PEER_Y, PEER_X[:3], args, seed=1)
    assert len(predicted) == 3 and set(predicted) <= {0, 1}
