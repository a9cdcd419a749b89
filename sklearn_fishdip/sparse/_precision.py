"""Mixed precision of the training passes."""

import warnings

import torch

#: Accepted values of ``autocast``.
AUTOCAST_MODES = ("auto", "bf16", None)


def check_autocast(autocast):
    """Raise a ``ValueError`` naming ``autocast`` unless it is one of :data:`AUTOCAST_MODES`."""
    if autocast not in AUTOCAST_MODES:
        raise ValueError(f"autocast must be one of {list(AUTOCAST_MODES)}, got {autocast!r}")


def resolve_autocast(autocast, device):
    """The dtype training autocasts to on ``device``; None trains in float32.

    ``"auto"`` is bf16 on CUDA devices that support it and float32 elsewhere
    (so CPU results stay exact and reproducible by default); ``"bf16"`` is
    bf16 on any device: on CPUs with AVX512-BF16 or AMX (recent Xeon and
    EPYC) a step takes 0.75-0.85 of its float32 time; on other CPUs bf16 is
    emulated, 6.5 times slower on one AVX2 CPU, and a fit warns there.
    Parameters, gradients, optimizer state, the loss and the importance
    pass's squared gradients stay float32.

    Examples
    --------
    >>> resolve_autocast("bf16", "cpu")
    torch.bfloat16
    >>> resolve_autocast("auto", "cpu") is None
    True
    """
    check_autocast(autocast)
    if autocast == "bf16":
        return torch.bfloat16
    on_cuda = torch.device(device).type == "cuda"
    if autocast == "auto" and on_cuda and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def cpu_has_native_bf16():
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX tiles).

    Torch's probes are private; where a torch release lacks them the answer is
    True, so that no one is warned on a guess.
    """
    probes = [
        getattr(torch.cpu, name, None)
        for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    ]
    probes = [probe for probe in probes if probe is not None]
    return not probes or any(probe() for probe in probes)


def warn_if_bf16_is_emulated(autocast, device):
    """Warn when training would autocast to bf16 on a CPU that emulates it.

    There torch converts each bf16 matrix product in software: an epoch of the
    README's job took 6.5 times its float32 time on a 2-core AVX2 EPYC
    (``docs/benchmarks/speed.rst``).
    """
    if torch.device(device).type != "cpu" or resolve_autocast(autocast, device) is None:
        return
    if not cpu_has_native_bf16():
        warnings.warn(
            "autocast='bf16' on a CPU without AVX512-BF16 or AMX: torch emulates bf16 "
            "there and training is several times slower than in float32 (6.5 times on "
            "one AVX2 CPU); autocast=None trains in float32.",
            UserWarning,
            stacklevel=3,
        )
