"""Optimizers and optimizer-state handling under changing sparse masks.

:class:`SparseAdamW` keeps Adam moments only for the trainable entries of each
parameter, so off-mask entries never move (weight decay included) and its state
is O(k). For other optimizers, :func:`freezes_zero_gradients` says whether zeroed
gradients already keep entries fixed, and :func:`clear_state_outside` clears the
per-entry state of entries that leave a mask.
"""

import math

import torch
from transformers.optimization import Adafactor


class SparseAdamW(torch.optim.Optimizer):
    """AdamW with state only for the trainable entries of each parameter.

    Each parameter is in one of three modes, set by :meth:`set_mode`:

    - ``"dense"`` (the default): ordinary AdamW (decoupled weight decay, bias
      correction), as ``torch.optim.AdamW`` computes it;
    - ``"sparse"``: only the entries at the given flat indices are updated,
      decayed and have moments (with a step count per entry);
    - ``"frozen"``: never updated, no state.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups.
    lr : float, default=1e-3
        Learning rate.
    betas : tuple of float, default=(0.9, 0.999)
        Moment decay rates.
    eps : float, default=1e-8
        Denominator term.
    weight_decay : float, default=0.01
        Decoupled weight decay, applied to updated entries only.

    Notes
    -----
    On a mask change the state is remapped: entries that stay keep their
    moments and step count, new entries start from zero (a fresh Adam), and
    entries that leave lose their state. A parameter that turns from sparse to
    dense starts a fresh dense state, since one step count must serve all its
    entries.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(
                f"Invalid SparseAdamW hyper-parameters: lr={lr}, betas={betas}, "
                f"eps={eps}, weight_decay={weight_decay}."
            )
        super().__init__(
            params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)
        )

    def set_mode(self, param, mode, indices=None):
        """Set which entries of ``param`` are trained, remapping its state.

        Parameters
        ----------
        param : torch.nn.Parameter
            A parameter of this optimizer.
        mode : {"dense", "sparse", "frozen"}
        indices : Tensor or None
            Sorted flat indices of the trainable entries (``"sparse"`` only).
        """
        old = self.state.get(param, {})
        old_mode = old.get("mode", "dense" if old else None)
        if mode == "frozen":
            self.state[param] = {"mode": "frozen"}
        elif mode == "dense":
            if old_mode != "dense":
                self.state[param] = {}  # created on the next step
        elif mode == "sparse":
            if not param.is_contiguous():
                raise ValueError("SparseAdamW needs contiguous parameters.")
            self.state[param] = self._sparse_state(param, old, old_mode, indices)
        else:
            raise ValueError(f"Unknown mode {mode!r}.")

    @staticmethod
    def _sparse_state(param, old, old_mode, indices):
        new = indices.to(device=param.device, dtype=torch.long)
        k = new.numel()
        state = {
            "mode": "sparse",
            "indices": indices.to(device=param.device, dtype=torch.int32),
            "step": torch.zeros(k, dtype=torch.int32, device=param.device),
            "exp_avg": torch.zeros(k, dtype=torch.float32, device=param.device),
            "exp_avg_sq": torch.zeros(k, dtype=torch.float32, device=param.device),
        }
        if old_mode == "sparse":
            previous = old["indices"].long()
            pos = torch.searchsorted(previous, new).clamp(max=max(len(previous) - 1, 0))
            kept = (previous[pos] == new) if len(previous) else torch.zeros_like(new, dtype=bool)
            for key in ("step", "exp_avg", "exp_avg_sq"):
                state[key][kept] = old[key][pos[kept]]
        elif old_mode == "dense" and "exp_avg" in old:
            state["step"].fill_(old["step"])
            state["exp_avg"] = old["exp_avg"].reshape(-1)[new].float()
            state["exp_avg_sq"] = old["exp_avg_sq"].reshape(-1)[new].float()
        return state

    def load_state_dict(self, state_dict):
        """Load a :meth:`state_dict`, keeping each parameter's mode and indices.

        ``torch.optim.Optimizer`` casts every floating-point state tensor to
        its parameter's dtype and rebuilds strings character by character:
        the mode names and the int32 indices are put back as saved, and the
        per-entry step counts moved to their parameter's device.

        Parameters
        ----------
        state_dict : dict
            From :meth:`state_dict`.
        """
        super().load_state_dict(state_dict)
        saved_ids = [i for group in state_dict["param_groups"] for i in group["params"]]
        params = [p for group in self.param_groups for p in group["params"]]
        for saved_id, param in zip(saved_ids, params):
            saved = state_dict["state"].get(saved_id, {})
            state = self.state[param]
            if "mode" in saved:
                state["mode"] = saved["mode"]
            for key in ("indices", "step"):
                if isinstance(saved.get(key), torch.Tensor):
                    state[key] = saved[key].to(param.device, copy=True)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step.

        Parameters
        ----------
        closure : callable or None, default=None
            Re-evaluates the model and returns the loss.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                mode = state.get("mode", "dense")
                if mode == "dense":
                    self._dense_step(param, state, group)
                elif mode == "sparse":
                    self._sparse_step(param, state, group)
        return loss

    @staticmethod
    def _dense_step(param, state, group):
        if not state:
            state.update(
                mode="dense",
                step=0,
                exp_avg=torch.zeros_like(param, memory_format=torch.preserve_format),
                exp_avg_sq=torch.zeros_like(param, memory_format=torch.preserve_format),
            )
        beta1, beta2 = group["betas"]
        lr, grad = group["lr"], param.grad
        state["step"] += 1
        step = state["step"]
        param.mul_(1 - lr * group["weight_decay"])
        state["exp_avg"].lerp_(grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (state["exp_avg_sq"].sqrt() / math.sqrt(1 - beta2**step)).add_(group["eps"])
        param.addcdiv_(state["exp_avg"], denom, value=-lr / (1 - beta1**step))

    @staticmethod
    def _sparse_step(param, state, group):
        beta1, beta2 = group["betas"]
        lr = group["lr"]
        idx = state["indices"].long()
        flat = param.view(-1)
        grad = param.grad.reshape(-1)[idx].float()
        values = flat[idx].float()
        state["step"] += 1
        step = state["step"].float()
        values.mul_(1 - lr * group["weight_decay"])
        state["exp_avg"].lerp_(grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = (state["exp_avg_sq"].sqrt() / (1 - beta2**step).sqrt()).add_(group["eps"])
        values.addcdiv_(state["exp_avg"], denom * (1 - beta1**step), value=-lr)
        flat.index_copy_(0, idx, values.to(flat.dtype))


#: Learning rate per optimizer when an estimator's ``learning_rate`` is None:
#: the paper's Adafactor setting for sparse training, a conventional AdamW rate.
DEFAULT_LEARNING_RATES = {"adafactor": 1e-2, "adamw": 3e-4}


def freezes_zero_gradients(optimizer):
    """Whether a zero gradient leaves an entry exactly unchanged.

    True for :class:`SparseAdamW` and for Adafactor without momentum
    (``beta1=None``) and without weight decay, where a zero gradient gives an
    exactly zero update. Other optimizers need off-mask entries restored after
    each step.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer

    Returns
    -------
    bool
    """
    if isinstance(optimizer, SparseAdamW):
        return True
    if isinstance(optimizer, Adafactor):
        return all(
            g.get("beta1") is None and not g.get("weight_decay") for g in optimizer.param_groups
        )
    return False


@torch.no_grad()
def clear_state_outside(optimizer, param, keep):
    """Zero the per-entry optimizer state of ``param`` outside ``keep``.

    Every state tensor of the parameter's shape (Adam moments, Adafactor's
    momentum and unfactored second moment) is cleared where ``keep`` is False.
    Adafactor's factored row/column statistics are shared by many entries and
    are left as they are.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    param : torch.nn.Parameter
    keep : Tensor of bool, same shape as ``param``
    """
    for value in optimizer.state.get(param, {}).values():
        if isinstance(value, torch.Tensor) and value.shape == param.shape:
            value.masked_fill_(~keep, 0)


def optimizer_state_bytes(optimizer):
    """Bytes held by an optimizer's state tensors.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer

    Returns
    -------
    int
    """
    return sum(
        value.numel() * value.element_size()
        for state in optimizer.state.values()
        for value in state.values()
        if isinstance(value, torch.Tensor)
    )
