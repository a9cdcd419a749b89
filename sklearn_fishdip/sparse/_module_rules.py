"""Per-sample gradient rules that need a module's view: RMS norms, Conv1D, T5's bias.

Some parameter uses cannot be read from a single torch function call: an RMS
norm module (T5, Llama, Qwen2: ``weight * x * rsqrt(mean(x**2) + eps)``)
multiplies its weight elementwise; GPT-2's ``Conv1D`` calls ``addmm`` on rows
flattened across the batch; T5's relative position bias is looked up without
a batch axis and broadcast. :class:`_ModuleRules` hooks those modules and
feeds their per-sample gradients to the capture it is mixed into.
"""

import contextlib

import torch
from transformers.pytorch_utils import Conv1D

__all__ = []


class _ModuleRules:
    """Module hooks of :class:`~._capture._PerSampleCapture` (a mixin)."""

    @contextlib.contextmanager
    def module_rules(self, model):
        """Install the rules for RMS norm modules, GPT-2's Conv1D and T5's position bias."""
        handles, patched = [], []
        for module in model.modules():
            if isinstance(module, Conv1D) and (
                self.tracked(module.weight) is not None or self.tracked(module.bias) is not None
            ):
                handles.append(
                    module.register_forward_pre_hook(self._conv1d_pre_hook, prepend=True)
                )
                handles.append(module.register_forward_hook(self._conv1d_post_hook, prepend=True))
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

    def _conv1d_pre_hook(self, module, inputs):
        # The module's addmm uses its parameters on flattened rows; the post
        # hook below covers them with the batched input and output instead.
        for param in (module.weight, module.bias):
            if param is not None:
                self.claimed[id(param)] = None

    def _conv1d_post_hook(self, module, inputs, output):
        weight, bias = self.tracked(module.weight), self.tracked(module.bias)
        for param in (module.weight, module.bias):
            if param is not None:
                self.claimed.pop(id(param), None)
        if (weight is None and bias is None) or not torch.is_grad_enabled():
            return None
        if not output.requires_grad:
            return None
        # Conv1D computes x @ W with W of shape (in, out): the transpose of linear's.
        return self._affine(inputs[0], output, weight, bias, in_by_out=True)

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
