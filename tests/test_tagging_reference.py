"""Smoke tests of benchmarks/tagging_reference.py on a tiny BERT and tiny CoNLL files."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from sklearn_fishdip.utils._testing import make_tiny_bert2bert

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

SENTENCES = [
    ("John visited Paris", "B-PER O B-LOC"),
    ("Mary joined Google in London", "B-PER O B-ORG O B-LOC"),
    ("Paul met Anna in Rome", "B-PER O B-PER O B-LOC"),
    ("Smith founded Acme", "B-PER O B-ORG"),
    ("they visited New York", "O O B-LOC I-LOC"),
    ("Anna said he met John", "B-PER O O O B-PER"),
]


@pytest.fixture(scope="module")
def tagging_reference():
    spec = importlib.util.spec_from_file_location(
        "_bench_tagging_reference", BENCHMARKS / "tagging_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    model, tokenizer, _ = make_tiny_bert2bert(seed=0, hidden_size=32, dropout_rate=0.0)
    path = tmp_path_factory.mktemp("tiny_bert")
    model.encoder.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def _data():
    X = [text.split() for text, _ in SENTENCES]
    y = [tags.split() for _, tags in SENTENCES]
    return X, y


def test_tagger_learns_its_training_sentences_reproducibly(tagging_reference, tiny_bert):
    X, y = _data()
    before = torch.random.get_rng_state()
    params = dict(seed=3, model=tiny_bert, learning_rate=3e-3, epochs=60, batch_size=2)
    first = tagging_reference.run_tagger(X, y, X, y, **params)
    # The caller's global RNG is left as it was (the run forks it).
    assert torch.equal(torch.random.get_rng_state(), before)
    # A working loop memorizes six sentences; a broken one (no labels on the
    # first pieces, no optimizer step) stays near chance, far below this.
    assert first["f1"] >= 0.9, first
    assert first["final_train_loss"] < 0.1
    assert (first["n_train"], first["n_test"]) == (6, 6)
    again = tagging_reference.run_tagger(X, y, X, y, **params)
    assert again["f1"] == first["f1"]
    assert again["final_train_loss"] == pytest.approx(first["final_train_loss"], rel=1e-6)


def test_words_past_max_length_are_tagged_o(tagging_reference, tiny_bert):
    X, y = _data()
    long_sentence = [X[0] * 20]
    result = tagging_reference.run_tagger(
        X, y, long_sentence, [y[0] * 20], seed=0, model=tiny_bert, epochs=1, max_length=16
    )
    # 14 word pieces fit (16 minus [CLS]/[SEP]): the rest are "O", so recall is low but
    # the run completes and precision is computed over what was tagged.
    assert result["n_test"] == 1 and 0.0 <= result["recall"] < 0.5


def test_command_line_writes_json_with_provenance(tagging_reference, tiny_bert, tmp_path):
    folder = tmp_path / "conll2003"
    folder.mkdir()
    for name, rows in (("train.txt", SENTENCES * 10), ("test.txt", SENTENCES[:3])):
        lines = []
        for text, tags in rows:
            lines += [f"{w} {t}" for w, t in zip(text.split(), tags.split())] + [""]
        (folder / name).write_text("\n".join(lines) + "\n")
    out = tmp_path / "ref.json"
    argv = ["--data-dir", str(tmp_path), "--fractions", "0.5", "--seeds", "1,2"]
    argv += ["--model", tiny_bert, "--epochs", "2", "--json", str(out)]
    results = tagging_reference.main(argv)
    written = json.loads(out.read_text())
    assert written["metadata"]["complete"] is True
    assert written["metadata"]["command"].endswith(" ".join(argv))
    assert set(written["metadata"]["git"]) == {"commit", "dirty"}
    assert [(r["fraction"], r["seed"], r["n_train"]) for r in written["runs"]] == [
        (0.5, 1, 30),
        (0.5, 2, 30),
    ]
    (row,) = results["summary"]
    assert row["n_seeds"] == 2
    assert row["f1_mean"] == pytest.approx(sum(r["f1"] for r in written["runs"]) / 2)


def test_bad_options_exit_with_usage(tagging_reference):
    with pytest.raises(SystemExit) as exit_info:
        tagging_reference.parse_args(["--epochs", "0"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        tagging_reference.parse_args(["--dataset", "nope"])
