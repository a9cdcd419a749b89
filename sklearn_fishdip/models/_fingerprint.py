"""The pristine base model and its fingerprint, straight from the load cache."""

from __future__ import annotations

import hashlib

from ._kinds import DEFAULT_MODEL
from ._loading import _LOCK, _cache_key, _get_entry

__all__ = ["base_model", "base_model_fingerprint", "state_dict_sha256"]


def base_model(name_or_path=DEFAULT_MODEL, kind="auto", **options):
    """The cached pristine base model itself, without copying it.

    For comparisons with a fine-tuned copy (counting or storing the entries
    that changed). It is shared by every caller of the process: never modify
    it, move it or train it.

    Parameters
    ----------
    name_or_path : str, default=DEFAULT_MODEL
        As for :func:`load_model`.
    kind : str, default="auto"
        As for :func:`load_model`.
    **options
        Other keyword arguments of :func:`load_model`.

    Returns
    -------
    transformers.PreTrainedModel
        On CPU, in eval mode.
    """
    local_files_only = options.pop("local_files_only", None)
    key, source = _cache_key(name_or_path, kind, **options)
    return _get_entry(key, source, local_files_only, None).model


def base_model_fingerprint(name_or_path=DEFAULT_MODEL, *, revision=None, kind="auto", **options):
    """Identify the base weights a fine-tuned delta applies to.

    The checksum is computed once per process and cached alongside the model.

    Parameters
    ----------
    name_or_path : str, default=DEFAULT_MODEL
        As for :func:`load_model`.
    revision : str or None, default=None
        As for :func:`load_model`.
    kind : str, default="auto"
        As for :func:`load_model`.
    **options
        Other keyword arguments of :func:`load_model` (``local_files_only``,
        ``trust_remote_code``, ``cross_attention_init``,
        ``tie_encoder_decoder``).

    Returns
    -------
    dict
        ``{"name_or_path": str, "revision": str or None, "kind": str,
        "sha256": str}`` where ``revision`` is the resolved commit when known,
        ``kind`` the concrete kind, and ``sha256`` hashes every state-dict
        entry's name, dtype, shape and bytes in sorted name order (and, for
        the causal and prefix-LM kinds, the kind).
    """
    unknown = set(options) - {
        "local_files_only",
        "trust_remote_code",
        "cross_attention_init",
        "tie_encoder_decoder",
    }
    if unknown:
        raise ValueError(f"Unknown option(s) for base_model_fingerprint: {sorted(unknown)}.")
    local_files_only = options.pop("local_files_only", None)
    key, source = _cache_key(name_or_path, kind, revision=revision, **options)
    with _LOCK:
        entry = _get_entry(key, source, local_files_only, None)
        if entry.sha256 is None:
            entry.sha256 = state_dict_sha256(entry.model, entry.kind)
    return {
        "name_or_path": name_or_path,
        "revision": entry.revision,
        "kind": entry.kind,
        "sha256": entry.sha256,
    }


def state_dict_sha256(model, kind=None):
    """SHA-256 of a model's weights: every state-dict entry's name, dtype, shape and bytes.

    Entries are read in sorted name order, so the digest does not depend on
    module order; bf16 and other dtypes numpy lacks are hashed as bytes.

    Parameters
    ----------
    model : torch.nn.Module
    kind : str or None, default=None
        A model kind that the digest names first (``"causal"`` and
        ``"prefix-lm"`` only, see :func:`base_model_fingerprint`).

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    import torch

    digest = hashlib.sha256()
    if kind in ("causal", "prefix-lm"):
        # Kinds added after fingerprints were first stored: name the kind, so a
        # delta is never applied to the same weights built as another family.
        # The older kinds keep their digests, so saved estimators still load.
        digest.update(f"kind={kind};".encode())
    state = model.state_dict()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(str(tuple(tensor.shape)).encode())
        # View as bytes so that dtypes numpy lacks (bfloat16) hash too.
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
