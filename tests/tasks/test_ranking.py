"""The shared steps of the estimators that rank candidate targets (tasks/_ranking.py)."""

import pytest

from sklearn_fishdip.generation import candidate_choices
from sklearn_fishdip.tasks._ranking import RankedEstimator


class _CountingAdapter:
    """Encodes each text as its characters' codes and counts the calls."""

    def __init__(self):
        self.calls = 0

    def encode_targets(self, model, tokenizer, texts):
        self.calls += 1
        return [[ord(c) for c in text] for text in texts]


class _Loaded:
    def __init__(self):
        self.model = self.tokenizer = None
        self.adapter = _CountingAdapter()


def test_grammar_choices_follow_each_examples_candidates_and_share_the_work():
    loaded = _Loaded()
    shared = ["ab", "ac", "b"]
    own = ["xy", "xz"]
    examples = [
        {"labels": [ord("a"), ord("c")]},
        {"labels": [ord("b")]},
        {"labels": [ord("x"), ord("z")]},
        {"labels": [ord("a")]},  # a cut target: not one of its candidates
    ]
    RankedEstimator()._add_grammar_choices(loaded, None, examples, [shared, shared, own, shared])
    shared_ids = [[ord(c) for c in text] for text in shared]
    own_ids = [[ord(c) for c in text] for text in own]
    assert examples[0]["allowed"] == candidate_choices(shared_ids)[1]
    assert examples[1]["allowed"] == candidate_choices(shared_ids)[2]
    assert examples[2]["allowed"] == candidate_choices(own_ids)[1]
    assert "allowed" not in examples[3]
    # One encoding per distinct candidate list, not one per example.
    assert loaded.adapter.calls == 2


def test_candidate_scores_are_the_subclass_step():
    with pytest.raises(NotImplementedError):
        RankedEstimator()._candidate_scores([])
