"""Pretrained models and how each model family is trained and generates.

:func:`load_model` reads a checkpoint (the offline default, a Hub id or a
local folder) once per process, builds it as one of :data:`MODEL_KINDS` and
hands out copies with the family's :class:`ModelAdapter`
(:class:`CausalLMAdapter`, :class:`PrefixLMAdapter` or the encoder-decoder
base). :func:`load_seq2seq` is its encoder-decoder subset.
"""

from ._adapter import IGNORE_INDEX, ModelAdapter
from ._alignment import TargetAligner
from ._causal import PROMPT_SEPARATOR, CausalLMAdapter
from ._families import adapter_for_kind, adapter_for_model
from ._fingerprint import base_model, base_model_fingerprint, state_dict_sha256
from ._kinds import BERT2BERT_MODEL, DEFAULT_MODEL, MODEL_ALIASES, MODEL_KINDS
from ._loaded import LoadedModel
from ._loading import CROSS_ATTENTION_INITS, clear_model_cache, load_model, load_seq2seq
from ._prefix_lm import PrefixLMAdapter
from ._prefix_mask import prefix_attention_mask
from ._selected import SelectedLogits

__all__ = [
    "BERT2BERT_MODEL",
    "CROSS_ATTENTION_INITS",
    "DEFAULT_MODEL",
    "IGNORE_INDEX",
    "MODEL_ALIASES",
    "MODEL_KINDS",
    "PROMPT_SEPARATOR",
    "CausalLMAdapter",
    "LoadedModel",
    "ModelAdapter",
    "PrefixLMAdapter",
    "SelectedLogits",
    "TargetAligner",
    "adapter_for_kind",
    "adapter_for_model",
    "base_model",
    "base_model_fingerprint",
    "clear_model_cache",
    "state_dict_sha256",
    "load_model",
    "load_seq2seq",
    "prefix_attention_mask",
]
