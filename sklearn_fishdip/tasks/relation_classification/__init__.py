"""Sentence-level relation classification: a sentence with a marked head and tail entity in,
one relation label out.

The folder holds the task's files (``_io``: the SemEval-2010 Task 8 and FewRel
readers; ``_episodes``: the N-way K-shot episode sampler and the fixed FewRel
relation split)
and its scores (``_metrics``: the official SemEval-2010 Task 8 score). The
task's codec and estimator are to come.
"""

from ._episodes import FEWREL_SPLIT, sample_episodes
from ._io import load_fewrel, load_semeval2010
from ._metrics import semeval2010_f1_score, semeval2010_precision_recall_f1

__all__ = [
    "FEWREL_SPLIT",
    "load_fewrel",
    "load_semeval2010",
    "sample_episodes",
    "semeval2010_f1_score",
    "semeval2010_precision_recall_f1",
]
