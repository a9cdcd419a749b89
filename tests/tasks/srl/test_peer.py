"""The SRL peer of the benchmarks (benchmarks/srl_peer.py): features, lemmas and a run."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from sklearn_fishdip.tasks.srl import load_propbank_srl

from .test_io import SENTENCE_0, SENTENCE_1, TOKENS_0, _lines, _write

pytest.importorskip("sklearn_crfsuite")

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


@pytest.fixture(scope="module")
def srl_peer():
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("_bench_srl_peer", BENCHMARKS / "srl_peer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _corpus(tmp_path, copies, name):
    lines = []
    for k in range(copies):
        lines += _lines(SENTENCE_0, 2 * k) + [""] + _lines(SENTENCE_1, 2 * k + 1) + [""]
    return _write(tmp_path, lines, name)


def test_lemmas_line_up_with_the_predicates(srl_peer, tmp_path):
    path = _corpus(tmp_path, 2, "ewt.dev.gold_conll")
    X, _ = load_propbank_srl(path)
    assert srl_peer.predicate_lemmas(path) == ["turn", "supporter"] * 2
    assert [p for _, p in X] == [3, 8] * 2


def test_features_say_where_the_predicate_is(srl_peer):
    features = srl_peer.srl_features(TOKENS_0, 3, "turn")
    assert [f["pred.distance"] for f in features[:5]] == ["-3", "-2", "-1", "0", "1"]
    assert (features[10]["pred.distance"], features[14]["pred.distance"]) == ("+6..10", "+>10")
    assert srl_peer.srl_features(["w"] * 30, 0, "x")[20]["pred.distance"] == "+>10"
    assert [f["pred.position"] for f in features[2:5]] == ["before", "on", "after"]
    assert features[0]["pred.lemma+position"] == "turn|before"
    assert features[4]["word+position"] == "it|after"
    # crf_baseline's word features are kept.
    assert features[0]["word.lower"] == "the" and features[0]["BOS"] is True


def test_a_run_learns_the_arguments_and_writes_provenance(srl_peer, tmp_path):
    _corpus(tmp_path, 10, "ewt.train.gold_conll")
    _corpus(tmp_path, 1, "ewt.test.gold_conll")
    out = tmp_path / "peer.json"
    results = srl_peer.main(
        ["--data-dir", str(tmp_path), "--fractions", "1.0", "--seeds", "1", "--json", str(out)]
    )
    (run,) = results["runs"]
    assert run["n_train"] == 20 and run["n_test"] == 2
    # Ten copies of each predicate's arguments: the CRF reproduces them.
    assert run["f1"] == pytest.approx(1.0)
    saved = json.loads(out.read_text())
    assert saved["metadata"]["command"].split()[:2] == ["python", str(BENCHMARKS / "srl_peer.py")]
    assert "commit" in (saved["metadata"]["git"] or {"commit": None})
    assert saved["summary"][0]["f1_mean"] == run["f1"]


def test_the_peer_leaves_out_the_predicates_fishdip_refuses(srl_peer, tmp_path, monkeypatch):
    # The generative benchmark drops predicates an argument of which covers them
    # (FishDipSRL refuses those); the peer must draw from the same pool, or one
    # seed permutes a longer list and draws other predicates.
    from _srl_predicates import accepted_predicates

    X = [(TOKENS_0, 3), (TOKENS_0, 3), (TOKENS_0, 8)]
    y = [[(0, 2, "ARG0")], [(2, 5, "ARG1")], [(8, 9, "ARG1")]]
    assert accepted_predicates(X, y) == [0]

    _corpus(tmp_path, 10, "ewt.train.gold_conll")
    _corpus(tmp_path, 1, "ewt.test.gold_conll")

    def with_one_covering(path, *args, **kwargs):
        X, y = load_propbank_srl(path, *args, **kwargs)
        if path.name == "ewt.train.gold_conll":
            predicate, y = X[0][1], [list(spans) for spans in y]
            y[0].append((predicate, predicate + 1, "ARGM-ADV"))
        return X, y

    monkeypatch.setattr(srl_peer, "load_propbank_srl", with_one_covering)
    results = srl_peer.main(
        [
            "--data-dir",
            str(tmp_path),
            "--fractions",
            "1.0",
            "--seeds",
            "1",
            "--json",
            str(tmp_path / "peer.json"),
        ]
    )
    assert results["runs"][0]["n_train"] == 19
