"""The delta: exact, on the CPU, and small at a 1% keep ratio."""

import json
import os
import pickle

import pytest
import torch
from safetensors.torch import load_file

from sklearn_fishdip import FishDipNER
from sklearn_fishdip.models import load_seq2seq
from sklearn_fishdip.persistence import (
    DELTA_NAME,
    MANIFEST_NAME,
    apply_delta,
    compute_delta,
    delta_payload_bytes,
    weight_bytes,
)
from tests.estimator_fixtures import NER_X, NER_Y, fast_params

from .helpers import check_same_fitted, predictions


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
    check_same_fitted(FishDipNER.load(tmp_path), estimator, via_json=True)


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
        assert predictions(loaded) == predictions(ner)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (CI has none)")
def test_estimator_trained_on_cuda_saves_and_loads_on_cpu(tiny_t5_path, tmp_path):
    torch.cuda.reset_peak_memory_stats()
    estimator = FishDipNER(**fast_params(tiny_t5_path, device="cuda")).fit(NER_X, NER_Y)
    assert torch.cuda.max_memory_allocated() > 0  # trained on the GPU ...
    # ... and kept on the CPU between calls (docs/user_guide/devices.rst)
    assert next(estimator.model_.parameters()).device.type == "cpu"
    on_gpu = predictions(estimator)
    assert [len(tags) for tags in on_gpu[0]] == [len(words) for words in NER_X]
    estimator.save(tmp_path)
    loaded = FishDipNER.load(tmp_path)
    assert predictions(loaded) == on_gpu
    loaded.set_params(device="cpu")
    on_cpu = predictions(loaded)
    assert next(loaded.model_.parameters()).device.type == "cpu"
    assert [len(tags) for tags in on_cpu[0]] == [len(words) for words in NER_X]
