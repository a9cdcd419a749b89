"""Named entity recognition: token lists in, tags (or spans) out.

The folder holds the task's codec (``_codec``: tags and spans <-> augmented
text), its estimator, its files (``_io``: CoNLL reader and writer) and its
scores (``_metrics``).
"""

from ._codec import (
    NERCodec,
    decode_ner,
    decode_ner_spans,
    encode_ner,
    encode_ner_spans,
    resolve_overlaps,
)
from ._estimator import FishDipNER
from ._io import CoNLLFiles, load_conll
from ._metrics import (
    entity_f1_score,
    entity_precision_recall_f1,
    ner_classification_report,
    ner_f1_scorer,
)

__all__ = [
    "CoNLLFiles",
    "FishDipNER",
    "NERCodec",
    "decode_ner",
    "decode_ner_spans",
    "encode_ner",
    "encode_ner_spans",
    "entity_f1_score",
    "entity_precision_recall_f1",
    "load_conll",
    "ner_classification_report",
    "ner_f1_scorer",
    "resolve_overlaps",
]
