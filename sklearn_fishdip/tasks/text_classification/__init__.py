"""Text and text-pair classification and regression (GLUE): texts in, one label or number out.

The folder holds the task's codec (``_codec``: texts, pairs, labels and
scores <-> augmented text), its estimators (``_estimator``:
:class:`FishDipTextClassifier`, :class:`FishDipTextRegressor`) and its files
(``_io``: the GLUE TSV reader and the command line's files).
"""

from ._codec import (
    PAIR_FORMAT,
    TextClassificationCodec,
    TextRegressionCodec,
    check_texts,
    class_verbalizer,
    format_source,
    score_grid,
)
from ._estimator import FishDipTextClassifier, FishDipTextRegressor
from ._io import GLUE_LABEL_NAMES, GLUE_TASKS, TextFiles, load_glue

__all__ = [
    "GLUE_LABEL_NAMES",
    "GLUE_TASKS",
    "PAIR_FORMAT",
    "FishDipTextClassifier",
    "FishDipTextRegressor",
    "TextClassificationCodec",
    "TextFiles",
    "TextRegressionCodec",
    "check_texts",
    "class_verbalizer",
    "format_source",
    "load_glue",
    "score_grid",
]
