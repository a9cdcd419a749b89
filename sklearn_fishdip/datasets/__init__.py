"""Readers for benchmark data and the low-resource sampling protocol.

Each task's reader lives in its folder (``sklearn_fishdip/tasks/<task>/_io.py``)
and is re-exported here.
"""

from ..tasks.dialogue_state._io import dialogue_subset, load_multiwoz, sample_dialogues
from ..tasks.events._io import load_casie
from ..tasks.ner._io import load_conll
from ..tasks.relation_classification._episodes import FEWREL_SPLIT, sample_episodes
from ..tasks.relation_classification._io import load_fewrel, load_semeval2010
from ..tasks.relations._io import load_spert
from ..tasks.srl._io import load_propbank_srl, srl_spans_to_tags, srl_tags_to_spans
from ..tasks.text_classification._io import GLUE_LABEL_NAMES, load_glue
from ..utils._subset import low_resource_subset
from ._home import get_data_home

__all__ = [
    "FEWREL_SPLIT",
    "GLUE_LABEL_NAMES",
    "dialogue_subset",
    "get_data_home",
    "load_casie",
    "load_conll",
    "load_fewrel",
    "load_glue",
    "load_multiwoz",
    "load_propbank_srl",
    "load_semeval2010",
    "load_spert",
    "low_resource_subset",
    "sample_dialogues",
    "sample_episodes",
    "srl_spans_to_tags",
    "srl_tags_to_spans",
]
