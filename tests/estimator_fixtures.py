"""Tiny offline models saved to disk, and small data sets, for estimator tests."""

import random

import numpy as np
import pytest
import torch

from sklearn_fishdip.utils._testing import make_tiny_bert, make_tiny_t5

NER_X = [
    "John visited Paris".split(),
    "Mary joined Google in London".split(),
    "Paul met Anna in Rome".split(),
    "Smith founded Acme".split(),
    "they visited New York".split(),
    "Anna said he met John".split(),
]
NER_Y = [
    ["B-PER", "O", "B-LOC"],
    ["B-PER", "O", "B-ORG", "O", "B-LOC"],
    ["B-PER", "O", "B-PER", "O", "B-LOC"],
    ["B-PER", "O", "B-ORG"],
    ["O", "O", "B-LOC", "I-LOC"],
    ["B-PER", "O", "O", "O", "B-PER"],
]
RE_X = NER_X[:4]
RE_Y = [
    {"entities": [(0, 1, "Peop"), (2, 3, "Loc")], "relations": []},
    {
        "entities": [(0, 1, "Peop"), (2, 3, "Org"), (4, 5, "Loc")],
        "relations": [(0, 1, "Work_For"), (1, 2, "OrgBased_In")],
    },
    {"entities": [(0, 1, "Peop"), (2, 3, "Peop"), (4, 5, "Loc")], "relations": [(1, 2, "Live_In")]},
    {"entities": [(0, 1, "Peop"), (2, 3, "Org")], "relations": [(0, 1, "Work_For")]},
]


@pytest.fixture(scope="session")
def tiny_t5_path(tmp_path_factory):
    """A tiny random T5 and its word-level tokenizer, saved as a local model folder."""
    model, tokenizer = make_tiny_t5(seed=0, d_model=16)
    path = tmp_path_factory.mktemp("tiny_t5")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_bert_path(tmp_path_factory):
    """A tiny random encoder-only BERT and its tokenizer, saved as a local model folder."""
    model, tokenizer = make_tiny_bert(seed=0)
    path = tmp_path_factory.mktemp("tiny_bert")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def fast_params(path, **overrides):
    """Estimator parameters that train a tiny model in well under a second."""
    params = dict(
        model=path,
        max_epochs=2,
        batch_size=4,
        keep_ratio=0.05,
        refresh_every=2,
        random_state=0,
        verbose=0,
        max_source_length=64,
        max_target_length=64,
    )
    params.update(overrides)
    return params


@pytest.fixture
def global_rng_untouched():
    """Fail a test that changes the global torch, NumPy or ``random`` generator state.

    The library seeds local generators from ``random_state`` and tests seed theirs
    locally (``torch.Generator().manual_seed``, ``torch.random.fork_rng``), so a
    test's outcome never depends on which tests ran before it. Use it with
    ``pytestmark = pytest.mark.usefixtures("global_rng_untouched")`` after importing it.
    """
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()  # noqa: NPY002 (the legacy global state, on purpose)
    random_state = random.getstate()
    yield
    assert torch.equal(torch.get_rng_state(), torch_state), "the global torch RNG changed"
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(a, b) for a, b in zip(after, numpy_state)), "NumPy's changed"
    assert random.getstate() == random_state, "the random module's RNG changed"
