"""The GLUE TSV files of SST-2, RTE, MRPC, CoLA and STS-B."""

from __future__ import annotations

from pathlib import Path

__all__ = ["GLUE_LABEL_NAMES", "GLUE_TASKS", "load_glue"]

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
