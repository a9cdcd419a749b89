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
