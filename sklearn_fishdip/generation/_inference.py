"""Running a fitted model for inference without changing it for its owner."""

from __future__ import annotations

import contextlib

__all__ = ["inference_on"]


@contextlib.contextmanager
def inference_on(model, device=None):
    """Evaluation mode, no autograd, and ``device`` for the block; all put back after.

    The estimators keep their fitted model on the CPU in eval mode; generation
    and ranking may move it to a GPU for the call, and a caller's model in
    training mode stays so.

    Parameters
    ----------
    model : torch.nn.Module
    device : str, torch.device or None, default=None
        Where to run; None keeps the model's own device.

    Yields
    ------
    device : torch.device
        The device the block runs on.
    """
    import torch

    model_device = next(model.parameters()).device
    device = model_device if device is None else torch.device(device)
    was_training = model.training
    try:
        if device != model_device:
            model.to(device)
        model.eval()
        with torch.inference_mode():
            yield device
    finally:
        model.train(was_training)
        if device != model_device:
            model.to(model_device)
