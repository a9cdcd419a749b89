"""The torch-function mode that collects per-sample gradients of one chunk.

While the forward runs, each ``F.linear``, ``F.embedding``, ``F.layer_norm``
and ``F.rms_norm`` call that uses a tracked parameter keeps its input and
hooks its output; in the backward, the output gradient and the saved input
give the per-sample weight gradient of that use. Uses of one parameter (tied
embeddings) are summed per sample before squaring. Module-level rules
(:mod:`._module_rules`) cover RMS norm modules, GPT-2's ``Conv1D`` and T5's
relative position bias; any other use of a parameter is recorded as
uncovered.

The batch axis must be the first axis of every hooked input (or have size 1
and broadcast, as BERT's position ids do).
"""

from collections import Counter

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ._module_rules import _ModuleRules

__all__ = []


def _arg(args, kwargs, position, name, default=None):
    if len(args) > position:
        return args[position]
    return kwargs.get(name, default)


class _PerSampleCapture(_ModuleRules, TorchFunctionMode):
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
        return self._affine(x, out, weight, bias)

    def _affine(self, x, out, weight, bias, *, in_by_out=False):
        """Per-sample squares of an affine map's weight and bias: ``out = x W^T + b``.

        ``in_by_out`` is for weights stored (in, out), as GPT-2's Conv1D does.
        """
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
                per_sample = (
                    torch.bmm(xs.transpose(1, 2), g)
                    if in_by_out
                    else torch.bmm(g.transpose(1, 2), xs)
                )
                self.contribute(weight, per_sample)
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
