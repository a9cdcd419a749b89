"""Text classification files: the GLUE TSVs (SST-2, RTE, MRPC, CoLA, STS-B) and the
command line's tab-separated files."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from .._files import TaskFiles

__all__ = ["GLUE_LABEL_NAMES", "GLUE_TASKS", "TextFiles", "load_glue"]

# task -> (columns of text_a and text_b (None: single text), label column, has a header).
# Column numbers count from 0; a negative one counts from the end (STS-B rows
# end with the score). Test files are unlabelled and have their own header.
_LAYOUT = {
    "SST-2": ((0, None), 1, True),
    "RTE": ((1, 2), 3, True),
    "MRPC": ((3, 4), 0, True),
    "CoLA": ((3, None), 1, False),
    "STS-B": ((7, 8), -1, True),
}
_TEST_LAYOUT = {
    "SST-2": (1, None),
    "RTE": (1, 2),
    "MRPC": (3, 4),
    "CoLA": (1, None),
    "STS-B": (7, 8),
}
GLUE_TASKS = tuple(_LAYOUT)

#: Readable natural names of the GLUE labels, for ``label_names`` (keys are
#: ``str(label)``, so they name integer labels and are saved with the estimator).
GLUE_LABEL_NAMES = {
    "SST-2": {"0": "negative", "1": "positive"},
    "RTE": {"entailment": "entailment", "not_entailment": "not entailment"},
    "MRPC": {"0": "not equivalent", "1": "equivalent"},
    "CoLA": {"0": "unacceptable", "1": "acceptable"},
}


def _task_name(task):
    if isinstance(task, str):
        wanted = task.replace("-", "").replace("_", "").lower()
        for name in GLUE_TASKS:
            if name.replace("-", "").lower() == wanted:
                return name
    raise ValueError(f"unknown GLUE task {task!r}; known tasks: {list(GLUE_TASKS)}")


def load_glue(folder, task, split="train"):
    """Read one split of a GLUE task from its TSV files.

    The files are those of GLUE's ``download_glue_data.py``:
    ``<folder>/<task>/<split>.tsv``, tab-separated, no quoting.

    Parameters
    ----------
    folder : str or path-like
        The GLUE folder, holding ``SST-2/``, ``RTE/``, ``MRPC/``, ``CoLA/``
        and ``STS-B/``.
    task : {"SST-2", "RTE", "MRPC", "CoLA", "STS-B"}
        The task; case, ``-`` and ``_`` are ignored (``"sst2"``, ``"stsb"``).
    split : {"train", "dev", "test"}, default="train"
        Test files are unlabelled.

    Returns
    -------
    X : list of str or list of (str, str)
        Texts (SST-2, CoLA) or ``(text_a, text_b)`` pairs (RTE, MRPC, STS-B).
    y : list or None
        The labels as the files write them: the integers 0 and 1 (SST-2,
        MRPC, CoLA; 1 is positive, paraphrase, acceptable), the strings
        ``"entailment"`` and ``"not_entailment"`` (RTE), or float scores
        from 0 to 5 (STS-B); None for the test split.
        :data:`GLUE_LABEL_NAMES` gives readable natural names for
        ``label_names``: negative/positive, entailment/not entailment, not
        equivalent/equivalent, unacceptable/acceptable.

    Raises
    ------
    ValueError
        If the task or split is unknown, or a row has too few columns or a
        bad label (the message starts with ``path:line:``).
    FileNotFoundError
        If the file is missing.

    Examples
    --------
    >>> from sklearn_fishdip.datasets import load_glue  # doctest: +SKIP
    >>> X, y = load_glue("../shared/data/glue", "rte", "dev")  # doctest: +SKIP
    >>> clf = FishDipTextClassifier(label_names=GLUE_LABEL_NAMES["RTE"])  # doctest: +SKIP
    """
    name = _task_name(task)
    if split not in ("train", "dev", "test"):
        raise ValueError(f"split must be 'train', 'dev' or 'test', got {split!r}")
    path = Path(folder) / name / f"{split}.tsv"
    if split == "test":
        columns, label, header = _TEST_LAYOUT[name], None, True
    else:
        columns, label, header = _LAYOUT[name]
    X, y = [], []
    # utf-8-sig: the MRPC files start with a byte-order mark.
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if (header and number == 1) or not line.strip():
                continue
            fields = line.split("\t")
            needed = max(c for c in (*columns, label) if c is not None and c >= 0) + 1
            if len(fields) < needed:
                raise ValueError(
                    f"{path}:{number}: {len(fields)} tab-separated columns, {name} needs {needed}"
                )
            texts = [fields[c] for c in columns if c is not None]
            X.append(texts[0] if len(texts) == 1 else tuple(texts))
            if label is not None:
                y.append(_label(fields[label], name, f"{path}:{number}"))
    return X, (None if label is None else y)


def _label(text, name, where):
    text = text.strip()
    try:
        if name == "STS-B":
            return float(text)
        if name == "RTE":
            if text not in ("entailment", "not_entailment"):
                raise ValueError
            return text
        value = int(text)
        if value not in (0, 1):
            raise ValueError
        return value
    except ValueError:
        raise ValueError(f"{where}: bad {name} label {text!r}") from None


# Header names of the columns TextFiles reads, lower-cased: the library's own,
# then those of the GLUE files (SST-2, RTE, MRPC, STS-B), so a GLUE dev file
# can be given as it is.
_TEXT_A_COLUMNS = ("text", "text_a", "sentence", "sentence1", "#1 string")
_TEXT_B_COLUMNS = ("text_b", "sentence2", "#2 string")
_LABEL_COLUMNS = ("label", "score", "quality")


def _column(names, accepted):
    return next((names.index(name) for name in accepted if name in names), None)


class TextFiles(TaskFiles):
    """Tab-separated text files for the command line (see :class:`~.._files.TaskFiles`).

    The first line is a header naming the columns: ``text`` (or ``text_a``
    and ``text_b`` for pairs) and ``label``; other columns are ignored. The
    GLUE files' own names are accepted too (``sentence``, ``sentence1``,
    ``sentence2``, ``#1 String``, ``#2 String``, ``score``, ``Quality``), so
    the SST-2, RTE, MRPC and STS-B files are read as they are; CoLA's have no
    header and need one. Labels are read as strings, or as numbers for the
    regressor (``regression=True``).

    ``write`` writes the text columns and a ``prediction`` column (and the
    gold ``label`` when known), with a header.
    """

    description = "tab-separated files with a header: text (or text_a, text_b), label"
    output = "writes the text columns and a 'prediction' column, tab-separated, with a header."

    def __init__(self, regression=False):
        self.regression = regression
        self.report = (
            "Pearson and Spearman correlations and R2."
            if regression
            else "accuracy, macro F1 and the Matthews correlation."
        )

    def read(self, path, *, gold):
        path = os.fspath(path)
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = handle.readline().rstrip("\r\n")
            names = [name.strip().lower() for name in header.split("\t")]
            first, second = _column(names, _TEXT_A_COLUMNS), _column(names, _TEXT_B_COLUMNS)
            label = _column(names, _LABEL_COLUMNS)
            if first is None:
                raise ValueError(
                    f"{path}:1: the header names no text column (text, or text_a and text_b); "
                    f"got {header[:80]!r}"
                )
            if gold and label is None:
                raise ValueError(f"{path}:1: the header names no label column; got {header[:80]!r}")
            needed = max(c for c in (first, second, label) if c is not None) + 1
            X, y = [], []
            for number, line in enumerate(handle, start=2):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                fields = line.split("\t")
                if len(fields) < needed:
                    raise ValueError(
                        f"{path}:{number}: {len(fields)} tab-separated columns, the header "
                        f"asks for {needed}"
                    )
                texts = [fields[c].strip() for c in (first, second) if c is not None]
                if not all(texts):
                    raise ValueError(f"{path}:{number}: an empty text")
                X.append(texts[0] if len(texts) == 1 else tuple(texts))
                if label is not None:
                    y.append(self._label(fields[label].strip(), f"{path}:{number}"))
        return X, (y if label is not None else None)

    def _label(self, text, where):
        if not text:
            raise ValueError(f"{where}: an empty label")
        if not self.regression:
            return text
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValueError(f"{where}: the label {text!r} is not a finite number")
        return value

    def write(self, out, X, predicted, gold=None):
        """The texts, the ``prediction`` (and the gold ``label``), one row per item."""
        pairs = bool(X) and not isinstance(X[0], str)
        columns = ["text_a", "text_b"] if pairs else ["text"]
        columns += ["prediction"] + (["label"] if gold is not None else [])
        out.write("\t".join(columns) + "\n")
        for index, (x, prediction) in enumerate(zip(X, predicted)):
            texts = list(x) if pairs else [x]
            row = [*texts, _format_label(prediction)]
            if gold is not None:
                row.append(_format_label(gold[index]))
            out.write("\t".join(row) + "\n")

    def scores(self, estimator, y_true, y_pred):
        """Classifier: ``accuracy``, ``macro_f1``, ``matthews``; regressor: ``pearson``,
        ``spearman``, ``r2``."""
        from scipy.stats import pearsonr, spearmanr
        from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef, r2_score

        if self.regression:
            y_true, y_pred = [float(v) for v in y_true], [float(v) for v in y_pred]
            result = {
                "pearson": float(pearsonr(y_true, y_pred)[0]),
                "spearman": float(spearmanr(y_true, y_pred)[0]),
                "r2": float(r2_score(y_true, y_pred)),
            }
        else:
            # Labels compared as the file writes them: a model fitted on the
            # integers 0 and 1 scores a file that reads "0" and "1".
            y_true, y_pred = [str(v) for v in y_true], [_format_label(v) for v in y_pred]
            result = {
                "accuracy": float(accuracy_score(y_true, y_pred)),
                "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
                "matthews": float(matthews_corrcoef(y_true, y_pred)),
            }
        text = "  ".join(f"{name} {value:.4f}" for name, value in result.items()) + "\n"
        return {**result, "text": text}


def _format_label(value):
    value = value.item() if isinstance(value, np.generic) else value
    return f"{value:.4f}" if isinstance(value, float) else str(value)
