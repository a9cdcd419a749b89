"""Persistence: pickle/joblib and save/load store the sparse difference from the base model."""

import io
import json
import os
import pickle
import shutil

import joblib
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from sklearn_fishdip import FishDipNER, FishDipRelationExtractor
from sklearn_fishdip.augmented._verbalizer import LabelVerbalizer
from sklearn_fishdip.models import base_model_fingerprint, clear_model_cache, load_seq2seq
from sklearn_fishdip.persistence._estimator import (
    DELTA_NAME,
    MANIFEST_NAME,
    apply_delta,
    compute_delta,
    delta_payload_bytes,
    to_json,
    weight_bytes,
)
from sklearn_fishdip.sparse import FishDip, SparseUpdate
from sklearn_fishdip.utils._testing import make_tiny_t5
from tests.estimator_fixtures import NER_X, NER_Y, RE_X, RE_Y, fast_params


def _save_tiny_t5(path, **options):
    model, tokenizer = make_tiny_t5(**options)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def ner(tiny_t5_path):
    return FishDipNER(**fast_params(tiny_t5_path)).fit(NER_X, NER_Y)


@pytest.fixture(scope="module")
def relations(tiny_t5_path):
    return FishDipRelationExtractor(**fast_params(tiny_t5_path)).fit(RE_X, RE_Y)


def _predictions(estimator):
    if isinstance(estimator, FishDipNER):
        return estimator.predict(NER_X), estimator.predict_spans(NER_X)
    return estimator.predict(RE_X)


def _check_same_fitted(loaded, original, *, via_json=False):
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
    assert _predictions(loaded) == _predictions(original)


def _walk(value):
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk(item)


# --------------------------------------------------------------------------- #
# pickle / joblib
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("which", ["ner", "relations"])
@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_pickle_round_trip_gives_identical_predictions(which, how, request, tmp_path):
    estimator = request.getfixturevalue(which)
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(estimator))
    else:
        joblib.dump(estimator, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    _check_same_fitted(loaded, estimator)


def test_pickled_state_holds_the_delta_not_the_model(ner):
    state = ner.__getstate__()
    assert not {"model_", "tokenizer_", "grammar_"} & set(state)
    persisted = state["_fishdip_persisted"]
    assert persisted["base_model"] == base_model_fingerprint(ner.model)
    assert persisted["mode"] == "delta"
    assert persisted["n_changed"] == ner.n_updated_parameters_
    assert isinstance(persisted["delta"], bytes)
    # Nothing torch-specific (tensors, devices, modules) is left in the state.
    for value in _walk(state):
        assert not isinstance(value, (torch.Tensor, torch.device, torch.nn.Module)), value
    # The estimator itself is untouched by pickling.
    assert hasattr(ner, "model_") and hasattr(ner, "grammar_")


def test_unfitted_estimator_pickles_as_usual(tiny_t5_path):
    estimator = FishDipNER(**fast_params(tiny_t5_path))
    state = estimator.__getstate__()
    assert "_fishdip_persisted" not in state
    loaded = pickle.loads(pickle.dumps(estimator))
    assert loaded.get_params() == estimator.get_params()
    assert not hasattr(loaded, "model_")


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
    _check_same_fitted(loaded, estimator, via_json=True)
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
    assert _predictions(loaded) == _predictions(ner)


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
    assert _predictions(pickle.loads(pickle.dumps(estimator))) == _predictions(ner)


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
    base = _save_tiny_t5(tmp_path / "base", seed=0)
    estimator = FishDipNER(**fast_params(base, max_epochs=1)).fit(NER_X[:2], NER_Y[:2])
    pickled = pickle.dumps(estimator)
    estimator.save(tmp_path / "model")
    old = base_model_fingerprint(base)["sha256"]
    try:
        # Same architecture and tokenizer, other weights, rewritten in place.
        _save_tiny_t5(base, seed=1)
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
    base = _save_tiny_t5(tmp_path / "base", seed=0)
    estimator = FishDipNER(**fast_params(base, max_epochs=1)).fit(NER_X[:2], NER_Y[:2])
    estimator.save(tmp_path / "model")
    shutil.rmtree(base)
    clear_model_cache()
    with pytest.raises(ValueError, match="base model .* cannot be loaded"):
        FishDipNER.load(tmp_path / "model")


# --------------------------------------------------------------------------- #
# Sizes and full weights
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def larger_t5_path(tmp_path_factory):
    # Big enough (680 kB of weights) that per-tensor headers do not dominate the files.
    return _save_tiny_t5(tmp_path_factory.mktemp("t5_d64"), seed=0, d_model=64, num_layers=2)


@pytest.mark.parametrize("strategy", ["fish", "fish-dip", "random"])
def test_file_size_bound_at_keep_ratio_one_percent(larger_t5_path, tmp_path, strategy):
    estimator = FishDipNER(
        **fast_params(larger_t5_path, strategy=strategy, keep_ratio=0.01, refresh_every=100)
    ).fit(NER_X, NER_Y)
    base_bytes = weight_bytes(load_seq2seq(larger_t5_path).model)
    assert base_bytes == estimator.n_parameters_ * 4
    bound = 0.03 * base_bytes + estimator.n_always_trainable_ * 4
    # The payload: 4 bytes of int32 index and 4 of float32 value per changed entry.
    estimator.save(tmp_path)
    with open(tmp_path / MANIFEST_NAME) as handle:
        payload = json.load(handle)["delta"]["payload_bytes"]
    assert payload == 8 * estimator.n_updated_parameters_
    assert payload <= bound
    if strategy == "random":
        # A random mask touches every tensor: on a model this small, safetensors'
        # ~100 header bytes per stored tensor dominate, so only the payload is bounded
        # (on real models, with millions of entries per tensor, the headers are noise).
        return
    pickled = len(pickle.dumps(estimator))
    saved = sum(os.path.getsize(tmp_path / name) for name in os.listdir(tmp_path))
    assert pickled <= bound, (pickled, bound)
    assert saved <= bound, (saved, bound)


def test_full_strategy_stores_full_weights(tiny_t5_path, tmp_path):
    estimator = FishDipNER(**fast_params(tiny_t5_path, strategy="full")).fit(NER_X, NER_Y)
    estimator.save(tmp_path)
    tensors = load_file(tmp_path / DELTA_NAME)
    names = [name for name, _ in estimator.model_.named_parameters()]
    assert sorted(k for k in tensors if k.endswith("::full")) == sorted(n + "::full" for n in names)
    assert os.path.getsize(tmp_path / DELTA_NAME) >= weight_bytes(estimator.model_)
    with open(tmp_path / MANIFEST_NAME) as handle:
        assert json.load(handle)["delta"]["mode"] == "full"
    assert pickle.loads(pickle.dumps(estimator)).__dict__.keys() == estimator.__dict__.keys()
    _check_same_fitted(FishDipNER.load(tmp_path), estimator, via_json=True)


def test_compute_delta_is_exact_and_cpu(tiny_t5_path):
    base = load_seq2seq(tiny_t5_path).model
    model = load_seq2seq(tiny_t5_path).model
    with torch.no_grad():
        weight = dict(model.named_parameters())["shared.weight"]  # tied to lm_head
        weight.view(-1)[[3, 7]] = torch.tensor([1.5, float("nan")])
        dict(model.named_parameters())["encoder.final_layer_norm.weight"].mul_(-1.0)
    tensors, mode, n_changed = compute_delta(model, base)
    assert mode == "delta"
    assert tensors["shared.weight::indices"].tolist() == [3, 7]
    assert "lm_head.weight::indices" not in tensors  # tied weights once
    # A parameter that changed everywhere is stored whole: smaller than indices plus values.
    assert "encoder.final_layer_norm.weight::full" in tensors
    assert n_changed == 2 + 16
    assert all(t.device.type == "cpu" and t.is_contiguous() for t in tensors.values())
    assert delta_payload_bytes(tensors) == 2 * 8 + 16 * 4
    rebuilt = load_seq2seq(tiny_t5_path).model
    apply_delta(rebuilt, tensors)
    for (name, a), b in zip(rebuilt.state_dict().items(), model.state_dict().values()):
        assert torch.equal(a.view(torch.int32), b.view(torch.int32)), name
    with pytest.raises(ValueError, match="no tensor 'nope'"):
        apply_delta(rebuilt, {"nope::full": torch.zeros(1)})
    with pytest.raises(ValueError, match="out of range"):
        apply_delta(
            rebuilt,
            {
                "shared.weight::indices": torch.tensor([10**6], dtype=torch.int32),
                "shared.weight::values": torch.zeros(1),
            },
        )


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a CPU-only machine")
def test_cuda_trained_estimator_loads_on_cpu(ner, tmp_path):
    # Stand-in for a GPU-trained model: its device parameter says CUDA; the stored
    # delta is CPU tensors whatever the training device, so it loads here.
    estimator = pickle.loads(pickle.dumps(ner))
    estimator.set_params(device="cuda")
    estimator.save(tmp_path)
    for load in (lambda: pickle.loads(pickle.dumps(estimator)), lambda: FishDipNER.load(tmp_path)):
        with pytest.warns(UserWarning, match="CUDA is not available"):
            loaded = load()
        assert next(loaded.model_.parameters()).device.type == "cpu"
        loaded.set_params(device="cpu")
        assert _predictions(loaded) == _predictions(ner)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (CI has none)")
def test_estimator_trained_on_cuda_saves_and_loads_on_cpu(tiny_t5_path, tmp_path):
    torch.cuda.reset_peak_memory_stats()
    estimator = FishDipNER(**fast_params(tiny_t5_path, device="cuda")).fit(NER_X, NER_Y)
    assert torch.cuda.max_memory_allocated() > 0  # trained on the GPU ...
    # ... and kept on the CPU between calls (docs/user_guide/devices.rst)
    assert next(estimator.model_.parameters()).device.type == "cpu"
    on_gpu = _predictions(estimator)
    assert [len(tags) for tags in on_gpu[0]] == [len(words) for words in NER_X]
    estimator.save(tmp_path)
    loaded = FishDipNER.load(tmp_path)
    assert _predictions(loaded) == on_gpu
    loaded.set_params(device="cpu")
    on_cpu = _predictions(loaded)
    assert next(loaded.model_.parameters()).device.type == "cpu"
    assert [len(tags) for tags in on_cpu[0]] == [len(words) for words in NER_X]


# --------------------------------------------------------------------------- #
# Ctrl-C
# --------------------------------------------------------------------------- #


def test_ctrl_c_keeps_the_weights_reached_so_far(tiny_t5_path, monkeypatch):
    original = SparseUpdate.on_batch_end

    def interrupt_in_epoch_2(self, net, **kwargs):
        original(self, net, **kwargs)
        if len(net.history) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(SparseUpdate, "on_batch_end", interrupt_in_epoch_2)
    estimator = FishDipNER(**fast_params(tiny_t5_path, max_epochs=4))
    with pytest.warns(UserWarning, match="training interrupted at epoch 2 of 4; the estimator"):
        estimator.fit(NER_X, NER_Y)
    monkeypatch.undo()
    assert [row["epoch"] for row in estimator.history_] == [1]
    assert estimator.n_updated_parameters_ > 0
    assert len(estimator.predict(NER_X)) == len(NER_X)
    _check_same_fitted(pickle.loads(pickle.dumps(estimator)), estimator)


def test_no_warning_when_training_completes(tiny_t5_path, recwarn):
    FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)).fit(NER_X[:2], NER_Y[:2])
    assert not [w for w in recwarn if "interrupted" in str(w.message)]


def test_pickle_stream_is_small_relative_to_weights(ner):
    # The tiny fixture: the pickle is far below the size of the weights.
    buffer = io.BytesIO()
    pickle.dump(ner, buffer)
    assert buffer.tell() < weight_bytes(ner.model_)
