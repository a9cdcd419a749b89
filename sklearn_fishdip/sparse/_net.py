"""A skorch net for Hugging Face text-to-text models, and the engine's entry point."""

import contextlib
import itertools
import numbers

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import GradientNormClipping, LRScheduler
from skorch.utils import to_tensor
from torch.optim.lr_scheduler import LambdaLR
from transformers.optimization import Adafactor

from ..models import SelectedLogits
from ._callback import SparseUpdate
from ._distributed import resolve_communicator
from ._optim import SparseAdamW
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
    autocast : {"auto", None}, default="auto"
        ``"auto"`` trains under bf16 autocast on CUDA devices that support it.
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
        kwargs.setdefault("batch_size", self.batch_size)
        kwargs.setdefault(
            "collate_fn",
            Seq2SeqCollator(resolve_pad_token_id(self.module_, self.pad_token_id), self.adapter_),
        )
        if training:
            kwargs.setdefault("shuffle", True)
            kwargs.setdefault("generator", self._shuffle_generator)
        iterator = self.iterator_train if training else self.iterator_valid
        return iterator(dataset, **kwargs)

    def _autocast(self):
        device = torch.device(self.device)
        if self.autocast == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

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
        self.sample_losses_ = torch.full((len(X),), float("nan"))
        self._shuffle_generator = torch.Generator().manual_seed(self.seed_)
        device = torch.device(resolve_device(self.device))
        devices = [device] if device.type == "cuda" else []
        # Dropout differs across ranks (as with one process, across samples).
        dropout_seed = self.seed_ + (0 if comm is None else comm.rank)
        with torch.random.fork_rng(devices=devices):
            torch.random.default_generator.manual_seed(dropout_seed)
            if device.type == "cuda":
                with torch.cuda.device(device):
                    torch.cuda.manual_seed(dropout_seed)
            return super().fit(X, y, **fit_params)


_OPTIMIZERS = {
    # The reference's Adafactor: fixed lr, scaled by parameter RMS, no momentum.
    "adafactor": (
        Adafactor,
        1e-2,
        dict(scale_parameter=True, relative_step=False, warmup_init=False),
    ),
    "adamw": (SparseAdamW, 1e-4, {}),
}


#: Accepted values of ``lr_schedule``.
LR_SCHEDULES = ("linear", "constant")


class LinearDecay:
    """Learning-rate factor ``1 - step / n_steps``, floored at 0 (picklable).

    Parameters
    ----------
    n_steps : int
        Optimizer steps of the run.

    Examples
    --------
    >>> decay = LinearDecay(4)
    >>> [decay(step) for step in range(5)]
    [1.0, 0.75, 0.5, 0.25, 0.0]
    """

    def __init__(self, n_steps):
        self.n_steps = max(1, int(n_steps))

    def __call__(self, step):
        return max(0.0, 1.0 - step / self.n_steps)


def fit_sparse(
    model,
    examples,
    strategy="fish-dip",
    *,
    optimizer="adafactor",
    lr=None,
    weight_decay=0.0,
    lr_schedule="linear",
    max_epochs=1,
    max_steps=None,
    batch_size=8,
    max_grad_norm=1.0,
    device="auto",
    random_state=None,
    new_parameter_names=(),
    pad_token_id=None,
    adapter=None,
    importance_batch_size=16,
    callbacks=(),
    verbose=0,
    distributed="auto",
):
    """Fine-tune ``model`` with a sparse strategy; return the fitted net.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        The model, of the adapter's family; trained in place.
    examples : sequence of dict
        Tokenized examples with ``"input_ids"`` and ``"labels"``.
    strategy : str or SparseStrategy, default="fish-dip"
        See :func:`resolve_strategy`.
    optimizer : {"adafactor", "adamw"}, default="adafactor"
        ``"adafactor"`` is the reference's (``scale_parameter=True``,
        ``relative_step=False``); ``"adamw"`` is :class:`SparseAdamW`.
    lr : float or None, default=None
        None gives 1e-2 for Adafactor (as the reference) and 1e-4 for AdamW.
    weight_decay : float, default=0.0
        Decoupled weight decay (AdamW only: Adafactor's would move masked
        entries).
    lr_schedule : {"linear", "constant"}, default="linear"
        ``"linear"`` decays the learning rate linearly from ``lr`` to 0 over
        the run's optimizer steps, updated after every step (the reference's
        Trainer default, without warm-up); ``"constant"`` keeps ``lr``.
    max_epochs : int, default=1
        Epochs over ``examples``.
    max_steps : int or None, default=None
        Stop after this many optimizer steps; with it, ``max_epochs`` is raised
        as needed to reach it.
    batch_size : int, default=8
        Training batch size.
    max_grad_norm : float or None, default=1.0
        Clip the (masked) gradient norm; None disables clipping.
    device : str, default="auto"
        ``"auto"``, ``"cpu"``, ``"cuda"``, ...
    random_state : int, RandomState or None, default=None
        Seeds shuffling, dropout and random masks.
    new_parameter_names : iterable of str, default=()
        Parameters the checkpoint does not provide.
    pad_token_id : int or None, default=None
        Input padding id; None reads the model config.
    adapter : ModelAdapter or None, default=None
        The model family (:mod:`sklearn_fishdip.models`); None is the
        encoder-decoder adapter.
    importance_batch_size : int, default=16
        Samples per batched importance pass.
    callbacks : sequence, default=()
        More skorch callbacks, run after the sparse update and clipping.
    verbose : int, default=0
        skorch verbosity.
    distributed : {"auto", True, False}, default="auto"
        Data-parallel training over ``torch.distributed``. ``"auto"`` trains
        data-parallel when the default process group has more than one rank,
        initializing it from a launcher's environment (``torchrun``,
        ``accelerate launch``) when needed. Every rank must call
        ``fit_sparse`` with the same arguments; ``batch_size`` is the global
        batch, split across ranks, and the fit equals (up to rounding) a
        single-process one with the same seed.

    Returns
    -------
    net : Seq2SeqNet
        Fitted; ``net.callbacks_`` holds ``"sparse_update"``, whose
        ``mask_history_`` and ``timings_`` are the diagnostics.
    """
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}; got {optimizer!r}.")
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {list(LR_SCHEDULES)}; got {lr_schedule!r}.")
    adapter = resolve_adapter(adapter)
    adapter.check_model(model)
    optimizer_cls, default_lr, options = _OPTIMIZERS[optimizer]
    options = {f"optimizer__{k}": v for k, v in options.items()}
    options["optimizer__weight_decay"] = weight_decay
    batches_per_epoch = -(-len(examples) // batch_size)
    if max_steps is not None:
        max_epochs = max(max_epochs, -(-max_steps // batches_per_epoch))
    update = SparseUpdate(
        strategy,
        new_parameter_names=new_parameter_names,
        importance_batch_size=importance_batch_size,
    )
    clip = [] if max_grad_norm is None else [("clip", GradientNormClipping(max_grad_norm))]
    schedule = []
    if lr_schedule == "linear":
        n_steps = max_epochs * batches_per_epoch
        if max_steps is not None:
            n_steps = min(n_steps, max_steps)
        schedule = [
            (
                "lr_scheduler",
                LRScheduler(LambdaLR, lr_lambda=LinearDecay(n_steps), step_every="batch"),
            )
        ]
    net = Seq2SeqNet(
        model,
        optimizer=optimizer_cls,
        lr=default_lr if lr is None else lr,
        max_epochs=max_epochs,
        max_steps=max_steps,
        batch_size=batch_size,
        device=resolve_device(device),
        random_state=random_state,
        adapter=adapter,
        pad_token_id=pad_token_id,
        callbacks=[("sparse_update", update), *clip, *schedule, *callbacks],
        verbose=verbose,
        distributed=distributed,
        **options,
    )
    return net.fit(examples)
