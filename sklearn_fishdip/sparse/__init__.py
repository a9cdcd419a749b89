"""Sparse fine-tuning engine: FISH-DIP, FISH, DPS and baselines on skorch.

Strategies choose which parameter entries are trainable and when that changes;
the :class:`SparseUpdate` callback applies one to a skorch net (mask the
gradients, keep off-mask entries fixed, refresh the mask); :func:`fit_sparse`
builds and fits a :class:`Seq2SeqNet` with it. Importance is the per-sample
squared gradient, computed in batches by :func:`squared_gradients`.
"""

from ._batching import LengthGroupedBatches
from ._callback import SparseUpdate
from ._checkpoint import EpochCheckpoint, fit_fingerprint
from ._fit import LR_SCHEDULES, LinearDecay, fit_sparse
from ._importance import (
    Importance,
    per_sample_losses,
    squared_gradients,
    squared_gradients_loop,
)
from ._masks import MODULE_TYPES, ParameterIndex, ParameterMask, module_type, network_block
from ._net import Seq2SeqNet, resolve_device
from ._optim import (
    DEFAULT_LEARNING_RATES,
    SparseAdamW,
    freezes_zero_gradients,
    optimizer_state_bytes,
)
from ._precision import AUTOCAST_MODES, check_autocast, resolve_autocast
from ._strategies import (
    DPS,
    BitFit,
    Fish,
    FishDip,
    Full,
    RandomMask,
    SparseStrategy,
    resolve_strategy,
)

__all__ = [
    "AUTOCAST_MODES",
    "DEFAULT_LEARNING_RATES",
    "DPS",
    "EpochCheckpoint",
    "MODULE_TYPES",
    "BitFit",
    "Fish",
    "FishDip",
    "Full",
    "Importance",
    "LR_SCHEDULES",
    "LengthGroupedBatches",
    "LinearDecay",
    "ParameterIndex",
    "ParameterMask",
    "RandomMask",
    "Seq2SeqNet",
    "SparseAdamW",
    "SparseStrategy",
    "SparseUpdate",
    "check_autocast",
    "fit_fingerprint",
    "fit_sparse",
    "freezes_zero_gradients",
    "module_type",
    "network_block",
    "optimizer_state_bytes",
    "per_sample_losses",
    "resolve_autocast",
    "resolve_device",
    "resolve_strategy",
    "squared_gradients",
    "squared_gradients_loop",
]
