"""Building the pristine model of each kind from a checkpoint.

Each builder returns ``(model, new_parameter_names)``: the model in float32 and
the canonical names of the parameters the checkpoint did not provide. The
caller seeds the RNG for those (see :mod:`._loading`).

* ``seq2seq``: ``AutoModelForSeq2SeqLM`` as it is.
* ``causal``: ``AutoModelForCausalLM`` as it is.
* ``bert2bert``: an ``EncoderDecoderModel`` warm-started from one encoder-only
  checkpoint (Rothe et al., 2020), with options to share the decoder with the
  encoder and to initialize cross-attention from self-attention.
* ``prefix-lm``: the checkpoint's masked-LM class (encoder plus an LM head tied
  to the word embeddings); the head's transform is new for checkpoints that
  ship without one.
"""

from __future__ import annotations

import copy

__all__ = ["build_model"]


def build_model(kind, source, config, hub_kwargs, cross_attention_init, tie_encoder_decoder):
    """Build the model of ``kind`` from ``source``; return ``(model, new names)``."""
    if kind == "seq2seq":
        return _load_seq2seq_checkpoint(source, config, hub_kwargs)
    if kind == "causal":
        return _load_causal_checkpoint(source, config, hub_kwargs)
    if kind == "prefix-lm":
        return _load_prefix_lm(source, config, hub_kwargs)
    return _warm_start_bert2bert(
        source, config, hub_kwargs, cross_attention_init, tie_encoder_decoder
    )


def _load_causal_checkpoint(source, config, hub_kwargs):
    import torch
    from transformers import AutoModelForCausalLM

    model, info = AutoModelForCausalLM.from_pretrained(
        source, config=config, dtype=torch.float32, output_loading_info=True, **hub_kwargs
    )
    provided = _all_parameter_names(model) - set(info["missing_keys"])
    return model, _new_parameters(model, provided)


def _load_prefix_lm(source, config, hub_kwargs):
    import torch
    from transformers import AutoModelForMaskedLM

    config = copy.deepcopy(config)
    config.is_decoder = False
    config.add_cross_attention = False
    model, info = AutoModelForMaskedLM.from_pretrained(
        source, config=config, dtype=torch.float32, output_loading_info=True, **hub_kwargs
    )
    provided = _all_parameter_names(model) - set(info["missing_keys"])
    return model, _new_parameters(model, provided)


def _load_seq2seq_checkpoint(source, config, hub_kwargs):
    import torch
    from transformers import AutoModelForSeq2SeqLM

    model, info = AutoModelForSeq2SeqLM.from_pretrained(
        source, config=config, dtype=torch.float32, output_loading_info=True, **hub_kwargs
    )
    provided = _all_parameter_names(model) - set(info["missing_keys"])
    return model, _new_parameters(model, provided)


def _warm_start_bert2bert(source, config, hub_kwargs, cross_attention_init, tie_encoder_decoder):
    """Build BERT2BERT from one encoder-only checkpoint (as
    ``EncoderDecoderModel.from_encoder_decoder_pretrained`` does, but keeping
    the loading info and without the unused pooler)."""
    import torch
    from transformers import AutoModel, AutoModelForCausalLM, EncoderDecoderModel

    enc_config = copy.deepcopy(config)
    enc_config.is_decoder = False
    enc_config.add_cross_attention = False
    encoder, enc_info = AutoModel.from_pretrained(
        source, config=enc_config, dtype=torch.float32, output_loading_info=True, **hub_kwargs
    )
    # The seq2seq loss never uses the pooled output; an unused pooler would only
    # add parameters without gradients.
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None

    dec_config = copy.deepcopy(config)
    dec_config.is_decoder = True
    dec_config.add_cross_attention = True
    decoder, dec_info = AutoModelForCausalLM.from_pretrained(
        source, config=dec_config, dtype=torch.float32, output_loading_info=True, **hub_kwargs
    )
    model = EncoderDecoderModel(encoder=encoder, decoder=decoder)

    names = _all_parameter_names(model)
    missing = {f"encoder.{k}" for k in enc_info["missing_keys"]}
    missing |= {f"decoder.{k}" for k in dec_info["missing_keys"]}
    # Anything outside encoder/decoder (e.g. enc_to_dec_proj) is new by construction.
    provided = {n for n in names if n.startswith(("encoder.", "decoder.")) and n not in missing}

    if tie_encoder_decoder:
        provided |= _tie_decoder_to_encoder(model)
    if cross_attention_init == "self":
        provided |= _copy_self_to_cross_attention(model)
    return model, _new_parameters(model, provided)


def _tie_decoder_to_encoder(model):
    """Share decoder parameters with same-named, same-shaped encoder ones.

    Returns the decoder parameter names that now alias encoder parameters.
    """
    decoder_base = model.decoder.base_model
    prefix = "decoder." + model.decoder.base_model_prefix + "."
    output_emb = model.decoder.get_output_embeddings()
    input_emb = model.decoder.get_input_embeddings()
    lm_head_tied = output_emb is not None and output_emb.weight is input_emb.weight

    encoder_params = dict(model.encoder.named_parameters())
    tied = set()
    for name, param in list(decoder_base.named_parameters()):
        source = encoder_params.get(name)
        if source is None or source.shape != param.shape:
            continue
        module_name, _, attr = name.rpartition(".")
        setattr(decoder_base.get_submodule(module_name), attr, source)
        tied.add(prefix + name)
    if lm_head_tied:
        # Keep the LM head tied to the (now shared) word embeddings.
        output_emb.weight = model.decoder.get_input_embeddings().weight
    return tied


def _copy_self_to_cross_attention(model):
    """Copy each decoder layer's self-attention into its cross-attention.

    Returns the names of the cross-attention parameters that were copied.
    """
    import torch

    params = dict(model.decoder.named_parameters())
    copied = set()
    with torch.no_grad():
        for name, param in params.items():
            if ".crossattention." not in name:
                continue
            source = params.get(name.replace(".crossattention.", ".attention."))
            if source is None or source.shape != param.shape:
                continue
            param.copy_(source)
            copied.add("decoder." + name)
    return copied


def _all_parameter_names(model):
    return {n for n, _ in model.named_parameters(remove_duplicate=False)}


def _new_parameters(model, provided):
    """Canonical names of parameters none of whose aliases was provided."""
    aliases = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        aliases.setdefault(id(param), []).append(name)
    return frozenset(
        name
        for name, param in model.named_parameters()
        if not any(alias in provided for alias in aliases[id(param)])
    )
