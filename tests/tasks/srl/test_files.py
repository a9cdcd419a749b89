"""SRL through the registry-driven command line: PropBank files in, BIO columns out."""

import json

import pytest

from sklearn_fishdip import FishDipSRL
from sklearn_fishdip.tasks.srl import load_propbank_srl, srl_spans_to_tags
from tests.cli._helpers import FAST, _check_error, _run

# Label codes that the tiny tokenizer can write: an unknown code keeps its raw name.
SENTENCES = [
    ("John visited Paris today".split(), 1, [(0, 1, "person"), (2, 3, "location")]),
    ("Mary met Anna".split(), 1, [(0, 1, "person"), (2, 3, "location")]),
    ("Paul joined Google".split(), 1, [(0, 1, "person"), (2, 3, "location")]),
]


def _cells(n_tokens, predicate, spans):
    cells = ["*"] * n_tokens
    for start, end, label in [*spans, (predicate, predicate + 1, "V")]:
        cells[start] = f"({label}" + cells[start]
        cells[end - 1] = cells[end - 1] + ")"
    return cells


def _write_propbank(path):
    lines = []
    for number, (tokens, predicate, spans) in enumerate(SENTENCES):
        cells = _cells(len(tokens), predicate, spans)
        for position, token in enumerate(tokens):
            lemma, roleset = ("visit", "visit.01") if position == predicate else ("-", "-")
            lines.append(
                f"doc\t{number}\t{position}\t{token}\tNN\t*\t{lemma}\t{roleset}\t{cells[position]}"
            )
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def propbank(tmp_path_factory):
    return _write_propbank(tmp_path_factory.mktemp("srl_cli") / "train.gold_conll")


@pytest.fixture(scope="module")
def srl_model(propbank, tiny_t5_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("srl_cli_model") / "model"
    code = _run_quiet(
        ["fit", "--task", "srl", "--train", propbank, "--model", tiny_t5_path, "--out", str(out)]
        + FAST
        + ["--quiet"]
    )
    assert code == 0
    return str(out)


def _run_quiet(argv):
    from sklearn_fishdip.cli._main import main

    return main(argv)


def test_the_file_reads_back(propbank):
    X, y = load_propbank_srl(propbank)
    assert X == [(tokens, predicate) for tokens, predicate, _ in SENTENCES]
    assert y == [spans for _, _, spans in SENTENCES]


def test_predict_writes_bio_columns(propbank, srl_model, tmp_path, capsys):
    estimator = FishDipSRL.load(srl_model)
    output = tmp_path / "pred.txt"
    code, _, err = _run(
        capsys, "predict", "--model", srl_model, "--input", propbank, "--output", output
    )
    assert code == 0, err
    blocks = output.read_text().rstrip("\n").split("\n\n")
    X = [(tokens, predicate) for tokens, predicate, _ in SENTENCES]
    expected = estimator.predict(X)
    assert len(blocks) == len(SENTENCES)
    for (tokens, predicate, gold), found, block in zip(SENTENCES, expected, blocks):
        rows = [line.split("\t") for line in block.split("\n")]
        assert [row[0] for row in rows] == tokens
        assert [row[1] for row in rows] == [
            "V" if i == predicate else "-" for i in range(len(tokens))
        ]
        assert [row[2] for row in rows] == srl_spans_to_tags(len(tokens), gold)
        assert [row[3] for row in rows] == srl_spans_to_tags(len(tokens), found)


def test_evaluate_reports_the_srl_scores(propbank, srl_model, capsys):
    code, out, err = _run(capsys, "evaluate", "--model", srl_model, "--test", propbank)
    assert code == 0, err
    assert "overall" in out and "precision" in out
    code, out, err = _run(capsys, "evaluate", "--model", srl_model, "--test", propbank, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["task"] == "srl" and result["n_sentences"] == len(SENTENCES)
    X, y = load_propbank_srl(propbank)
    assert result["micro"]["f1"] == pytest.approx(FishDipSRL.load(srl_model).score(X, y))


def test_a_malformed_file_exits_2_with_the_file_and_line(tmp_path, tiny_t5_path, capsys):
    bad = tmp_path / "bad.gold_conll"
    bad.write_text(
        "doc\t0\t0\tJohn\tNN\t*\t-\t-\t(ARG0*)\ndoc\t0\t1\tvisited\tVB\t*\tvisit\tvisit.01\t(V*\n"
    )
    code, out, err = _run(
        capsys, "fit", "--task", "srl", "--train", bad, "--model", tiny_t5_path,
        "--out", tmp_path / "m",
    )  # fmt: skip
    _check_error(code, out, err, f"{bad}:2:", "never closed")
    bad.write_text("doc\t0\t0\tJohn\tNN\n")
    code, out, err = _run(capsys, "fit", "--task", "srl", "--train", bad, "--out", tmp_path / "m")
    _check_error(code, out, err, f"{bad}:1:", "columns")
    assert not (tmp_path / "m").exists()


def test_an_argument_over_the_predicate_exits_2_naming_the_file(tmp_path, tiny_t5_path, capsys):
    bad = tmp_path / "over.gold_conll"
    bad.write_text(
        "doc\t0\t0\tJohn\tNN\t*\t-\t-\t(ARG0*\n"
        "doc\t0\t1\tvisited\tVB\t*\tvisit\tvisit.01\t*)\n"
        "doc\t0\t2\tParis\tNN\t*\t-\t-\t(V*)\n"
    )
    code, out, err = _run(
        capsys, "fit", "--task", "srl", "--train", bad, "--model", tiny_t5_path,
        "--out", tmp_path / "m", "--quiet",
    )  # fmt: skip
    _check_error(code, out, err, f"{bad}: y[0]:", "covers the predicate")
