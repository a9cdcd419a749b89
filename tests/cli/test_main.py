"""The fishdip command line, run in-process (one subprocess checks ``python -m``)."""

import json
import subprocess
import sys

import pytest

from sklearn_fishdip import FishDipNER, FishDipRelationExtractor
from sklearn_fishdip.datasets import load_conll, load_spert
from tests.cli._helpers import FAST, _check_error, _run
from tests.estimator_fixtures import NER_X, NER_Y, RE_X, RE_Y

# The data files and fitted models (files, ner_model, re_model) are in conftest.py.

# --------------------------------------------------------------------------- #
# End to end
# --------------------------------------------------------------------------- #


def test_fit_ner_with_dev_subset_and_progress(files, tiny_t5_path, tmp_path, capsys):
    code, out, err = _run(
        capsys,
        "fit", "--task", "ner", "--train", files["ner"], "--dev", files["ner"],
        "--model", tiny_t5_path, "--fraction", "0.5", "--seed", "1", "--out", tmp_path, *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert "on 3 sentences" in err  # round(0.5 * 6)
    assert "dev scores" in out and "micro avg" in out
    assert f"saved to {tmp_path}" in err
    estimator = FishDipNER.load(tmp_path)
    assert estimator.verbose == 1 and estimator.random_state == 1
    assert estimator.get_params()["keep_ratio"] == 0.05
    assert (estimator.optimizer, estimator.lr_schedule) == ("adafactor", "linear")
    assert (estimator.model_kind, estimator.training_loss) == ("auto", "auto")
    assert estimator.training_loss_ == "full"  # "auto" on an encoder-decoder


def test_fit_takes_the_model_kind_and_training_loss(files, tiny_t5_path, tmp_path, capsys):
    code, out, err = _run(
        capsys,
        "fit", "--task", "ner", "--train", files["ner"], "--model", tiny_t5_path,
        "--model-kind", "seq2seq", "--training-loss", "grammar", "--out", tmp_path, *FAST,
    )  # fmt: skip
    assert code == 0, err
    estimator = FishDipNER.load(tmp_path)
    assert (estimator.model_kind, estimator.training_loss) == ("seq2seq", "grammar")
    assert estimator.training_loss_ == "grammar"
    code, _, err = _run(
        capsys,
        "fit", "--task", "ner", "--train", files["ner"], "--model", tiny_t5_path,
        "--model-kind", "prefix-lm", "--out", tmp_path / "bad", *FAST,
    )  # fmt: skip
    assert code == 2 and "prefix-lm" in err


def test_fit_saves_epochs_in_the_checkpoint_dir(files, tiny_t5_path, tmp_path, capsys):
    fits = tmp_path / "fits"
    code, _, err = _run(
        capsys,
        "fit", "--task", "ner", "--train", files["ner"], "--model", tiny_t5_path,
        "--checkpoint-dir", fits, "--out", tmp_path / "m", *FAST,
    )  # fmt: skip
    assert code == 0, err
    assert FishDipNER.load(tmp_path / "m").checkpoint_dir == str(fits)
    # The folder was made for the fit, whose file is gone once it completed.
    assert fits.is_dir() and list(fits.iterdir()) == []


def test_fit_passes_autocast(files, tiny_t5_path, tmp_path, capsys):
    for option, expected in (("bf16", "bf16"), ("none", None)):
        code, _, err = _run(
            capsys,
            "fit", "--task", "ner", "--train", files["ner"], "--model", tiny_t5_path,
            "--autocast", option, "--out", tmp_path / option, *FAST,
        )  # fmt: skip
        assert code == 0, err
        assert FishDipNER.load(tmp_path / option).autocast == expected
    code, _, err = _run(
        capsys,
        "fit", "--task", "ner", "--train", files["ner"], "--model", tiny_t5_path,
        "--autocast", "fp16", "--out", tmp_path / "bad", *FAST,
    )  # fmt: skip
    assert code == 2 and "--autocast" in err


def test_fit_passes_group_by_length(files, tiny_t5_path, tmp_path, capsys):
    for extra, expected in (((), False), (("--group-by-length",), True)):
        code, _, err = _run(
            capsys,
            "fit", "--task", "ner", "--train", files["ner"], "--model", tiny_t5_path,
            *extra, "--out", tmp_path / str(expected), *FAST,
        )  # fmt: skip
        assert code == 0, err
        assert FishDipNER.load(tmp_path / str(expected)).group_by_length is expected


def test_predict_ner_writes_conll_columns(files, ner_model, tmp_path, capsys):
    estimator = FishDipNER.load(ner_model)
    output = tmp_path / "pred.txt"
    code, _, err = _run(
        capsys, "predict", "--model", ner_model, "--input", files["ner"], "--output", output
    )
    assert code == 0, err
    sentences = output.read_text().rstrip("\n").split("\n\n")
    assert len(sentences) == len(NER_X)
    expected = estimator.predict(NER_X)
    for tokens, gold, predicted, block in zip(NER_X, NER_Y, expected, sentences):
        assert [line.split() for line in block.split("\n")] == [
            list(row) for row in zip(tokens, gold, predicted)
        ]
    # The output reads back as a CoNLL file whose last column is the prediction.
    assert load_conll(output) == (NER_X, expected)

    # Bare tokens in, token and prediction out, to standard output.
    code, out, err = _run(capsys, "predict", "--model", ner_model, "--input", files["ner_tokens"])
    assert code == 0, err
    blocks = out.rstrip("\n").split("\n\n")
    assert [[line.split() for line in block.split("\n")] for block in blocks] == [
        [[t, p] for t, p in zip(tokens, tags)] for tokens, tags in zip(NER_X[:2], expected[:2])
    ]


def test_evaluate_ner_report_and_json(files, ner_model, capsys):
    code, out, err = _run(capsys, "evaluate", "--model", ner_model, "--test", files["ner"])
    assert code == 0, err
    assert "precision" in out and "micro avg" in out and "PER" in out
    code, out, err = _run(
        capsys, "evaluate", "--model", ner_model, "--test", files["ner"], "--json", "--task", "ner"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["task"] == "ner" and result["n_sentences"] == len(NER_X)
    assert set(result["micro"]) == {"precision", "recall", "f1"}
    assert "PER" in result["report"]
    estimator = FishDipNER.load(ner_model)
    assert result["micro"]["f1"] == pytest.approx(estimator.score(NER_X, NER_Y))
    code, out, err = _run(
        capsys, "evaluate", "--model", ner_model, "--test", files["ner"], "--json", "--limit", "2"
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["n_sentences"] == 2
    assert result["micro"]["f1"] == pytest.approx(estimator.score(NER_X[:2], NER_Y[:2]))


def test_fit_predict_evaluate_relations(files, re_model, tmp_path, capsys):
    estimator = FishDipRelationExtractor.load(re_model)
    output = tmp_path / "pred.json"
    code, _, err = _run(
        capsys, "predict", "--model", re_model, "--input", files["re_tokens"], "--output", output
    )
    assert code == 0, err
    records = json.loads(output.read_text())
    assert [r["tokens"] for r in records] == RE_X[:2]
    assert all(set(r) == {"tokens", "tags", "relations"} for r in records)
    # A valid CoNLL04 file: BILOU tags and relations over the entities in order.
    X, y = load_spert(output)
    assert X == RE_X[:2]
    for got, predicted in zip(y, estimator.predict(RE_X[:2])):
        assert set(got["entities"]) <= set(predicted["entities"])

    code, out, err = _run(capsys, "evaluate", "--model", re_model, "--test", files["re"])
    assert code == 0, err
    assert out.startswith("entities ") and "\nrelations " in out
    code, out, err = _run(capsys, "evaluate", "--model", re_model, "--test", files["re"], "--json")
    result = json.loads(out)
    assert set(result) >= {"task", "entities", "relations", "decode_errors"}
    assert result["relations"]["f1"] == pytest.approx(estimator.score(RE_X, RE_Y))


# --------------------------------------------------------------------------- #
# Errors: one line, exit status 2
# --------------------------------------------------------------------------- #


def test_missing_training_file(tmp_path, capsys):
    missing = tmp_path / "missing.txt"
    code, out, err = _run(
        capsys, "fit", "--task", "ner", "--train", missing, "--out", tmp_path / "m"
    )
    _check_error(code, out, err, f"{missing}: cannot read the file")


def test_malformed_conll_line(tmp_path, tiny_t5_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("John B-PER\nvisited O\nParis\n")
    code, out, err = _run(
        capsys, "fit", "--task", "ner", "--train", bad, "--model", tiny_t5_path,
        "--out", tmp_path / "m",
    )  # fmt: skip
    _check_error(code, out, err, f"{bad}:3:")
    bad.write_text("John B-PER\nvisited O\nParis LOC\n")
    code, out, err = _run(
        capsys, "fit", "--task", "ner", "--train", bad, "--model", tiny_t5_path,
        "--out", tmp_path / "m",
    )  # fmt: skip
    _check_error(code, out, err, f"{bad}:3:", "malformed tag")
    assert not (tmp_path / "m").exists()


def test_invalid_json(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('[\n{"tokens": ["a"] "tags": ["O"]}\n]\n')
    code, out, err = _run(
        capsys, "fit", "--task", "relations", "--train", bad, "--out", tmp_path / "m"
    )
    _check_error(code, out, err, f"{bad}:2: not valid JSON")


def test_malformed_conll04_sentence(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"tokens": ["a", "b"], "tags": ["U-Peop"]}]))
    code, out, err = _run(
        capsys, "fit", "--task", "relations", "--train", bad, "--out", tmp_path / "m"
    )
    _check_error(code, out, err, f"{bad}: sentence 0")


def test_fit_passes_optimizer_and_schedule(re_model):
    estimator = FishDipRelationExtractor.load(re_model)
    assert (estimator.optimizer, estimator.lr_schedule) == ("adamw", "constant")


def test_wrong_task_for_the_saved_model(files, ner_model, re_model, capsys):
    # A file of the other task's format.
    code, out, err = _run(capsys, "evaluate", "--model", ner_model, "--test", files["re"])
    _check_error(code, out, err, f"{files['re']}:1: looks like JSON", "ner model")
    code, out, err = _run(capsys, "predict", "--model", re_model, "--input", files["ner"])
    _check_error(code, out, err, f"{files['ner']}:1: not valid JSON")
    # A model folder of the other task.
    code, out, err = _run(
        capsys, "predict", "--model", ner_model, "--input", files["re"], "--task", "relations"
    )
    _check_error(code, out, err, f"{ner_model}: holds a ner model")


def test_evaluate_needs_gold_tags(files, ner_model, capsys):
    code, out, err = _run(capsys, "evaluate", "--model", ner_model, "--test", files["ner_tokens"])
    _check_error(code, out, err, f"{files['ner_tokens']}:3: expected a token and a tag")


def test_bare_tokens_file_with_a_stray_column(tmp_path, ner_model, capsys):
    bad = tmp_path / "tokens.txt"
    bad.write_text("John\nvisited\nParis B-LOC\n")
    code, out, err = _run(capsys, "predict", "--model", ner_model, "--input", bad)
    _check_error(code, out, err, f"{bad}:3: expected one token per line")


def test_not_a_model_folder(files, tmp_path, capsys):
    code, out, err = _run(capsys, "predict", "--model", tmp_path, "--input", files["ner"])
    _check_error(code, out, err, f"{tmp_path}: not a saved sklearn-fishdip estimator")
    code, out, err = _run(capsys, "evaluate", "--model", tmp_path / "no", "--test", files["ner"])
    _check_error(code, out, err, "no such folder")


def test_unwritable_output(files, ner_model, tmp_path, capsys):
    output = tmp_path / "missing_dir" / "pred.txt"
    code, out, err = _run(
        capsys, "predict", "--model", ner_model, "--input", files["ner"], "--output", output
    )
    _check_error(code, out, err, f"{output}: cannot write the file")


def test_usage_errors_exit_2(capsys):
    code, _, err = _run(capsys, "fit", "--task", "pos", "--train", "x", "--out", "y")
    assert code == 2 and "invalid choice" in err
    code, _, err = _run(
        capsys, "fit", "--task", "ner", "--train", "x", "--out", "y", "--epochs", "0"
    )
    assert code == 2 and "positive integer" in err
    code, _, err = _run(capsys)
    assert code == 2


# --------------------------------------------------------------------------- #
# Help
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("command", [[], ["fit"], ["predict"], ["evaluate"]])
def test_help(command, capsys):
    code, out, _ = _run(capsys, *command, "--help")
    assert code == 0
    assert out.startswith(f"usage: fishdip {' '.join(command)}".rstrip())


def test_python_dash_m_help():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_fishdip", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: fishdip")
    for command in ("fit", "predict", "evaluate"):
        assert command in result.stdout
