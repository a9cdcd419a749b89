"""Helpers of the command-line tests: data files, in-process runs, error checks."""

import json

from sklearn_fishdip.augmented._schemes import spans_to_tags
from sklearn_fishdip.cli._main import main

# Small and fast: the tiny model trains in well under a second.
FAST = ["--epochs", "2", "--batch-size", "4", "--keep-ratio", "0.05", "--refresh-every", "2"]


def _write_conll(path, X, y=None):
    lines = ["-DOCSTART- -X- O O", ""]
    for index, tokens in enumerate(X):
        for position, token in enumerate(tokens):
            lines.append(token if y is None else f"{token} NNP O {y[index][position]}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _write_conll04(path, X, y=None):
    records = []
    for index, tokens in enumerate(X):
        record = {"tokens": tokens}
        if y is not None:
            record["tags"] = spans_to_tags(y[index]["entities"], len(tokens), "BILOU")
            record["relations"] = [
                {"head": h, "tail": t, "type": r} for h, t, r in y[index]["relations"]
            ]
        records.append(record)
    path.write_text(json.dumps(records))
    return str(path)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _check_error(code, out, err, *fragments):
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    assert lines[0].startswith("fishdip: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
