"""Tiny, offline, deterministic seq2seq models and tokenizers for tests.

Everything is built from configs: nothing is downloaded. Weights depend only on
``seed``; the global torch RNG is left untouched.
"""

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import (
    BartConfig,
    BartForConditionalGeneration,
    BertConfig,
    EncoderDecoderConfig,
    EncoderDecoderModel,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

PAD, EOS, UNK, BOS = "<pad>", "</s>", "<unk>", "<s>"

# Words that test sentences and TANL-style targets ("[ John | person ]") use.
_WORDS = (
    "[ ] | = , . ( ) : ; - ' "
    "person location organization miscellaneous misc date "
    "works for lives in born at from the a an of and to with on by is was "
    "john mary smith paul anna berlin paris london rome new york google apple "
    "acme bank university city river team game today yesterday monday "
    "he she it they we visited met joined founded said "
    "John Mary Smith Paul Anna Berlin Paris London Rome New York Google Apple"
).split()


def make_tiny_tokenizer():
    """Build a word-level fast tokenizer over a fixed small vocabulary.

    Text is split on whitespace and every punctuation character is its own
    token, so ``"[John|person]"`` gives ``[ John | person ]``. An end-of-sequence
    token is appended to every encoded text, as T5 does.

    Returns
    -------
    tokenizer : transformers.PreTrainedTokenizerFast
        Ids 0-3 are ``<pad>``, ``</s>``, ``<unk>`` and ``<s>``.
    """
    vocab = {tok: i for i, tok in enumerate([PAD, EOS, UNK, BOS])}
    for word in _WORDS:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation("isolated")]
    )
    backend.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", pair=f"$A {EOS} $B {EOS}", special_tokens=[(EOS, 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        bos_token=BOS,
    )


def make_tiny_t5(seed=0, vocab_size=None, d_model=16, num_layers=1, dropout_rate=0.1):
    """Build a tiny random T5 with tied input/output embeddings.

    Parameters
    ----------
    seed : int, default=0
        Seed of the weight initialisation.
    vocab_size : int or None, default=None
        Model vocabulary size; ``None`` uses the tokenizer's.
    d_model : int, default=16
        Hidden size; the feed-forward size is ``2 * d_model``.
    num_layers : int, default=1
        Number of encoder layers and of decoder layers.
    dropout_rate : float, default=0.1
        Dropout probability.

    Returns
    -------
    model : transformers.T5ForConditionalGeneration
    tokenizer : transformers.PreTrainedTokenizerFast
    """
    tokenizer = make_tiny_tokenizer()
    config = T5Config(
        vocab_size=vocab_size or len(tokenizer),
        d_model=d_model,
        d_kv=d_model // 2,
        d_ff=2 * d_model,
        num_layers=num_layers,
        num_decoder_layers=num_layers,
        num_heads=2,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=16,
        dropout_rate=dropout_rate,
        feed_forward_proj="relu",
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = T5ForConditionalGeneration(config)
    return model, tokenizer


def make_tiny_bert2bert(seed=0, hidden_size=16, num_layers=1, dropout_rate=0.1):
    """Build a tiny random BERT-to-BERT encoder-decoder.

    It mirrors a model warm-started from a BERT checkpoint: the decoder's
    cross-attention is the only part such a checkpoint would not provide.

    Parameters
    ----------
    seed : int, default=0
        Seed of the weight initialisation.
    hidden_size : int, default=16
        Hidden size; the intermediate size is ``2 * hidden_size``.
    num_layers : int, default=1
        Number of layers of the encoder and of the decoder.
    dropout_rate : float, default=0.1
        Hidden and attention dropout probability.

    Returns
    -------
    model : transformers.EncoderDecoderModel
    tokenizer : transformers.PreTrainedTokenizerFast
    new_parameter_names : frozenset of str
        Names of the decoder's cross-attention parameters.
    """
    tokenizer = make_tiny_tokenizer()
    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=64,
        hidden_dropout_prob=dropout_rate,
        attention_probs_dropout_prob=dropout_rate,
        pad_token_id=tokenizer.pad_token_id,
    )
    encoder = BertConfig(**common)
    decoder = BertConfig(**common, is_decoder=True, add_cross_attention=True)
    config = EncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.pad_token_id = tokenizer.pad_token_id
    config.eos_token_id = tokenizer.eos_token_id
    config.decoder_start_token_id = tokenizer.bos_token_id
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = EncoderDecoderModel(config=config)
    new = frozenset(name for name, _ in model.named_parameters() if ".crossattention." in name)
    return model, tokenizer, new


def make_tiny_bart(tokenizer, seed=0, max_position_embeddings=64, **config):
    """Build a tiny random BART for ``tokenizer``.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        Its size and its pad, BOS and EOS ids configure the model; the
        decoder starts with EOS, as BART does.
    seed : int, default=0
        Seed of the weight initialisation.
    max_position_embeddings : int, default=64
        Longest sequence the model accepts.
    **config
        Other ``BartConfig`` fields (e.g. ``forced_bos_token_id``).

    Returns
    -------
    model : transformers.BartForConditionalGeneration
    """
    settings = dict(
        vocab_size=len(tokenizer),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
    )
    settings.update(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return BartForConditionalGeneration(BartConfig(**settings))


# A small corpus for the byte-level BPE tokenizer of the tiny decoder-only models:
# TANL targets and their sources, so that words and ``[ ] | =`` get their own ids.
_BPE_CORPUS = (
    "[ John | person ] visited [ Paris | location ]",
    "[ Mary | person | works for = Google ] joined [ Google | organization ] in London",
    "Paul met Anna in Rome , the city of the river .",
    "[ Smith | person ] founded [ Acme | organization ] ( a bank ) ; they said : yes",
    "he she it they we visited met joined founded said today yesterday monday",
    "works for lives in born at from the a an of and to with on by is was = | [ ]",
    "person location organization miscellaneous misc date team game university new york",
    "john mary smith paul anna berlin paris london rome google apple acme",
)
_ENDOFTEXT = "<|endoftext|>"


def make_tiny_bpe_tokenizer(add_bos=False, vocab_size=300):
    """Build a byte-level BPE fast tokenizer, trained on a fixed small corpus.

    Like GPT-2's, it has one special token, ``<|endoftext|>`` (BOS, EOS and
    UNK), and no padding token; any text is representable, ``[ ] | =``
    included.

    Parameters
    ----------
    add_bos : bool, default=False
        Put ``<|endoftext|>`` before every encoded text, as Llama tokenizers
        put their BOS.
    vocab_size : int, default=300
        Size of the trained vocabulary (the 256 bytes, merges, the special
        token).

    Returns
    -------
    tokenizer : transformers.PreTrainedTokenizerFast
    """
    from tokenizers import decoders, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[_ENDOFTEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(list(_BPE_CORPUS), trainer=trainer)
    if add_bos:
        bos = backend.token_to_id(_ENDOFTEXT)
        backend.post_processor = processors.TemplateProcessing(
            single=f"{_ENDOFTEXT} $A",
            pair=f"{_ENDOFTEXT} $A {_ENDOFTEXT} $B",
            special_tokens=[(_ENDOFTEXT, bos)],
        )
    else:
        backend.post_processor = processors.ByteLevel(trim_offsets=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=_ENDOFTEXT,
        eos_token=_ENDOFTEXT,
        unk_token=_ENDOFTEXT,
    )


def make_tiny_gpt2(seed=0, n_embd=16, n_layer=2, n_positions=64, dropout_rate=0.1):
    """Build a tiny random GPT-2 (``Conv1D`` layers, tied LM head) and its tokenizer.

    Parameters
    ----------
    seed : int, default=0
        Seed of the weight initialisation.
    n_embd : int, default=16
        Hidden size.
    n_layer : int, default=2
        Number of blocks.
    n_positions : int, default=64
        Longest sequence (prompt and target) the model accepts.
    dropout_rate : float, default=0.1
        Residual, embedding and attention dropout.

    Returns
    -------
    model : transformers.GPT2LMHeadModel
    tokenizer : transformers.PreTrainedTokenizerFast
        Without a padding token, as GPT-2's.
    """
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = make_tiny_bpe_tokenizer()
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=2,
        resid_pdrop=dropout_rate,
        embd_pdrop=dropout_rate,
        attn_pdrop=dropout_rate,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GPT2LMHeadModel(config)
    return model, tokenizer


def make_tiny_llama(seed=0, hidden_size=16, num_layers=2, max_position_embeddings=64):
    """Build a tiny random Llama (RMSNorm, rotary positions, gated MLP) and its tokenizer.

    Parameters
    ----------
    seed : int, default=0
        Seed of the weight initialisation.
    hidden_size : int, default=16
        Hidden size; the MLP's intermediate size is ``2 * hidden_size``.
    num_layers : int, default=2
        Number of decoder layers.
    max_position_embeddings : int, default=64
        Longest sequence (prompt and target) the model accepts.

    Returns
    -------
    model : transformers.LlamaForCausalLM
        With an untied LM head.
    tokenizer : transformers.PreTrainedTokenizerFast
        Puts a BOS before every text and has no padding token.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = make_tiny_bpe_tokenizer(add_bos=True)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    return model, tokenizer


def make_tiny_bert(seed=0, hidden_size=16, num_layers=1, max_position_embeddings=64):
    """Build a tiny random encoder-only BERT (no LM head) and its tokenizer.

    Saved with ``save_pretrained``, it is a checkpoint like a
    sentence-transformers one: a prefix LM or a BERT2BERT warm start built
    from it gets a new LM-head transform.

    Parameters
    ----------
    seed : int, default=0
        Seed of the weight initialisation.
    hidden_size : int, default=16
        Hidden size; the intermediate size is ``2 * hidden_size``.
    num_layers : int, default=1
        Number of layers.
    max_position_embeddings : int, default=64
        Longest sequence the model accepts.

    Returns
    -------
    model : transformers.BertModel
    tokenizer : transformers.PreTrainedTokenizerFast
        The word-level tokenizer of :func:`make_tiny_tokenizer`.
    """
    from transformers import BertModel

    tokenizer = make_tiny_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config, add_pooling_layer=False)
    return model, tokenizer
