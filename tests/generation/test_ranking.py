"""NLL ranking of candidate targets (score_candidates) on a tiny model of every family.

Each score is checked against a direct computation: the example built,
padded and run alone, and its target's log-probabilities summed from a log
softmax, without the engine's loss.
"""

import numpy as np
import pytest
import torch

from sklearn_fishdip.generation import candidate_choices, score_candidates
from sklearn_fishdip.models import IGNORE_INDEX, load_model
from sklearn_fishdip.utils._testing import (
    make_tiny_bert,
    make_tiny_gpt2,
    make_tiny_llama,
    make_tiny_t5,
)

from ..estimator_fixtures import global_rng_untouched  # noqa: F401  (used by pytestmark)

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

BUILDERS = {
    "t5": (lambda: make_tiny_t5(seed=0, d_model=16), "auto"),
    "gpt2": (make_tiny_gpt2, "auto"),
    "llama": (make_tiny_llama, "causal"),
    "prefix-lm": (make_tiny_bert, "prefix-lm"),
}

# Short texts: the causal and prefix LMs have 64 positions and byte-level pieces.
SOURCES = ["[ John ] joined [ Google ]", "Mary met [ Anna ] in [ Paris ]", "[ he ] said [ it ]"]
NAMES = ["works for", "lives in", "born at", "met"]


def _targets(source):
    # A shared start, as relation targets have, then the candidate's own name.
    first = source.split("[ ")[1].split(" ]")[0]
    return [f"{first} = {name}" for name in NAMES]


@pytest.fixture(scope="module", params=list(BUILDERS))
def loaded(request, tmp_path_factory):
    build, kind = BUILDERS[request.param]
    model, tokenizer = build()[:2]
    path = tmp_path_factory.mktemp(f"tiny_{request.param}")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return load_model(str(path), kind)


def _direct(loaded, source, target, allowed=None):
    """Summed log-likelihood of one (source, target) pair, computed alone."""
    model, tokenizer, adapter = loaded.model, loaded.tokenizer, loaded.adapter
    source_ids = adapter.encode_sources(model, tokenizer, [source])[0]
    target_ids = adapter.encode_targets(model, tokenizer, [target])[0]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    batch = adapter.collate([adapter.build_example(source_ids, target_ids)], pad)
    model.eval()
    with torch.no_grad():
        logits = adapter.logits(model, batch)[0].double()
    labels = batch["labels"][0]
    positions = (labels != IGNORE_INDEX).nonzero().flatten().tolist()
    assert [labels[p].item() for p in positions] == list(target_ids)
    total = 0.0
    for k, position in enumerate(positions):
        row = logits[position]
        if allowed is not None:
            row = row[list(allowed[k])]
            gold = list(allowed[k]).index(target_ids[k])
        else:
            gold = target_ids[k]
        total += torch.log_softmax(row, dim=-1)[gold].item()
    return total


@pytest.mark.parametrize("batch_size", [1, 5])
def test_scores_match_a_direct_computation(loaded, batch_size):
    candidates = [_targets(source) for source in SOURCES]
    scores = score_candidates(
        loaded.model, loaded.tokenizer, loaded.adapter, SOURCES, candidates, batch_size=batch_size
    )
    assert scores.shape == (len(SOURCES), len(NAMES)) and scores.dtype == np.float64
    expected = [[_direct(loaded, s, t) for t in targets] for s, targets in zip(SOURCES, candidates)]
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-4)
    assert (scores < 0).all()


def test_sources_are_scored_longest_first_and_rows_follow_the_input(loaded, monkeypatch):
    adapter = loaded.adapter
    seen = []
    shared = type(adapter).shared_source_scores

    def spy(self, model, source_ids, *args, **kwargs):
        seen.append([len(ids) for ids in source_ids])
        return shared(self, model, source_ids, *args, **kwargs)

    monkeypatch.setattr(type(adapter), "shared_source_scores", spy)
    sources = [SOURCES[2], SOURCES[1], SOURCES[0]]
    candidates = [_targets(source) for source in sources]
    scores = score_candidates(loaded.model, loaded.tokenizer, adapter, sources, candidates)
    assert seen[0] == sorted(seen[0], reverse=True) and seen[0][0] > seen[0][-1]
    forward = score_candidates(loaded.model, loaded.tokenizer, adapter, SOURCES, candidates[::-1])
    np.testing.assert_allclose(scores, forward[::-1], rtol=1e-5, atol=1e-5)


def test_restricted_scores_match_and_are_a_distribution(loaded):
    model, tokenizer, adapter = loaded.model, loaded.tokenizer, loaded.adapter
    candidates = [_targets(source) for source in SOURCES]
    scores = score_candidates(
        model, tokenizer, adapter, SOURCES, candidates, batch_size=4, restrict=True
    )
    for row, source, targets in zip(scores, SOURCES, candidates):
        choices = candidate_choices(adapter.encode_targets(model, tokenizer, targets))
        expected = [_direct(loaded, source, t, allowed) for t, allowed in zip(targets, choices)]
        np.testing.assert_allclose(row, expected, rtol=1e-4, atol=1e-4)
        # Prefix-free candidates: the restricted likelihoods sum to one.
        assert np.exp(row).sum() == pytest.approx(1.0, abs=1e-5)


def test_shared_candidates_and_the_model_is_left_as_it_was(loaded):
    model, tokenizer = loaded.model, loaded.tokenizer
    shared = ["works for", "lives in"]
    model.train()
    scores = score_candidates(model, tokenizer, None, SOURCES, shared, batch_size=2)
    assert model.training  # restored
    per_source = score_candidates(model, tokenizer, None, SOURCES, [shared] * 3)
    np.testing.assert_allclose(scores, per_source, rtol=1e-5, atol=1e-5)
    model.eval()


def test_candidate_choices_follow_the_shared_prefixes():
    choices = candidate_choices([[5, 1, 2, 9], [5, 1, 3, 9], [5, 4, 9]])
    assert choices[0] == [(5,), (1, 4), (2, 3), (9,)]
    assert choices[2] == [(5,), (1, 4), (9,)]


@pytest.mark.parametrize(
    "sources, candidates, error, message",
    [
        (["a"], "works for", TypeError, "candidate_targets must be a list"),
        (["a", "b"], [["x"]], ValueError, "has 1 lists for 2 sources"),
        (["a", "b"], [["x", "y"], ["x"]], ValueError, r"candidate_targets\[1\] has 1 candidates"),
        (["a"], [[]], ValueError, "non-empty list of strings"),
        ("a", ["x"], TypeError, "sources must be a list of strings"),
    ],
)
def test_malformed_arguments(sources, candidates, error, message):
    with pytest.raises(error, match=message):
        score_candidates(None, None, None, sources, candidates)


def test_no_source_gives_an_empty_array():
    assert score_candidates(None, None, None, [], ["x", "y"]).shape == (0, 2)
