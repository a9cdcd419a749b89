"""The adapters' batches, masks and position budgets."""

import pytest
import torch
from transformers import BertForMaskedLM

from sklearn_fishdip.models import (
    IGNORE_INDEX,
    CausalLMAdapter,
    ModelAdapter,
    PrefixLMAdapter,
    prefix_attention_mask,
)
from sklearn_fishdip.utils._testing import (
    make_tiny_bert,
    make_tiny_gpt2,
    make_tiny_t5,
    make_tiny_tokenizer,
)


def _tiny_prefix_lm(max_position_embeddings=64):
    encoder, tokenizer = make_tiny_bert(max_position_embeddings=max_position_embeddings)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = BertForMaskedLM(encoder.config)
    model.bert.load_state_dict(encoder.state_dict(), strict=False)
    return model.eval(), tokenizer


def test_causal_collate_labels_only_the_target():
    adapter = CausalLMAdapter()
    batch = adapter.collate(
        [{"input_ids": [5, 6, 7], "labels": [8, 9]}, {"input_ids": [5], "labels": [4]}], 0
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 9], [5, 4, 0, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]]
    no = IGNORE_INDEX
    # Position t is labelled with the id at t + 1 when that id is a target id.
    assert batch["labels"].tolist() == [[no, no, 8, 9, no], [4, no, no, no, no]]


def test_causal_prompt_ends_with_a_separator_and_target_with_eos():
    model, tokenizer = make_tiny_gpt2()
    adapter = CausalLMAdapter()
    prompt = adapter.encode_sources(model, tokenizer, ["John visited Paris"])[0]
    separator = tokenizer("\n", add_special_tokens=False)["input_ids"]
    assert prompt[-len(separator) :] == separator and len(separator) >= 1
    target = adapter.encode_targets(model, tokenizer, ["[ John | person ] visited Paris"])[0]
    assert target[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(target[:-1]) == "[ John | person ] visited Paris"
    # A word-level vocabulary drops the newline: the EOS id marks the end of the source.
    word_level = make_tiny_tokenizer()
    assert adapter.separator_ids(model, word_level) == [word_level.eos_token_id]


def test_prefix_attention_mask():
    mask = prefix_attention_mask(torch.tensor([[1, 1, 1, 1, 0]]), torch.tensor([2]))[0, 0]
    expected = [
        [1, 1, 0, 0, 0],  # source rows see the source only
        [1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0],  # target rows: the source, earlier target, themselves
        [1, 1, 1, 1, 0],
        [0, 0, 0, 0, 1],  # padding sees itself only
    ]
    assert mask.int().tolist() == expected
    additive = prefix_attention_mask(
        torch.tensor([[1, 1, 1]]), torch.tensor([1]), additive_dtype=torch.float32
    )[0, 0]
    assert additive[0, 0] == 0 and additive[0, 1] == torch.finfo(torch.float32).min


def test_prefix_lm_source_does_not_see_the_target_and_target_is_causal():
    model, tokenizer = _tiny_prefix_lm()
    adapter = PrefixLMAdapter.for_model(model)
    source = tokenizer("john visited paris").input_ids
    first = [{"input_ids": source, "labels": tokenizer("he met anna").input_ids}]
    second = [{"input_ids": source, "labels": tokenizer("he joined rome the").input_ids}]
    with torch.no_grad():
        a = adapter.logits(model, adapter.collate(first, 0))
        b = adapter.logits(model, adapter.collate(second, 0))
    n = len(source)
    # This transformers version takes the 4D mask as given: source positions are
    # the same whatever the target, and the first target position too ("he").
    assert torch.allclose(a[0, : n + 1], b[0, : n + 1], atol=1e-6)
    assert not torch.allclose(a[0, n + 1], b[0, n + 1], atol=1e-4)
    batch = adapter.collate(first, 0)
    assert batch["token_type_ids"][0].tolist() == [0] * n + [1] * (batch["input_ids"].shape[1] - n)


def test_prefix_lm_padding_does_not_change_a_row():
    model, tokenizer = _tiny_prefix_lm()
    adapter = PrefixLMAdapter.for_model(model)
    short = {"input_ids": tokenizer("google").input_ids, "labels": tokenizer("google").input_ids}
    long = {"input_ids": tokenizer("he met mary smith in new york today").input_ids, "labels": [1]}
    with torch.no_grad():
        alone = adapter.logits(model, adapter.collate([short], 0))
        padded = adapter.logits(model, adapter.collate([short, long], 0))
    width = alone.shape[1]
    assert torch.allclose(alone[0], padded[0, :width], atol=1e-5)


@pytest.mark.parametrize("kind", ["seq2seq", "causal", "prefix-lm"])
def test_a_cut_target_keeps_its_first_ids_and_no_end(kind):
    # The public helper cuts as training does: the first ids, no end after an
    # unfinished structure.
    if kind == "seq2seq":
        (model, tokenizer), adapter = make_tiny_t5(), ModelAdapter()
    elif kind == "causal":
        (model, tokenizer), adapter = make_tiny_gpt2(), CausalLMAdapter()
    else:
        model, tokenizer = _tiny_prefix_lm()
        adapter = PrefixLMAdapter.for_model(model)
    text = "[ john | person ] visited [ paris | location ]"
    (whole,) = adapter.encode_targets(model, tokenizer, [text])
    assert len(whole) > 5
    (cut,) = adapter.encode_targets(model, tokenizer, [text], max_length=5)
    assert cut == whole[:5] and cut[-1] != whole[-1]
    # A target that fits is unchanged, end included.
    assert adapter.encode_targets(model, tokenizer, [text], max_length=len(whole)) == [whole]


def test_position_budgets():
    gpt2, _ = make_tiny_gpt2(n_positions=60)
    causal = CausalLMAdapter()
    assert causal.position_limit(gpt2) == 60
    assert causal.source_budget(gpt2, 256) == 20  # a third: the target needs the rest
    assert causal.target_budget(gpt2, 20) == 40
    prefix, _ = _tiny_prefix_lm(max_position_embeddings=48)
    assert PrefixLMAdapter.for_model(prefix).source_budget(prefix, 10) == 10
    assert PrefixLMAdapter.for_model(prefix).target_budget(prefix, 16) == 32
    t5, _ = make_tiny_t5()
    assert ModelAdapter().position_limit(t5) is None  # relative positions: no limit
    assert ModelAdapter().target_budget(t5, 100) is None


def test_for_task_aligns_only_targets_that_copy_the_source():
    model, tokenizer = _tiny_prefix_lm()
    adapter = PrefixLMAdapter.for_model(model, tokenizer)
    # Families whose positions do not depend on the source are the same for every task.
    for other in (ModelAdapter(), CausalLMAdapter()):
        assert other.for_task(tokenizer, copies_source=False, source_prefixes=("x :",)) is other
    # A tagging task keeps the aligner; without prefixes, the adapter itself.
    assert adapter.for_task(tokenizer) is adapter
    # A target that is no copy (a dialogue state, a class name) is numbered after the source.
    plain = adapter.for_task(tokenizer, copies_source=False)
    assert plain.aligner is None and adapter.aligner is not None
    example = {
        "input_ids": tokenizer("john visited paris")["input_ids"],
        "labels": tokenizer("person date")["input_ids"],
    }
    n = len(example["input_ids"]) + len(example["labels"])
    assert plain.collate([example], 0)["position_ids"][0].tolist() == list(range(n))
    # Task prefixes reach the aligner as the tokenizer's ids.
    prefixed = adapter.for_task(tokenizer, source_prefixes=("triggers :",))
    expected = tuple(tokenizer("triggers :", add_special_tokens=False)["input_ids"])
    assert prefixed.aligner.source_prefixes == (expected,)
    assert (prefixed.token_types, prefixed.position_offset) == (True, adapter.position_offset)
