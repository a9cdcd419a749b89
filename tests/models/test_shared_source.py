"""Ranking that computes each source once (ModelAdapter.shared_source_scores), every family.

The prefix and causal LMs run each source from one key/value cache, the
encoder-decoders encode it once. Each must give the scores of the full
``(source, candidate)`` rows that training runs, whatever the candidates
share, however the pairs are batched, under both attention implementations
and with or without the prefix LM's aligned target positions.
"""

import numpy as np
import pytest
import torch
from transformers import BertForMaskedLM

from sklearn_fishdip.generation import _ranking, candidate_choices, score_candidates
from sklearn_fishdip.models import (
    PrefixLMAdapter,
    _prefix_search,
    _shared_source,
    adapter_for_model,
)
from sklearn_fishdip.models._shared_source import common_prefix_length, source_chunks
from sklearn_fishdip.utils._testing import (
    make_tiny_bart,
    make_tiny_bert,
    make_tiny_bert2bert,
    make_tiny_gpt2,
    make_tiny_llama,
    make_tiny_t5,
)

from ..estimator_fixtures import global_rng_untouched  # noqa: F401  (used by pytestmark)

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

SOURCES = [
    "[ John ] joined [ Google ] in [ Paris ]",
    "Mary met [ Anna ]",
    "the relationship between [ he ] and [ it ] is",
]
# Per source: a shared start, then the name (relation-classifier-like), one
# name a prefix of another (its own part is only the end id), and no shared
# start at all (text-classification-like).
CANDIDATE_SETS = {
    "shared start": lambda first: [f"{first} = {n}" for n in ("works for", "lives in", "met")],
    "a prefix of another": lambda first: [f"{first} = works", f"{first} = works for", "the city"],
    "nothing shared": lambda first: ["person", "location", "date"],
}
FAMILIES = ["prefix-lm aligned", "prefix-lm", "gpt2", "llama", "t5", "bart", "bert2bert"]


def _prefix_lm():
    encoder, tokenizer = make_tiny_bert(hidden_size=16, num_layers=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        model = BertForMaskedLM(encoder.config)
    model.config.eos_token_id = tokenizer.eos_token_id
    return model, tokenizer


def _model(family="prefix-lm aligned", attention="sdpa"):
    """``(model, tokenizer, adapter)`` of a tiny model of ``family``, in eval mode."""
    if family.startswith("prefix-lm"):
        model, tokenizer = _prefix_lm()
        aligned = family.endswith("aligned")
        adapter = PrefixLMAdapter.for_model(model, tokenizer if aligned else None)
    elif family == "bart":
        tokenizer = make_tiny_t5()[1]  # with a pad id, which BART's decoder inputs need
        model = make_tiny_bart(tokenizer)
        adapter = adapter_for_model(model, tokenizer)
    else:
        build = {
            "gpt2": make_tiny_gpt2,
            "llama": make_tiny_llama,
            "t5": make_tiny_t5,
            "bert2bert": make_tiny_bert2bert,
        }[family]
        model, tokenizer = build()[:2]
        adapter = adapter_for_model(model, tokenizer)
    model.set_attn_implementation(attention)
    model.eval()
    return model, tokenizer, adapter


def _candidates(kind):
    return [CANDIDATE_SETS[kind](source.split("[ ")[1].split(" ]")[0]) for source in SOURCES]


def _full_rows(monkeypatch, model, tokenizer, adapter, *args, **kwargs):
    with monkeypatch.context() as patch:
        patch.setattr(type(adapter), "shared_source_scores", lambda self, *a, **k: None)
        return score_candidates(model, tokenizer, adapter, *args, **kwargs)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("kind", list(CANDIDATE_SETS))
@pytest.mark.parametrize("restrict", [False, True])
def test_shared_source_scores_equal_the_full_rows(monkeypatch, attention, family, kind, restrict):
    model, tokenizer, adapter = _model(family, attention)
    candidates = _candidates(kind)
    calls = []
    full_row_scores = _ranking._full_row_scores
    monkeypatch.setattr(
        _ranking, "_full_row_scores", lambda *a, **k: calls.append(1) or full_row_scores(*a, **k)
    )
    expected = _full_rows(
        monkeypatch, model, tokenizer, adapter, SOURCES, candidates, restrict=restrict
    )
    assert len(calls) == 1
    for batch_size in (1, 16):
        scores = score_candidates(
            model, tokenizer, adapter, SOURCES, candidates, batch_size=batch_size, restrict=restrict
        )
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
    assert len(calls) == 1  # the shared path answered every time
    # The adapter itself, one pair per forward and a source's candidates split over two.
    prompts = adapter.encode_sources(model, tokenizer, SOURCES)
    targets = [[list(t) for t in adapter.encode_targets(model, tokenizer, c)] for c in candidates]
    choices = [candidate_choices(t) for t in targets] if restrict else None
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for max_pairs in (1, 2):
        scores = adapter.shared_source_scores(
            model,
            prompts,
            targets,
            choices,
            device=torch.device("cpu"),
            pad_token_id=pad,
            max_pairs=max_pairs,
        )
        np.testing.assert_allclose(scores.numpy(), expected, rtol=1e-5, atol=1e-5)
    if restrict:
        np.testing.assert_allclose(np.exp(expected).sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("family", ["prefix-lm aligned", "gpt2"])
@pytest.mark.parametrize("head", ["unknown parts", "unknown head", "rescaled logits"])
def test_heads_the_restriction_cannot_split_give_the_same_scores(monkeypatch, family, head):
    # A head without a linear or BERT's transform/decoder split runs whole; a
    # model whose head is not found, or rescales its logits, gives logits
    # from its own forward.
    model, tokenizer, adapter = _model(family)
    candidates = _candidates("shared start")
    expected = {
        restrict: _full_rows(
            monkeypatch, model, tokenizer, adapter, SOURCES, candidates, restrict=restrict
        )
        for restrict in (False, True)
    }
    if head == "unknown parts":
        monkeypatch.setattr(_shared_source, "head_parts", lambda head: None)
    elif head == "unknown head":
        monkeypatch.setattr(_prefix_search, "_lm_head", lambda model: None)
    else:
        # Said to rescale, the head is not run apart (and here changes nothing).
        monkeypatch.setattr(model.config, "logit_scale", 1.0, raising=False)
        assert _shared_source.lm_head(model) is None
    for restrict, scores in expected.items():
        np.testing.assert_allclose(
            score_candidates(model, tokenizer, adapter, SOURCES, candidates, restrict=restrict),
            scores,
            rtol=1e-5,
            atol=1e-5,
        )


@pytest.mark.parametrize("family", FAMILIES)
def test_one_candidate_set_shared_by_every_source(monkeypatch, family):
    model, tokenizer, adapter = _model(family)
    labels = ["the team", "a game"]
    scores = score_candidates(model, tokenizer, adapter, SOURCES, labels, batch_size=4)
    expected = _full_rows(monkeypatch, model, tokenizer, adapter, SOURCES, labels)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
    assert scores.shape == (3, 2) and (scores < 0).all()


def test_a_stack_without_a_cache_falls_back_to_full_rows(monkeypatch):
    model, tokenizer, adapter = _model()
    candidates = _candidates("shared start")
    expected = score_candidates(model, tokenizer, adapter, SOURCES, candidates)
    monkeypatch.setattr(_prefix_search, "_cache_argument", lambda model: None)
    assert (
        _shared_source.shared_source_scores(
            adapter,
            model,
            [[2, 5, 3]],
            [[[6, 3], [7, 3]]],
            device=torch.device("cpu"),
            pad_token_id=0,
        )
        is None
    )
    scores = score_candidates(model, tokenizer, adapter, SOURCES, candidates)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "candidates, length",
    [
        ([[5, 1, 2, 9], [5, 1, 3, 9]], 2),
        ([[5, 9], [5, 1, 9]], 1),  # the first leaves only its end id as its own
        ([[4, 9], [5, 9]], 0),
        ([[5, 9], [5, 9]], 1),  # identical candidates still predict their last id
        ([[9]], 0),
    ],
)
def test_common_prefix_length_leaves_each_candidate_an_id(candidates, length):
    assert common_prefix_length(candidates) == length


def test_source_chunks_bound_the_pairs_per_forward():
    chunks = [(list(chunk), groups) for chunk, groups in source_chunks(5, 3, 7)]
    # Two sources (6 pairs) per chunk, the last alone.
    assert [chunk for chunk, _ in chunks] == [[0, 1], [2, 3], [4]]
    assert chunks[0][1] == [[(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]]
    # A source with more candidates than the bound is split over groups.
    (chunk, groups), *_ = source_chunks(2, 5, 2)
    assert list(chunk) == [0] and groups == [[(0, 0), (0, 1)], [(0, 2), (0, 3)], [(0, 4)]]
