"""Sentence-level relation classification: a sentence with a marked head and tail entity in,
one relation label out.

The folder holds the task's codec (``_codec``: examples and labels <-> TANL's
augmented text), its estimator (``_estimator``), its files (``_io``: the
SemEval-2010 Task 8 and FewRel readers and the command line's SemEval files;
``_episodes``: the N-way K-shot episode sampler and the fixed FewRel relation
split) and its scores (``_metrics``: the official SemEval-2010 Task 8 score).
"""

from ._codec import (
    RelationClassificationCodec,
    check_relation_inputs,
    decode_relation_label,
    encode_relation_example,
    relation_verbalizer,
)
from ._episodes import FEWREL_SPLIT, sample_episodes
from ._estimator import FishDipRelationClassifier
from ._io import SemEvalFiles, load_fewrel, load_semeval2010
from ._metrics import (
    semeval2010_f1_score,
    semeval2010_precision_recall_f1,
    semeval2010_scorer,
)

__all__ = [
    "FEWREL_SPLIT",
    "FishDipRelationClassifier",
    "RelationClassificationCodec",
    "SemEvalFiles",
    "check_relation_inputs",
    "decode_relation_label",
    "encode_relation_example",
    "load_fewrel",
    "load_semeval2010",
    "relation_verbalizer",
    "sample_episodes",
    "semeval2010_f1_score",
    "semeval2010_precision_recall_f1",
    "semeval2010_scorer",
]
