"""Checks of the shared estimator parameters, run by ``fit`` (``__init__`` only stores them)."""

from __future__ import annotations

import numpy as np

from .models import MODEL_KINDS
from .sparse import DEFAULT_LEARNING_RATES, LR_SCHEDULES, check_autocast, resolve_strategy

#: Accepted values of the estimators' ``training_loss``.
TRAINING_LOSSES = ("auto", "full", "grammar")

__all__ = ["check_params", "check_positive_integer"]


def check_positive_integer(name, value):
    """Raise a ``ValueError`` naming the parameter unless ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def check_params(estimator):
    """Check the shared parameters at fit time; return the configured strategy.

    Raises
    ------
    ValueError
        Naming the parameter and the value given.
    """
    params = estimator.get_params(deep=False)
    for name in ("max_epochs", "batch_size", "max_source_length", "max_target_length", "num_beams"):
        check_positive_integer(name, params[name])
    optimizer, learning_rate = params["optimizer"], params["learning_rate"]
    weight_decay, device = params["weight_decay"], params["device"]
    if optimizer not in DEFAULT_LEARNING_RATES:
        raise ValueError(
            f"optimizer must be one of {sorted(DEFAULT_LEARNING_RATES)}, got {optimizer!r}"
        )
    if learning_rate is not None and not (
        isinstance(learning_rate, (float, int)) and learning_rate > 0
    ):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if not (isinstance(weight_decay, (float, int)) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a non-negative number, got {weight_decay!r}")
    if params["model_kind"] not in MODEL_KINDS:
        raise ValueError(
            f"model_kind must be one of {list(MODEL_KINDS)}, got {params['model_kind']!r}"
        )
    if params["training_loss"] not in TRAINING_LOSSES:
        raise ValueError(
            f"training_loss must be one of {list(TRAINING_LOSSES)}, got {params['training_loss']!r}"
        )
    if params["lr_schedule"] not in LR_SCHEDULES:
        raise ValueError(
            f"lr_schedule must be one of {list(LR_SCHEDULES)}, got {params['lr_schedule']!r}"
        )
    if weight_decay and optimizer != "adamw":
        raise ValueError("weight_decay is only supported with optimizer='adamw'")
    if device not in ("auto", "cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    check_autocast(params["autocast"])
    if not isinstance(params["group_by_length"], bool):
        raise ValueError(
            f"group_by_length must be True or False, got {params['group_by_length']!r}"
        )
    strategy = resolve_strategy(params["strategy"])
    # keep_ratio and refresh_every configure whichever strategy has them.
    own = strategy.get_params()
    strategy.set_params(
        **{name: params[name] for name in ("keep_ratio", "refresh_every") if name in own}
    )
    strategy.validate()
    return strategy
