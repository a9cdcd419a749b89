"""Semantic role labeling: a sentence and one of its predicates in, argument spans out.

The folder holds the task's codec (``_codec``: arguments <-> augmented text,
the predicate bracketed in the source), its estimator (``_estimator``:
:class:`FishDipSRL`), its files (``_io``: the PropBank ``gold_conll`` reader,
the prediction writer and the BIO tag conversions) and its scores
(``_metrics``: argument precision, recall and F1 as the CoNLL-2005 scorer
``srl-eval.pl`` counts them).
"""

from ._codec import SRL_LABEL_NAMES, SRLCodec, srl_label_names, srl_source
from ._estimator import FishDipSRL, check_srl_inputs
from ._io import PropBankFiles, load_propbank_srl, srl_spans_to_tags, srl_tags_to_spans
from ._metrics import srl_f1_score, srl_precision_recall_f1

__all__ = [
    "SRL_LABEL_NAMES",
    "FishDipSRL",
    "PropBankFiles",
    "SRLCodec",
    "check_srl_inputs",
    "load_propbank_srl",
    "srl_f1_score",
    "srl_label_names",
    "srl_precision_recall_f1",
    "srl_source",
    "srl_spans_to_tags",
    "srl_tags_to_spans",
]
