"""SemEval-2010 Task 8 files on the command line: SemEvalFiles and fishdip fit/predict/evaluate."""

import io
import json

import pytest

from sklearn_fishdip import FishDipRelationClassifier
from sklearn_fishdip.cli._main import main
from sklearn_fishdip.tasks.relation_classification import SemEvalFiles, load_semeval2010

# Two labels whose names the tiny word-level tokenizer tells apart ("other" is
# one unknown word, "cause effect" two).
LABELLED = (
    '11\t"<e1>John</e1> met <e2>Mary</e2> ."\nOther\nComment:\n\n'
    '12\t"the <e1>river</e1> joined the <e2>city</e2> ."\nCause-Effect(e1,e2)\nComment:\n\n'
    '13\t"<e1>Anna</e1> visited <e2>Paris</e2> today ."\nOther\nComment: x\n\n'
    '14\t"the <e1>game</e1> joined the <e2>team</e2> ."\nCause-Effect(e1,e2)\nComment:\n\n'
)
UNLABELLED = '21\t"<e1>John</e1> met <e2>Mary</e2> ."\n22\t"a <e1>river</e1> , a <e2>city</e2>"\n'


@pytest.fixture
def semeval(tmp_path):
    path = tmp_path / "TRAIN_FILE.TXT"
    path.write_bytes(LABELLED.replace("\n", "\r\n").encode())
    unlabelled = tmp_path / "TEST_FILE.TXT"
    unlabelled.write_text(UNLABELLED)
    return str(path), str(unlabelled)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_read_keeps_the_sentence_ids(semeval):
    labelled, unlabelled = semeval
    X, y = SemEvalFiles().read(labelled, gold=True)
    assert [x["id"] for x in X] == ["11", "12", "13", "14"]
    assert y == ["Other", "Cause-Effect(e1,e2)", "Other", "Cause-Effect(e1,e2)"]
    # Otherwise the same examples as load_semeval2010.
    assert [{k: v for k, v in x.items() if k != "id"} for x in X] == load_semeval2010(labelled)[0]
    X, y = SemEvalFiles().read(unlabelled, gold=False)
    assert y is None and [x["id"] for x in X] == ["21", "22"]
    assert X[1] == {"tokens": ["a", "river", ",", "a", "city"], "head": (1, 2), "tail": (4, 5),
                    "id": "22"}  # fmt: skip
    # Labels are needed to evaluate: the unlabelled file is then refused, with its line.
    with pytest.raises(ValueError, match=r"TEST_FILE.TXT:1: expected a block of 3 lines"):
        SemEvalFiles().read(unlabelled, gold=True)


def test_write_and_scores():
    out = io.StringIO()
    X = [{"tokens": ["a"], "id": "8001"}, {"tokens": ["b"]}]
    SemEvalFiles().write(out, X, ["Other", "Cause-Effect(e2,e1)"])
    assert out.getvalue() == "8001\tOther\n2\tCause-Effect(e2,e1)\n"
    y_true = ["Cause-Effect(e1,e2)", "Other", "Cause-Effect(e2,e1)"]
    scores = SemEvalFiles().scores(None, y_true, ["Cause-Effect(e1,e2)", "Other", "Other"])
    assert scores["accuracy"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 / 3)  # P 1, R 1/2
    assert "official score" in scores["text"]


def test_fit_predict_evaluate(semeval, tiny_t5_path, tmp_path, capsys):
    labelled, unlabelled = semeval
    model = tmp_path / "model"
    code, _, err = _run(
        capsys,
        "fit", "--task", "relation_classification", "--train", labelled, "--dev", labelled,
        "--model", tiny_t5_path, "--epochs", "2", "--batch-size", "4", "--out", model, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    estimator = FishDipRelationClassifier.load(model)
    output = tmp_path / "answers.txt"
    code, _, err = _run(capsys, "predict", "--model", model, "--input", unlabelled,
                        "--output", output)  # fmt: skip
    assert code == 0, err
    X, _ = SemEvalFiles().read(unlabelled, gold=False)
    expected = estimator.predict(X)
    assert output.read_text() == f"21\t{expected[0]}\n22\t{expected[1]}\n"
    code, out, err = _run(capsys, "evaluate", "--model", model, "--test", labelled, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["task"] == "relation_classification" and result["n_sentences"] == 4
    X, y = load_semeval2010(labelled)
    assert result["accuracy"] == pytest.approx(estimator.score(X, y))
    assert set(result) >= {"precision", "recall", "f1", "decode_errors"}


def test_a_malformed_file_exits_2_with_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text('1\t"<e1>John</e1> met Mary"\nOther\nComment:\n')
    code, _, err = _run(
        capsys, "fit", "--task", "relation_classification", "--train", bad, "--out", tmp_path / "m"
    )
    assert code == 2
    assert f"{bad}:1: sentence 1: no <e2> entity" in err
