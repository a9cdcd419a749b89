"""The skorch callback that trains only the entries a strategy selects."""

import json
import math
import time

import torch
from skorch.callbacks import Callback, GradientNormClipping

from ._distributed import mask_checksum
from ._masks import ParameterIndex, ParameterMask, describe_selection
from ._optim import SparseAdamW, clear_state_outside, freezes_zero_gradients
from ._precision import resolve_autocast
from ._selection import SelectionContext, _to_devices
from ._seq2seq import Seq2SeqDataset, resolve_adapter, resolve_pad_token_id
from ._strategies import resolve_strategy


class SparseUpdate(Callback):
    """Apply a sparse fine-tuning strategy to a skorch net.

    - ``on_train_begin``: validate, select the first mask.
    - ``on_grad_computed``: let the strategy see the gradients, then zero them
      outside the mask (so it must come before ``GradientNormClipping``). In
      a data-parallel fit (the net's ``communicator_``), the on-mask entries
      are summed over ranks first, in one flat buffer per bucket, and the
      strategy sees the summed, masked gradients.
    - ``on_batch_end``: restore off-mask entries if the optimizer could have
      moved them, then ask the strategy for a new mask.
    - ``on_train_end``: if training was interrupted (Ctrl-C, which skorch
      swallows) between a step and its restore, restore the off-mask entries
      then, so the model stays sparse; record whether and when it stopped.

    Parameters
    ----------
    strategy : str or SparseStrategy, default="fish-dip"
        See :func:`resolve_strategy`.
    new_parameter_names : iterable of str, default=()
        Parameters the pretrained checkpoint does not provide.
    importance_batch_size : int, default=16
        Samples per batched importance pass.
    ranking_batch_size : int, default=64
        Samples per loss-ranking forward.
    random_state : int or None, default=None
        Seed of the strategy's random choices; None uses the net's
        ``seed_`` (see :class:`Seq2SeqNet`), else 0.
    adapter : ModelAdapter or None, default=None
        The model family; None takes the net's (``net.adapter_``), else the
        encoder-decoder adapter.

    Attributes
    ----------
    mask_ : ParameterMask
        The current mask.
    mask_history_ : list of dict
        One diagnostics record per selection (see
        :func:`~sklearn_fishdip.sparse._masks.describe_selection`); in a
        data-parallel fit also ``mask_checksum`` and ``communicated_bytes``
        (what this rank sent to select it).
    mask_checksums_ : list of int
        :func:`~sklearn_fishdip.sparse._distributed.mask_checksum` of each
        selected mask (checked equal on every rank in a data-parallel fit).
    timings_ : dict
        ``select_s`` (selecting masks), ``train_s`` (the rest of the fit) and
        ``total_s``.
    communication_ : dict or None
        In a data-parallel fit: ``world_size``, ``backend``, ``step_bytes``
        (bytes this rank contributed to the collectives of each step: the
        on-mask gradients and the per-sample losses), ``selection_bytes``
        (the same for each selection) and ``bytes_by_purpose``. None for a
        single process.
    steps_ : int
        Optimizer steps completed.
    interrupted_ : bool
        Whether the last fit stopped before its planned epochs (Ctrl-C).
    interrupted_epoch_ : int or None
        The (1-based) epoch it stopped in, or None when it completed.
    """

    def __init__(
        self,
        strategy="fish-dip",
        new_parameter_names=(),
        importance_batch_size=16,
        ranking_batch_size=64,
        random_state=None,
        adapter=None,
    ):
        self.strategy = strategy
        self.new_parameter_names = new_parameter_names
        self.importance_batch_size = importance_batch_size
        self.ranking_batch_size = ranking_batch_size
        self.random_state = random_state
        self.adapter = adapter

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        strategy = resolve_strategy(self.strategy)
        strategy.validate()
        adapter = self.adapter if self.adapter is not None else getattr(net, "adapter_", None)
        adapter = resolve_adapter(adapter)
        adapter.check_model(net.module_)
        self._check_order(net)
        model = net.module_
        examples = X.examples if isinstance(X, Seq2SeqDataset) else X
        n_batches = math.ceil(len(examples) / net.batch_size)
        max_steps = getattr(net, "max_steps", None) or net.max_epochs * n_batches
        seed = self.random_state
        if seed is None:
            seed = getattr(net, "seed_", 0) + 1
        self._comm = getattr(net, "communicator_", None)
        self.strategy_ = strategy
        self.context_ = SelectionContext(
            model,
            ParameterIndex(model, self.new_parameter_names),
            examples,
            batch_size=net.batch_size,
            max_steps=max_steps,
            generator=torch.Generator().manual_seed(int(seed)),
            pad_token_id=resolve_pad_token_id(model, getattr(net, "pad_token_id", None)),
            importance_batch_size=self.importance_batch_size,
            ranking_batch_size=self.ranking_batch_size,
            # The loss ranking runs in the precision training does; the importance
            # pass stays float32, as it is on a GPU.
            autocast=resolve_autocast(
                getattr(net, "autocast", "auto"), next(model.parameters()).device
            ),
            running_losses=(lambda: net.sample_losses_) if hasattr(net, "sample_losses_") else None,
            adapter=adapter,
            communicator=self._comm,
        )
        self.communication_ = None
        if self._comm is not None:
            self.communication_ = {
                "world_size": self._comm.world_size,
                "backend": self._comm.backend,
                "step_bytes": [],
                "selection_bytes": [],
                "bytes_by_purpose": self._comm.bytes_,
            }
            self._sent = self._comm.total_bytes()
        self.steps_ = 0
        self.mask_ = None
        self.mask_history_ = []
        self.mask_checksums_ = []
        self.timings_ = {"select_s": 0.0}
        self.interrupted_ = False
        self.interrupted_epoch_ = None
        self._restore = not freezes_zero_gradients(net.optimizer_)
        self._saved = {}
        self._started = time.perf_counter()
        self._select(net, strategy.initial_mask)

    def _check_order(self, net):
        for name, callback in net.callbacks_:
            if isinstance(callback, GradientNormClipping):
                raise ValueError(
                    f"Callback {name!r} clips gradients before they are masked: "
                    "put SparseUpdate before GradientNormClipping in `callbacks`."
                )
            if callback is self:
                return

    def _select(self, net, choose, *args):
        start = time.perf_counter()
        chosen = choose(self.context_, *args)
        if chosen is not None:
            mask, extra = chosen
            checksum = mask_checksum(self.context_.index, mask)
            self.mask_checksums_.append(checksum)
            if self._comm is not None:
                self._comm.check_agreement(checksum)
                sent = self._comm.total_bytes()
                extra = {
                    **extra,
                    "mask_checksum": checksum,
                    "communicated_bytes": sent - self._sent,
                }
                self.communication_["selection_bytes"].append(sent - self._sent)
                self._sent = sent
            self._install(net.optimizer_, mask)
            seconds = time.perf_counter() - start
            self.mask_history_.append(
                describe_selection(
                    self.context_.index,
                    mask,
                    self.mask_,
                    step=self.steps_,
                    seconds=seconds,
                    strategy=self.strategy_.name,
                    **extra,
                )
            )
            self.mask_ = mask
        self.timings_["select_s"] += time.perf_counter() - start

    @torch.no_grad()
    def _install(self, optimizer, mask):
        for name, param in self.context_.index.params.items():
            state = mask.state(name)
            if isinstance(optimizer, SparseAdamW):
                optimizer.set_mode(param, state, mask.sparse.get(name))
            elif state != "dense":
                clear_state_outside(optimizer, param, mask.bool_mask(name, param))

    @torch.no_grad()
    def on_grad_computed(self, net, named_parameters, batch=None, training=False, **kwargs):
        if self._comm is not None:
            self._reduce_masked()
        self.strategy_.observe_gradients(self.context_, self.steps_ + 1)
        for name, param in self.context_.index.params.items():
            state = self.mask_.state(name)
            if state == "dense" or param.grad is None:
                continue
            if state == "frozen":
                param.grad = None  # optimizers skip parameters without gradient
            else:
                idx = self.mask_.sparse[name].long()
                flat = param.grad.view(-1)
                kept = flat[idx]
                flat.zero_()
                flat[idx] = kept
            if self._restore:
                self._saved[name] = param.detach().clone()

    def _reduce_masked(self):
        """Sum the on-mask gradient entries over ranks; drop frozen gradients.

        Frozen parameters and off-mask entries are never sent. The masking
        below then finds the gradients already masked, and repeats it cheaply.
        """
        entries = []
        for name, param in self.context_.index.params.items():
            state = self.mask_.state(name)
            if state == "frozen":
                param.grad = None
            else:
                entries.append(
                    (param, None if state == "dense" else self.mask_.sparse[name].long())
                )
        self._comm.reduce_gradients(entries)
        sent = self._comm.total_bytes()
        self.communication_["step_bytes"].append(sent - self._sent)
        self._sent = sent

    @torch.no_grad()
    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        self._restore_off_mask()
        self.steps_ += 1
        # A selection after the last step would never be used.
        if self.steps_ < self.context_.max_steps:
            self._select(net, self.strategy_.next_mask, self.steps_)

    @torch.no_grad()
    def _restore_off_mask(self):
        """Put back the entries outside the mask saved before the optimizer step."""
        for name, saved in self._saved.items():
            param = self.context_.index.params[name]
            if name in self.mask_.sparse:
                idx = self.mask_.sparse[name].long()
                saved.view(-1)[idx] = param.view(-1)[idx]
            param.copy_(saved)
        self._saved = {}

    def checkpoint_state(self):
        """The selection state at an epoch boundary, as plain values and tensors.

        What :meth:`load_checkpoint_state` needs to continue the fit exactly:
        the step count, the current mask, the strategy's scratch state and the
        state of the generator behind its random choices (see
        :class:`~sklearn_fishdip.sparse.EpochCheckpoint`).
        """
        mask = self.mask_
        return {
            "steps": self.steps_,
            "mask": {
                "dense": sorted(mask.dense),
                "sparse": dict(mask.sparse),
                "budget_exempt": sorted(mask.budget_exempt),
            },
            "mask_history": json.dumps(self.mask_history_),
            "mask_checksums": list(self.mask_checksums_),
            "strategy_state": self.context_.state,
            "generator": self.context_.generator.get_state(),
            "select_s": self.timings_["select_s"],
            "elapsed_s": time.perf_counter() - self._started,
        }

    def load_checkpoint_state(self, state, optimizer):
        """Continue from :meth:`checkpoint_state`, after ``on_train_begin``.

        The saved mask is installed in ``optimizer`` before its own state is
        loaded (a mask change remaps SparseAdamW's state).
        """
        index = self.context_.index
        saved = state["mask"]
        # Saved on the CPU: indices and scores go back to their parameter's device.
        sparse = _to_devices(index, saved["sparse"])
        mask = ParameterMask(saved["dense"], sparse, saved["budget_exempt"])
        self._install(optimizer, mask)
        self.mask_ = mask
        self.steps_ = state["steps"]
        self.mask_history_ = json.loads(state["mask_history"])
        self.mask_checksums_ = list(state["mask_checksums"])
        self.context_.state = _on_devices(state["strategy_state"], index.params)
        self.context_.generator.set_state(state["generator"])
        # Timings cover the whole fit, the runs before the resume included.
        self.timings_["select_s"] = state["select_s"]
        self._started = time.perf_counter() - state["elapsed_s"]

    def on_train_end(self, net, **kwargs):
        # Entries saved but not restored mean a step was cut short by Ctrl-C.
        self._restore_off_mask()
        completed = sum("train_loss" in row for row in net.history)
        self.interrupted_ = completed < net.max_epochs
        self.interrupted_epoch_ = max(1, len(net.history)) if self.interrupted_ else None
        total = time.perf_counter() - self._started
        self.timings_.update(total_s=total, train_s=total - self.timings_["select_s"])


def _on_devices(value, params):
    """``value`` with every tensor keyed by a parameter's name on that parameter's device."""
    if not isinstance(value, dict):
        return value
    return {
        key: (
            item.to(params[key].device)
            if isinstance(item, torch.Tensor) and key in params
            else _on_devices(item, params)
        )
        for key, item in value.items()
    }
