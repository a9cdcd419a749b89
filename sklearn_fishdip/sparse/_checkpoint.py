"""Epoch checkpoints: an interrupted fit resumes where it stopped, exactly.

A long fit on a CPU (hours for a few thousand examples) may not finish in one
sitting. :class:`EpochCheckpoint` saves the whole training state after every
epoch, to a file named after a fingerprint of the fit (its examples, starting
weights and settings); a later fit with the same fingerprint loads it and
runs only the epochs left. Because the RNG states of shuffling, dropout and
the strategy travel with the weights, the resumed fit ends with the same
weights as one that was never interrupted (on CPU; CUDA kernels may differ).
"""

import hashlib
import json
import os
from pathlib import Path

import torch
from skorch.callbacks import Callback, LRScheduler, PrintLog, ProgressBar

from ..models import state_dict_sha256
from ._callback import SparseUpdate
from ._seq2seq import Seq2SeqDataset

#: Version of the checkpoint layout; a file of another version is refused.
CHECKPOINT_FORMAT = 1

# Callbacks that only display progress: a resumed fit may show it differently.
_DISPLAY_CALLBACKS = (ProgressBar, PrintLog)

# Net parameters that do not change what training computes.
_UNFINGERPRINTED = {"module", "callbacks", "verbose", "device", "random_state", "distributed"}


class EpochCheckpoint(Callback):
    """Save the training state after every epoch; resume a matching fit from it.

    The file is ``<dirname>/fit-<fingerprint>.pt``. At the start of a fit, a
    file with the fit's fingerprint is loaded and the fit continues after
    its last saved epoch; other files in the folder (other fits: a grid
    search's candidates, cross-validation folds) are left alone. The file is
    replaced atomically after each epoch and removed when the fit completes,
    so it exists only for a fit that stopped early (Ctrl-C, a lost session).

    It must come after :class:`SparseUpdate` and the learning-rate scheduler
    in the net's callbacks. Checkpoints are read with
    ``torch.load(weights_only=True)``: tensors and plain values only, never
    pickled code. Data-parallel fits are not checkpointed.

    Parameters
    ----------
    dirname : str or path-like
        Folder of the checkpoint files (created if missing).

    Attributes
    ----------
    fingerprint_ : str
        SHA-256 of the fit (see :func:`fit_fingerprint`).
    path_ : pathlib.Path
        This fit's checkpoint file.
    resumed_epochs_ : int
        Epochs loaded from the file instead of trained (0 for a fresh fit).
    """

    def __init__(self, dirname):
        self.dirname = dirname

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if getattr(net, "communicator_", None) is not None:
            raise ValueError("checkpoint_dir is not supported in a data-parallel fit.")
        self._update = _sparse_update(net)
        self._schedulers = [cb for _, cb in net.callbacks_ if isinstance(cb, LRScheduler)]
        examples = X.examples if isinstance(X, Seq2SeqDataset) else X
        self.fingerprint_ = fit_fingerprint(net, examples, exclude=self)
        folder = Path(self.dirname)
        folder.mkdir(parents=True, exist_ok=True)
        self.path_ = folder / f"fit-{self.fingerprint_[:24]}.pt"
        self.resumed_epochs_ = 0
        if not self.path_.exists():
            return
        state = self._read()
        self._update.load_checkpoint_state(state["sparse"], net.optimizer_)
        for scheduler, saved in zip(self._schedulers, state["lr_schedulers"]):
            scheduler.lr_scheduler_.load_state_dict(saved["state"])
            scheduler.batch_idx_ = saved["batch_idx"]
        # Last: the net restores the RNG states, which setting up may have used.
        net.load_checkpoint_state(state["net"])
        self.resumed_epochs_ = net.resumed_epochs_

    def _read(self):
        try:
            state = torch.load(self.path_, map_location="cpu", weights_only=True)
        except Exception as exc:  # a truncated or foreign file
            raise ValueError(
                f"{self.path_} is not a readable fit checkpoint ({exc}); "
                "delete it to start this fit afresh."
            ) from exc
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(
                f"{self.path_} is not a fit checkpoint of format {CHECKPOINT_FORMAT}; "
                "delete it to start this fit afresh."
            )
        if state.get("fingerprint") != self.fingerprint_:
            raise ValueError(
                f"{self.path_} belongs to another fit (its fingerprint differs); "
                "delete it to start this fit afresh."
            )
        return state

    def on_epoch_end(self, net, **kwargs):
        state = {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.fingerprint_,
            "net": net.checkpoint_state(),
            "sparse": self._update.checkpoint_state(),
            "lr_schedulers": [
                {"state": s.lr_scheduler_.state_dict(), "batch_idx": s.batch_idx_}
                for s in self._schedulers
            ],
        }
        # Written beside and renamed: an interruption mid-write keeps the last file.
        partial = self.path_.with_suffix(".partial")
        torch.save(state, partial)
        os.replace(partial, self.path_)

    def on_train_end(self, net, **kwargs):
        self.path_.with_suffix(".partial").unlink(missing_ok=True)
        # SparseUpdate, earlier in the callbacks, has judged whether the fit completed.
        if not self._update.interrupted_:
            self.path_.unlink(missing_ok=True)


def _sparse_update(net):
    for _, callback in net.callbacks_:
        if isinstance(callback, SparseUpdate):
            return callback
    raise ValueError("EpochCheckpoint needs the net's SparseUpdate callback.")


def fit_fingerprint(net, examples, exclude=None):
    """SHA-256 of what a fit computes from: examples, starting weights, settings.

    Two fits with the same fingerprint train identically (on CPU), so one
    can continue the other's checkpoint. Display-only settings (verbosity,
    progress callbacks) and the device are left out.

    Parameters
    ----------
    net : Seq2SeqNet
        Initialized, with ``seed_`` set, before any training step.
    examples : sequence of dict
        The tokenized training examples.
    exclude : Callback or None, default=None
        A callback of ``net`` to leave out (the checkpoint itself).

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    digest = hashlib.sha256()
    settings = {
        name: value
        for name, value in net.get_params(deep=False).items()
        if name not in _UNFINGERPRINTED
    }
    settings["seed"] = net.seed_
    settings["callbacks"] = [
        [name, _canonical(_own_params(callback))]
        for name, callback in net.callbacks_
        if callback is not exclude and not isinstance(callback, _DISPLAY_CALLBACKS)
    ]
    module = net.module_
    settings["module"] = type(module).__qualname__
    config = getattr(module, "config", None)
    settings["config"] = json.loads(config.to_json_string()) if config is not None else None
    digest.update(json.dumps(_canonical(settings), sort_keys=True).encode())
    for example in examples:
        digest.update(json.dumps(_canonical(example), sort_keys=True).encode())
    digest.update(state_dict_sha256(module).encode())
    return digest.hexdigest()


def _own_params(callback):
    # skorch lists every attribute not ending in "_", private ones included.
    return {k: v for k, v in callback.get_params(deep=False).items() if not k.startswith("_")}


def _canonical(value):
    """``value`` as JSON-ready data that does not depend on memory addresses.

    Examples
    --------
    >>> _canonical({"b": (1, 2.0), "a": frozenset({"x"})})
    {'a': ['x'], 'b': [1, 2.0]}
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if hasattr(value, "get_params"):
        return [kind, _canonical(value.get_params(deep=False))]
    plain = getattr(value, "__dict__", {})
    if all(v is None or isinstance(v, (bool, int, float, str)) for v in plain.values()):
        return [kind, _canonical(plain)]
    # Richer objects (a model adapter holding a tokenizer): the examples and
    # weights already carry what they change, so their type stands for them.
    return kind
