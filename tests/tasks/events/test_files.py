"""Events through the registry-driven command line: JSON lines in, JSON lines out."""

import json

import pytest

from sklearn_fishdip import FishDipEventExtractor
from sklearn_fishdip.tasks.events._io import read_event_lines
from tests.cli._helpers import FAST, _check_error, _run

RECORDS = [
    {
        "tokens": "john met mary".split(),
        "events": [{"trigger": [1, 2, "Meet"], "arguments": [[0, 1, "Agent"]]}],
    },
    {
        "tokens": "paul visited paris".split(),
        "events": [{"trigger": [1, 2, "Visit"], "arguments": [[2, 3, "Place"]]}],
    },
    {"tokens": "he said".split(), "events": []},
]
NAMES = ["Meet=works", "Visit=lives", "Agent=person", "Place=location", "__argument__=organization"]


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("events_cli") / "train.jsonl", RECORDS)


@pytest.fixture(scope="module")
def model(data, tiny_t5_path, tmp_path_factory):
    from sklearn_fishdip.cli._main import main

    out = tmp_path_factory.mktemp("events_cli_model") / "model"
    names = [arg for name in NAMES for arg in ("--label-name", name)]
    argv = ["fit", "--task", "events", "--train", data, "--model", tiny_t5_path, "--out", str(out)]
    assert main(argv + FAST + names + ["--quiet"]) == 0
    return str(out)


def test_the_file_reads_back(data, tmp_path):
    X, y = read_event_lines(data, gold=True)
    assert X == [r["tokens"] for r in RECORDS]
    assert y[0] == [{"trigger": (1, 2, "Meet"), "arguments": [(0, 1, "Agent")]}]
    plain = _write(tmp_path / "plain.jsonl", [{"tokens": r["tokens"]} for r in RECORDS])
    assert read_event_lines(plain, gold=False) == (X, None)


def test_predict_writes_json_lines(data, model, tmp_path, capsys):
    output = tmp_path / "pred.jsonl"
    code, _, err = _run(capsys, "predict", "--model", model, "--input", data, "--output", output)
    assert code == 0, err
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["tokens"] for line in lines] == [r["tokens"] for r in RECORDS]
    X = [r["tokens"] for r in RECORDS]
    expected = FishDipEventExtractor.load(model).predict(X)
    assert [len(line["events"]) for line in lines] == [len(e) for e in expected]


def test_evaluate_reports_the_event_scores(data, model, capsys):
    code, out, err = _run(capsys, "evaluate", "--model", model, "--test", data, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["task"] == "events"
    X, y = read_event_lines(data, gold=True)
    expected = FishDipEventExtractor.load(model).score(X, y)
    assert result["argument_classification"]["f1"] == pytest.approx(expected)
    code, out, err = _run(capsys, "evaluate", "--model", model, "--test", data)
    assert code == 0, err
    assert "trigger_classification" in out


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("not json", "Expecting value"),
        ('{"tokens": ["a"], "events": [{"trigger": [0, 5, "T"], "arguments": []}]}', "outside"),
        ('{"events": []}', '"tokens"'),
    ],
)
def test_a_malformed_file_exits_2_with_the_file_and_line(
    tmp_path, tiny_t5_path, capsys, line, fragment
):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(RECORDS[0]) + "\n" + line + "\n")
    code, out, err = _run(
        capsys, "fit", "--task", "events", "--train", bad, "--model", tiny_t5_path,
        "--out", tmp_path / "m",
    )  # fmt: skip
    _check_error(code, out, err, f"{bad}:2:", fragment)
    assert not (tmp_path / "m").exists()
