"""Ranking on a prefix LM from one key/value cache per source (shared_source_scores).

The shared path must give the scores of the full ``(source, candidate)``
rows that training runs, whatever the candidates share, however the pairs
are batched, under both attention implementations and with or without the
aligned target positions.
"""

import numpy as np
import pytest
import torch
from transformers import BertForMaskedLM

from sklearn_fishdip.generation import _ranking, score_candidates
from sklearn_fishdip.models import PrefixLMAdapter, _prefix_ranking, _prefix_search
from sklearn_fishdip.models._prefix_ranking import common_prefix_length
from sklearn_fishdip.utils._testing import make_tiny_bert

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


def _model(attention):
    encoder, tokenizer = make_tiny_bert(hidden_size=16, num_layers=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        model = BertForMaskedLM(encoder.config)
    model.config.eos_token_id = tokenizer.eos_token_id
    model.set_attn_implementation(attention)
    model.eval()
    return model, tokenizer


def _candidates(kind):
    return [CANDIDATE_SETS[kind](source.split("[ ")[1].split(" ]")[0]) for source in SOURCES]


def _full_rows(monkeypatch, *args, **kwargs):
    with monkeypatch.context() as patch:
        patch.setattr(PrefixLMAdapter, "shared_source_scores", lambda self, *a, **k: None)
        return score_candidates(*args, **kwargs)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("kind", list(CANDIDATE_SETS))
@pytest.mark.parametrize("restrict", [False, True])
def test_shared_source_scores_equal_the_full_rows(monkeypatch, attention, aligned, kind, restrict):
    model, tokenizer = _model(attention)
    adapter = PrefixLMAdapter.for_model(model, tokenizer if aligned else None)
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
    # One pair per forward, three (a source's candidates split), all at once.
    for max_pairs in (1, 2, 64):
        scores = score_candidates(
            model, tokenizer, adapter, SOURCES, candidates, batch_size=max_pairs, restrict=restrict
        )
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
    assert len(calls) == 1  # the shared path answered every time
    if restrict:
        np.testing.assert_allclose(np.exp(expected).sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("head", ["unknown parts", "unknown head"])
def test_heads_the_restriction_cannot_split_give_the_same_scores(monkeypatch, head):
    # A head without BERT's transform/decoder split runs whole; a model whose
    # head is not found gives logits from its own forward.
    model, tokenizer = _model("sdpa")
    adapter = PrefixLMAdapter.for_model(model, tokenizer)
    candidates = _candidates("shared start")
    expected = {
        restrict: _full_rows(
            monkeypatch, model, tokenizer, adapter, SOURCES, candidates, restrict=restrict
        )
        for restrict in (False, True)
    }
    if head == "unknown parts":
        monkeypatch.setattr(_prefix_ranking, "_head_parts", lambda head: None)
    else:
        monkeypatch.setattr(_prefix_search, "_lm_head", lambda model: None)
    for restrict, scores in expected.items():
        np.testing.assert_allclose(
            score_candidates(model, tokenizer, adapter, SOURCES, candidates, restrict=restrict),
            scores,
            rtol=1e-5,
            atol=1e-5,
        )


def test_one_candidate_set_shared_by_every_source(monkeypatch):
    model, tokenizer = _model("sdpa")
    adapter = PrefixLMAdapter.for_model(model, tokenizer)
    labels = ["the team", "a game"]
    scores = score_candidates(model, tokenizer, adapter, SOURCES, labels, batch_size=4)
    expected = _full_rows(monkeypatch, model, tokenizer, adapter, SOURCES, labels)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
    assert scores.shape == (3, 2) and (scores < 0).all()


def test_a_stack_without_a_cache_falls_back_to_full_rows(monkeypatch):
    model, tokenizer = _model("sdpa")
    adapter = PrefixLMAdapter.for_model(model, tokenizer)
    candidates = _candidates("shared start")
    expected = score_candidates(model, tokenizer, adapter, SOURCES, candidates)
    monkeypatch.setattr(_prefix_search, "_cache_argument", lambda model: None)
    assert (
        _prefix_ranking.shared_source_scores(
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
