"""Mixed precision of the training passes (``autocast``)."""

import warnings

import pytest
import torch

from sklearn_fishdip.sparse import AUTOCAST_MODES, FishDip, fit_sparse, resolve_autocast
from sklearn_fishdip.sparse._precision import cpu_has_native_bf16, warn_if_bf16_is_emulated
from sklearn_fishdip.utils._testing import make_tiny_t5

from .conftest import tokenize
from .test_net import FrozenCheck


def test_resolve_autocast():
    assert AUTOCAST_MODES == ("auto", "bf16", None)
    assert resolve_autocast("bf16", "cpu") is torch.bfloat16
    assert resolve_autocast("auto", "cpu") is None
    assert resolve_autocast(None, "cpu") is None
    assert resolve_autocast(None, "cuda") is None
    bf16_gpu = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    on_gpu = torch.bfloat16 if bf16_gpu else None
    assert resolve_autocast("auto", "cuda:0") is on_gpu
    with pytest.raises(ValueError, match="autocast must be one of .* got 'fp16'"):
        resolve_autocast("fp16", "cpu")


class ActivationDtypes:
    """Dtypes of every ``nn.Linear`` output, per model mode (train / eval)."""

    def __init__(self, model):
        self.seen = {True: set(), False: set()}
        self.handles = [
            module.register_forward_hook(self._record)
            for module in model.modules()
            if isinstance(module, torch.nn.Linear)
        ]

    def _record(self, module, inputs, output):
        self.seen[module.training].add(output.dtype)


def _fit(autocast, seed=0, callbacks=()):
    model, tokenizer = make_tiny_t5()
    dtypes = ActivationDtypes(model)
    net = fit_sparse(
        model,
        tokenize(tokenizer, 8),
        FishDip(keep_ratio=0.05, refresh_every=3, n_samples=2),
        lr=1e-2,
        max_steps=7,
        batch_size=2,
        device="cpu",
        random_state=seed,
        autocast=autocast,
        callbacks=list(callbacks),
    )
    return net, dtypes


def test_bf16_trains_on_cpu_with_float32_weights_and_loss():
    check = FrozenCheck()
    net, dtypes = _fit("bf16", callbacks=[check])
    # Training steps ran in bf16; of the eval-mode passes, the loss ranking in
    # bf16 and the squared gradients in float32 (as on a GPU).
    assert dtypes.seen[True] == {torch.bfloat16}
    assert dtypes.seen[False] == {torch.bfloat16, torch.float32}
    update = dict(net.callbacks_)["sparse_update"]
    assert update.context_.autocast is torch.bfloat16
    assert {p.dtype for p in net.module_.parameters()} == {torch.float32}
    losses = [row["train_loss"] for row in net.history]
    assert all(isinstance(loss, float) and loss == loss for loss in losses)
    assert check.violations == 0 and check.changed > 0


def test_bf16_is_reproducible_on_cpu_and_differs_from_float32():
    first, _ = _fit("bf16", seed=3)
    second, _ = _fit("bf16", seed=3)
    full, dtypes = _fit(None, seed=3)
    assert dtypes.seen[True] == {torch.float32}
    for a, b in zip(first.module_.parameters(), second.module_.parameters()):
        assert torch.equal(a, b)
    weights = [
        (a - b).abs().max().item()
        for a, b in zip(first.module_.parameters(), full.module_.parameters())
    ]
    # Rounding differs, the fit does not: same trajectory up to bf16's precision.
    assert max(weights) > 0
    assert max(weights) < 5e-2
    bf16_loss, float_loss = first.history[-1, "train_loss"], full.history[-1, "train_loss"]
    assert bf16_loss == pytest.approx(float_loss, rel=0.05)


def test_auto_trains_in_float32_on_cpu():
    net, dtypes = _fit("auto")
    assert dtypes.seen[True] == {torch.float32}
    assert dict(net.callbacks_)["sparse_update"].context_.autocast is None


def test_bad_autocast_is_refused_before_training():
    with pytest.raises(ValueError, match="autocast must be one of"):
        _fit("float16")


def _cpu_bf16(monkeypatch, avx512_bf16, amx):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)


@pytest.mark.parametrize(
    "avx512_bf16, amx, native", [(False, False, False), (True, False, True), (False, True, True)]
)
def test_native_bf16_is_avx512_bf16_or_amx(monkeypatch, avx512_bf16, amx, native):
    _cpu_bf16(monkeypatch, avx512_bf16, amx)
    assert cpu_has_native_bf16() is native


def test_native_bf16_is_assumed_when_torch_has_no_probe(monkeypatch):
    monkeypatch.delattr(torch.cpu, "_is_avx512_bf16_supported", raising=False)
    monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported", raising=False)
    assert cpu_has_native_bf16() is True


def test_bf16_on_a_cpu_that_emulates_it_warns_once_per_fit(monkeypatch):
    _cpu_bf16(monkeypatch, False, False)
    with pytest.warns(UserWarning, match="without AVX512-BF16 or AMX.*autocast=None") as caught:
        _fit("bf16")
    assert len([w for w in caught if "AVX512-BF16" in str(w.message)]) == 1


@pytest.mark.parametrize("autocast", ["auto", None])
def test_float32_on_such_a_cpu_does_not_warn(monkeypatch, autocast):
    _cpu_bf16(monkeypatch, False, False)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*AVX512-BF16.*")
        _fit(autocast)


def test_bf16_on_a_native_cpu_or_a_gpu_does_not_warn(monkeypatch):
    _cpu_bf16(monkeypatch, True, False)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*AVX512-BF16.*")
        _fit("bf16")
        _cpu_bf16(monkeypatch, False, False)
        warn_if_bf16_is_emulated("bf16", "cuda")
