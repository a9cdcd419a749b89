"""Fixtures of the command-line tests: data files and models fitted once per module."""

import pytest

from sklearn_fishdip.cli._main import main
from tests.cli._helpers import FAST, _write_conll, _write_conll04
from tests.estimator_fixtures import NER_X, NER_Y, RE_X, RE_Y


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    return {
        "root": root,
        "ner": _write_conll(root / "train.txt", NER_X, NER_Y),
        "ner_tokens": _write_conll(root / "tokens.txt", NER_X[:2]),
        "re": _write_conll04(root / "train.json", RE_X, RE_Y),
        "re_tokens": _write_conll04(root / "tokens.json", RE_X[:2]),
    }


@pytest.fixture(scope="module")
def ner_model(files, tiny_t5_path):
    out = files["root"] / "ner_model"
    code = main(
        [
            "fit",
            "--task",
            "ner",
            "--train",
            files["ner"],
            "--model",
            tiny_t5_path,
            "--out",
            str(out),
        ]
        + FAST
        + ["--quiet"]
    )
    assert code == 0
    return str(out)


@pytest.fixture(scope="module")
def re_model(files, tiny_t5_path):
    out = files["root"] / "re_model"
    code = main(
        ["fit", "--task", "relations", "--train", files["re"], "--model", tiny_t5_path]
        + ["--out", str(out), "--quiet", "--optimizer", "adamw", "--lr-schedule", "constant"]
        + FAST
    )
    assert code == 0
    return str(out)
