"""An estimator's persisted state: its base model's identity and its delta.

Both containers (pickle/joblib, and ``save`` folders) store the identity of
the base model (name or path, revision and the sha256 of its weights, from
:func:`~sklearn_fishdip.models.base_model_fingerprint`), the delta
(:mod:`._delta`), the parameters and the other fitted attributes. The model,
tokenizer and grammar are rebuilt from the process-cached base model; a base
whose checksum differs is refused. For pickle, the delta is one safetensors
blob (bytes) inside the pickled state (:func:`getstate`, :func:`setstate`).
"""

from __future__ import annotations

import warnings

from ._delta import apply_delta, compute_delta

__all__ = ["FORMAT", "FORMAT_VERSION", "PICKLE_KEY", "getstate", "rebuild_model", "setstate"]

FORMAT = "sklearn-fishdip"
FORMAT_VERSION = 1

# Fitted attributes rebuilt from the base model rather than stored.
REBUILT = frozenset({"model_", "tokenizer_", "uncased_", "grammar_"})

# Key of the pickled state that holds the delta and the base model's identity.
PICKLE_KEY = "_fishdip_persisted"


def fitted_attributes(estimator):
    """Public fitted attributes other than those rebuilt from the base model."""
    return {
        name: value
        for name, value in vars(estimator).items()
        if name.endswith("_") and not name.startswith("_") and name not in REBUILT
    }


def _base_fingerprint(name_or_path, revision=None, kind="auto"):
    from ..models import base_model_fingerprint

    return base_model_fingerprint(name_or_path, revision=revision, kind=kind)


def delta_of(estimator):
    """(tensors, mode, n_changed, fingerprint) of a fitted estimator."""
    from ..models import load_model
    from ..sparse import resolve_strategy

    fingerprint = _base_fingerprint(estimator.model, kind=estimator.model_kind)
    base = load_model(estimator.model, estimator.model_kind).model
    full = getattr(resolve_strategy(estimator.strategy), "name", None) == "full"
    tensors, mode, n_changed = compute_delta(estimator.model_, base, full=full)
    return tensors, mode, n_changed, fingerprint


def rebuild_model(estimator, base, tensors, *, source):
    """Load the base model, check its checksum, apply the delta, set the rebuilt attributes.

    Parameters
    ----------
    estimator : BaseFishDip
        With its parameters and vocabularies already restored.
    base : dict
        The stored fingerprint: ``name_or_path``, ``revision``, ``sha256``.
    tensors : dict of str to torch.Tensor
        The delta.
    source : str
        What is being loaded, for error messages.

    Raises
    ------
    ValueError
        If the base model cannot be loaded or its checksum differs.
    """
    from ..generation import AugmentedGrammar
    from ..models import load_model

    name, revision = base["name_or_path"], base.get("revision")
    kind = getattr(estimator, "model_kind", "auto")
    try:
        current = _base_fingerprint(name, revision, kind)
        loaded = load_model(name, kind, revision=revision)
    except ValueError as error:
        raise ValueError(
            f"{source}: the base model {name!r} it was fine-tuned from cannot be loaded: {error}"
        ) from None
    if current["sha256"] != base["sha256"]:
        raise ValueError(
            f"{source}: the base model {name!r} has changed: the estimator was fine-tuned from "
            f"weights with sha256 {base['sha256']}, but {name!r} now loads weights with sha256 "
            f"{current['sha256']}. The stored difference only applies to the original weights; "
            "restore them (same folder contents, revision or package version)."
        )
    apply_delta(loaded.model, tensors, source=source)
    estimator.model_ = loaded.model.eval()
    estimator.tokenizer_ = loaded.tokenizer
    estimator.uncased_ = loaded.uncased
    vocabulary = estimator.codec.natural_vocabulary(estimator)
    estimator.grammar_ = AugmentedGrammar(loaded.tokenizer, *vocabulary)
    _warn_unavailable_device(estimator, source)


def _warn_unavailable_device(estimator, source):
    import torch

    device = str(getattr(estimator, "device", "auto"))
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"{source} was saved with device={device!r} but CUDA is not available here; the "
            "model is on the CPU: call set_params(device='cpu') (or 'auto') before predicting",
            UserWarning,
            stacklevel=4,
        )


# --------------------------------------------------------------------------- #
# pickle / joblib
# --------------------------------------------------------------------------- #


def getstate(estimator, state):
    """Replace the model, tokenizer and grammar of a pickled state by the delta.

    Parameters
    ----------
    estimator : BaseFishDip
        A fitted estimator.
    state : dict
        A copy of its ``__dict__`` (as ``BaseEstimator.__getstate__`` gives).

    Returns
    -------
    dict
        The state to pickle.
    """
    from safetensors.torch import save

    tensors, mode, n_changed, fingerprint = delta_of(estimator)
    for name in REBUILT:
        state.pop(name, None)
    state[PICKLE_KEY] = {
        "format_version": FORMAT_VERSION,
        "base_model": fingerprint,
        "mode": mode,
        "n_changed": n_changed,
        # One safetensors blob: compact, and nothing device-specific or torch-pickled.
        "delta": save(tensors, metadata={"format": FORMAT, "mode": mode}),
    }
    return state


def setstate(estimator, state):
    """Restore a state written by :func:`getstate` (after ``__dict__`` is updated).

    Parameters
    ----------
    estimator : BaseFishDip
    state : dict
        The persisted part, popped from the unpickled state.
    """
    from safetensors.torch import load

    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"pickled {type(estimator).__name__} uses persistence format "
            f"{state.get('format_version')!r}; this version reads format {FORMAT_VERSION}"
        )
    rebuild_model(
        estimator,
        state["base_model"],
        load(state["delta"]),
        source=f"the pickled {type(estimator).__name__}",
    )
