"""Semantic role labeling: a sentence and one of its predicates in, argument spans out.

The folder holds the task's files (``_io``: the PropBank ``gold_conll`` reader
and the BIO tag conversions) and its scores (``_metrics``: argument precision,
recall and F1 as the CoNLL-2005 scorer ``srl-eval.pl`` counts them). The
task's codec and estimator are to come.
"""

from ._io import load_propbank_srl, srl_spans_to_tags, srl_tags_to_spans
from ._metrics import srl_f1_score, srl_precision_recall_f1

__all__ = [
    "load_propbank_srl",
    "srl_f1_score",
    "srl_precision_recall_f1",
    "srl_spans_to_tags",
    "srl_tags_to_spans",
]
