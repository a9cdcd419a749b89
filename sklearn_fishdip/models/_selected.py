"""The logits a training loss needs, without the rest of the vocabulary's.

Under the ``"grammar"`` training loss every target position is scored by a
softmax over the few ids the grammar allows there (a copied word piece, a
bracket, a label), so of the LM head's output only those ids' logits are
used; the whole vocabulary's logits at every row of a batch (the usual
forward) are most of a small model's work. When the head splits into a
transform and an output layer (:func:`head_parts`: BERT-like masked LMs,
linear heads), :func:`select_logits` runs the transform on the labelled
rows alone and the output layer on the ids the batch needs, and
:class:`SelectedLogits` gives each labelled position's cross-entropy: the
restricted one where the grammar allows some ids, the full one where it
gives no restriction. The values and gradients are those of the full
logits, up to floating-point summation order.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SelectedLogits",
    "head_parts",
    "lm_head",
    "select_logits",
    "selected_from_stack",
    "split_head",
]


def lm_head(model):
    """The module that maps ``model``'s hidden states to its logits, or None.

    None as well for families that rescale or cap the head's logits in their
    forward (Gemma 2's soft-capping, Cohere's scale): they are run whole.
    """
    from ._prefix_search import _lm_head

    config = model.config
    if any(getattr(config, name, None) for name in ("final_logit_softcapping", "logit_scale")):
        return None
    return _lm_head(model)


def split_head(model):
    """:func:`head_parts` of :func:`lm_head`, or None where the head cannot be run apart."""
    head = lm_head(model)
    return None if head is None else head_parts(head)


def head_parts(head):
    """``(transform, weight, bias)`` of a linear or BERT-like LM head, else None.

    The logits are ``transform(h) @ weight.T + bias``; a score restricted to a
    few ids needs only those ids' rows of ``weight`` instead of the whole
    vocabulary's.
    """
    import torch

    if isinstance(head, torch.nn.Linear):  # a decoder-only LM's lm_head
        return (lambda hidden: hidden), head.weight, _bias(head)
    predictions = getattr(head, "predictions", None)
    transform = getattr(predictions, "transform", None)
    decoder = getattr(predictions, "decoder", None)
    if not (callable(transform) and isinstance(decoder, torch.nn.Linear)):
        return None
    bias = decoder.bias if decoder.bias is not None else getattr(predictions, "bias", None)
    return transform, decoder.weight, bias if bias is not None else _bias(decoder)


def _bias(linear):
    import torch

    if linear.bias is not None:
        return linear.bias
    return torch.zeros(linear.out_features, dtype=linear.weight.dtype, device=linear.weight.device)


@dataclass(frozen=True)
class SelectedLogits:
    """Logits at a batch's labelled positions: the label's, and the allowed ids' or the whole row's.

    Attributes
    ----------
    labelled : Tensor of shape (batch, length), bool
        The positions that predict a target id (``labels != -100``), in the
        order of the rows below.
    gold : Tensor of shape (n,)
        The logit of each labelled position's label.
    allowed : Tensor of shape (n, width)
        The logits of the ids the grammar allows there (padding where
        ``allowed_mask`` is False).
    allowed_mask : Tensor of shape (n, width), bool
    full_logsumexp : Tensor of shape (n,)
        The log-sum-exp over the vocabulary, computed for the positions
        without a restriction only (0 elsewhere).
    """

    labelled: object
    gold: object
    allowed: object
    allowed_mask: object
    full_logsumexp: object

    def cross_entropy(self):
        """Each labelled position's cross-entropy in fp32, shape (n,).

        Restricted to the allowed ids where the grammar gives some (a forced
        id costs 0), over the vocabulary elsewhere, as
        :func:`~sklearn_fishdip.sparse.token_losses` computes it.
        """
        import torch

        restricted = self.allowed_mask.any(dim=-1)
        fill = torch.finfo(torch.float32).min / 4
        scores = self.allowed.float().masked_fill(~self.allowed_mask, fill)
        normalizer = torch.where(restricted, torch.logsumexp(scores, dim=-1), self.full_logsumexp)
        return normalizer - self.gold.float()

    @classmethod
    def from_logits(cls, logits, labels, allowed_ids=None, allowed_mask=None, ignore_index=-100):
        """The selection of full logits (a head that cannot be run apart, or a model's own).

        The arguments are those of :func:`select_logits`, with ``logits`` of
        shape (batch, length, vocab) in place of the hidden states.
        """
        import torch

        labelled = labels != ignore_index
        rows = logits[labelled].float()
        gold_ids = labels[labelled]
        ids, mask = _choices(labelled, gold_ids.shape[0], allowed_ids, allowed_mask)
        free = ~mask.any(dim=-1)
        full = torch.where(free, torch.logsumexp(rows, dim=-1), torch.zeros_like(rows[:, 0]))
        gold = rows.gather(1, gold_ids[:, None])[:, 0]
        return cls(labelled, gold, rows.gather(1, ids), mask, full)


def _choices(labelled, n, allowed_ids, allowed_mask):
    """The allowed ids and mask of the ``n`` labelled positions (one free column if none)."""
    import torch

    if allowed_ids is None:
        ids = torch.zeros((n, 1), dtype=torch.long, device=labelled.device)
        return ids, torch.zeros((n, 1), dtype=torch.bool, device=labelled.device)
    return allowed_ids[labelled], allowed_mask[labelled]


def select_logits(parts, hidden, labels, allowed_ids=None, allowed_mask=None, ignore_index=-100):
    """The :class:`SelectedLogits` of a batch from the stack's hidden states.

    Parameters
    ----------
    parts : tuple
        :func:`head_parts` of the model's LM head.
    hidden : Tensor of shape (batch, length, hidden)
        The stack's last hidden states; row ``t`` predicts ``labels[:, t]``.
    labels : Tensor of shape (batch, length)
    allowed_ids, allowed_mask : Tensor of shape (batch, length, width) or None
        The grammar's choices, as :func:`~sklearn_fishdip.sparse.pad_examples`
        builds them.
    ignore_index : int, default=-100
        The label of unscored positions.

    Returns
    -------
    SelectedLogits
    """
    import torch

    transform, weight, bias = parts
    labelled = labels != ignore_index
    states = transform(hidden[labelled])
    gold_ids = labels[labelled]
    n = gold_ids.shape[0]
    ids, mask = _choices(labelled, n, allowed_ids, allowed_mask)
    # The output layer on the ids the batch uses, not on the vocabulary.
    needed = torch.unique(torch.cat([gold_ids, ids[mask]]))
    column = torch.zeros(weight.shape[0], dtype=torch.long, device=needed.device)
    column[needed] = torch.arange(needed.numel(), device=needed.device)
    logits = states @ weight[needed].T + bias[needed]
    gold = logits.gather(1, column[gold_ids][:, None])[:, 0]
    allowed = logits.gather(1, column[ids])
    full = torch.zeros(n, dtype=torch.float32, device=states.device)
    free = ~mask.any(dim=-1)
    if bool(free.any()):
        rows = states[free] @ weight.T + bias
        full = full.masked_scatter(free, torch.logsumexp(rows.float(), dim=-1))
    return SelectedLogits(labelled, gold, allowed, mask, full)


def selected_from_stack(model, stack_inputs, batch, ignore_index=-100):
    """:func:`select_logits` of ``batch`` after running ``model``'s stack, or None.

    ``stack_inputs`` are the keyword arguments of ``model.base_model`` (the
    adapter's layout of the batch). None when the head cannot be run apart
    (:func:`split_head`): the caller then runs the whole model.
    """
    parts = split_head(model)
    if parts is None:
        return None
    hidden = model.base_model(**stack_inputs).last_hidden_state
    return select_logits(
        parts,
        hidden,
        batch["labels"],
        batch.get("allowed_ids"),
        batch.get("allowed_mask"),
        ignore_index,
    )
