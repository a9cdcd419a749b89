"""Which kind a checkpoint loads as, and what each kind's load gives."""

import pytest
import torch
from transformers import BertForMaskedLM, EncoderDecoderModel, GPT2LMHeadModel, LlamaForCausalLM

from sklearn_fishdip.models import (
    DEFAULT_MODEL,
    CausalLMAdapter,
    ModelAdapter,
    PrefixLMAdapter,
    TargetAligner,
    adapter_for_model,
    base_model,
    base_model_fingerprint,
    load_model,
    load_seq2seq,
)
from sklearn_fishdip.models._loading import _cache_key

from ..estimator_fixtures import tiny_t5_path  # noqa: F401  (fixture)


def test_auto_reads_the_checkpoint(gpt2_path, llama_path, bert_path, tiny_t5_path):  # noqa: F811
    cases = [
        (gpt2_path, "causal", GPT2LMHeadModel, CausalLMAdapter),
        (llama_path, "causal", LlamaForCausalLM, CausalLMAdapter),
        (bert_path, "bert2bert", EncoderDecoderModel, ModelAdapter),
        (tiny_t5_path, "seq2seq", torch.nn.Module, ModelAdapter),
    ]
    for path, kind, model_class, adapter_class in cases:
        loaded = load_model(path)
        assert loaded.kind == kind
        assert isinstance(loaded.model, model_class)
        assert type(loaded.adapter) is adapter_class
        # The adapter read back from the model alone is the same.
        assert adapter_for_model(loaded.model, loaded.tokenizer) == loaded.adapter
        loaded.adapter.check_model(loaded.model)


def test_prefix_lm_of_an_encoder_checkpoint(bert_path):
    loaded = load_model(bert_path, "prefix-lm")
    model = loaded.model
    assert isinstance(model, BertForMaskedLM) and loaded.kind == "prefix-lm"
    # Built with the tokenizer: its target positions are aligned to the source.
    aligner = TargetAligner.from_tokenizer(loaded.tokenizer)
    assert loaded.adapter == PrefixLMAdapter(token_types=True, position_offset=0, aligner=aligner)
    # The encoder is pretrained; only the LM head's transform and bias are new.
    assert loaded.new_parameter_names
    assert all(name.startswith("cls.predictions.") for name in loaded.new_parameter_names)
    assert "cls.predictions.transform.dense.weight" in loaded.new_parameter_names
    # The output layer is tied to the word embeddings.
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    assert model.config.eos_token_id == loaded.tokenizer.eos_token_id


def test_causal_tokenizer_without_padding_pads_with_eos(gpt2_path):
    loaded = load_model(gpt2_path)
    eos = loaded.tokenizer.eos_token_id
    assert loaded.tokenizer.pad_token_id == eos
    assert loaded.model.config.pad_token_id == eos == loaded.model.generation_config.pad_token_id
    assert loaded.new_parameter_names == frozenset()


@pytest.mark.parametrize(
    "path_fixture, kind, match",
    [
        ("gpt2_path", "seq2seq", "causal checkpoint"),
        ("gpt2_path", "prefix-lm", "causal checkpoint"),
        ("bert_path", "causal", "encoder checkpoint"),
        ("tiny_t5_path", "bert2bert", "seq2seq checkpoint"),
    ],
)
def test_explicit_kind_that_does_not_fit_is_refused(request, path_fixture, kind, match):
    path = request.getfixturevalue(path_fixture)
    with pytest.raises(ValueError, match=match) as info:
        load_model(path, kind)
    assert f"model_kind={kind!r}" in str(info.value)


def test_bad_kind_and_options(bert_path):
    with pytest.raises(ValueError, match="kind='decoder'"):
        load_model(bert_path, "decoder")
    with pytest.raises(ValueError, match="tie_encoder_decoder"):
        load_model(bert_path, "prefix-lm", tie_encoder_decoder=True)


def test_load_seq2seq_refuses_a_causal_lm(gpt2_path):
    load_model(gpt2_path)  # cached as causal first: the refusal must not depend on order
    with pytest.raises(ValueError, match="causal"):
        load_seq2seq(gpt2_path)


def test_fingerprint_and_base_depend_on_kind(bert_path):
    b2b = base_model_fingerprint(bert_path, kind="bert2bert")
    assert base_model_fingerprint(bert_path) == b2b  # "auto" is bert2bert here
    prefix = base_model_fingerprint(bert_path, kind="prefix-lm")
    assert prefix["kind"] == "prefix-lm" and b2b["kind"] == "bert2bert"
    assert prefix["sha256"] != b2b["sha256"]
    # base_model hands out the cached pristine model itself, not a copy.
    assert base_model(bert_path, "prefix-lm") is base_model(bert_path, "prefix-lm")
    assert isinstance(base_model(bert_path, "prefix-lm"), BertForMaskedLM)


def test_aliases_name_one_checkpoint_and_a_kind():
    # No loading: the cache key says which folder and kind an alias gives.
    key_b2b, source_b2b = _cache_key("minilm-bert2bert")
    key_prefix, source_prefix = _cache_key("minilm-prefix-lm")
    assert source_b2b == source_prefix
    assert key_b2b[-1] == "bert2bert" and key_prefix[-1] == "prefix-lm"
    # The default is the prefix LM; asking it for BERT2BERT gives the other alias's model.
    assert DEFAULT_MODEL == "minilm-prefix-lm"
    assert _cache_key(DEFAULT_MODEL)[0] == key_prefix
    assert _cache_key(DEFAULT_MODEL, "bert2bert")[0] == key_b2b
    with pytest.raises(ValueError, match="revision"):
        load_model("minilm-prefix-lm", revision="main")


@pytest.mark.slow
def test_default_checkpoint_as_prefix_lm_offline():
    loaded = load_model(DEFAULT_MODEL, "prefix-lm")
    assert isinstance(loaded.model, BertForMaskedLM) and loaded.uncased
    assert loaded.model.config.hidden_size == 384
    # sentence-transformers ship no MLM head: its transform and bias are new.
    assert loaded.new_parameter_names and all(
        name.startswith("cls.predictions.") for name in loaded.new_parameter_names
    )
    assert load_model("minilm-prefix-lm").kind == "prefix-lm"
