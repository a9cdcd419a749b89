"""Which adapter a model needs, read from the model itself."""

from __future__ import annotations

from ._adapter import ModelAdapter
from ._causal import CausalLMAdapter
from ._kinds import WARM_START_MODEL_TYPES
from ._prefix_lm import PrefixLMAdapter

__all__ = ["adapter_for_kind", "adapter_for_model"]


def adapter_for_model(model, tokenizer=None):
    """The adapter of a model's family, read from its config.

    Parameters
    ----------
    model : torch.nn.Module
        An encoder-decoder, a decoder-only causal LM, or a BERT-like masked LM
        used as a prefix LM.
    tokenizer : transformers.PreTrainedTokenizerBase or None, default=None
        The model's tokenizer; a prefix LM needs it to align its target
        positions to the source (:class:`PrefixLMAdapter`'s ``aligner``).

    Returns
    -------
    ModelAdapter
        :class:`ModelAdapter` for encoder-decoders, :class:`PrefixLMAdapter`
        for BERT-like encoder-only masked LMs, :class:`CausalLMAdapter`
        otherwise.

    Raises
    ------
    TypeError
        If ``model`` has no Hugging Face ``config``.
    """
    config = getattr(model, "config", None)
    if config is None:
        raise TypeError(f"{type(model).__name__} has no `config`: it is not a Hugging Face model.")
    if getattr(config, "is_encoder_decoder", False):
        return ModelAdapter()
    if getattr(config, "model_type", None) in WARM_START_MODEL_TYPES and not getattr(
        config, "is_decoder", False
    ):
        return PrefixLMAdapter.for_model(model, tokenizer)
    return CausalLMAdapter()


def adapter_for_kind(kind, model, tokenizer=None):
    """The adapter of a concrete kind (``"bert2bert"`` is an encoder-decoder)."""
    if kind in ("seq2seq", "bert2bert"):
        return ModelAdapter()
    if kind == "causal":
        return CausalLMAdapter()
    if kind == "prefix-lm":
        return PrefixLMAdapter.for_model(model, tokenizer)
    raise ValueError(f"No adapter for model kind {kind!r}.")
