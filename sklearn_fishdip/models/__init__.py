"""Pretrained models and how each model family is trained and generates.

:func:`load_seq2seq` reads a checkpoint (the offline default, a Hub id or a
local folder) once per process and hands out copies.
"""

from ._loading import (
    CROSS_ATTENTION_INITS,
    DEFAULT_MODEL,
    MODEL_KINDS,
    LoadedModel,
    base_model_fingerprint,
    clear_model_cache,
    load_seq2seq,
)

__all__ = [
    "CROSS_ATTENTION_INITS",
    "DEFAULT_MODEL",
    "MODEL_KINDS",
    "LoadedModel",
    "base_model_fingerprint",
    "clear_model_cache",
    "load_seq2seq",
]
