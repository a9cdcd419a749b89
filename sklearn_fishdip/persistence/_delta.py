"""The delta: the entries of a fine-tuned model that differ from its base model.

A FISH-DIP model differs from its pretrained base in about 1% of its weights,
so it is stored as, for every parameter (tied weights once) that changed, the
flat indices (int32) and the values of the entries that differ bit for bit, or
the whole tensor where that is smaller. When more than half of the entries
changed (``strategy="full"``), every parameter is stored whole ("full" mode),
which is then smaller than indices plus values. Stored tensors are always CPU
tensors, so a model trained on a GPU loads on a CPU-only machine.
"""

from __future__ import annotations

import numpy as np

__all__ = ["apply_delta", "compute_delta", "delta_payload_bytes", "weight_bytes"]

# Above this fraction of changed entries the whole model is stored ("full" mode).
FULL_FRACTION = 0.5

_INDEX_SUFFIX, _VALUE_SUFFIX, _FULL_SUFFIX = "::indices", "::values", "::full"


def _named_tensors(model):
    """Parameters (tied ones once, under their first name) and buffers of ``model``."""
    tensors = dict(model.named_parameters())
    for name, buffer in model.named_buffers():
        tensors.setdefault(name, buffer)
    return tensors


def weight_bytes(model) -> int:
    """Bytes of ``model``'s parameters, tied weights counted once.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    int
    """
    return sum(p.numel() * p.element_size() for p in model.parameters())


def _changed(tensor, base):
    """Boolean mask of the entries whose bits differ (so NaN and -0.0 are exact)."""
    import torch

    widths = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
    if tensor.dtype == torch.bool or tensor.element_size() not in widths:
        return tensor != base
    as_int = widths[tensor.element_size()]
    return tensor.view(as_int) != base.view(as_int)


def count_changed_parameters(model, base) -> int:
    """Number of parameter entries of ``model`` whose bits differ from ``base``'s.

    Tied parameters count once; buffers are not counted (the estimators
    report this as ``n_updated_parameters_``).

    Parameters
    ----------
    model, base : torch.nn.Module
        The fine-tuned model and its base (same architecture).

    Returns
    -------
    int
    """
    import torch

    base_params = dict(base.named_parameters())
    with torch.no_grad():
        return sum(
            int(_changed(param.detach().to("cpu"), base_params[name].detach().to("cpu")).sum())
            for name, param in model.named_parameters()
        )


def compute_delta(model, base, *, full=False):
    """The entries of ``model`` that differ from ``base``, as CPU tensors.

    Parameters
    ----------
    model : torch.nn.Module
        The fine-tuned model, on any device.
    base : torch.nn.Module
        The base model it was fine-tuned from (same architecture).
    full : bool, default=False
        Store every parameter whole. Also chosen automatically when more than
        half of all entries changed.

    Returns
    -------
    tensors : dict of str to torch.Tensor
        Contiguous CPU tensors: ``"<name>::indices"`` (int32 flat indices,
        int64 for tensors of more than 2**31 entries) and ``"<name>::values"``
        per sparsely stored tensor, ``"<name>::full"`` per whole one.
    mode : {"delta", "full"}
        Whether every parameter was stored whole.
    n_changed : int
        Number of entries that differ from the base.

    Raises
    ------
    ValueError
        If the two models do not have the same tensors.
    """
    import torch

    base_tensors = _named_tensors(base)
    changes = {}
    with torch.no_grad():
        for name, tensor in _named_tensors(model).items():
            reference = base_tensors.get(name)
            if reference is None or reference.shape != tensor.shape:
                raise ValueError(
                    f"the base model has no tensor {name!r} of shape {tuple(tensor.shape)}"
                )
            # CPU first: nothing device-specific is stored, whatever the training device.
            flat = tensor.detach().to("cpu").reshape(-1)
            if flat.dtype != reference.dtype:
                flat = flat.to(reference.dtype)
            changes[name] = (flat, _changed(flat, reference.detach().reshape(-1)))
    n_changed = sum(int(mask.sum()) for _, mask in changes.values())
    n_total = sum(flat.numel() for flat, _ in changes.values())
    mode = "full" if full or n_changed > FULL_FRACTION * max(n_total, 1) else "delta"

    parameters = {name for name, _ in model.named_parameters()}
    tensors = {}
    for name, (flat, mask) in changes.items():
        if mode == "full" and name in parameters:
            tensors[name + _FULL_SUFFIX] = flat.clone().contiguous()
            continue
        count = int(mask.sum())
        if not count:
            continue
        index_dtype = torch.int32 if flat.numel() <= np.iinfo(np.int32).max else torch.int64
        index_size = torch.empty((), dtype=index_dtype).element_size()
        # Indices plus values only where that is smaller than the whole tensor.
        if count * (index_size + flat.element_size()) >= flat.numel() * flat.element_size():
            tensors[name + _FULL_SUFFIX] = flat.clone().contiguous()
        else:
            indices = torch.nonzero(mask, as_tuple=False).reshape(-1)
            tensors[name + _INDEX_SUFFIX] = indices.to(index_dtype).contiguous()
            tensors[name + _VALUE_SUFFIX] = flat[indices].contiguous()
    return tensors, mode, n_changed


def delta_payload_bytes(tensors) -> int:
    """Bytes of the stored indices and values, without container overhead.

    Parameters
    ----------
    tensors : dict of str to torch.Tensor
        As returned by :func:`compute_delta`.

    Returns
    -------
    int
    """
    return sum(t.numel() * t.element_size() for t in tensors.values())


def apply_delta(model, tensors, *, source="the stored delta"):
    """Write a delta from :func:`compute_delta` into ``model`` in place.

    Parameters
    ----------
    model : torch.nn.Module
        A fresh copy of the base model.
    tensors : dict of str to torch.Tensor
        The delta.
    source : str, default="the stored delta"
        Named in error messages (e.g. the file).

    Raises
    ------
    ValueError
        If the delta does not fit the model (unknown tensor, wrong dtype,
        shape or index): the file is corrupt or belongs to another model.
    """
    import torch

    targets = _named_tensors(model)
    names = {key.rpartition("::")[0] for key in tensors}
    with torch.no_grad():
        for name in sorted(names):
            target = targets.get(name)
            if target is None:
                raise ValueError(f"{source}: the base model has no tensor {name!r}")
            flat = target.view(-1)
            whole = tensors.get(name + _FULL_SUFFIX)
            if whole is not None:
                if whole.dtype != flat.dtype or whole.numel() != flat.numel():
                    raise ValueError(
                        f"{source}: {name!r} holds {whole.numel()} {whole.dtype} entries, the "
                        f"base model {flat.numel()} {flat.dtype} ones"
                    )
                flat.copy_(whole.reshape(-1))
                continue
            indices, values = tensors.get(name + _INDEX_SUFFIX), tensors.get(name + _VALUE_SUFFIX)
            if indices is None or values is None:
                raise ValueError(f"{source}: {name!r} needs both indices and values")
            if indices.dtype not in (torch.int32, torch.int64) or indices.dim() != 1:
                raise ValueError(f"{source}: indices of {name!r} must be a flat int32 array")
            if values.dtype != flat.dtype or values.shape != indices.shape:
                raise ValueError(
                    f"{source}: values of {name!r} must be {indices.numel()} {flat.dtype} entries"
                )
            indices = indices.long()
            if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= flat.numel()):
                raise ValueError(f"{source}: an index of {name!r} is out of range")
            flat[indices] = values
