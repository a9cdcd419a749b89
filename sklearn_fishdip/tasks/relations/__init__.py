"""Joint entity and relation extraction: token lists in, entities and relations out.

The folder holds the task's codec (``_codec``: targets <-> augmented text,
``_validation``: target checks), its estimator, its files (``_io``: CoNLL04
JSON reader and writer) and its scores (``_metrics``).
"""

from ._codec import (
    RelationsCodec,
    ambiguous_relations,
    canonical_target,
    decode_relations,
    encode_relations,
)
from ._estimator import FishDipRelationExtractor
from ._io import CoNLL04Files, load_spert
from ._metrics import relation_f1_score, relation_f1_scorer, relation_precision_recall_f1

__all__ = [
    "CoNLL04Files",
    "FishDipRelationExtractor",
    "RelationsCodec",
    "ambiguous_relations",
    "canonical_target",
    "decode_relations",
    "encode_relations",
    "load_spert",
    "relation_f1_score",
    "relation_f1_scorer",
    "relation_precision_recall_f1",
]
