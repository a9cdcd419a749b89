"""Fitted estimators and a larger tiny model, shared by the persistence tests (one per module)."""

import pytest

from sklearn_fishdip import FishDipNER, FishDipRelationExtractor
from tests.estimator_fixtures import NER_X, NER_Y, RE_X, RE_Y, fast_params

from .helpers import save_tiny_t5


@pytest.fixture(scope="module")
def ner(tiny_t5_path):
    return FishDipNER(**fast_params(tiny_t5_path)).fit(NER_X, NER_Y)


@pytest.fixture(scope="module")
def relations(tiny_t5_path):
    return FishDipRelationExtractor(**fast_params(tiny_t5_path)).fit(RE_X, RE_Y)


@pytest.fixture(scope="module")
def larger_t5_path(tmp_path_factory):
    # Big enough (680 kB of weights) that per-tensor headers do not dominate the files.
    return save_tiny_t5(tmp_path_factory.mktemp("t5_d64"), seed=0, d_model=64, num_layers=2)
