"""Constrained generation with decoder-only and prefix LMs."""

import pytest
import torch
from transformers import BertForMaskedLM

from sklearn_fishdip.generation import AugmentedGrammar, generate_augmented
from sklearn_fishdip.models import CausalLMAdapter, PrefixLMAdapter
from sklearn_fishdip.utils._testing import make_tiny_bert, make_tiny_gpt2, make_tiny_llama

from .test_grammar import check_output

LABELS = ["person", "location", "organization"]
RELATIONS = ["works for", "lives in"]
SENTENCES = [
    ["John", "visited", "Paris"],
    ["Mary", "joined", "Google", "in", "London", "."],
    ["they", "said", "[", "yes", "]", "|", "="],
    ["Zorglub", "xyz"],  # words the tokenizers never saw in training
]


# Positions for the longest test sentence, whose escaped markup takes many
# byte-level ids (windowing to the positions is the estimators' job).
POSITIONS = 256


def _gpt2():
    model, tokenizer = make_tiny_gpt2(n_positions=POSITIONS)
    tokenizer.pad_token = tokenizer.eos_token  # as load_model sets it
    return model, tokenizer


def _prefix_lm():
    encoder, tokenizer = make_tiny_bert(max_position_embeddings=POSITIONS)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        model = BertForMaskedLM(encoder.config)
    model.config.eos_token_id = tokenizer.eos_token_id
    return model, tokenizer


def _llama():
    return make_tiny_llama(max_position_embeddings=POSITIONS)


BUILDERS = {"gpt2": _gpt2, "llama": _llama, "prefix-lm": _prefix_lm}


@pytest.mark.parametrize("family", sorted(BUILDERS))
@pytest.mark.parametrize("num_beams", [1, 3])
@pytest.mark.parametrize("relations", [(), RELATIONS])
def test_random_models_outputs_copy_their_source(family, num_beams, relations):
    model, tokenizer = BUILDERS[family]()
    grammar = AugmentedGrammar(tokenizer, LABELS, relations)
    outputs = generate_augmented(model, tokenizer, SENTENCES, grammar=grammar, num_beams=num_beams)
    assert len(outputs) == len(SENTENCES)
    for text, source in zip(outputs, SENTENCES):
        check_output(text, source, LABELS, relations)


@pytest.mark.parametrize("family", ["gpt2", "llama", "prefix-lm"])
def test_a_sentence_output_does_not_depend_on_its_batch(family):
    model, tokenizer = BUILDERS[family]()
    grammar = AugmentedGrammar(tokenizer, LABELS)
    together = generate_augmented(model, tokenizer, SENTENCES, grammar=grammar)
    alone = [generate_augmented(model, tokenizer, [s], grammar=grammar)[0] for s in SENTENCES]
    assert together == alone


@pytest.mark.parametrize("family", ["gpt2", "prefix-lm"])
def test_batches_are_formed_longest_first_and_outputs_keep_the_input_order(family, monkeypatch):
    model, tokenizer = BUILDERS[family]()
    grammar = AugmentedGrammar(tokenizer, LABELS)
    adapter = PrefixLMAdapter() if family == "prefix-lm" else CausalLMAdapter()
    seen = []
    generate = type(adapter).generate

    def spy(self, model, tokenizer, sources, texts, **options):
        seen.append([len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]])
        return generate(self, model, tokenizer, sources, texts, **options)

    monkeypatch.setattr(type(adapter), "generate", spy)
    sources = [SENTENCES[0], SENTENCES[1], SENTENCES[3], SENTENCES[1][:4], SENTENCES[0][:1]]
    outputs = generate_augmented(
        model, tokenizer, sources, grammar=grammar, batch_size=2, adapter=adapter
    )
    # Five sentences in batches of two: the longest two, the next two, the shortest.
    assert [len(batch) for batch in seen] == [2, 2, 1]
    lengths = [n for batch in seen for n in batch]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] > lengths[-1]
    seen.clear()
    alone = [
        generate_augmented(model, tokenizer, [s], grammar=grammar, adapter=adapter)[0]
        for s in sources
    ]
    assert outputs == alone
    for text, source in zip(outputs, sources):
        check_output(text, source, LABELS, ())


def test_no_sources_generate_nothing():
    model, tokenizer = BUILDERS["prefix-lm"]()
    assert (
        generate_augmented(model, tokenizer, [], grammar=AugmentedGrammar(tokenizer, LABELS)) == []
    )


def test_adapters_are_read_from_the_model_and_mode_is_restored():
    model, tokenizer = _gpt2()
    model.train()
    grammar = AugmentedGrammar(tokenizer, LABELS)
    inferred = generate_augmented(model, tokenizer, SENTENCES[:2], grammar=grammar)
    explicit = generate_augmented(
        model, tokenizer, SENTENCES[:2], grammar=grammar, adapter=CausalLMAdapter()
    )
    assert inferred == explicit and model.training
    with pytest.raises(ValueError, match="prefix LM"):
        generate_augmented(model, tokenizer, SENTENCES[:1], adapter=PrefixLMAdapter())
    with pytest.raises(TypeError, match="adapter"):
        generate_augmented(model, tokenizer, SENTENCES[:1], adapter="causal")


@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_free_generation_decodes_the_continuation_only(family):
    model, tokenizer = BUILDERS[family]()
    sources = [["Zorglub"] * 6, ["xyz"] * 6]
    outputs = generate_augmented(model, tokenizer, sources, max_new_tokens=3)
    assert len(outputs) == 2 and all(isinstance(text, str) for text in outputs)
    # Three ids cannot spell six copies of the source word: the prompt is not echoed.
    assert all(text.count(source[0]) < 6 for text, source in zip(outputs, sources))


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("relations", [(), RELATIONS])
def test_prefix_lm_cached_greedy_search_equals_the_full_forward_search(
    monkeypatch, attention, aligned, relations
):
    from sklearn_fishdip.models import _prefix_search

    model, tokenizer = _prefix_lm()
    model.set_attn_implementation(attention)
    adapter = PrefixLMAdapter.for_model(model, tokenizer if aligned else None)
    grammar = AugmentedGrammar(tokenizer, LABELS, relations)
    used = []
    cached_search = _prefix_search.cached_greedy_search

    def spy(*args, **kwargs):
        rows = cached_search(*args, **kwargs)
        used.append(rows is not None)
        return rows

    monkeypatch.setattr(_prefix_search, "cached_greedy_search", spy)
    cached = generate_augmented(model, tokenizer, SENTENCES, grammar=grammar, adapter=adapter)
    free_cached = generate_augmented(model, tokenizer, SENTENCES, adapter=adapter, max_new_tokens=7)
    assert used == [True, True]
    # Without the cache, every step is a full forward over source and target.
    monkeypatch.setattr(_prefix_search, "cached_greedy_search", lambda *a, **k: None)
    full = generate_augmented(model, tokenizer, SENTENCES, grammar=grammar, adapter=adapter)
    free_full = generate_augmented(model, tokenizer, SENTENCES, adapter=adapter, max_new_tokens=7)
    assert cached == full and free_cached == free_full
    for text, source in zip(cached, SENTENCES):
        check_output(text, source, LABELS, relations)


@pytest.mark.parametrize("constrained", [True, False])
def test_prefix_lm_cached_search_drops_finished_rows_and_scores_allowed_ids_only(
    monkeypatch, constrained
):
    from transformers import DynamicCache

    from sklearn_fishdip.models import _prefix_search

    model, tokenizer = _prefix_lm()
    model.eval()
    adapter = PrefixLMAdapter.for_model(model)
    texts = [" ".join(sentence) for sentence in SENTENCES]
    prompts = adapter.encode_sources(model, tokenizer, texts)
    # Rows end out of order (the first soonest), so the rows kept are not a
    # prefix of the batch.
    budgets = [4, 30, 9, 17]
    allowed = None
    if constrained:
        allowed = AugmentedGrammar(tokenizer, LABELS).allowed_tokens_fn(
            SENTENCES, prefix_length=0, lead_ids=(), max_new_tokens=budgets
        )
    kept, scored = [], []
    select = DynamicCache.batch_select_indices
    allowed_scores = _prefix_search._allowed_scores

    def spy_select(cache, indices):
        kept.append(indices.tolist())
        return select(cache, indices)

    def spy_scores(parts, hidden, menus):
        scored.append(max(map(len, menus)))
        return allowed_scores(parts, hidden, menus)

    monkeypatch.setattr(DynamicCache, "batch_select_indices", spy_select)
    monkeypatch.setattr(_prefix_search, "_allowed_scores", spy_scores)
    options = dict(allowed=allowed, eos_token_id=tokenizer.sep_token_id, device="cpu")
    with torch.inference_mode():
        together = _prefix_search.cached_greedy_search(
            adapter, model, prompts, budgets=budgets, **options
        )
        full = _prefix_search.beam_search(adapter, model, prompts, budgets=budgets, **options)
    assert together == full
    assert all(len(ids) <= budget for ids, budget in zip(together, budgets))
    # The first row left first: the rows kept were not the batch's first ones.
    assert kept and kept[0] != list(range(len(kept[0])))
    if constrained:
        # Each step scored the grammar's menu, a small part of the vocabulary.
        assert scored and max(scored) < tokenizer.vocab_size // 4
    else:
        assert not scored  # free generation ranks the whole vocabulary
    for i, prompt in enumerate(prompts):
        if constrained:
            allowed_alone = AugmentedGrammar(tokenizer, LABELS).allowed_tokens_fn(
                SENTENCES[i : i + 1], prefix_length=0, lead_ids=(), max_new_tokens=budgets[i]
            )
            options["allowed"] = allowed_alone
        with torch.inference_mode():
            alone = _prefix_search.cached_greedy_search(
                adapter, model, [prompt], budgets=[budgets[i]], **options
            )
        assert alone == [together[i]]


def test_prefix_lm_without_a_cache_falls_back_to_the_full_forward_search(monkeypatch):
    from sklearn_fishdip.models import _prefix_search

    model, tokenizer = _prefix_lm()
    grammar = AugmentedGrammar(tokenizer, LABELS)
    expected = generate_augmented(model, tokenizer, SENTENCES, grammar=grammar)
    # A stack that takes no cache argument: the search says so and the full search runs.
    monkeypatch.setattr(_prefix_search, "_cache_argument", lambda model: None)
    assert (
        _prefix_search.cached_greedy_search(
            PrefixLMAdapter.for_model(model),
            model,
            [[1, 2]],
            eos_token_id=1,
            budgets=[3],
            device="cpu",
        )
        is None
    )
    assert generate_augmented(model, tokenizer, SENTENCES, grammar=grammar) == expected
