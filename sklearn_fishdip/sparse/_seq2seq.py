"""Batch plumbing of the engine: datasets of tokenized examples, batches, per-sample loss.

Every part of the engine (training, loss ranking, importance) builds batches
through a model family's adapter (:class:`~sklearn_fishdip.models.ModelAdapter`)
and computes per-sample losses here, so that they all agree on padding and on
the loss. Without an adapter, the encoder-decoder one is used.
"""

import torch
import torch.nn.functional as F

from ..models import IGNORE_INDEX, ModelAdapter

__all__ = [
    "IGNORE_INDEX",
    "Seq2SeqCollator",
    "Seq2SeqDataset",
    "check_seq2seq_model",
    "iter_chunks",
    "pad_examples",
    "resolve_adapter",
    "resolve_pad_token_id",
    "seq2seq_logits",
    "batch_losses",
    "selected_token_losses",
    "token_losses",
]


def resolve_adapter(adapter=None):
    """``adapter``, or the encoder-decoder adapter when None.

    Raises
    ------
    TypeError
        If ``adapter`` is not a :class:`~sklearn_fishdip.models.ModelAdapter`.
    """
    if adapter is None:
        return ModelAdapter()
    if not isinstance(adapter, ModelAdapter):
        raise TypeError(f"adapter must be a ModelAdapter or None; got {type(adapter).__name__}.")
    return adapter


def check_seq2seq_model(model):
    """Raise a ValueError unless ``model`` is a Hugging Face encoder-decoder.

    Parameters
    ----------
    model : object
        The candidate model.
    """
    ModelAdapter().check_model(model)


def resolve_pad_token_id(model, pad_token_id=None):
    """Return ``pad_token_id`` or, if None, the model config's (0 if unset)."""
    if pad_token_id is not None:
        return int(pad_token_id)
    value = getattr(model.config, "pad_token_id", None)
    return 0 if value is None else int(value)


class Seq2SeqDataset(torch.utils.data.Dataset):
    """Tokenized examples; item ``i`` is ``(example, i)``.

    Parameters
    ----------
    examples : sequence of dict
        Each has ``"input_ids"`` and ``"labels"``, sequences of token ids.

    Notes
    -----
    The index travels with the example as the skorch target, so a training step
    knows which samples its per-sample losses belong to.
    """

    def __init__(self, examples):
        self.examples = examples

    def __len__(self):
        return len(self.examples)

    def __getitem__(self, i):
        return self.examples[i], i


def pad_examples(examples, pad_token_id, adapter=None):
    """Pad tokenized examples into a batch dict of tensors (the adapter's :meth:`collate`).

    Parameters
    ----------
    examples : sequence of dict
        Each has ``"input_ids"`` and ``"labels"``.
    pad_token_id : int
        Padding id of the inputs; labels are padded with -100.
    adapter : ModelAdapter or None, default=None
        The model family; None is the encoder-decoder one.

    Returns
    -------
    batch : dict
        Tensors; ``labels`` aligns with the adapter's logits.
    """
    batch = resolve_adapter(adapter).collate(examples, pad_token_id)
    if any(example.get("allowed") is not None for example in examples):
        batch.update(_allowed_tensors(examples, batch["labels"]))
    return batch


def _allowed_tensors(examples, labels):
    """The ids the grammar allowed before each target id, aligned with ``labels``.

    An example's ``"allowed"`` holds one tuple of ids per target id (or None
    where the grammar gives no restriction); the k-th target id is the k-th
    position of its row whose label is not -100, whatever the adapter's
    layout (a causal LM's prompt positions are -100). Returns ``allowed_ids``
    (batch, length, width) and ``allowed_mask``; a position without a
    restriction has an all-False mask row.
    """
    width = max(
        (len(ids) for example in examples for ids in example.get("allowed") or () if ids),
        default=1,
    )
    n, length = labels.shape
    allowed_ids = torch.zeros((n, length, width), dtype=torch.long)
    allowed_mask = torch.zeros((n, length, width), dtype=torch.bool)
    for row, example in enumerate(examples):
        allowed = example.get("allowed")
        if allowed is None:
            continue
        positions = (labels[row] != IGNORE_INDEX).nonzero().flatten().tolist()
        for position, ids in zip(positions, allowed):
            if ids:
                allowed_ids[row, position, : len(ids)] = torch.as_tensor(ids)
                allowed_mask[row, position, : len(ids)] = True
    return {"allowed_ids": allowed_ids, "allowed_mask": allowed_mask}


class Seq2SeqCollator:
    """Collate ``(example, index)`` items into ``(batch, indices)``.

    Parameters
    ----------
    pad_token_id : int
        Padding id of the inputs.
    adapter : ModelAdapter or None, default=None
        The model family; None is the encoder-decoder one.
    """

    def __init__(self, pad_token_id, adapter=None):
        self.pad_token_id = pad_token_id
        self.adapter = adapter

    def __call__(self, items):
        examples, indices = zip(*items)
        return (
            pad_examples(examples, self.pad_token_id, self.adapter),
            torch.as_tensor(indices, dtype=torch.long),
        )


def iter_chunks(examples, batch_size, pad_token_id, device, adapter=None):
    """Yield padded batches of consecutive examples, on ``device``."""
    for start in range(0, len(examples), batch_size):
        batch = pad_examples(examples[start : start + batch_size], pad_token_id, adapter)
        yield {key: value.to(device) for key, value in batch.items()}


def seq2seq_logits(model, batch, adapter=None):
    """Teacher-forced logits aligned with ``batch["labels"]`` (the adapter's :meth:`logits`)."""
    return resolve_adapter(adapter).logits(model, batch)


def token_losses(logits, labels, allowed_ids=None, allowed_mask=None, normalizer=None):
    """Per-sample mean token cross-entropy and the batch token-mean loss.

    Parameters
    ----------
    logits : Tensor of shape (batch, target_length, vocab)
    labels : Tensor of shape (batch, target_length)
        Padded with -100.
    allowed_ids, allowed_mask : Tensor of shape (batch, target_length, width) or None
        Where a mask row holds a True, the softmax of that position runs over
        those ids only: the choices constrained decoding has there (the
        ``"grammar"`` training loss). A position the grammar forces (one
        allowed id, a copied word piece) then costs nothing, and training
        spends itself on the decisions: where brackets open and close, and
        which label. Positions without a True use the whole vocabulary.
    normalizer : int or None, default=None
        Divide the batch loss by this token count instead of the batch's own:
        a data-parallel rank divides its share by the global batch's count,
        so that the ranks' gradients sum to the global batch's.

    Returns
    -------
    per_sample : Tensor of shape (batch,)
        Mean cross-entropy over each sample's non-padding target tokens, in fp32.
    batch_loss : Tensor
        Mean over all non-padding target tokens of the batch (the usual loss),
        or their sum over ``normalizer``.
    """
    ce = F.cross_entropy(
        logits.float().transpose(1, 2), labels, ignore_index=IGNORE_INDEX, reduction="none"
    )
    if allowed_ids is not None:
        ce = _restricted(ce, logits, labels, allowed_ids, allowed_mask)
    return _reduce(ce, (labels != IGNORE_INDEX).sum(dim=1), normalizer)


def selected_token_losses(selected, normalizer=None):
    """:func:`token_losses` from the logits an adapter selected for the loss.

    Parameters
    ----------
    selected : SelectedLogits
        From :meth:`~sklearn_fishdip.models.ModelAdapter.selected_logits`:
        the logits of each labelled position's label and allowed ids (or its
        log-sum-exp over the vocabulary where the grammar allows anything).
    normalizer : int or None, default=None
        As for :func:`token_losses`.

    Returns
    -------
    per_sample, batch_loss : Tensor
        As :func:`token_losses` gives them from the full logits.
    """
    labelled = selected.labelled
    per_position = selected.cross_entropy()
    ce = torch.zeros(labelled.shape, dtype=per_position.dtype, device=per_position.device)
    ce = ce.masked_scatter(labelled, per_position)
    return _reduce(ce, labelled.sum(dim=1), normalizer)


def _reduce(ce, counts, normalizer):
    """Per-sample means and the batch loss of a (batch, length) grid of token losses."""
    per_sample = ce.sum(dim=1) / counts.clamp(min=1)
    if normalizer is not None:
        return per_sample, ce.sum() / max(int(normalizer), 1)
    return per_sample, ce.sum() / counts.sum().clamp(min=1)


def _restricted(ce, logits, labels, allowed_ids, allowed_mask):
    """``ce`` with the restricted cross-entropy where a position has allowed ids."""
    restricted = allowed_mask.any(dim=-1) & (labels != IGNORE_INDEX)
    scores = logits.float().gather(2, allowed_ids)
    # Finite fill, not -inf: an unrestricted row's logsumexp must stay finite,
    # or its (discarded) gradient turns into NaN through torch.where.
    scores = scores.masked_fill(~allowed_mask, torch.finfo(torch.float32).min / 4)
    gold = logits.float().gather(2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return torch.where(restricted, torch.logsumexp(scores, dim=-1) - gold, ce)


def batch_losses(adapter, model, batch):
    """:func:`token_losses` of a padded batch under the adapter's teacher forcing.

    The grammar restriction applies when the batch carries ``allowed_ids``.
    """
    logits = resolve_adapter(adapter).logits(model, batch)
    return token_losses(
        logits, batch["labels"], batch.get("allowed_ids"), batch.get("allowed_mask")
    )
