"""Text classification files on the command line: TextFiles and fishdip fit/predict/evaluate."""

import io
import json

import pytest

from sklearn_fishdip import FishDipTextClassifier
from sklearn_fishdip.cli._main import main
from sklearn_fishdip.tasks.text_classification import TextFiles

TEXTS = (
    "text\tlabel\nJohn visited Paris\t1\nPaul met Anna\t0\nMary visited Rome\t1\nthey met Mary\t0\n"
)
# GLUE's RTE layout: the index and other columns are ignored.
PAIRS = (
    "index\tsentence1\tsentence2\tlabel\r\n"
    "0\tJohn visited\tParis\tentailment\r\n"
    "1\tPaul met\tAnna\tnot_entailment\r\n"
)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_read_texts_pairs_and_numbers(tmp_path):
    texts, pairs, scores = tmp_path / "t.tsv", tmp_path / "p.tsv", tmp_path / "s.tsv"
    texts.write_text(TEXTS)
    pairs.write_bytes(("\ufeff" + PAIRS).encode())  # MRPC's files start with a byte-order mark
    scores.write_text("sentence1\tsentence2\tscore\na cat\ta dog\t3.2\n")
    X, y = TextFiles().read(texts, gold=True)
    assert X[:2] == ["John visited Paris", "Paul met Anna"] and y == ["1", "0", "1", "0"]
    X, y = TextFiles().read(pairs, gold=False)
    assert X == [("John visited", "Paris"), ("Paul met", "Anna")]
    assert y == ["entailment", "not_entailment"]
    assert TextFiles(regression=True).read(scores, gold=True) == ([("a cat", "a dog")], [3.2])
    unlabelled = tmp_path / "u.tsv"
    unlabelled.write_text("text\nJohn met Anna\n")
    assert TextFiles().read(unlabelled, gold=False) == (["John met Anna"], None)


@pytest.mark.parametrize(
    ("content", "gold", "regression", "message"),
    [
        ("id\tlabel\n1\t0\n", False, False, r":1: the header names no text column"),
        ("text\nJohn met Anna\n", True, False, r":1: the header names no label column"),
        ("text\tlabel\nJohn met Anna\t0\nno label\n", True, False, r":3: 1 tab-separated"),
        ("text\tlabel\n \t0\n", True, False, r":2: an empty text"),
        ("text\tlabel\nJohn\t\n", True, False, r":2: an empty label"),
        ("text\tscore\nJohn\tfive\n", True, True, r":2: the label 'five' is not a finite"),
        ("text\tscore\nJohn\tnan\n", True, True, r":2: the label 'nan' is not a finite"),
    ],
)
def test_malformed_files_name_the_file_and_line(tmp_path, content, gold, regression, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        TextFiles(regression=regression).read(path, gold=gold)
    assert str(error.value).startswith(str(path))


def test_write_and_scores():
    out = io.StringIO()
    TextFiles().write(out, [("a", "b"), ("c", "d")], [1, 0], gold=["1", "1"])
    assert out.getvalue() == "text_a\ttext_b\tprediction\tlabel\na\tb\t1\t1\nc\td\t0\t1\n"
    out = io.StringIO()
    TextFiles(regression=True).write(out, ["a"], [2.5])
    assert out.getvalue() == "text\tprediction\na\t2.5000\n"
    # Integer predictions against the file's string labels still match.
    scores = TextFiles().scores(None, ["1", "0", "1", "0"], [1, 0, 0, 0])
    assert scores["accuracy"] == pytest.approx(0.75)
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert scores["matthews"] == pytest.approx(1 / 3**0.5)
    scores = TextFiles(regression=True).scores(None, [1.0, 2.0, 3.0], [1.5, 2.0, 3.5])
    assert scores["pearson"] == pytest.approx(2 / (2 * 13 / 6) ** 0.5)
    assert scores["spearman"] == pytest.approx(1.0)
    assert "pearson" in scores["text"]


def test_fit_predict_evaluate(tiny_t5_path, tmp_path, capsys):
    train = tmp_path / "train.tsv"
    train.write_text(TEXTS)
    model = tmp_path / "model"
    code, out, err = _run(
        capsys,
        "fit", "--task", "text_classification", "--train", train, "--dev", train,
        "--model", tiny_t5_path, "--epochs", "2", "--batch-size", "4", "--out", model,
        "--label-name", "0=met", "--label-name", "1=visited", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "accuracy" in out and "matthews" in out
    estimator = FishDipTextClassifier.load(model)
    assert estimator.label_names == {"0": "met", "1": "visited"}
    assert list(estimator.classes_) == ["0", "1"]
    output = tmp_path / "predicted.tsv"
    code, _, err = _run(capsys, "predict", "--model", model, "--input", train, "--output", output)
    assert code == 0, err
    X, y = TextFiles().read(train, gold=True)
    expected = estimator.predict(X)
    rows = [line.split("\t") for line in output.read_text().splitlines()]
    assert rows[0] == ["text", "prediction", "label"]
    assert [row[1] for row in rows[1:]] == list(expected)
    assert [row[2] for row in rows[1:]] == y
    code, out, err = _run(capsys, "evaluate", "--model", model, "--test", train, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["task"] == "text_classification" and result["n_sentences"] == 4
    assert result["accuracy"] == pytest.approx(estimator.score(X, y))


def test_bad_files_and_label_names_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\nJohn met Anna\n")
    argv = ["fit", "--task", "text_classification", "--train", bad, "--out", tmp_path / "m"]
    code, _, err = _run(capsys, *argv)
    assert code == 2 and f"{bad}:2: 1 tab-separated columns" in err
    code, _, err = _run(capsys, *argv, "--label-name", "negative")
    assert code == 2 and "expected LABEL=NAME, got 'negative'" in err
