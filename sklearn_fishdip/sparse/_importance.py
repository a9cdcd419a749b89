"""Per-sample squared-gradient (empirical Fisher) importance and per-sample losses.

:func:`squared_gradients` gets every sample's gradient from ONE padded
forward/backward per chunk, through the capture of :mod:`._capture` (per-layer
inputs and output gradients, for linear, embedding, layer/RMS norm, GPT-2
``Conv1D`` and T5 position-bias uses). Every other use of a parameter is
detected and that parameter falls back to an exact per-sample backward
restricted to it; each chunk also checks that the per-sample gradients sum to
the batch gradient, and falls back where they do not. The names of parameters
that fell back are recorded.

Batches and logits come from the model family's adapter
(:class:`~sklearn_fishdip.models.ModelAdapter`), so the same code serves
encoder-decoders, decoder-only and prefix LMs.
"""

import contextlib

import torch

from ._capture import _PerSampleCapture
from ._seq2seq import batch_losses, iter_chunks, resolve_adapter, resolve_pad_token_id


class Importance(dict):
    """Squared-gradient scores per parameter name, with provenance.

    A ``dict`` mapping each (deduplicated) parameter name to an fp32 tensor of
    the parameter's shape.

    Attributes
    ----------
    n_samples : int
        Number of samples summed.
    fallback : tuple of str
        Parameters whose per-sample gradients needed the exact one-sample
        backward, because no batched rule covered all their uses.
    """

    def __init__(self, scores, n_samples, fallback=()):
        super().__init__(scores)
        self.n_samples = n_samples
        self.fallback = tuple(sorted(fallback))


def _model_device(model):
    return next(model.parameters()).device


@contextlib.contextmanager
def _eval_mode(model):
    """Evaluation mode (no dropout) for the block; the previous mode afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _trainable(model):
    return [(name, p) for name, p in model.named_parameters() if p.requires_grad]


def squared_gradients(model, examples, *, batch_size=16, pad_token_id=None, adapter=None):
    """Sum over samples of squared per-sample gradients, computed in batches.

    Each chunk of ``batch_size`` examples costs one padded forward and one
    backward of ``sum_i mean_t CE(i, t)``; per-sample gradients are formed
    from per-layer inputs and output gradients, summed over the uses of each
    parameter, and squared. A batched gradient is never squared.

    The model runs in evaluation mode (no dropout), so the result equals
    :func:`squared_gradients_loop`; its previous mode is restored afterwards.
    Parameters' ``.grad`` are left untouched.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model of the adapter's family.
    examples : sequence of dict
        Tokenized examples with ``"input_ids"`` and ``"labels"``.
    batch_size : int, default=16
        Samples per forward/backward. Memory grows with ``batch_size`` times
        the size of the largest weight matrix (and of the embedding when tied).
    pad_token_id : int or None, default=None
        Input padding id; ``None`` reads ``model.config.pad_token_id``.
    adapter : ModelAdapter or None, default=None
        The model family's batches and logits; None is the encoder-decoder
        adapter.

    Returns
    -------
    scores : Importance
        fp32 tensors keyed by parameter name (tied parameters once).
    """
    adapter = resolve_adapter(adapter)
    pad = resolve_pad_token_id(model, pad_token_id)
    named = _trainable(model)
    params = {id(p): p for _, p in named}
    totals = {id(p): torch.zeros_like(p, dtype=torch.float32) for _, p in named}
    fallback = set()
    device = _model_device(model)
    with _eval_mode(model), torch.enable_grad():
        for batch in iter_chunks(examples, batch_size, pad, device, adapter):
            fallback |= _chunk(model, batch, params, totals, adapter)
    names = {id(p): name for name, p in named}
    return Importance(
        {names[pid]: total for pid, total in totals.items()},
        n_samples=len(examples),
        fallback={names[pid] for pid in fallback},
    )


def _chunk(model, batch, params, totals, adapter):
    """Add one chunk's squared per-sample gradients to ``totals``.

    Returns the ids of the parameters that needed the exact fallback.
    """
    capture = _PerSampleCapture(params, batch["input_ids"].shape[0])
    with capture.module_rules(model), capture:
        losses, _ = batch_losses(adapter, model, batch)
    plist = list(params.values())
    grads = torch.autograd.grad(losses.sum(), plist, retain_graph=True, allow_unused=True)
    capture.flush()
    exact = set(capture.uncovered)
    # Gradients that are zero in exact arithmetic (e.g. attention key biases,
    # which softmax ignores) are rounding noise on both sides of the check; a
    # floor relative to the largest gradient keeps them off the slow fallback.
    floor = 1e-7 * max((float(g.abs().max()) for g in grads if g is not None), default=0.0)
    for param, grad in zip(plist, grads):
        pid = id(param)
        if pid in exact:
            continue
        summed = capture.sums.get(pid)
        if grad is None:
            continue  # unused by the loss: zero importance
        tol = 1e-5 * float(grad.abs().max()) + floor + 1e-12
        if summed is None or not torch.allclose(summed, grad.float(), rtol=1e-3, atol=tol):
            exact.add(pid)  # some use escaped the batched rules
        else:
            totals[pid] += capture.squares[pid]
    if exact:
        chosen = [params[pid] for pid in exact]
        for loss in losses:
            sample = torch.autograd.grad(loss, chosen, retain_graph=True, allow_unused=True)
            for param, grad in zip(chosen, sample):
                if grad is not None:
                    totals[id(param)] += grad.float().square()
    return exact


def squared_gradients_loop(model, examples, *, pad_token_id=None, adapter=None):
    """Reference: squared gradients one sample at a time (batch size 1).

    For each example: ``zero_grad``, forward, backward of its mean token
    cross-entropy, add ``grad ** 2``. Runs in evaluation mode and restores the
    previous mode; parameters' ``.grad`` are cleared afterwards.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model of the adapter's family.
    examples : sequence of dict
        Tokenized examples with ``"input_ids"`` and ``"labels"``.
    pad_token_id : int or None, default=None
        Input padding id; ``None`` reads ``model.config.pad_token_id``.
    adapter : ModelAdapter or None, default=None
        The model family's batches and logits; None is the encoder-decoder
        adapter.

    Returns
    -------
    scores : Importance
        fp32 tensors keyed by parameter name (tied parameters once).
    """
    adapter = resolve_adapter(adapter)
    pad = resolve_pad_token_id(model, pad_token_id)
    named = _trainable(model)
    totals = {name: torch.zeros_like(p, dtype=torch.float32) for name, p in named}
    device = _model_device(model)
    with _eval_mode(model), torch.enable_grad():
        for batch in iter_chunks(examples, 1, pad, device, adapter):
            model.zero_grad(set_to_none=True)
            losses, _ = batch_losses(adapter, model, batch)
            losses[0].backward()
            for name, p in named:
                if p.grad is not None:
                    totals[name] += p.grad.float().square()
    model.zero_grad(set_to_none=True)
    return Importance(totals, n_samples=len(examples))


def per_sample_losses(
    model, examples, *, batch_size=64, pad_token_id=None, autocast=None, adapter=None
):
    """Mean token cross-entropy of every example, batched under inference mode.

    Examples are batched by length to limit padding; the result is in the
    order of ``examples``. Runs in evaluation mode and restores the previous
    mode.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model of the adapter's family.
    examples : sequence of dict
        Tokenized examples with ``"input_ids"`` and ``"labels"``.
    batch_size : int, default=64
        Examples per forward pass.
    pad_token_id : int or None, default=None
        Input padding id; ``None`` reads ``model.config.pad_token_id``.
    adapter : ModelAdapter or None, default=None
        The model family's batches and logits; None is the encoder-decoder
        adapter.
    autocast : torch.dtype or None, default=None
        If set, run the forward under ``torch.autocast`` with this dtype.

    Returns
    -------
    losses : Tensor of shape (len(examples),)
        fp32, on the CPU.
    """
    adapter = resolve_adapter(adapter)
    pad = resolve_pad_token_id(model, pad_token_id)
    device = _model_device(model)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["input_ids"]))
    ordered = [examples[i] for i in order]
    out = torch.empty(len(examples), dtype=torch.float32)
    position = 0
    amp = (
        torch.autocast(device.type, dtype=autocast)
        if autocast is not None
        else contextlib.nullcontext()
    )
    with _eval_mode(model), torch.inference_mode(), amp:
        for batch in iter_chunks(ordered, batch_size, pad, device, adapter):
            losses, _ = batch_losses(adapter, model, batch)
            n = losses.shape[0]
            out[torch.as_tensor(order[position : position + n])] = losses.float().cpu()
            position += n
    return out
