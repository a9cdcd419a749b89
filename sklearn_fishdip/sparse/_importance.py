"""Per-sample squared-gradient (empirical Fisher) importance and per-sample losses.

:func:`squared_gradients` gets every sample's gradient from ONE padded
forward/backward per chunk: while the forward runs, a torch-function mode sees
each ``F.linear``, ``F.embedding``, ``F.layer_norm`` and ``F.rms_norm`` call that
uses a parameter, keeps its input and hooks its output; in the backward the
output gradient and the saved input give the per-sample weight gradient of that
use. Uses of one parameter (tied embeddings) are summed per sample before
squaring. T5-style RMS norms (``weight * x * rsqrt(mean(x**2) + eps)``) are
handled through module hooks and T5's batch-free relative position bias through
a wrapper around ``compute_bias``.

Every other use of a parameter is detected and that parameter falls back to an
exact per-sample backward restricted to it; each chunk also checks that the
per-sample gradients sum to the batch gradient, and falls back where they do
not. The names of parameters that fell back are recorded.

The batch axis must be the first axis of every hooked input (or have size 1
and broadcast, as BERT's position ids do).
"""

import contextlib
from collections import Counter

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ._seq2seq import (
    iter_chunks,
    resolve_pad_token_id,
    seq2seq_logits,
    token_losses,
)


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


def _arg(args, kwargs, position, name, default=None):
    if len(args) > position:
        return args[position]
    return kwargs.get(name, default)


class _PerSampleCapture(TorchFunctionMode):
    """Collect per-sample gradients of tracked parameters for one chunk.

    Parameters
    ----------
    params : dict
        ``id(parameter) -> parameter`` of the tracked parameters.
    batch_size : int
        Number of samples in the chunk.
    """

    def __init__(self, params, batch_size):
        super().__init__()
        self.params = params
        self.batch_size = batch_size
        self.remaining = Counter()  # uses whose gradient has not arrived yet
        self.pending = {}  # id -> per-sample gradient summed over arrived uses
        self.squares = {}  # id -> sum over samples of squared per-sample gradient
        self.sums = {}  # id -> sum over samples of per-sample gradient (check)
        self.uncovered = set()
        # Parameters whose raw uses a module rule handles: id -> None, or a
        # list that records the lookup indices of a batch-free embedding.
        self.claimed = {}
        self.active = True
        self._handlers = {
            F.linear: self._linear,
            F.embedding: self._embedding,
            F.layer_norm: self._layer_norm,
            F.rms_norm: self._rms_norm,
        }

    # -- bookkeeping ---------------------------------------------------------

    def tracked(self, tensor):
        if isinstance(tensor, torch.Tensor) and tensor.requires_grad:
            return self.params.get(id(tensor))
        return None

    def add_use(self, param):
        self.remaining[id(param)] += 1

    def _watch(self, out, hook, *params):
        """Count one use of each tracked ``params`` and run ``hook`` on ``out``'s gradient."""
        for param in params:
            if param is not None:
                self.add_use(param)
        out.register_hook(hook)
        return out

    def contribute(self, param, per_sample):
        if not self.active:  # hooks also fire during the fallback backward
            return
        pid = id(param)
        if pid in self.pending:
            self.pending[pid] += per_sample
        else:
            self.pending[pid] = per_sample
        self._use_done(pid)

    def _use_done(self, pid):
        self.remaining[pid] -= 1
        if self.remaining[pid] == 0:
            self._finalize(pid)

    def _finalize(self, pid):
        per_sample = self.pending.pop(pid)
        self.sums[pid] = per_sample.sum(0)
        # In place: for a tied vocabulary matrix this buffer is hundreds of MB.
        self.squares[pid] = per_sample.square_().sum(0)

    def flush(self):
        """Square the per-sample sums of uses that got no gradient at all."""
        self.active = False
        for pid in list(self.pending):
            self._finalize(pid)

    def batched(self, tensor):
        """``tensor`` with a batch axis of the chunk's size, or None."""
        if tensor.dim() == 0:
            return None
        if tensor.shape[0] == self.batch_size:
            return tensor
        if tensor.shape[0] == 1:
            return tensor.expand(self.batch_size, *tensor.shape[1:])
        return None

    # -- torch-function dispatch ---------------------------------------------

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        handler = self._handlers.get(func)
        if handler is not None and torch.is_grad_enabled():
            return handler(func, args, kwargs)
        out = func(*args, **kwargs)
        if isinstance(out, torch.Tensor) and out.requires_grad:
            for value in (*args, *kwargs.values()):
                param = self.tracked(value)
                if param is not None and id(param) not in self.claimed:
                    self.uncovered.add(id(param))
        return out

    def _unsupported(self, *params):
        self.uncovered.update(id(p) for p in params if p is not None)

    def _linear(self, func, args, kwargs):
        x = _arg(args, kwargs, 0, "input")
        weight = self.tracked(_arg(args, kwargs, 1, "weight"))
        bias = self.tracked(_arg(args, kwargs, 2, "bias"))
        out = func(*args, **kwargs)
        if weight is None and bias is None:
            return out
        xb, outb = self.batched(x), self.batched(out)
        if xb is None or outb is None or x.dim() < 2:
            self._unsupported(weight, bias)
            return out
        xb = xb.detach()
        size = self.batch_size

        def hook(grad):
            g = grad.reshape(size, -1, grad.shape[-1]).float()
            if weight is not None:
                xs = xb.reshape(size, -1, xb.shape[-1]).float()
                self.contribute(weight, torch.bmm(g.transpose(1, 2), xs))
            if bias is not None:
                self.contribute(bias, g.sum(1))

        return self._watch(outb, hook, weight, bias)

    def _embedding(self, func, args, kwargs):
        indices = _arg(args, kwargs, 0, "input")
        weight = self.tracked(_arg(args, kwargs, 1, "weight"))
        out = func(*args, **kwargs)
        if weight is None:
            return out
        recorder = self.claimed.get(id(weight))
        if isinstance(recorder, list):
            recorder.append(indices.detach())  # a batch-free use, handled by its owner
            return out
        padding_idx = _arg(args, kwargs, 2, "padding_idx")
        max_norm = _arg(args, kwargs, 3, "max_norm")
        scale_by_freq = _arg(args, kwargs, 5, "scale_grad_by_freq", False)
        ib, outb = self.batched(indices), self.batched(out)
        if ib is None or outb is None or max_norm is not None or scale_by_freq:
            self._unsupported(weight)
            return out
        num, dim = weight.shape
        size = self.batch_size
        offsets = num * torch.arange(size, device=ib.device)[:, None]
        flat = (ib.reshape(size, -1) + offsets).reshape(-1)
        keep = None
        if padding_idx is not None:
            keep = (ib.reshape(-1) != padding_idx % num).unsqueeze(1)

        def hook(grad):
            g = grad.reshape(-1, dim).float()
            if keep is not None:
                g = g * keep  # the padding row gets no gradient
            if not self.active:
                return
            pid = id(weight)
            pending = self.pending.get(pid)
            if pending is None and self.remaining[pid] == 1:
                # The only use (an untied embedding, or the last of a tied one's):
                # a sample's gradient lives on its own tokens' rows, so square
                # those instead of filling a (size, num, dim) buffer.
                rows, inverse = torch.unique(flat, return_inverse=True)
                per_row = torch.zeros(len(rows), dim, device=g.device, dtype=g.dtype)
                per_row.index_add_(0, inverse, g)
                rows = rows % num
                self.sums[pid] = torch.zeros(num, dim, device=g.device).index_add_(0, rows, per_row)
                self.squares[pid] = torch.zeros(num, dim, device=g.device).index_add_(
                    0, rows, per_row.square_()
                )
                self.remaining[pid] -= 1
                return
            if pending is not None and pending.is_contiguous():
                # A tied matrix already has a (size, num, dim) buffer from another
                # use: scatter into it rather than allocate and add a second one.
                pending.view(size * num, dim).index_add_(0, flat, g)
                self._use_done(pid)
                return
            per_sample = torch.zeros(size * num, dim, device=g.device, dtype=g.dtype)
            per_sample.index_add_(0, flat, g)
            self.contribute(weight, per_sample.view(size, num, dim))

        return self._watch(outb, hook, weight)

    def _norm(self, out, x, weight, bias, ndim, normalize):
        xb, outb = self.batched(x), self.batched(out)
        if xb is None or outb is None:
            self._unsupported(weight, bias)
            return out
        xb = xb.detach()
        size = self.batch_size

        def hook(grad):
            shape = grad.shape[grad.dim() - ndim :]
            g = grad.float().reshape(size, -1, *shape)
            if weight is not None:
                xhat = normalize(xb.float()).reshape(size, -1, *shape)
                self.contribute(weight, (g * xhat).sum(1))
            if bias is not None:
                self.contribute(bias, g.sum(1))

        return self._watch(outb, hook, weight, bias)

    def _layer_norm(self, func, args, kwargs):
        x = _arg(args, kwargs, 0, "input")
        shape = tuple(_arg(args, kwargs, 1, "normalized_shape"))
        weight = self.tracked(_arg(args, kwargs, 2, "weight"))
        bias = self.tracked(_arg(args, kwargs, 3, "bias"))
        eps = _arg(args, kwargs, 4, "eps", 1e-5)
        out = func(*args, **kwargs)
        if weight is None and bias is None:
            return out
        return self._norm(
            out, x, weight, bias, len(shape), lambda v: F.layer_norm(v, shape, None, None, eps)
        )

    def _rms_norm(self, func, args, kwargs):
        x = _arg(args, kwargs, 0, "input")
        shape = tuple(_arg(args, kwargs, 1, "normalized_shape"))
        weight = self.tracked(_arg(args, kwargs, 2, "weight"))
        eps = _arg(args, kwargs, 3, "eps")
        out = func(*args, **kwargs)
        if weight is None:
            return out
        return self._norm(
            out, x, weight, None, len(shape), lambda v: F.rms_norm(v, shape, None, eps)
        )

    # -- module-level rules --------------------------------------------------

    @contextlib.contextmanager
    def module_rules(self, model):
        """Install the rules for T5-style RMS norms and relative position bias."""
        handles, patched = [], []
        for module in model.modules():
            if _is_t5_style_norm(module) and self.tracked(module.weight) is not None:
                # Prepended so that the rule sees the norm's own output.
                handles.append(module.register_forward_pre_hook(self._norm_pre_hook, prepend=True))
                handles.append(module.register_forward_hook(self._norm_post_hook, prepend=True))
            bias_table = getattr(module, "relative_attention_bias", None)
            if isinstance(bias_table, torch.nn.Embedding) and callable(
                getattr(module, "compute_bias", None)
            ):
                module.compute_bias = self._wrap_compute_bias(module, module.compute_bias)
                patched.append(module)
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()
            for module in patched:
                del module.compute_bias  # back to the class's method

    def _norm_pre_hook(self, module, inputs):
        self.claimed[id(module.weight)] = None

    def _norm_post_hook(self, module, inputs, output):
        self.claimed.pop(id(module.weight), None)
        weight = self.tracked(module.weight)
        if weight is None or not torch.is_grad_enabled() or not output.requires_grad:
            return None
        eps = module.variance_epsilon

        def normalize(v):
            v = v * torch.rsqrt(v.pow(2).mean(-1, keepdim=True) + eps)
            if weight.dtype in (torch.float16, torch.bfloat16):
                v = v.to(weight.dtype).float()  # the module rounds before scaling
            return v

        return self._norm(output, inputs[0], weight, None, 1, normalize)

    def _wrap_compute_bias(self, module, original):
        # T5's bias table is looked up with (query, key) buckets that have no
        # batch axis; its (1, heads, query, key) output is broadcast over the
        # batch. Expanding that output to the chunk's batch gives per-sample
        # gradients, which are then scattered back onto the buckets.
        def compute_bias(*args, **kwargs):
            weight = self.tracked(module.relative_attention_bias.weight)
            if weight is None or not torch.is_grad_enabled():
                return original(*args, **kwargs)
            recorded = []
            self.claimed[id(weight)] = recorded
            try:
                out = original(*args, **kwargs)
            finally:
                del self.claimed[id(weight)]
            num, heads = weight.shape
            if len(recorded) != 1 or tuple(out.shape) != (1, heads, *recorded[0].shape):
                self._unsupported(weight)
                return out
            buckets = recorded[0].reshape(-1)
            size = self.batch_size
            expanded = out.expand(size, *out.shape[1:])

            def hook(grad):
                g = grad.float().permute(0, 2, 3, 1).reshape(size, -1, heads)
                per_sample = torch.zeros(size, num, heads, device=g.device, dtype=g.dtype)
                per_sample.index_add_(1, buckets, g)
                self.contribute(weight, per_sample)

            self.add_use(weight)
            expanded.register_hook(hook)
            return expanded

        return compute_bias


def _is_t5_style_norm(module):
    weight = getattr(module, "weight", None)
    return (
        isinstance(weight, torch.nn.Parameter)
        and weight.dim() == 1
        and isinstance(getattr(module, "variance_epsilon", None), float)
        and getattr(module, "bias", None) is None
        and not isinstance(module, (torch.nn.LayerNorm, torch.nn.RMSNorm))
    )


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


def squared_gradients(model, examples, *, batch_size=16, pad_token_id=None):
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
        A seq2seq model.
    examples : sequence of dict
        Tokenized examples with ``"input_ids"`` and ``"labels"``.
    batch_size : int, default=16
        Samples per forward/backward. Memory grows with ``batch_size`` times
        the size of the largest weight matrix (and of the embedding when tied).
    pad_token_id : int or None, default=None
        Input padding id; ``None`` reads ``model.config.pad_token_id``.

    Returns
    -------
    scores : Importance
        fp32 tensors keyed by parameter name (tied parameters once).
    """
    pad = resolve_pad_token_id(model, pad_token_id)
    named = _trainable(model)
    params = {id(p): p for _, p in named}
    totals = {id(p): torch.zeros_like(p, dtype=torch.float32) for _, p in named}
    fallback = set()
    device = _model_device(model)
    with _eval_mode(model), torch.enable_grad():
        for batch in iter_chunks(examples, batch_size, pad, device):
            fallback |= _chunk(model, batch, params, totals)
    names = {id(p): name for name, p in named}
    return Importance(
        {names[pid]: total for pid, total in totals.items()},
        n_samples=len(examples),
        fallback={names[pid] for pid in fallback},
    )


def _chunk(model, batch, params, totals):
    """Add one chunk's squared per-sample gradients to ``totals``.

    Returns the ids of the parameters that needed the exact fallback.
    """
    capture = _PerSampleCapture(params, batch["input_ids"].shape[0])
    with capture.module_rules(model), capture:
        losses, _ = token_losses(seq2seq_logits(model, batch), batch["labels"])
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


def squared_gradients_loop(model, examples, *, pad_token_id=None):
    """Reference: squared gradients one sample at a time (batch size 1).

    For each example: ``zero_grad``, forward, backward of its mean token
    cross-entropy, add ``grad ** 2``. Runs in evaluation mode and restores the
    previous mode; parameters' ``.grad`` are cleared afterwards.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A seq2seq model.
    examples : sequence of dict
        Tokenized examples with ``"input_ids"`` and ``"labels"``.
    pad_token_id : int or None, default=None
        Input padding id; ``None`` reads ``model.config.pad_token_id``.

    Returns
    -------
    scores : Importance
        fp32 tensors keyed by parameter name (tied parameters once).
    """
    pad = resolve_pad_token_id(model, pad_token_id)
    named = _trainable(model)
    totals = {name: torch.zeros_like(p, dtype=torch.float32) for name, p in named}
    device = _model_device(model)
    with _eval_mode(model), torch.enable_grad():
        for batch in iter_chunks(examples, 1, pad, device):
            model.zero_grad(set_to_none=True)
            losses, _ = token_losses(seq2seq_logits(model, batch), batch["labels"])
            losses[0].backward()
            for name, p in named:
                if p.grad is not None:
                    totals[name] += p.grad.float().square()
    model.zero_grad(set_to_none=True)
    return Importance(totals, n_samples=len(examples))


def per_sample_losses(model, examples, *, batch_size=64, pad_token_id=None, autocast=None):
    """Mean token cross-entropy of every example, batched under inference mode.

    Examples are batched by length to limit padding; the result is in the
    order of ``examples``. Runs in evaluation mode and restores the previous
    mode.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A seq2seq model.
    examples : sequence of dict
        Tokenized examples with ``"input_ids"`` and ``"labels"``.
    batch_size : int, default=64
        Examples per forward pass.
    pad_token_id : int or None, default=None
        Input padding id; ``None`` reads ``model.config.pad_token_id``.
    autocast : torch.dtype or None, default=None
        If set, run the forward under ``torch.autocast`` with this dtype.

    Returns
    -------
    losses : Tensor of shape (len(examples),)
        fp32, on the CPU.
    """
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
        for batch in iter_chunks(ordered, batch_size, pad, device):
            losses, _ = token_losses(seq2seq_logits(model, batch), batch["labels"])
            n = losses.shape[0]
            out[torch.as_tensor(order[position : position + n])] = losses.float().cpu()
            position += n
    return out
