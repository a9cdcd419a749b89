"""The engine's entry point: build a :class:`Seq2SeqNet` for a strategy and fit it."""

from skorch.callbacks import GradientNormClipping, LRScheduler
from torch.optim.lr_scheduler import LambdaLR
from transformers.optimization import Adafactor

from ._callback import SparseUpdate
from ._checkpoint import EpochCheckpoint
from ._net import Seq2SeqNet, resolve_device
from ._optim import SparseAdamW
from ._seq2seq import resolve_adapter

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
    checkpoint_dir=None,
    autocast="auto",
    group_by_length=False,
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
    checkpoint_dir : str, path-like or None, default=None
        Save the training state there after every epoch, and resume from it
        when the same fit (same examples, weights and settings) is started
        again (:class:`~sklearn_fishdip.sparse.EpochCheckpoint`).
        None saves nothing.
    autocast : {"auto", "bf16", None}, default="auto"
        Mixed precision of the training passes
        (:func:`~sklearn_fishdip.sparse.resolve_autocast`): ``"auto"`` is bf16
        on CUDA devices that support it and float32 elsewhere, ``"bf16"`` bf16
        on any device, None float32.
    group_by_length : bool, default=False
        Train on shuffled batches of examples of similar lengths
        (:class:`~sklearn_fishdip.sparse.LengthGroupedBatches`): less
        padding, the same number of steps.

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
    if not isinstance(group_by_length, bool):
        raise TypeError(f"group_by_length must be True or False; got {group_by_length!r}.")
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
    checkpoint = [] if checkpoint_dir is None else [("checkpoint", EpochCheckpoint(checkpoint_dir))]
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
        callbacks=[("sparse_update", update), *clip, *schedule, *checkpoint, *callbacks],
        verbose=verbose,
        distributed=distributed,
        autocast=autocast,
        group_by_length=group_by_length,
        **options,
    )
    return net.fit(examples)
