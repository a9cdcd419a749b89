"""A skorch net for Hugging Face text-to-text models."""

import contextlib
import itertools
import json
import numbers

import numpy as np
import torch
from skorch import NeuralNet
from skorch.history import History
from skorch.utils import to_tensor

from ..models import SelectedLogits
from ._batching import LengthGroupedBatches
from ._callback import SparseUpdate
from ._distributed import resolve_communicator
from ._precision import resolve_autocast, warn_if_bf16_is_emulated
from ._seq2seq import (
    IGNORE_INDEX,
    Seq2SeqCollator,
    Seq2SeqDataset,
    resolve_adapter,
    resolve_pad_token_id,
    selected_token_losses,
    token_losses,
)


def resolve_device(device):
    """``"auto"`` becomes ``"cuda"`` if available, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _seed_from(random_state):
    # None draws fresh entropy without touching numpy's global RNG.
    if random_state is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    raise ValueError(f"random_state must be None, an int or a RandomState; got {random_state!r}.")


class Seq2SeqNet(NeuralNet):
    """skorch ``NeuralNet`` for text-to-text models on tokenized examples.

    ``X`` is a sequence of dicts with ``"input_ids"`` and ``"labels"`` (lists of
    token ids); ``y`` is unused. Batches are padded dynamically by the model
    family's adapter (labels with -100) and the loss is the mean token
    cross-entropy of the target. Each training step also
    records its samples' own mean losses in ``sample_losses_``, from the same
    forward pass.

    Parameters
    ----------
    module : transformers.PreTrainedModel
        The model (instance), of the adapter's family.
    adapter : ModelAdapter or None, default=None
        How the model family builds batches and logits
        (:mod:`sklearn_fishdip.models`); None is the encoder-decoder adapter.
    pad_token_id : int or None, default=None
        Input padding id; None reads the model config.
    max_steps : int or None, default=None
        Stop after this many optimizer steps (within ``max_epochs``).
    random_state : int, RandomState or None, default=None
        Seeds shuffling and dropout, without touching the global RNGs.
    autocast : {"auto", "bf16", None}, default="auto"
        Mixed precision of the training passes (:func:`resolve_autocast`):
        ``"auto"`` trains under bf16 autocast on CUDA devices that support it,
        ``"bf16"`` on any device, None in float32.
    group_by_length : bool, default=False
        Train on shuffled batches of similar lengths
        (:class:`~sklearn_fishdip.sparse.LengthGroupedBatches`) instead of
        plain shuffling: less padding, the same number of steps.
    distributed : {"auto", True, False}, default=False
        Data-parallel training over ``torch.distributed`` (see
        :func:`~sklearn_fishdip.sparse._distributed.resolve_communicator`):
        every rank iterates the same global batches and trains on its share
        of each; the :class:`SparseUpdate` callback, required then, sums the
        on-mask gradients over ranks.
    **kwargs
        Passed to :class:`skorch.NeuralNet` (``criterion`` is unused and
        defaults to ``torch.nn.Identity``; ``train_split`` defaults to None).

    Attributes
    ----------
    seed_ : int
        Seed used by the last fit.
    n_steps_ : int
        Optimizer steps taken by the last fit.
    resumed_epochs_ : int
        Epochs the last fit took from a checkpoint instead of training them
        (see :class:`~sklearn_fishdip.sparse.EpochCheckpoint`);
        0 for a fit from the start.
    sample_losses_ : Tensor of shape (n_samples,)
        Latest training loss of each sample (NaN if not yet seen); in a
        data-parallel fit, gathered from all ranks at every step.
    communicator_ : Communicator or None
        The collectives of a data-parallel fit, None for a single process.
    """

    def __init__(
        self,
        module,
        *,
        criterion=torch.nn.Identity,
        train_split=None,
        adapter=None,
        pad_token_id=None,
        max_steps=None,
        random_state=None,
        autocast="auto",
        group_by_length=False,
        distributed=False,
        **kwargs,
    ):
        super().__init__(module, criterion, train_split=train_split, **kwargs)
        self.distributed = distributed
        self.adapter = adapter
        self.pad_token_id = pad_token_id
        self.max_steps = max_steps
        self.random_state = random_state
        self.autocast = autocast
        self.group_by_length = group_by_length

    def initialize_module(self):
        super().initialize_module()
        self.adapter_ = resolve_adapter(self.adapter)
        self.adapter_.check_model(self.module_)
        return self

    def get_dataset(self, X, y=None):
        if isinstance(X, torch.utils.data.Dataset):
            return X
        return Seq2SeqDataset(list(X))

    def get_iterator(self, dataset, training=False):
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        kwargs.setdefault(
            "collate_fn",
            Seq2SeqCollator(resolve_pad_token_id(self.module_, self.pad_token_id), self.adapter_),
        )
        if training and self.group_by_length and "batch_sampler" not in kwargs:
            # Every rank of a data-parallel fit draws the same batches (same seed).
            kwargs["batch_sampler"] = LengthGroupedBatches.from_examples(
                [dataset[i][0] for i in range(len(dataset))],
                kwargs.pop("batch_size", self.batch_size),
                self._shuffle_generator,
            )
            kwargs.pop("shuffle", None)
        else:
            kwargs.setdefault("batch_size", self.batch_size)
            if training:
                kwargs.setdefault("shuffle", True)
                kwargs.setdefault("generator", self._shuffle_generator)
        iterator = self.iterator_train if training else self.iterator_valid
        return iterator(dataset, **kwargs)

    def _autocast(self):
        dtype = resolve_autocast(self.autocast, self.device)
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(torch.device(self.device).type, dtype=dtype)

    def infer(self, x, **fit_params):
        x = to_tensor(x, device=self.device)
        with self._autocast():
            if self.module_.training:
                # Training reads only the labelled positions' logits of the
                # ids its loss needs: the adapter computes those alone where
                # the model's head allows (the same loss and gradients).
                selected = self.adapter_.selected_logits(self.module_, x)
                if selected is not None:
                    return selected
            return self.adapter_.logits(self.module_, x)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # A rank's share is divided by the global batch's token count, so the
        # ranks' gradients sum to the single-process mean-token gradient.
        shared = training and getattr(self, "communicator_", None) is not None
        normalizer = int(self._global_batch[1].sum()) if shared else None
        if isinstance(y_pred, SelectedLogits):
            per_sample, loss = selected_token_losses(y_pred, normalizer=normalizer)
        else:
            labels = to_tensor(X["labels"], device=y_pred.device)
            allowed = [
                to_tensor(X[key], device=y_pred.device) if key in X else None
                for key in ("allowed_ids", "allowed_mask")
            ]
            per_sample, loss = token_losses(y_pred, labels, *allowed, normalizer=normalizer)
        if training and y_true is not None:
            self._record_losses(per_sample, y_true)
        return loss

    def _record_losses(self, per_sample, rows):
        per_sample = per_sample.detach().float().cpu()
        comm = getattr(self, "communicator_", None)
        if comm is None:
            self.sample_losses_[rows.cpu()] = per_sample
            return
        # Every rank learns every sample's loss: the FISH-DIP ranking is global.
        rows, counts = self._global_batch
        losses = comm.gather(per_sample, len(rows), "losses")
        self.sample_losses_[rows] = losses
        self._global_loss = (losses * counts).sum() / counts.sum().clamp(min=1)

    def train_step_single(self, batch, **fit_params):
        # transformers' Adafactor calls the step closure under no_grad.
        with torch.enable_grad():
            if getattr(self, "communicator_", None) is None:
                return super().train_step_single(batch, **fit_params)
            return self._train_share(batch, **fit_params)

    def _train_share(self, batch, **fit_params):
        """Forward/backward of this rank's contiguous share of a global batch."""
        Xi, rows = batch
        self._global_batch = (rows.cpu(), (Xi["labels"] != IGNORE_INDEX).sum(dim=1).cpu())
        start, stop = self.communicator_.bounds(len(rows))
        if stop > start:
            share = ({key: value[start:stop] for key, value in Xi.items()}, rows[start:stop])
            return super().train_step_single(share, **fit_params)
        # A batch smaller than the world leaves this rank nothing to compute,
        # but it still takes part in the step's collectives.
        self._set_training(True)
        self._record_losses(torch.empty(0), rows[:0])
        return {"loss": torch.zeros(()), "y_pred": None}

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        if getattr(self, "communicator_", None) is not None:
            step["loss"] = self._global_loss  # the global batch's, not the share's
        self.n_steps_ += 1
        return step

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        comm = getattr(self, "communicator_", None)
        if comm is None:
            return
        if not any(isinstance(cb, SparseUpdate) for _, cb in self.callbacks_):
            raise ValueError("A data-parallel fit needs the SparseUpdate callback.")
        # New parameters were drawn from each rank's own RNG: start from rank 0's.
        comm.broadcast_module(self.module_)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if training and iterator is not None and self.max_steps is not None:
            iterator = itertools.islice(iterator, max(0, self.max_steps - self.n_steps_))
        return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        if epochs is None:
            # A fit resumed from a checkpoint runs only the epochs it has left.
            epochs = self.max_epochs - getattr(self, "resumed_epochs_", 0)
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def checkpoint_state(self):
        """The net's training state at an epoch boundary.

        Weights, optimizer state, history, step count, the samples' running
        losses and the RNG states of shuffling and dropout: with the
        callbacks' own states, what a resumed fit needs to continue exactly
        (see :class:`~sklearn_fishdip.sparse.EpochCheckpoint`).
        """
        device = torch.device(self.device)
        return {
            "epochs": len(self.history),
            "module": self.module_.state_dict(),
            "optimizer": self.optimizer_.state_dict(),
            "history": json.dumps(self.history.to_list()),
            "n_steps": self.n_steps_,
            "sample_losses": self.sample_losses_.clone(),
            "shuffle_rng": self._shuffle_generator.get_state(),
            "dropout_rng": torch.random.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        }

    def load_checkpoint_state(self, state):
        """Continue from :meth:`checkpoint_state`, inside :meth:`fit`.

        Call it last in ``on_train_begin``, after the callbacks have set up
        (and possibly drawn random numbers): it restores the RNG states.
        """
        self.module_.load_state_dict(state["module"])
        self.optimizer_.load_state_dict(state["optimizer"])
        self.history = History(json.loads(state["history"]))
        self.resumed_epochs_ = state["epochs"]
        self.n_steps_ = state["n_steps"]
        self.sample_losses_ = state["sample_losses"].clone()
        self._shuffle_generator.set_state(state["shuffle_rng"])
        torch.random.set_rng_state(state["dropout_rng"])
        if state["cuda_rng"] is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], torch.device(self.device))

    def fit(self, X, y=None, **fit_params):
        """Train on tokenized examples, seeding shuffling and dropout locally.

        Parameters
        ----------
        X : sequence of dict or torch Dataset
            Tokenized examples.
        y : None
            Ignored.
        **fit_params : dict
            Passed to :meth:`skorch.NeuralNet.fit`.

        Returns
        -------
        self
        """
        comm = self.communicator_ = resolve_communicator(self.distributed)
        seed = _seed_from(self.random_state)
        # Shuffling and random masks must agree: every rank takes rank 0's seed.
        self.seed_ = seed if comm is None else comm.broadcast_seed(seed)
        self.n_steps_ = 0
        self.resumed_epochs_ = 0
        self.sample_losses_ = torch.full((len(X),), float("nan"))
        self._shuffle_generator = torch.Generator().manual_seed(self.seed_)
        device = torch.device(resolve_device(self.device))
        devices = [device] if device.type == "cuda" else []
        warn_if_bf16_is_emulated(self.autocast, device)
        # Dropout differs across ranks (as with one process, across samples).
        dropout_seed = self.seed_ + (0 if comm is None else comm.rank)
        with torch.random.fork_rng(devices=devices):
            torch.random.default_generator.manual_seed(dropout_seed)
            if device.type == "cuda":
                with torch.cuda.device(device):
                    torch.cuda.manual_seed(dropout_seed)
            return super().fit(X, y, **fit_params)
