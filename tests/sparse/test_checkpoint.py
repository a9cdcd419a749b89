import copy
import types

import pytest
import torch

from sklearn_fishdip.sparse import (
    DPS,
    EpochCheckpoint,
    FishDip,
    Full,
    Seq2SeqNet,
    SparseUpdate,
    fit_fingerprint,
    fit_sparse,
)
from sklearn_fishdip.utils._testing import make_tiny_t5

from .conftest import tokenize

STRATEGIES = {
    "fish-dip": lambda: FishDip(keep_ratio=0.05, refresh_every=3, n_samples=2),
    "dps": lambda: DPS(reserve_p=0.5, update_ratio=0.2),
    "full": Full,
}


class Interrupted(Exception):
    """Stands for Ctrl-C in the tests (skorch swallows KeyboardInterrupt)."""


def _fit(model, strategy, checkpoint_dir=None, optimizer="adamw", epochs=4, **kwargs):
    return fit_sparse(
        model,
        tokenize(model.tokenizer_for_tests, 6),
        STRATEGIES[strategy](),
        optimizer=optimizer,
        lr=1e-2,
        max_epochs=epochs,
        batch_size=2,
        random_state=3,
        checkpoint_dir=checkpoint_dir,
        **kwargs,
    )


@pytest.fixture
def model():
    model, tokenizer = make_tiny_t5()
    model.tokenizer_for_tests = tokenizer
    return model


def _ctrl_c_after_epoch(monkeypatch, epoch):
    """Make the fit stop (as Ctrl-C does) right after epoch ``epoch`` is saved."""
    save = EpochCheckpoint.on_epoch_end

    def save_then_stop(self, net, **kwargs):
        save(self, net, **kwargs)
        if len(net.history) == epoch:
            raise KeyboardInterrupt

    monkeypatch.setattr(EpochCheckpoint, "on_epoch_end", save_then_stop)


def _ctrl_c_at_step(monkeypatch, step):
    """Make the fit stop (as Ctrl-C does) in the middle of an epoch."""
    end = SparseUpdate.on_batch_end

    def stop_at(self, net, **kwargs):
        end(self, net, **kwargs)
        if self.steps_ == step:
            raise KeyboardInterrupt

    monkeypatch.setattr(SparseUpdate, "on_batch_end", stop_at)


def _assert_same_fit(resumed, straight):
    got, want = resumed.module_.state_dict(), straight.module_.state_dict()
    assert got.keys() == want.keys()
    for name in want:
        assert torch.equal(got[name], want[name]), name
    assert resumed.history[:, "train_loss"] == straight.history[:, "train_loss"]
    assert resumed.n_steps_ == straight.n_steps_
    updates = [dict(net.callbacks_)["sparse_update"] for net in (resumed, straight)]
    assert [r["step"] for r in updates[0].mask_history_] == [
        r["step"] for r in updates[1].mask_history_
    ]
    assert updates[0].mask_checksums_ == updates[1].mask_checksums_


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("optimizer", ["adamw", "adafactor"])
def test_resumed_fit_equals_uninterrupted_fit(model, tmp_path, monkeypatch, strategy, optimizer):
    start = copy.deepcopy(model)
    straight = _fit(copy.deepcopy(start), strategy, optimizer=optimizer)

    with monkeypatch.context() as patch:
        _ctrl_c_after_epoch(patch, 2)
        stopped = _fit(copy.deepcopy(start), strategy, tmp_path, optimizer=optimizer)
    assert len(stopped.history) == 2
    (saved,) = tmp_path.glob("fit-*.pt")

    resumed = _fit(copy.deepcopy(start), strategy, tmp_path, optimizer=optimizer)
    assert resumed.resumed_epochs_ == 2
    assert dict(resumed.callbacks_)["checkpoint"].resumed_epochs_ == 2
    assert not saved.exists()  # removed once the fit completed
    _assert_same_fit(resumed, straight)


def test_length_grouped_fit_resumes_exactly(model, tmp_path, monkeypatch):
    start = copy.deepcopy(model)
    straight = _fit(copy.deepcopy(start), "fish-dip", group_by_length=True)
    with monkeypatch.context() as patch:
        _ctrl_c_after_epoch(patch, 2)
        _fit(copy.deepcopy(start), "fish-dip", tmp_path, group_by_length=True)
    resumed = _fit(copy.deepcopy(start), "fish-dip", tmp_path, group_by_length=True)
    assert resumed.resumed_epochs_ == 2
    _assert_same_fit(resumed, straight)


def test_fit_stopped_mid_epoch_resumes_from_the_last_saved_epoch(model, tmp_path, monkeypatch):
    start = copy.deepcopy(model)
    straight = _fit(copy.deepcopy(start), "fish-dip")
    with monkeypatch.context() as patch:
        _ctrl_c_at_step(patch, 7)  # three batches an epoch: inside epoch 3
        stopped = _fit(copy.deepcopy(start), "fish-dip", tmp_path)
    assert stopped.n_steps_ == 7
    resumed = _fit(copy.deepcopy(start), "fish-dip", tmp_path)
    assert resumed.resumed_epochs_ == 2
    _assert_same_fit(resumed, straight)
    assert list(tmp_path.iterdir()) == []


def _saved_after_epoch_1(start, tmp_path, monkeypatch, strategy="full"):
    """Run a fit stopped after its first epoch; return its checkpoint file."""
    with monkeypatch.context() as patch:
        _ctrl_c_after_epoch(patch, 1)
        _fit(copy.deepcopy(start), strategy, tmp_path)
    (saved,) = tmp_path.glob("fit-*.pt")
    return saved


def test_a_different_fit_starts_afresh_and_keeps_other_checkpoints(model, tmp_path, monkeypatch):
    start = copy.deepcopy(model)
    other = _saved_after_epoch_1(start, tmp_path, monkeypatch)
    fresh = _fit(copy.deepcopy(start), "full", tmp_path, epochs=3)  # another schedule
    assert fresh.resumed_epochs_ == 0
    assert len(fresh.history) == 3
    assert other.exists()


def test_completed_fit_leaves_no_file_and_is_not_resumed(model, tmp_path):
    start = copy.deepcopy(model)
    first = _fit(copy.deepcopy(start), "full", tmp_path, epochs=2)
    assert list(tmp_path.iterdir()) == []
    again = _fit(copy.deepcopy(start), "full", tmp_path, epochs=2)
    assert again.resumed_epochs_ == 0
    _assert_same_fit(again, first)


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "is not a readable fit checkpoint"),
        ({"format": 99}, "is not a fit checkpoint of format 1"),
        ({"format": 1, "fingerprint": "0" * 64}, "belongs to another fit"),
    ],
)
def test_a_file_that_cannot_continue_this_fit_is_a_clear_error(
    model, tmp_path, monkeypatch, content, message
):
    start = copy.deepcopy(model)
    saved = _saved_after_epoch_1(start, tmp_path, monkeypatch)
    if content is None:
        saved.write_bytes(saved.read_bytes()[:100])  # truncated
    else:
        torch.save(content, saved)
    with pytest.raises(ValueError, match=rf"{saved.name} {message}.*delete it"):
        _fit(copy.deepcopy(start), "full", tmp_path)


def _fingerprint(model, examples, **settings):
    net = Seq2SeqNet(model, **{"lr": 1e-2, "batch_size": 2, "random_state": 0, **settings})
    net.initialize()
    net.seed_ = 0
    return fit_fingerprint(net, examples)


def test_fingerprint_follows_examples_weights_and_settings(model):
    examples = tokenize(model.tokenizer_for_tests, 4)
    base = _fingerprint(model, examples)
    assert len(base) == 64
    assert _fingerprint(copy.deepcopy(model), copy.deepcopy(examples)) == base
    # Display and placement do not change what is computed.
    assert _fingerprint(model, examples, verbose=1, device="cpu") == base
    assert _fingerprint(model, examples[:3]) != base
    assert _fingerprint(model, examples, lr=2e-2) != base
    assert _fingerprint(model, examples, max_epochs=3) != base
    # Length-grouped batches are another fit than plain shuffling.
    assert _fingerprint(model, examples, group_by_length=True) != base
    changed = copy.deepcopy(model)
    with torch.no_grad():
        next(changed.parameters()).view(-1)[0] += 1e-3
    assert _fingerprint(changed, examples) != base


def test_data_parallel_fits_are_not_checkpointed(tmp_path):
    net = types.SimpleNamespace(communicator_=object())
    with pytest.raises(ValueError, match="not supported in a data-parallel fit"):
        EpochCheckpoint(tmp_path).on_train_begin(net)
