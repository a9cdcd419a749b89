import math

import pytest
import torch
from sklearn.base import clone

from sklearn_fishdip.sparse import (
    DPS,
    BitFit,
    Fish,
    FishDip,
    Full,
    ParameterIndex,
    RandomMask,
    fit_sparse,
    per_sample_losses,
    resolve_strategy,
)
from sklearn_fishdip.sparse._selection import SelectionContext

from .conftest import tokenize


def _context(model, examples, running=None, seed=0):
    return SelectionContext(
        model,
        ParameterIndex(model),
        examples,
        batch_size=2,
        max_steps=10,
        generator=torch.Generator().manual_seed(seed),
        pad_token_id=0,
        running_losses=running,
    )


@pytest.mark.parametrize(
    "alias, cls",
    [
        ("fish-dip", FishDip),
        ("fish", Fish),
        ("dps", DPS),
        ("bitfit", BitFit),
        ("random", RandomMask),
        ("full", Full),
    ],
)
def test_resolve_aliases(alias, cls):
    strategy = resolve_strategy(alias)
    assert type(strategy) is cls and strategy.name == alias
    assert resolve_strategy(strategy) is strategy


def test_resolve_errors():
    with pytest.raises(ValueError, match=r"Unknown strategy 'lora'.*'bitfit'.*'fish-dip'"):
        resolve_strategy("lora")
    with pytest.raises(TypeError, match="string or a SparseStrategy"):
        resolve_strategy(3)


def test_params_and_clone():
    strategy = FishDip(keep_ratio=0.05, refresh_every=7)
    assert strategy.get_params() == {
        "keep_ratio": 0.05,
        "refresh_every": 7,
        "n_samples": None,
        "ranking": "running",
        "train_new_parameters": True,
    }
    assert clone(strategy).set_params(keep_ratio=0.2).keep_ratio == 0.2


@pytest.mark.parametrize(
    "strategy, match",
    [
        (FishDip(keep_ratio=0), r"keep_ratio must be in \(0, 1\]"),
        (FishDip(keep_ratio=1.5), r"keep_ratio must be in \(0, 1\]"),
        (FishDip(keep_ratio="a"), "keep_ratio must be a float"),
        (FishDip(refresh_every=0), "refresh_every must be an integer >= 1"),
        (FishDip(refresh_every=2.5), "refresh_every must be an integer >= 1"),
        (FishDip(ranking="best"), "ranking must be"),
        (FishDip(n_samples=0), "n_samples must be an integer"),
        (Fish(keep_ratio=-0.1), "keep_ratio"),
        (RandomMask(keep_ratio=2), "keep_ratio"),
        (DPS(reserve_p=1.0), r"reserve_p must be in \[0, 1\)"),
        (DPS(update_ratio=0), r"update_ratio must be in \(0, 1\]"),
        (BitFit(train_new_parameters="yes"), "train_new_parameters must be a bool"),
    ],
)
def test_validation_happens_in_validate_not_init(strategy, match):
    with pytest.raises(ValueError, match=match):
        strategy.validate()


@pytest.mark.parametrize(
    "n, batch, expected",
    [
        (140, 32, 3),
        (1404, 32, 4),
        (5992, 32, 18),
        (9, 32, 3),
        (5, 32, 3),
        (2, 32, 1),
        (10_000, 32, 25),
        (1404, 8, 17),
    ],
)
def test_n_samples_default_formula(n, batch, expected):
    assert FishDip().n_samples_for(n, batch) == expected
    assert FishDip(n_samples=4).n_samples_for(n, batch) == min(4, n)


def test_fish_dip_picks_highest_running_losses(t5):
    model, tokenizer = t5
    examples = tokenize(tokenizer, 8)
    running = torch.tensor([0.1, 5.0, 0.2, float("nan"), 3.0, 0.3, 4.0, 0.0])
    ctx = _context(model, examples, running=lambda: running)
    strategy = FishDip(keep_ratio=0.05, n_samples=3)
    mask, extra = strategy.initial_mask(ctx)
    # Seven recorded losses are enough: the unseen sample 3 is not given a pass.
    assert extra["samples"] == [1, 4, 6]
    assert extra["n_loss_pass"] == 0
    assert mask.n_selected(ctx.index) == int(0.05 * ctx.index.numel())
    assert strategy.next_mask(ctx, 99) is None
    assert strategy.next_mask(ctx, 100) is not None


def test_fish_dip_running_ranking_passes_unseen_when_too_few_losses(t5):
    model, tokenizer = t5
    examples = tokenize(tokenizer, 6)
    running = torch.tensor([float("nan"), 9.0, float("nan"), float("nan"), float("nan"), 0.5])
    ctx = _context(model, examples, running=lambda: running)
    _, extra = FishDip(n_samples=3).initial_mask(ctx)
    # Two recorded losses cannot fill three samples: the four unseen get real losses.
    fresh = per_sample_losses(model, [examples[i] for i in (0, 2, 3, 4)])
    full = running.clone()
    full[[0, 2, 3, 4]] = fresh
    assert extra["n_loss_pass"] == 4
    assert extra["samples"] == sorted(full.topk(3).indices.tolist())
    # Before any step (nothing recorded) every sample gets a pass.
    ctx = _context(model, examples, running=lambda: torch.full((6,), float("nan")))
    _, extra = FishDip(n_samples=3).initial_mask(ctx)
    assert extra["n_loss_pass"] == 6
    assert extra["samples"] == sorted(per_sample_losses(model, examples).topk(3).indices.tolist())


def test_fish_dip_full_ranking_uses_a_loss_pass(t5):
    model, tokenizer = t5
    examples = tokenize(tokenizer, 6)
    ctx = _context(model, examples, running=lambda: torch.zeros(6))
    _, extra = FishDip(n_samples=2, ranking="full").initial_mask(ctx)
    losses = per_sample_losses(model, examples)
    assert extra["samples"] == sorted(losses.topk(2).indices.tolist())
    assert extra["n_loss_pass"] == 6


def test_random_mask_reproducible(t5):
    model, tokenizer = t5
    examples = tokenize(tokenizer, 2)
    masks = [
        RandomMask(keep_ratio=0.1).initial_mask(_context(model, examples, seed=s))[0]
        for s in (0, 0, 1)
    ]
    index = ParameterIndex(model)
    same = all(torch.equal(masks[0].sparse[n], masks[1].sparse[n]) for n in masks[0].sparse)
    assert same and masks[0].sparse.keys() == masks[1].sparse.keys()
    assert masks[0].overlap(masks[2], index) < 0.5
    assert masks[0].n_selected(index) == int(0.1 * index.numel())


def test_fish_is_fixed(t5):
    model, tokenizer = t5
    ctx = _context(model, tokenize(tokenizer, 6))
    mask, extra = Fish(keep_ratio=0.02, n_samples=4).initial_mask(ctx)
    assert len(extra["samples"]) == 4
    assert mask.n_selected(ctx.index) == int(0.02 * ctx.index.numel())
    assert Fish().next_mask(ctx, 100) is None


def test_bitfit_needs_biases(t5):
    model, tokenizer = t5
    with pytest.raises(ValueError, match="no biases"):
        BitFit().initial_mask(_context(model, tokenize(tokenizer, 2)))


def test_dps_alternates_and_keeps_seventy_percent_per_matrix(t5):
    model, tokenizer = t5
    net = fit_sparse(
        model,
        tokenize(tokenizer, 8),
        DPS(update_ratio=0.25),
        max_steps=8,
        batch_size=2,
        random_state=0,
        optimizer="adamw",
    )
    history = dict(net.callbacks_)["sparse_update"].mask_history_
    # Windows of int(8 * 0.25) = 2 steps: I (1-2), II (3-4), I (5-6), II (7-8);
    # nothing is selected after the last step.
    assert [(r["step"], r["stage"]) for r in history] == [(0, 1), (2, 2), (4, 1), (6, 2)]
    update = dict(net.callbacks_)["sparse_update"]
    index = update.context_.index
    ctx = update.context_
    mask, _ = DPS(update_ratio=0.25).next_mask(ctx, 2)
    matrices = DPS()._matrices(ctx)
    assert "shared.weight" not in matrices  # tied to the embedding: dense
    assert "encoder.block.0.layer.0.SelfAttention.q.weight" in matrices
    for name in index.names:
        if name in matrices:
            size = index.params[name].numel()
            assert len(mask.sparse[name]) == math.ceil(0.7 * size)
        else:
            assert mask.state(name) == "dense"
