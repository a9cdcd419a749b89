"""Event extraction: sentences in, events (a typed trigger and its role-labeled arguments) out.

The folder holds the task's codec (``_codec``: the two TANL stages <->
augmented text, the record checks), its estimator (``_estimator``:
:class:`FishDipEventExtractor`), its files (``_io``: the CASIE reader and the
JSON-lines format of the command line) and its scores (``_metrics``).
"""

from ._codec import EventCodec, check_events, event_source
from ._estimator import FishDipEventExtractor
from ._io import CasieReport, EventJSONLFiles, load_casie, split_sentences, tokenize
from ._metrics import event_f1_score, event_scores

__all__ = [
    "CasieReport",
    "EventCodec",
    "EventJSONLFiles",
    "FishDipEventExtractor",
    "check_events",
    "event_f1_score",
    "event_scores",
    "event_source",
    "load_casie",
    "split_sentences",
    "tokenize",
]
