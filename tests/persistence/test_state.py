"""The persisted state: pickle/joblib store the sparse difference from the base model."""

import io
import pickle

import joblib
import pytest
import torch

from sklearn_fishdip import FishDipNER
from sklearn_fishdip.models import base_model_fingerprint
from sklearn_fishdip.persistence import (
    weight_bytes,
)
from sklearn_fishdip.sparse import SparseUpdate
from tests.estimator_fixtures import NER_X, NER_Y, fast_params

from .helpers import check_same_fitted, walk


@pytest.mark.parametrize("which", ["ner", "relations"])
@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_pickle_round_trip_gives_identical_predictions(which, how, request, tmp_path):
    estimator = request.getfixturevalue(which)
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(estimator))
    else:
        joblib.dump(estimator, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    check_same_fitted(loaded, estimator)


def test_pickled_state_holds_the_delta_not_the_model(ner):
    state = ner.__getstate__()
    assert not {"model_", "tokenizer_", "grammar_"} & set(state)
    persisted = state["_fishdip_persisted"]
    assert persisted["base_model"] == base_model_fingerprint(ner.model)
    assert persisted["mode"] == "delta"
    assert persisted["n_changed"] == ner.n_updated_parameters_
    assert isinstance(persisted["delta"], bytes)
    # Nothing torch-specific (tensors, devices, modules) is left in the state.
    for value in walk(state):
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
    check_same_fitted(pickle.loads(pickle.dumps(estimator)), estimator)


def test_no_warning_when_training_completes(tiny_t5_path, recwarn):
    FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)).fit(NER_X[:2], NER_Y[:2])
    assert not [w for w in recwarn if "interrupted" in str(w.message)]


def test_pickle_stream_is_small_relative_to_weights(ner):
    # The tiny fixture: the pickle is far below the size of the weights.
    buffer = io.BytesIO()
    pickle.dump(ner, buffer)
    assert buffer.tell() < weight_bytes(ner.model_)
