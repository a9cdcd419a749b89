"""Tokenizer settings and special ids every model kind needs.

Decoding must keep ``[ ] | =`` as separate words, the model config must name
its padding, end and start ids, and a tokenizer that cannot write the target
format's characters is reported.
"""

from __future__ import annotations

import warnings

__all__ = [
    "check_format_characters",
    "configure_decoding",
    "is_uncased",
    "set_special_token_ids",
]

# Characters of the augmented-natural-language target format; each must
# survive tokenization and decoding as a separate word.
_FORMAT_PROBE = "[ a | b = c ]"


def set_special_token_ids(model, tokenizer, kind):
    """Make the model's loss and generation know its padding, end and start ids."""
    if kind == "causal":
        _set_causal_ids(model, tokenizer)
        return
    if kind == "prefix-lm":
        _set_prefix_lm_ids(model, tokenizer)
        return
    config = model.config
    if kind == "bert2bert":
        # BERT2BERT convention: decode from [CLS], stop at [SEP].
        start = (
            tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
        )
        eos = (
            tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
        )
        pad = tokenizer.pad_token_id
        if start is None or eos is None or pad is None:
            raise ValueError(
                "Warm-starting needs a tokenizer with CLS (or BOS), SEP (or EOS) and PAD tokens; "
                f"got cls={tokenizer.cls_token!r}, sep={tokenizer.sep_token!r}, "
                f"pad={tokenizer.pad_token!r}."
            )
        config.decoder_start_token_id = start
        config.eos_token_id = eos
        config.pad_token_id = pad
        config.vocab_size = config.decoder.vocab_size
        gen = model.generation_config
        gen.decoder_start_token_id = start
        gen.bos_token_id = start
        gen.eos_token_id = eos
        gen.pad_token_id = pad
    else:
        # Seq2seq checkpoints carry their own ids; fill gaps from the tokenizer.
        gen = model.generation_config
        for attr, value in (
            ("pad_token_id", tokenizer.pad_token_id),
            ("eos_token_id", tokenizer.eos_token_id),
        ):
            if getattr(config, attr, None) is None and value is not None:
                setattr(config, attr, value)
            if getattr(gen, attr, None) is None and getattr(config, attr, None) is not None:
                setattr(gen, attr, getattr(config, attr))
        start = getattr(config, "decoder_start_token_id", None)
        if start is None:
            start = gen.decoder_start_token_id
        if start is None:
            start = (
                config.pad_token_id if config.pad_token_id is not None else tokenizer.bos_token_id
            )
        config.decoder_start_token_id = start
        if gen.decoder_start_token_id is None:
            gen.decoder_start_token_id = start


def _set_causal_ids(model, tokenizer):
    """EOS ends targets; a tokenizer without padding pads with EOS."""
    eos = tokenizer.eos_token_id
    if eos is None:
        eos = model.config.eos_token_id
        if isinstance(eos, list | tuple):
            eos = eos[0] if eos else None
    if eos is None:
        raise ValueError(
            "A causal LM needs an end-of-sequence token to end its targets; neither the "
            "tokenizer nor the model config defines one."
        )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(int(eos))
    pad = tokenizer.pad_token_id
    config, gen = model.config, model.generation_config
    config.eos_token_id = eos
    config.pad_token_id = pad
    gen.eos_token_id = eos
    gen.pad_token_id = pad


def _set_prefix_lm_ids(model, tokenizer):
    """SEP (or EOS) ends targets, as it ends the source."""
    end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    pad = tokenizer.pad_token_id
    if end is None or pad is None:
        raise ValueError(
            "A prefix LM needs a tokenizer with SEP (or EOS) and PAD tokens; got "
            f"sep={tokenizer.sep_token!r}, eos={tokenizer.eos_token!r}, "
            f"pad={tokenizer.pad_token!r}."
        )
    model.config.eos_token_id = end
    model.config.pad_token_id = pad


def configure_decoding(tokenizer):
    """Keep punctuation of the target format as separate words on decoding."""
    tokenizer.clean_up_tokenization_spaces = False
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return
    from tokenizers import decoders

    decoder = backend.decoder
    # The WordPiece decoder's own cleanup turns "call ." into "call." even when
    # clean_up_tokenization_spaces is False.
    if isinstance(decoder, decoders.WordPiece) and decoder.cleanup:
        backend.decoder = decoders.WordPiece(prefix=decoder.prefix, cleanup=False)


def is_uncased(tokenizer):
    backend = getattr(tokenizer, "backend_tokenizer", None)
    normalizer = getattr(backend, "normalizer", None) if backend is not None else None
    if normalizer is not None:
        return normalizer.normalize_str("AbC") == "abc"
    return bool(getattr(tokenizer, "do_lower_case", False))


def check_format_characters(tokenizer, source):
    """Warn when the target format's characters cannot be represented."""
    ids = tokenizer(_FORMAT_PROBE, add_special_tokens=False)["input_ids"]
    decoded = tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    lost = [c for c in "[]|=" if decoded.split().count(c) != _FORMAT_PROBE.split().count(c)]
    if lost:
        warnings.warn(
            f"The tokenizer of {source!r} does not round-trip the target-format characters "
            f"{lost} as separate words ({_FORMAT_PROBE!r} decodes to {decoded!r}); generated "
            "targets may not parse.",
            UserWarning,
            stacklevel=5,  # load_model's caller
        )
