"""save/load folders: JSON and safetensors, never unpickled; the base model's identity."""

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from sklearn_fishdip import FishDipNER, FishDipRelationExtractor
from sklearn_fishdip.augmented import LabelVerbalizer
from sklearn_fishdip.models import base_model_fingerprint, clear_model_cache, load_seq2seq
from sklearn_fishdip.persistence import (
    DELTA_NAME,
    MANIFEST_NAME,
    to_json,
)
from sklearn_fishdip.sparse import FishDip
from tests.estimator_fixtures import NER_X, NER_Y, fast_params

from .helpers import check_same_fitted, predictions, save_tiny_t5

# --------------------------------------------------------------------------- #
# save / load
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("which", ["ner", "relations"])
def test_save_load_round_trip(which, request, tmp_path):
    estimator = request.getfixturevalue(which)
    assert estimator.save(tmp_path / "model") is estimator
    assert sorted(os.listdir(tmp_path / "model")) == [DELTA_NAME, MANIFEST_NAME]
    with open(tmp_path / "model" / MANIFEST_NAME) as handle:
        manifest = json.load(handle)
    assert manifest["class"].endswith(type(estimator).__name__)
    assert manifest["base_model"] == base_model_fingerprint(estimator.model)
    assert manifest["params"]["model"] == estimator.model
    assert manifest["delta"]["mode"] == "delta"
    loaded = type(estimator).load(tmp_path / "model")
    check_same_fitted(loaded, estimator, via_json=True)
    # The base class loads the library's estimators by the class named in the folder.
    from sklearn_fishdip._base import BaseFishDip

    assert type(BaseFishDip.load(tmp_path / "model")) is type(estimator)


def test_saved_delta_is_int32_indices_and_values_on_cpu(ner, tmp_path):
    ner.save(tmp_path)
    tensors = load_file(tmp_path / DELTA_NAME)
    assert tensors
    base = dict(load_seq2seq(ner.model).model.named_parameters())
    for key, tensor in tensors.items():
        name, _, kind = key.rpartition("::")
        assert name in base
        assert tensor.device.type == "cpu"
        if kind == "indices":
            assert tensor.dtype == torch.int32
            assert tensors[name + "::values"].dtype == base[name].dtype
    assert sum(t.numel() for k, t in tensors.items() if k.endswith("::indices")) == (
        ner.n_updated_parameters_
    )


def test_loading_a_folder_never_unpickles(ner, tmp_path, monkeypatch):
    ner.save(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("loading a saved folder must not unpickle")

    # Read the base model from disk again too: that must not unpickle either.
    clear_model_cache()
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    loaded = FishDipNER.load(tmp_path)
    monkeypatch.undo()
    assert predictions(loaded) == predictions(ner)


def test_load_refuses_a_folder_of_another_class(ner, relations, tmp_path):
    ner.save(tmp_path / "ner")
    with pytest.raises(ValueError, match="FishDipNER, not a .*FishDipRelationExtractor"):
        FishDipRelationExtractor.load(tmp_path / "ner")
    relations.save(tmp_path / "relations")
    with pytest.raises(ValueError, match="FishDipRelationExtractor, not a .*FishDipNER"):
        FishDipNER.load(tmp_path / "relations")


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda m: m.update({"class": "os.system"}), "holds a os.system"),
        (lambda m: m.update({"format_version": 99}), "format version 99"),
        (lambda m: m.pop("params"), "missing 'params'"),
        (lambda m: m["params"].update({"bogus": 1}), r"unknown parameters \['bogus'\]"),
        (lambda m: m["attributes"].update({"model_": 1}), "unexpected attribute 'model_'"),
    ],
)
def test_load_refuses_a_tampered_manifest(ner, tmp_path, edit, match):
    ner.save(tmp_path)
    with open(tmp_path / MANIFEST_NAME) as handle:
        manifest = json.load(handle)
    edit(manifest)
    with open(tmp_path / MANIFEST_NAME, "w") as handle:
        json.dump(manifest, handle)
    with pytest.raises(ValueError, match=match):
        FishDipNER.load(tmp_path)


def test_load_reports_a_missing_or_corrupt_folder(ner, tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        FishDipNER.load(tmp_path / "absent")
    with pytest.raises(ValueError, match="no estimator.json"):
        FishDipNER.load(tmp_path)
    ner.save(tmp_path)
    (tmp_path / DELTA_NAME).write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        FishDipNER.load(tmp_path)


def test_non_json_parameters_are_refused_clearly(ner, tmp_path):
    estimator = pickle.loads(pickle.dumps(ner))
    estimator.set_params(random_state=np.random.RandomState(0))
    with pytest.raises(TypeError, match="random_state .*cannot be stored as JSON"):
        estimator.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()
    # pickle still works for it.
    assert predictions(pickle.loads(pickle.dumps(estimator))) == predictions(ner)


def test_strategy_objects_and_verbalizers_survive_json(ner, tmp_path):
    estimator = pickle.loads(pickle.dumps(ner))
    names = LabelVerbalizer(["LOC", "ORG", "PER"])
    estimator.set_params(strategy=FishDip(keep_ratio=0.02), label_names=names)
    estimator.save(tmp_path)
    loaded = FishDipNER.load(tmp_path)
    assert isinstance(loaded.strategy, FishDip)
    assert loaded.strategy.get_params() == FishDip(keep_ratio=0.02).get_params()
    assert loaded.label_names == names


def test_unsaveable_custom_strategy_is_refused(ner, tmp_path):
    class MyStrategy(FishDip):
        pass

    estimator = pickle.loads(pickle.dumps(ner))
    estimator.set_params(strategy=MyStrategy())
    with pytest.raises(TypeError, match="custom strategy"):
        estimator.save(tmp_path)


def test_to_json_makes_histories_json_safe():
    value = {"loss": float("nan"), "n": np.int64(3), "x": np.float32(0.5), "t": (1, 2)}
    encoded = to_json(value, "attribute mask_history_")
    assert encoded == {"loss": None, "n": 3, "x": 0.5, "t": [1, 2]}
    json.dumps(encoded, allow_nan=False)
    assert to_json(torch.tensor([1, 2]), "x") == [1, 2]
    assert to_json(Path("fits") / "ner", "parameter checkpoint_dir") == str(Path("fits") / "ner")
    with pytest.raises(TypeError, match="non-string keys"):
        to_json({1: 2}, "attribute x_")


def test_unsaved_estimator_cannot_be_saved(tiny_t5_path, tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FishDipNER(**fast_params(tiny_t5_path)).save(tmp_path)


# --------------------------------------------------------------------------- #
# Base model identity
# --------------------------------------------------------------------------- #


def test_changed_base_model_is_refused_naming_both_checksums(tmp_path):
    base = save_tiny_t5(tmp_path / "base", seed=0)
    estimator = FishDipNER(**fast_params(base, max_epochs=1)).fit(NER_X[:2], NER_Y[:2])
    pickled = pickle.dumps(estimator)
    estimator.save(tmp_path / "model")
    old = base_model_fingerprint(base)["sha256"]
    try:
        # Same architecture and tokenizer, other weights, rewritten in place.
        save_tiny_t5(base, seed=1)
        clear_model_cache()
        new = base_model_fingerprint(base)["sha256"]
        assert new != old
        for load in (lambda: pickle.loads(pickled), lambda: FishDipNER.load(tmp_path / "model")):
            with pytest.raises(ValueError) as caught:
                load()
            message = str(caught.value)
            assert old in message and new in message and repr(base) in message
    finally:
        clear_model_cache()


def test_missing_base_model_is_reported(tmp_path):
    base = save_tiny_t5(tmp_path / "base", seed=0)
    estimator = FishDipNER(**fast_params(base, max_epochs=1)).fit(NER_X[:2], NER_Y[:2])
    estimator.save(tmp_path / "model")
    shutil.rmtree(base)
    clear_model_cache()
    with pytest.raises(ValueError, match="base model .* cannot be loaded"):
        FishDipNER.load(tmp_path / "model")
