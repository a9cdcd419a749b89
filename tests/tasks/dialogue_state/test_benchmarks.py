"""The copy baseline and the MultiWOZ entry of the low-resource benchmark, on tiny files."""

import importlib.util
import json
from pathlib import Path

import pytest

from ._data import write_multiwoz

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_dst_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def copy_baseline():
    return _load("dst_copy_baseline")


def _ontology(tmp_path):
    path = tmp_path / "ontology.json"
    path.write_text(
        json.dumps(
            {
                "hotel-price range": ["cheap", "expensive", "do n't care"],
                "hotel-area": ["north", "north east", "east"],
                "hotel-type": ["guest house", "hotel"],
                "restaurant-area": ["north", "east"],
                "taxi-leave at": ["10:15"],
                "hospital-department": ["neurology"],
            }
        )
    )
    return path


def test_copy_baseline_copies_the_latest_verbatim_mention(copy_baseline, tmp_path):
    ontology = copy_baseline.load_ontology(_ontology(tmp_path))
    assert ("hotel", "pricerange") in ontology and ("taxi", "leaveat") in ontology
    assert not any(domain == "hospital" for domain, _ in ontology)
    assert "dontcare" not in ontology[("hotel", "pricerange")]
    peer = copy_baseline.CopyBaseline(ontology)
    history = [
        ("user", "A cheap hotel in the east please"),
        ("system", "North-East or north ?"),
        ("user", "North east , sorry"),
    ]
    # restaurant is never mentioned: its area is not copied; "north east" beats "north"
    assert peer.predict_one(history) == {
        ("hotel", "pricerange"): "cheap",
        ("hotel", "area"): "north east",
        ("hotel", "type"): "hotel",
    }
    assert peer.predict_one([("user", "a guest house")]) == {("hotel", "type"): "guest house"}


def test_copy_baseline_script_writes_json_with_provenance(copy_baseline, tmp_path, capsys):
    _ontology(tmp_path)
    write_multiwoz(tmp_path / "test.json")
    out = tmp_path / "result.json"
    results = copy_baseline.main(["--data-dir", str(tmp_path), "--json", str(out)])
    assert json.loads(out.read_text()) == results
    assert results["metadata"]["command"].startswith("python ")
    assert "git" in results["metadata"]
    record = results["copy_baseline"]
    assert record["n_dialogues"] == 2 and record["n_turns"] == 3
    assert 0.0 <= record["joint_goal_accuracy"] <= 1.0
    assert "copy baseline" in capsys.readouterr().out
    one = copy_baseline.main(
        ["--data-dir", str(tmp_path), "--json", str(out), "--max-dialogues", "1"]
    )
    assert one["copy_baseline"]["n_turns"] == 2
    # --max-test keeps the first N user turns, the ones low_resource.py --max-test scores.
    first = copy_baseline.main(["--data-dir", str(tmp_path), "--json", str(out), "--max-test", "1"])
    assert first["copy_baseline"]["n_turns"] == 1 and first["copy_baseline"]["n_dialogues"] == 1
    with pytest.raises(SystemExit):
        copy_baseline.main(["--data-dir", str(tmp_path), "--json", str(out), "--max-test", "0"])


def test_low_resource_draws_whole_dialogues():
    low_resource = _load("low_resource")
    spec = low_resource.DATASETS["multiwoz"]
    assert spec["task"] == "dialogue_state" and spec["fractions"] == (0.005, 0.01, 0.05)
    # 500 fake dialogues of 3 user turns each
    X = [tuple(("user", "x") for _ in range(2 * turn + 1)) for _ in range(500) for turn in range(3)]
    y = [{("hotel", "area"): str(i)} for i in range(len(X))]
    for fraction, n_dialogues in [(0.005, 42), (0.01, 84), (0.05, 422)]:
        X_sub, y_sub = spec["subset"](X, y, fraction, 1)
        assert sum(len(history) == 1 for history in X_sub) == n_dialogues
        assert len(X_sub) == 3 * n_dialogues
    assert spec["subset"](X, y, 0.01, 1) == spec["subset"](X, y, 0.01, 1)
