import pytest
import torch
from skorch.callbacks import Callback, GradientNormClipping

from sklearn_fishdip.sparse import (
    BitFit,
    FishDip,
    Full,
    Seq2SeqNet,
    SparseAdamW,
    SparseUpdate,
    fit_sparse,
    optimizer_state_bytes,
    resolve_device,
)
from sklearn_fishdip.utils._testing import make_tiny_bert2bert, make_tiny_t5

from .conftest import tokenize


class FrozenCheck(Callback):
    """Record entries that changed outside the mask of the step."""

    def on_batch_begin(self, net, training=False, **kwargs):
        update = dict(net.callbacks_)["sparse_update"]
        self.mask = update.mask_
        self.before = {n: p.detach().clone() for n, p in update.context_.index.params.items()}

    def on_batch_end(self, net, training=False, **kwargs):
        update = dict(net.callbacks_)["sparse_update"]
        self.violations = getattr(self, "violations", 0)
        self.changed = getattr(self, "changed", 0)
        for name, param in update.context_.index.params.items():
            moved = param.detach() != self.before[name]
            self.changed += int(moved.sum())
            self.violations += int((moved & ~self.mask.bool_mask(name, param)).sum())


def _refreshing():
    return FishDip(keep_ratio=0.05, refresh_every=3, n_samples=2)


@pytest.mark.parametrize("optimizer, weight_decay", [("adamw", 0.01), ("adafactor", 0.0)])
def test_off_mask_entries_never_change(t5, optimizer, weight_decay):
    model, tokenizer = t5
    check = FrozenCheck()
    net = fit_sparse(
        model,
        tokenize(tokenizer, 8),
        _refreshing(),
        optimizer=optimizer,
        lr=1e-2,
        weight_decay=weight_decay,
        max_steps=7,
        batch_size=2,
        random_state=0,
        callbacks=[check],
    )
    history = dict(net.callbacks_)["sparse_update"].mask_history_
    assert [r["step"] for r in history] == [0, 3, 6]
    assert history[1]["overlap"] < 1.0  # the mask really changed
    assert check.violations == 0 and check.changed > 0


def test_dense_optimizer_is_restored_and_state_cleared(t5):
    # A plain torch AdamW with weight decay would move every entry.
    model, tokenizer = t5
    check = FrozenCheck()
    net = Seq2SeqNet(
        model,
        optimizer=torch.optim.AdamW,
        lr=1e-2,
        optimizer__weight_decay=0.01,
        max_epochs=1,
        max_steps=7,
        batch_size=2,
        random_state=0,
        verbose=0,
        callbacks=[("sparse_update", SparseUpdate(_refreshing())), check],
    ).fit(tokenize(tokenizer, 14))
    assert check.violations == 0
    update = dict(net.callbacks_)["sparse_update"]
    for name, param in update.context_.index.params.items():
        state = net.optimizer_.state.get(param, {})
        if "exp_avg" in state:
            outside = ~update.mask_.bool_mask(name, param)
            assert (state["exp_avg"][outside] == 0).all(), name


def test_sparse_adamw_state_follows_mask_and_is_small(t5):
    model, tokenizer = t5
    net = fit_sparse(
        model,
        tokenize(tokenizer, 8),
        _refreshing(),
        optimizer="adamw",
        max_steps=4,
        batch_size=2,
        random_state=0,
    )
    update = dict(net.callbacks_)["sparse_update"]
    for name, param in update.context_.index.params.items():
        state = net.optimizer_.state[param]
        if name in update.mask_.sparse:
            assert torch.equal(state["indices"], update.mask_.sparse[name])
        else:
            assert state == {"mode": "frozen"}
    sparse = optimizer_state_bytes(net.optimizer_)
    dense_net = fit_sparse(
        make_tiny_t5()[0],
        tokenize(tokenizer, 8),
        "full",
        optimizer="adamw",
        max_steps=1,
        batch_size=2,
        random_state=0,
    )
    ratio = FishDip(keep_ratio=0.01)
    one_percent = fit_sparse(
        make_tiny_t5()[0],
        tokenize(tokenizer, 8),
        ratio,
        optimizer="adamw",
        max_steps=1,
        batch_size=2,
        random_state=0,
    )
    assert sparse < optimizer_state_bytes(dense_net.optimizer_)
    assert optimizer_state_bytes(one_percent.optimizer_) <= 0.05 * optimizer_state_bytes(
        dense_net.optimizer_
    )


def test_new_parameters_train_outside_the_budget(bert2bert):
    model, tokenizer, new = bert2bert
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    net = fit_sparse(
        model,
        tokenize(tokenizer, 6),
        FishDip(keep_ratio=0.01),
        new_parameter_names=new,
        max_steps=3,
        batch_size=2,
        random_state=0,
        lr=1e-2,
    )
    record = dict(net.callbacks_)["sparse_update"].mask_history_[0]
    n_new = sum(p.numel() for n, p in model.named_parameters() if n in new)
    n_pool = sum(p.numel() for p in model.parameters()) - n_new
    assert record["n_exempt"] == n_new
    assert record["n_selected"] == int(0.01 * n_pool)
    for name, param in model.named_parameters():
        if name in new and name.endswith("weight"):
            assert (param != before[name]).float().mean() > 0.9, name

    model, tokenizer, new = make_tiny_bert2bert()
    net = fit_sparse(
        model,
        tokenize(tokenizer, 6),
        FishDip(keep_ratio=0.01, train_new_parameters=False),
        new_parameter_names=new,
        max_steps=1,
        batch_size=2,
        random_state=0,
    )
    record = dict(net.callbacks_)["sparse_update"].mask_history_[0]
    assert record["n_exempt"] == 0
    assert record["n_selected"] == int(0.01 * (n_pool + n_new))


def test_bitfit_touches_only_biases(bert2bert):
    model, tokenizer, new = bert2bert
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    fit_sparse(
        model,
        tokenize(tokenizer, 4),
        BitFit(train_new_parameters=False),
        max_steps=2,
        batch_size=2,
        random_state=0,
        optimizer="adamw",
        lr=1e-2,
    )
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all(n.endswith("bias") for n in changed)


def test_full_changes_everything(t5):
    model, tokenizer = t5
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    fit_sparse(model, tokenize(tokenizer, 4), Full(), max_steps=2, batch_size=4, random_state=0)
    # Every parameter moves (embedding rows of unseen tokens have no gradient).
    moved = {n: int((p != before[n]).sum()) for n, p in model.named_parameters()}
    assert all(moved.values())
    assert sum(moved.values()) > 0.5 * sum(p.numel() for p in model.parameters())


def test_same_seed_bit_identical_and_global_rng_untouched(t5):
    _, tokenizer = t5
    examples = tokenize(tokenizer, 10)
    rng = torch.get_rng_state()

    def train(seed):
        model = make_tiny_t5()[0]
        fit_sparse(model, examples, _refreshing(), max_steps=6, batch_size=3, random_state=seed)
        return [p.detach().clone() for p in model.parameters()]

    first, again, other = train(0), train(0), train(1)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))
    assert torch.equal(rng, torch.get_rng_state())


def test_net_records_losses_steps_and_timings(t5):
    model, tokenizer = t5
    net = fit_sparse(
        model,
        tokenize(tokenizer, 5),
        FishDip(refresh_every=2),
        max_epochs=1,
        max_steps=5,
        batch_size=2,
        random_state=0,
    )
    assert net.n_steps_ == 5  # 3 batches per epoch: the max_epochs grows to 2
    assert not torch.isnan(net.sample_losses_).any()
    update = dict(net.callbacks_)["sparse_update"]
    assert set(update.timings_) == {"select_s", "train_s", "total_s"}
    assert update.timings_["select_s"] > 0 and update.timings_["train_s"] > 0
    # Running ranking: a pass over all 5 samples at first; after 2 steps of 2,
    # four recorded losses are enough for the 3 samples, so the unseen one is
    # not passed; no selection after the last step, which would never be used.
    assert [r["n_loss_pass"] for r in update.mask_history_] == [5, 0, 0]
    assert [r["step"] for r in update.mask_history_] == [0, 2, 4]
    assert isinstance(net.optimizer_, torch.optim.Optimizer)


@pytest.mark.parametrize(
    "strategy, match",
    [
        (FishDip(keep_ratio=0.0), "keep_ratio"),
        (FishDip(keep_ratio=1.01), "keep_ratio"),
        (FishDip(refresh_every=0), "refresh_every"),
        ("fishdip", "Unknown strategy"),
    ],
)
def test_bad_input_fails_at_fit(t5, strategy, match):
    model, tokenizer = t5
    with pytest.raises(ValueError, match=match):
        fit_sparse(model, tokenize(tokenizer, 2), strategy, max_steps=1, batch_size=2)


def test_non_seq2seq_model_fails_at_fit(t5):
    _, tokenizer = t5
    with pytest.raises(ValueError, match="seq2seq"):
        fit_sparse(torch.nn.Linear(2, 2), tokenize(tokenizer, 2))
    net = Seq2SeqNet(torch.nn.Linear(2, 2), callbacks=[SparseUpdate()], verbose=0)
    with pytest.raises(ValueError, match="seq2seq"):
        net.fit(tokenize(tokenizer, 2))


def test_bad_optimizer_name(t5):
    model, tokenizer = t5
    with pytest.raises(ValueError, match="optimizer must be one of"):
        fit_sparse(model, tokenize(tokenizer, 2), optimizer="sgd")


@pytest.mark.parametrize("optimizer", ["adafactor", "adamw"])
def test_linear_schedule_decays_to_zero_and_constant_keeps_lr(t5, optimizer):
    model, tokenizer = t5
    examples = tokenize(tokenizer, 6)

    def lrs(schedule):
        net = fit_sparse(
            model,
            examples,
            "fish",
            optimizer=optimizer,
            lr=1e-3,
            lr_schedule=schedule,
            max_epochs=2,
            batch_size=2,
            random_state=0,
        )
        recorded = [batch.get("event_lr") for epoch in net.history for batch in epoch["batches"]]
        return recorded, net.optimizer_.param_groups[0]["lr"]

    # 3 batches x 2 epochs: the lr used by each step falls linearly, 0 after the last.
    recorded, final = lrs("linear")
    assert recorded == pytest.approx([1e-3 * (1 - k / 6) for k in range(6)])
    assert final == 0.0
    recorded, final = lrs("constant")
    assert final == 1e-3 and recorded == [None] * 6  # no scheduler at all
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        fit_sparse(model, examples, lr_schedule="cosine")


def test_clipping_before_masking_is_rejected(t5):
    model, tokenizer = t5
    net = Seq2SeqNet(
        model,
        optimizer=SparseAdamW,
        max_epochs=1,
        batch_size=2,
        verbose=0,
        callbacks=[("clip", GradientNormClipping(1.0)), ("sparse_update", SparseUpdate())],
    )
    with pytest.raises(ValueError, match="before GradientNormClipping"):
        net.fit(tokenize(tokenizer, 2))


def test_resolve_device():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"


needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device (CI has none)"
)


@needs_cuda
@pytest.mark.parametrize("optimizer", ["adamw", "adafactor"])
def test_off_mask_entries_never_change_on_cuda(t5, optimizer):
    # Masks, sparse optimizer state and bf16 autocast all live on the GPU here.
    model, tokenizer = t5
    check = FrozenCheck()
    net = fit_sparse(
        model,
        tokenize(tokenizer, 8),
        _refreshing(),
        optimizer=optimizer,
        lr=1e-2,
        max_steps=7,
        batch_size=2,
        device="cuda",
        random_state=0,
        callbacks=[check],
    )
    assert next(model.parameters()).device.type == "cuda"
    history = dict(net.callbacks_)["sparse_update"].mask_history_
    assert [r["step"] for r in history] == [0, 3, 6]
    assert check.violations == 0 and check.changed > 0
    seen = net.sample_losses_[~torch.isnan(net.sample_losses_)]
    assert len(seen) > 0 and torch.isfinite(seen).all()
