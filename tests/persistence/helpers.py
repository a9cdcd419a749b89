"""Helpers shared by the persistence tests."""

import torch

from sklearn_fishdip import FishDipNER
from sklearn_fishdip.persistence import to_json
from sklearn_fishdip.utils._testing import make_tiny_t5
from tests.estimator_fixtures import NER_X, RE_X


def save_tiny_t5(path, **options):
    model, tokenizer = make_tiny_t5(**options)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def predictions(estimator):
    if isinstance(estimator, FishDipNER):
        return estimator.predict(NER_X), estimator.predict_spans(NER_X)
    return estimator.predict(RE_X)


def check_same_fitted(loaded, original, *, via_json=False):
    """Same parameters, fitted attributes, weights and predictions.

    Through JSON, diagnostics come back JSON-safe (tuples as lists, NaN as None).
    """
    assert type(loaded) is type(original)
    assert loaded.get_params() == original.get_params()
    for name in (
        "history_",
        "mask_history_",
        "n_parameters_",
        "n_always_trainable_",
        "n_updated_parameters_",
        "uncased_",
    ):
        expected = getattr(original, name)
        if via_json:
            expected = to_json(expected, name)
        assert getattr(loaded, name) == expected, name
    for name, value in vars(original).items():
        if name.endswith("verbalizer_") or name in ("labels_", "entity_types_", "relation_types_"):
            assert getattr(loaded, name) == value, name
    original_state = original.model_.state_dict()
    for name, tensor in loaded.model_.state_dict().items():
        assert torch.equal(tensor, original_state[name]), name
    assert predictions(loaded) == predictions(original)


def walk(value):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from walk(item)
