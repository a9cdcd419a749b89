"""What every strategy gets and shares: the selection context and the strategy base class."""

import math
import numbers

import torch
from sklearn.base import BaseEstimator

from ._importance import Importance, per_sample_losses, squared_gradients


class SelectionContext:
    """What a strategy may use while training (built by the callback).

    Parameters
    ----------
    model : torch.nn.Module
        The model being trained.
    index : ParameterIndex
        Its deduplicated parameters.
    examples : sequence of dict
        The tokenized training examples.
    batch_size : int
        Training batch size.
    max_steps : int
        Planned number of optimizer steps.
    generator : torch.Generator
        CPU generator for every random choice of the strategy.
    pad_token_id : int
        Input padding id.
    importance_batch_size : int, default=16
        Samples per batched importance pass.
    ranking_batch_size : int, default=64
        Samples per loss-ranking forward.
    autocast : torch.dtype or None, default=None
        Autocast dtype of the loss-ranking pass.
    running_losses : callable or None, default=None
        Returns the latest per-sample training losses (NaN where unseen).
    adapter : ModelAdapter or None, default=None
        How the model family builds batches and logits; None is the
        encoder-decoder adapter.
    communicator : Communicator or None, default=None
        In a data-parallel fit, the ranks' collectives: :meth:`losses_of` and
        :meth:`importance_of` then split their samples across ranks and
        combine the results, so every rank gets the single-process answer.

    Attributes
    ----------
    state : dict
        Scratch space for strategies (e.g. DPS's accumulated scores).
    """

    def __init__(
        self,
        model,
        index,
        examples,
        batch_size,
        max_steps,
        generator,
        pad_token_id,
        importance_batch_size=16,
        ranking_batch_size=64,
        autocast=None,
        running_losses=None,
        adapter=None,
        communicator=None,
    ):
        self.model = model
        self.index = index
        self.examples = examples
        self.batch_size = batch_size
        self.max_steps = max_steps
        self.generator = generator
        self.pad_token_id = pad_token_id
        self.importance_batch_size = importance_batch_size
        self.ranking_batch_size = ranking_batch_size
        self.autocast = autocast
        self.running_losses = running_losses
        self.adapter = adapter
        self.communicator = communicator
        self.state = {}

    @property
    def n_batches(self):
        """Training batches per epoch."""
        return math.ceil(len(self.examples) / self.batch_size)

    def losses_of(self, indices):
        """Per-sample losses (:func:`per_sample_losses`) of the examples at ``indices``.

        In a data-parallel fit each rank computes its share and the shares
        are gathered, so the loss ranking is global and the same everywhere.

        Returns
        -------
        Tensor of shape (len(indices),)
        """
        comm = self.communicator
        mine = list(indices) if comm is None else comm.shard(list(indices))
        losses = per_sample_losses(
            self.model,
            [self.examples[i] for i in mine],
            batch_size=self.ranking_batch_size,
            pad_token_id=self.pad_token_id,
            autocast=self.autocast,
            adapter=self.adapter,
        )
        return losses if comm is None else comm.gather(losses, len(indices), "losses")

    def importance_of(self, samples):
        """Summed squared per-sample gradients (:func:`squared_gradients`) of ``samples``.

        In a data-parallel fit each rank scores its share of the samples and
        the scores are summed over ranks (one all-reduce of the model's size).

        Returns
        -------
        Importance
        """
        comm = self.communicator
        mine = list(samples) if comm is None else comm.shard(list(samples))
        scores = squared_gradients(
            self.model,
            [self.examples[i] for i in mine],
            batch_size=self.importance_batch_size,
            pad_token_id=self.pad_token_id,
            adapter=self.adapter,
        )
        if comm is None:
            return scores
        with torch.no_grad():
            fallback = comm.sum_scores(scores, scores.fallback)
        return Importance(scores, n_samples=len(samples), fallback=fallback)


def _check_ratio(name, value, low_open=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a float in (0, 1]; got {value!r}.")
    if not (0 < value <= 1 if low_open else 0 <= value < 1):
        interval = "(0, 1]" if low_open else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}; got {value!r}.")


def _check_int(name, value, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")


def _to_devices(index, selected):
    return {name: idx.to(index.params[name].device) for name, idx in selected.items()}


class SparseStrategy(BaseEstimator):
    """Base class of the strategies.

    Subclasses implement :meth:`initial_mask` and may override
    :meth:`observe_gradients` and :meth:`next_mask`. Each returns a
    ``(mask, extra)`` pair, ``extra`` being a dict added to the diagnostics.
    """

    #: Short name used as string alias and in diagnostics.
    name = None

    def validate(self):
        """Check the parameters; raise ValueError on bad values."""
        value = getattr(self, "train_new_parameters", True)
        if not isinstance(value, bool):
            raise ValueError(f"train_new_parameters must be a bool; got {value!r}.")

    def _exempt(self, ctx):
        """Parameters trained outside the budget."""
        return ctx.index.new if getattr(self, "train_new_parameters", False) else frozenset()

    def _pool(self, ctx):
        """Parameters that compete for the budget."""
        exempt = self._exempt(ctx)
        return [n for n in ctx.index.names if n not in exempt]

    def initial_mask(self, ctx):
        """The mask for the first step: ``(mask, extra)``."""
        raise NotImplementedError

    def observe_gradients(self, ctx, step):
        """See the gradients of step ``step`` (1-based) before masking."""

    def next_mask(self, ctx, step):
        """After ``step`` completed steps: a new ``(mask, extra)`` or None."""
        return None
