"""The prefix-LM attention mask: bidirectional over the source, causal over the target."""

from __future__ import annotations

__all__ = ["attention_mask_for", "prefix_attention_mask"]


def prefix_attention_mask(attention_mask, source_lengths, *, additive_dtype=None):
    """The 4D prefix-LM attention mask of a right-padded batch.

    Parameters
    ----------
    attention_mask : Tensor of shape (batch, length)
        1 on real ids (source then target), 0 on padding.
    source_lengths : Tensor of shape (batch,)
        Ids of each row's source.
    additive_dtype : torch.dtype or None, default=None
        None gives a boolean mask (True where attention is allowed); a float
        dtype gives the additive form (0 allowed, the dtype's minimum not),
        which eager attention implementations add to their scores.

    Returns
    -------
    Tensor of shape (batch, 1, length, length)
        Query ``q`` of a row may attend to key ``k`` when both are real ids
        and ``k`` is in the source, or both are in the target and
        ``k <= q``. Padding queries attend to themselves only, so no row of
        the softmax is empty.
    """
    import torch

    length = attention_mask.shape[1]
    pos = torch.arange(length, device=attention_mask.device)
    real = attention_mask.bool()
    src = pos[None, :] < source_lengths[:, None]  # (batch, length)
    query, key = pos[:, None], pos[None, :]
    causal = (key <= query)[None]
    allowed = src[:, None, :] | (causal & ~src[:, None, :] & ~src[:, :, None])
    allowed = allowed & real[:, :, None] & real[:, None, :]
    allowed = allowed | torch.eye(length, dtype=torch.bool, device=allowed.device)[None]
    allowed = allowed[:, None]
    return allowed if additive_dtype is None else _additive(allowed, additive_dtype)


def _additive(allowed, dtype):
    import torch

    zero = torch.zeros((), dtype=dtype, device=allowed.device)
    low = torch.tensor(torch.finfo(dtype).min, dtype=dtype, device=allowed.device)
    return torch.where(allowed, zero, low)


def attention_mask_for(model, allowed):
    """A boolean 4D ``allowed`` mask in the form ``model``'s attention takes.

    Eager attention adds the mask to its scores (0 allowed, the weights'
    dtype minimum not); SDPA and the others take the boolean mask.
    """
    if getattr(model.config, "_attn_implementation", None) != "eager":
        return allowed
    return _additive(allowed, model.get_input_embeddings().weight.dtype)
