"""Tests for sklearn_fishdip.models: loading, warm-starting and caching."""

import math
import os
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertModel,
    EncoderDecoderModel,
    GPT2Config,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

from sklearn_fishdip.models import (
    BERT2BERT_MODEL,
    DEFAULT_MODEL,
    LoadedModel,
    base_model_fingerprint,
    clear_model_cache,
    load_seq2seq,
)
from sklearn_fishdip.models import _fingerprint as _fingerprints
from sklearn_fishdip.models import _loading as _models

# EncoderDecoderModel warns on every forward with labels; it is not about our code.
pytestmark = pytest.mark.filterwarnings("ignore:Version v4.12.0:FutureWarning")

WORDS = [
    "[", "]", "|", "=", ".", "eu", "german", "british", "rejects", "call", "to",
    "boycott", "lamb", "organization", "miscellaneous", "person", "peter",
    "lives", "in", "berlin", "location", "##s",
]  # fmt: skip
N_LAYERS = 2
TARGET = "[ eu | organization ] rejects [ german | miscellaneous ] call ."
LM_HEAD_NEW = {
    "decoder.cls.predictions.bias",
    "decoder.cls.predictions.transform.LayerNorm.bias",
    "decoder.cls.predictions.transform.LayerNorm.weight",
    "decoder.cls.predictions.transform.dense.bias",
    "decoder.cls.predictions.transform.dense.weight",
}
CROSS_SUFFIXES = [
    f"self.{proj}.{kind}" for proj in ("query", "key", "value") for kind in ("weight", "bias")
] + ["output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"]


def _cross_names(n_layers):
    return {
        f"decoder.bert.encoder.layer.{i}.crossattention.{s}"
        for i in range(n_layers)
        for s in CROSS_SUFFIXES
    }


def _bert_tokenizer():
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    # cleanup=True is what real BERT tokenizers ship; the loader must undo it.
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def _word_level_tokenizer(words):
    vocab = {t: i for i, t in enumerate(["<pad>", "</s>", "<unk>", *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", vocab["</s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def _save_t5(path, words):
    tokenizer = _word_level_tokenizer(words)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=16,
        d_kv=8,
        d_ff=32,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = T5ForConditionalGeneration(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    """A tiny encoder-only BERT saved like a sentence-transformers checkpoint."""
    path = tmp_path_factory.mktemp("tiny_bert")
    tokenizer = _bert_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=N_LAYERS,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = BertModel(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def t5_dir(tmp_path_factory):
    return str(_save_t5(tmp_path_factory.mktemp("tiny_t5"), WORDS))


@pytest.fixture(scope="module")
def bert_weights(bert_dir):
    return load_file(os.path.join(bert_dir, "model.safetensors"))


@pytest.fixture
def count_reads(monkeypatch):
    """Count calls of the function that reads checkpoints from disk."""
    calls = []
    original = _models._load_from_source

    def counting(source, **kwargs):
        calls.append(source)
        return original(source, **kwargs)

    monkeypatch.setattr(_models, "_load_from_source", counting)
    return calls


def _batch(loaded, sources, targets):
    x = loaded.tokenizer(sources, padding=True, return_tensors="pt")
    label_ids = loaded.encode_targets(targets)
    width = max(map(len, label_ids))
    labels = torch.tensor([ids + [-100] * (width - len(ids)) for ids in label_ids])
    return x, labels


def test_warm_start_bert_folder(bert_dir, bert_weights):
    loaded = load_seq2seq(bert_dir)
    assert isinstance(loaded, LoadedModel)
    model, tok = loaded.model, loaded.tokenizer
    assert isinstance(model, EncoderDecoderModel)
    assert not model.training
    assert loaded.uncased
    assert loaded.name_or_path == bert_dir and loaded.revision is None
    # The pooler is dropped: the seq2seq loss never uses it.
    assert model.encoder.pooler is None
    params = dict(model.named_parameters())
    for key, value in bert_weights.items():
        if key.startswith("pooler.") or key.endswith("position_ids"):
            continue
        torch.testing.assert_close(params[f"encoder.{key}"], value, rtol=0, atol=0)
        torch.testing.assert_close(params[f"decoder.bert.{key}"], value, rtol=0, atol=0)
    # A sentence-transformers checkpoint has no MLM head; cross-attention is copied.
    assert loaded.new_parameter_names == LM_HEAD_NEW
    assert loaded.new_parameter_names <= set(params)

    cfg = model.config
    assert cfg.decoder_start_token_id == tok.cls_token_id
    assert cfg.eos_token_id == tok.sep_token_id
    assert cfg.pad_token_id == tok.pad_token_id
    assert cfg.vocab_size == len(tok)
    x, labels = _batch(
        loaded, ["eu rejects call .", "peter lives in berlin ."], [TARGET, "[ peter | person ] ."]
    )
    assert labels[0, 0] != tok.cls_token_id  # the model prepends the start token itself
    out = model(input_ids=x.input_ids, attention_mask=x.attention_mask, labels=labels)
    assert math.isfinite(out.loss.item())
    gen = model.generate(input_ids=x.input_ids, attention_mask=x.attention_mask, max_new_tokens=4)
    assert gen.shape[0] == 2 and (gen[:, 0] == tok.cls_token_id).all()


def test_warm_start_from_masked_lm_checkpoint_keeps_lm_head(tmp_path):
    tokenizer = _bert_tokenizer()
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=N_LAYERS,
        num_attention_heads=2,
        intermediate_size=32,
    )
    BertForMaskedLM(config).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    loaded = load_seq2seq(str(tmp_path))
    # Like bert-base-uncased: the MLM head is reused, so nothing is new.
    assert loaded.new_parameter_names == frozenset()
    params = dict(loaded.model.named_parameters())
    for key in ("cls.predictions.bias", "cls.predictions.transform.dense.weight"):
        torch.testing.assert_close(params[f"decoder.{key}"], weights[key], rtol=0, atol=0)
    random = load_seq2seq(str(tmp_path), cross_attention_init="random")
    assert random.new_parameter_names == _cross_names(N_LAYERS)


def test_special_characters_round_trip(bert_dir):
    loaded = load_seq2seq(bert_dir)
    tok = loaded.tokenizer
    text = TARGET.upper()
    ids = tok(text).input_ids
    # The shipped WordPiece decoder would glue "call ." into "call."
    assert tok.decode(ids, skip_special_tokens=True) == TARGET
    assert loaded.decode([ids]) == [TARGET]
    (label_ids,) = loaded.encode_targets([text])
    assert label_ids[-1] == tok.sep_token_id and tok.cls_token_id not in label_ids
    assert loaded.decode([label_ids + [-100]]) == [TARGET]
    # Cut as training cuts: the first ids, no end.
    assert loaded.encode_targets([text], max_length=4) == [label_ids[:4]]
    assert label_ids[3] != tok.sep_token_id


def test_cross_attention_init_self_copies_self_attention(bert_dir):
    model = load_seq2seq(bert_dir, cross_attention_init="self").model
    params = dict(model.named_parameters())
    for i in range(N_LAYERS):
        for suffix in CROSS_SUFFIXES:
            cross = params[f"decoder.bert.encoder.layer.{i}.crossattention.{suffix}"]
            own = params[f"decoder.bert.encoder.layer.{i}.attention.{suffix}"]
            torch.testing.assert_close(cross, own, rtol=0, atol=0)
            assert cross.data_ptr() != own.data_ptr()  # a copy, not a tie


def test_cross_attention_init_random(bert_dir):
    loaded = load_seq2seq(bert_dir, cross_attention_init="random")
    assert loaded.new_parameter_names == LM_HEAD_NEW | _cross_names(N_LAYERS)
    params = dict(loaded.model.named_parameters())
    q = "decoder.bert.encoder.layer.0.{}.self.query.weight"
    assert not torch.equal(params[q.format("crossattention")], params[q.format("attention")])


@pytest.mark.parametrize("init", ["self", "random"])
def test_tie_encoder_decoder(bert_dir, init):
    untied = load_seq2seq(bert_dir, cross_attention_init=init).model
    loaded = load_seq2seq(bert_dir, cross_attention_init=init, tie_encoder_decoder=True)
    model = loaded.model
    enc, dec = model.encoder, model.decoder
    assert (
        dec.bert.encoder.layer[1].attention.self.query.weight
        is enc.encoder.layer[1].attention.self.query.weight
    )
    assert dec.bert.embeddings.word_embeddings.weight is enc.embeddings.word_embeddings.weight
    assert dec.get_output_embeddings().weight is enc.embeddings.word_embeddings.weight
    assert (
        dec.bert.encoder.layer[0].crossattention.self.query.weight
        is not enc.encoder.layer[0].attention.self.query.weight
    )
    n_tied = sum(p.numel() for p in model.parameters())
    assert n_tied < sum(p.numel() for p in untied.parameters())
    expected = LM_HEAD_NEW if init == "self" else LM_HEAD_NEW | _cross_names(N_LAYERS)
    assert loaded.new_parameter_names == expected
    # Gradients from the decoder reach the shared parameters.
    x, labels = _batch(loaded, ["eu rejects call ."], [TARGET])
    model(input_ids=x.input_ids, attention_mask=x.attention_mask, labels=labels).loss.backward()
    assert enc.encoder.layer[1].attention.self.query.weight.grad is not None


def test_seq2seq_t5_folder(t5_dir):
    loaded = load_seq2seq(t5_dir)
    assert isinstance(loaded.model, T5ForConditionalGeneration)
    assert loaded.new_parameter_names == frozenset()
    assert not loaded.uncased
    assert loaded.model.config.decoder_start_token_id == 0
    x, labels = _batch(loaded, ["eu rejects call ."], ["[ eu | organization ] rejects call ."])
    assert labels[0, -1] == loaded.tokenizer.eos_token_id
    out = loaded.model(input_ids=x.input_ids, attention_mask=x.attention_mask, labels=labels)
    assert math.isfinite(out.loss.item())
    loaded.model.generate(input_ids=x.input_ids, max_new_tokens=3)


def test_seq2seq_missing_key_is_new(tmp_path):
    path = _save_t5(tmp_path / "t5", WORDS)
    weights = load_file(path / "model.safetensors")
    dropped = "decoder.final_layer_norm.weight"
    del weights[dropped]
    save_file(weights, path / "model.safetensors", metadata={"format": "pt"})
    assert load_seq2seq(str(path)).new_parameter_names == {dropped}


def test_second_load_is_cached_and_does_not_read_disk(tmp_path, count_reads):
    src = tmp_path / "t5"
    _save_t5(src, WORDS)
    first = load_seq2seq(str(src))
    assert len(count_reads) == 1
    # Move the checkpoint away and leave an empty folder at the same path.
    shutil.move(src, tmp_path / "gone")
    src.mkdir()
    second = load_seq2seq(str(src))
    assert len(count_reads) == 1
    for (n1, p1), (n2, p2) in zip(
        first.model.state_dict().items(), second.model.state_dict().items()
    ):
        assert n1 == n2 and torch.equal(p1, p2)
    base_model_fingerprint(str(src))
    assert len(count_reads) == 1
    clear_model_cache()
    with pytest.raises(ValueError, match="config.json"):
        load_seq2seq(str(src))
    assert len(count_reads) == 2


def test_options_are_separate_cache_entries(bert_dir, count_reads):
    clear_model_cache()
    load_seq2seq(bert_dir)
    load_seq2seq(bert_dir, cross_attention_init="random")
    load_seq2seq(bert_dir)
    assert len(count_reads) == 2


def test_returned_copies_are_independent(bert_dir):
    first = load_seq2seq(bert_dir, tie_encoder_decoder=True)
    second = load_seq2seq(bert_dir, tie_encoder_decoder=True)
    w1 = first.model.encoder.embeddings.word_embeddings.weight
    w2 = second.model.encoder.embeddings.word_embeddings.weight
    assert w1.data_ptr() != w2.data_ptr()
    before = w2.detach().clone()
    with torch.no_grad():
        w1.add_(1.0)
    first.model.config.decoder_start_token_id = 99
    first.tokenizer.add_tokens(["brandnewword"])
    third = load_seq2seq(bert_dir, tie_encoder_decoder=True)
    for other in (second, third):
        torch.testing.assert_close(other.model.encoder.embeddings.word_embeddings.weight, before)
        assert other.model.config.decoder_start_token_id == other.tokenizer.cls_token_id
        assert "brandnewword" not in other.tokenizer.get_vocab()
    # Ties survive the copy: the LM head still shares the (copied) embeddings.
    assert (
        third.model.decoder.get_output_embeddings().weight
        is third.model.encoder.embeddings.word_embeddings.weight
    )


def test_global_rng_untouched(tmp_path):
    path = str(_save_t5(tmp_path / "t5", WORDS))
    # The test's own seeding stays inside a forked RNG too.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1234)
        expected = torch.rand(3)
        torch.manual_seed(1234)
        load_seq2seq(path)
        assert torch.equal(torch.rand(3), expected)


def test_fingerprint(bert_dir, monkeypatch):
    clear_model_cache()
    calls = []
    original = _fingerprints.state_dict_sha256
    monkeypatch.setattr(
        _fingerprints, "state_dict_sha256", lambda m, kind: calls.append(1) or original(m, kind)
    )
    fp = base_model_fingerprint(bert_dir)
    assert set(fp) == {"name_or_path", "revision", "kind", "sha256"}
    assert fp["kind"] == "bert2bert"
    assert fp["name_or_path"] == bert_dir and len(fp["sha256"]) == 64
    assert base_model_fingerprint(bert_dir) == fp
    assert len(calls) == 1
    # Newly initialized parameters are seeded, so a fresh load gives the same base.
    clear_model_cache()
    assert base_model_fingerprint(bert_dir) == fp
    assert base_model_fingerprint(bert_dir, cross_attention_init="random")["sha256"] != fp["sha256"]
    with pytest.raises(ValueError, match="spam"):
        base_model_fingerprint(bert_dir, spam=1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cross_attention_init": "zeros"}, "cross_attention_init='zeros'"),
        ({"tie_encoder_decoder": "yes"}, "tie_encoder_decoder='yes'"),
        ({"trust_remote_code": 1}, "trust_remote_code=1"),
        ({"revision": 3}, "revision=3"),
        ({"local_files_only": "no"}, "local_files_only"),
    ],
)
def test_bad_option_values(t5_dir, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_seq2seq(t5_dir, **kwargs)


def test_unknown_model_is_not_available_offline():
    with pytest.raises(ValueError, match="not available offline") as info:
        load_seq2seq("no-such-org/no-such-model-xyz", local_files_only=True)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_not_seq2seq_architecture_is_named(tmp_path):
    GPT2Config(n_layer=1, n_embd=8, n_head=2, architectures=["GPT2LMHeadModel"]).save_pretrained(
        tmp_path
    )
    with pytest.raises(ValueError, match="GPT2LMHeadModel"):
        load_seq2seq(str(tmp_path))


def test_folder_without_config(tmp_path):
    with pytest.raises(ValueError, match="config.json"):
        load_seq2seq(str(tmp_path))


def test_tie_rejected_for_seq2seq(t5_dir):
    with pytest.raises(ValueError, match="tie_encoder_decoder"):
        load_seq2seq(t5_dir, tie_encoder_decoder=True)


def test_revision_rejected_for_default_alias():
    with pytest.raises(ValueError, match="revision"):
        load_seq2seq(BERT2BERT_MODEL, revision="main")


def test_warns_when_format_characters_are_lost(tmp_path):
    path = _save_t5(tmp_path / "t5", [w for w in WORDS if w != "|"])
    with pytest.warns(UserWarning, match=r"\['\|'\]"):
        load_seq2seq(str(path))


@pytest.mark.slow
def test_default_model_offline():
    """The real offline default: warm start, tokenizer round trip, finite loss."""
    loaded = load_seq2seq()
    model, tok = loaded.model, loaded.tokenizer
    assert loaded.name_or_path == BERT2BERT_MODEL and loaded.uncased
    assert isinstance(model, EncoderDecoderModel)
    assert model.config.encoder.hidden_size == 384 and model.config.encoder.num_hidden_layers == 6
    # all-MiniLM-L6-v2 ships no MLM head; cross-attention is copied from self-attention.
    assert loaded.new_parameter_names == LM_HEAD_NEW

    text = "[ eu | organization ] rejects [ german | miscellaneous ] call ."
    decoded = tok.decode(tok(text).input_ids, skip_special_tokens=True)
    assert decoded.split() == text.split()

    sources = ["EU rejects German call .", "Peter lives in Berlin ."]
    targets = [text, "[ peter | person ] lives in [ berlin | location ] ."]
    x, labels = _batch(loaded, sources, targets)
    with torch.no_grad():
        out = model(input_ids=x.input_ids, attention_mask=x.attention_mask, labels=labels)
        gen = model.generate(
            input_ids=x.input_ids, attention_mask=x.attention_mask, max_new_tokens=3
        )
    assert math.isfinite(out.loss.item()) and out.loss.item() > 0
    assert gen.shape[0] == 2 and (gen[:, 0] == tok.cls_token_id).all()
    fp = base_model_fingerprint()
    assert fp["name_or_path"] == DEFAULT_MODEL and fp["revision"] is None
