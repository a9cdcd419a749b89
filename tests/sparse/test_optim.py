import copy

import pytest
import torch
from transformers.optimization import Adafactor

from sklearn_fishdip.sparse import SparseAdamW, optimizer_state_bytes
from sklearn_fishdip.sparse._optim import clear_state_outside, freezes_zero_gradients


def _param(n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.nn.Parameter(torch.randn(n, generator=g))


def _grad(param, step):
    g = torch.Generator().manual_seed(100 + step)
    param.grad = torch.randn(param.shape, generator=g)


def test_dense_mode_matches_torch_adamw():
    ours, ref = _param(), _param()
    opt = SparseAdamW([ours], lr=1e-2, weight_decay=0.01)
    ref_opt = torch.optim.AdamW([ref], lr=1e-2, weight_decay=0.01, foreach=False)
    for step in range(5):
        _grad(ours, step)
        _grad(ref, step)
        opt.step()
        ref_opt.step()
    torch.testing.assert_close(ours, ref, rtol=1e-6, atol=1e-7)


def test_sparse_mode_updates_only_selected_entries_with_decay():
    param = _param()
    before = param.detach().clone()
    opt = SparseAdamW([param], lr=1e-2, weight_decay=0.5)
    idx = torch.tensor([1, 5, 7], dtype=torch.int32)
    opt.set_mode(param, "sparse", idx)
    for step in range(4):
        _grad(param, step)
        opt.step()
    changed = torch.nonzero(param.detach() != before).flatten()
    assert changed.tolist() == [1, 5, 7]
    assert opt.state[param]["exp_avg"].shape == (3,)


def test_sparse_matches_dense_on_its_entries():
    # A sparse entry follows AdamW exactly, as if the others did not exist.
    sparse, dense = _param(), _param()
    opt = SparseAdamW([sparse], lr=1e-2)
    ref = torch.optim.AdamW([dense], lr=1e-2, foreach=False)
    opt.set_mode(sparse, "sparse", torch.tensor([3, 9], dtype=torch.int32))
    for step in range(3):
        _grad(sparse, step)
        _grad(dense, step)
        opt.step()
        ref.step()
    torch.testing.assert_close(sparse[[3, 9]], dense[[3, 9]], rtol=1e-6, atol=1e-7)


def test_remap_carries_survivors_and_zeroes_newcomers():
    param = _param()
    opt = SparseAdamW([param], lr=1e-2)
    opt.set_mode(param, "sparse", torch.tensor([1, 2, 3], dtype=torch.int32))
    for step in range(2):
        _grad(param, step)
        opt.step()
    old = {k: v.clone() for k, v in opt.state[param].items() if k != "mode"}
    opt.set_mode(param, "sparse", torch.tensor([2, 3, 8], dtype=torch.int32))
    state = opt.state[param]
    assert state["indices"].tolist() == [2, 3, 8]
    torch.testing.assert_close(state["exp_avg"][:2], old["exp_avg"][1:])
    torch.testing.assert_close(state["exp_avg_sq"][:2], old["exp_avg_sq"][1:])
    assert state["step"].tolist() == [2, 2, 0]
    assert state["exp_avg"][2] == 0 and state["exp_avg_sq"][2] == 0


def test_dense_to_sparse_carries_and_frozen_drops_state():
    param = _param()
    opt = SparseAdamW([param], lr=1e-2)
    _grad(param, 0)
    opt.step()
    dense_avg = opt.state[param]["exp_avg"].clone()
    opt.set_mode(param, "sparse", torch.tensor([4, 6], dtype=torch.int32))
    torch.testing.assert_close(opt.state[param]["exp_avg"], dense_avg[[4, 6]])
    assert opt.state[param]["step"].tolist() == [1, 1]
    opt.set_mode(param, "frozen")
    before = param.detach().clone()
    _grad(param, 1)
    opt.step()
    assert torch.equal(param.detach(), before)
    assert optimizer_state_bytes(opt) == 0
    opt.set_mode(param, "dense")
    assert opt.state[param] == {}


def test_state_bytes_at_one_percent_is_a_few_percent_of_dense():
    param = torch.nn.Parameter(torch.zeros(10_000))
    param.grad = torch.ones_like(param)
    dense = torch.optim.AdamW([param])
    dense.step()
    sparse = SparseAdamW([torch.nn.Parameter(torch.zeros(10_000))])
    p = sparse.param_groups[0]["params"][0]
    sparse.set_mode(p, "sparse", torch.arange(0, 10_000, 100, dtype=torch.int32))
    ratio = optimizer_state_bytes(sparse) / optimizer_state_bytes(dense)
    assert ratio <= 0.05


def test_freezes_zero_gradients():
    p = [torch.nn.Parameter(torch.zeros(3))]
    assert freezes_zero_gradients(SparseAdamW(p))
    assert freezes_zero_gradients(Adafactor(p, lr=1e-2, relative_step=False))
    assert not freezes_zero_gradients(Adafactor(p, lr=1e-2, relative_step=False, beta1=0.9))
    assert not freezes_zero_gradients(Adafactor(p, lr=1e-2, relative_step=False, weight_decay=0.1))
    assert not freezes_zero_gradients(torch.optim.AdamW(p))


def test_clear_state_outside():
    param = _param(6)
    opt = torch.optim.AdamW([param])
    _grad(param, 0)
    opt.step()
    keep = torch.tensor([True, False, True, False, False, True])
    clear_state_outside(opt, param, keep)
    assert (opt.state[param]["exp_avg"][~keep] == 0).all()
    assert (opt.state[param]["exp_avg"][keep] != 0).all()


def test_rejects_bad_hyper_parameters():
    with pytest.raises(ValueError, match="Invalid SparseAdamW"):
        SparseAdamW([_param()], lr=-1)


def test_state_dict_round_trip_keeps_modes_indices_and_steps():
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(6)) for _ in range(3)]
    optimizer = SparseAdamW(params, lr=0.1)
    optimizer.set_mode(params[0], "sparse", torch.tensor([1, 4], dtype=torch.int32))
    optimizer.set_mode(params[2], "frozen")
    for param in params:
        param.grad = torch.ones(6)
    optimizer.step()

    copies = [torch.nn.Parameter(p.detach().clone()) for p in params]
    loaded = SparseAdamW(copies, lr=0.1)
    # As read from a file: torch shares tensors of a state dict loaded in memory.
    loaded.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    sparse = loaded.state[copies[0]]
    assert sparse["mode"] == "sparse"
    assert sparse["indices"].dtype == torch.int32
    assert sparse["indices"].tolist() == [1, 4]
    assert sparse["step"].tolist() == [1, 1]
    assert loaded.state[copies[1]]["mode"] == "dense"
    assert loaded.state[copies[2]]["mode"] == "frozen"
    # The next step is the one the original optimizer takes.
    for optim, group in ((optimizer, params), (loaded, copies)):
        for param in group:
            param.grad = torch.full((6,), 0.5)
        optim.step()
    for original, restored in zip(params, copies):
        assert torch.equal(original, restored)
