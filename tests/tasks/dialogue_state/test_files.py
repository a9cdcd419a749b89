"""Dialogue state tracking through the command line: MultiWOZ JSON in, JSON states out."""

import json

import pytest

from sklearn_fishdip import FishDipDialogueStateTracker
from sklearn_fishdip.datasets import load_multiwoz
from tests.cli._helpers import FAST, _check_error, _run

from ._data import DIALOGUES, write_multiwoz


@pytest.fixture(scope="module")
def multiwoz(tmp_path_factory):
    return write_multiwoz(tmp_path_factory.mktemp("dst_cli") / "val.json")


@pytest.fixture(scope="module")
def dst_model(multiwoz, tiny_t5_path, tmp_path_factory):
    from sklearn_fishdip.cli._main import main

    out = tmp_path_factory.mktemp("dst_cli_model") / "model"
    argv = [
        "fit",
        "--task",
        "dialogue_state",
        "--train",
        multiwoz,
        "--model",
        tiny_t5_path,
        "--out",
        str(out),
        *FAST,
        "--quiet",
    ]
    assert main(argv) == 0
    return str(out)


def test_predict_writes_json_states(multiwoz, dst_model, tmp_path, capsys):
    output = tmp_path / "pred.json"
    code, _, err = _run(
        capsys, "predict", "--model", dst_model, "--input", multiwoz, "--output", output
    )
    assert code == 0, err
    rows = json.loads(output.read_text())
    X, y = load_multiwoz(multiwoz)
    expected = FishDipDialogueStateTracker.load(dst_model).predict(X)
    assert [row["user"] for row in rows] == [history[-1][1] for history in X]
    assert [row["predicted"] for row in rows] == [
        {f"{d}-{s}": v for (d, s), v in sorted(state.items())} for state in expected
    ]


def test_evaluate_reports_joint_goal_accuracy(multiwoz, dst_model, capsys):
    code, out, err = _run(capsys, "evaluate", "--model", dst_model, "--test", multiwoz, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["task"] == "dialogue_state"
    X, y = load_multiwoz(multiwoz)
    assert result["joint_goal_accuracy"] == pytest.approx(
        FishDipDialogueStateTracker.load(dst_model).score(X, y)
    )
    assert 0.0 <= result["slot_accuracy"] <= 1.0


def test_a_malformed_file_exits_2_naming_file_dialogue_and_turn(tmp_path, tiny_t5_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"MUL1": {"log": [{"text": "hi"}, {"text": 5}]}}))
    code, out, err = _run(
        capsys,
        "fit",
        "--task",
        "dialogue_state",
        "--train",
        bad,
        "--model",
        tiny_t5_path,
        "--out",
        tmp_path / "m",
    )
    _check_error(code, out, err, str(bad), "dialogue 'MUL1', turn 1")
    assert not (tmp_path / "m").exists()


def test_fit_fraction_draws_whole_dialogues(tmp_path):
    files = FishDipDialogueStateTracker.files
    dialogues = {f"D{i}.json": DIALOGUES["D1.json"] for i in range(10)}
    X, y = load_multiwoz(write_multiwoz(tmp_path / "val.json", dialogues))
    X_kept, y_kept = files.subset(X, y, 0.3, random_state=1)
    # 3 of the 10 two-turn dialogues, each whole, as load_multiwoz samples them
    assert (X_kept, y_kept) == load_multiwoz(tmp_path / "val.json", n_dialogues=3, random_state=1)
    assert len(X_kept) == 6 and [len(h) for h in X_kept] == [1, 3] * 3
    assert len(files.subset(X, y, 0.01, random_state=1)[0]) == 2  # at least one dialogue
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\], got 1.5"):
        files.subset(X, y, 1.5)


@pytest.mark.parametrize("seed", ["1", "2"])
def test_the_command_line_fits_on_whole_dialogues(multiwoz, tiny_t5_path, tmp_path, seed):
    from sklearn_fishdip.cli._main import main

    out = tmp_path / "model"
    argv = ["fit", "--task", "dialogue_state", "--train", multiwoz, "--fraction", "0.5"]
    argv += ["--seed", seed, "--model", tiny_t5_path, "--out", str(out), *FAST, "--quiet"]
    assert main(argv) == 0
    # one of the two dialogues, all of its turns: the values seen are exactly its own
    seen = FishDipDialogueStateTracker.load(str(out)).slot_values_
    hotel = {"hotel": {"book people": ["2"], "area": ["north"], "pricerange": ["cheap"]}}
    assert seen in (hotel, {"taxi": {"leaveat": ["10:15"]}})
