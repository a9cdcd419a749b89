"""Strategies: which parameter entries are trainable, and when that changes.

A strategy is a parameter object (``get_params``/``set_params``/``clone``)
whose ``__init__`` only stores its arguments; :meth:`~SparseStrategy.validate`
checks them at fit time. During training the :class:`SparseUpdate` callback
asks it for the first mask, shows it the gradients of each step and asks after
each step whether the mask changes. Runtime state lives in the
:class:`SelectionContext`, not in the strategy.
"""

import math
import numbers

import torch
from sklearn.base import BaseEstimator

from ._importance import per_sample_losses, squared_gradients
from ._masks import ParameterMask, budget_size, top_k_indices


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
        self.state = {}

    @property
    def n_batches(self):
        """Training batches per epoch."""
        return math.ceil(len(self.examples) / self.batch_size)


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


class _ImportanceTopK(SparseStrategy):
    """Global top ``keep_ratio`` of squared per-sample gradients of some samples."""

    def validate(self):
        super().validate()
        _check_ratio("keep_ratio", self.keep_ratio)
        _check_int("n_samples", self.n_samples, allow_none=True)

    def _mask_from_samples(self, ctx, samples, **extra):
        subset = [ctx.examples[i] for i in samples]
        scores = squared_gradients(
            ctx.model,
            subset,
            batch_size=ctx.importance_batch_size,
            pad_token_id=ctx.pad_token_id,
        )
        pool = self._pool(ctx)
        k = budget_size(self.keep_ratio, ctx.index.numel(pool))
        selected = top_k_indices({n: scores[n] for n in pool}, k)
        exempt = self._exempt(ctx)
        mask = ParameterMask(dense=exempt, sparse=selected, budget_exempt=exempt)
        return mask, {"samples": list(samples), "fallback": scores.fallback, **extra}


class FishDip(_ImportanceTopK):
    """FISH-DIP: a dynamic FISH mask from the highest-loss training samples.

    Before the first step and then every ``refresh_every`` optimizer steps,
    training samples are ranked by loss; the squared per-sample gradients of
    the ``n_samples`` highest are summed, and the global top ``keep_ratio`` of
    all (budgeted) parameter entries are trainable until the next refresh.

    Parameters
    ----------
    keep_ratio : float, default=0.01
        Fraction of budgeted entries kept, in (0, 1].
    refresh_every : int, default=100
        Optimizer steps between refreshes.
    n_samples : int or None, default=None
        Number of highest-loss samples. None follows the reference:
        ``clip(floor(0.1 * n_batches), 3, 25)``, at most ``N - 1``, where
        ``n_batches`` is the number of training batches per epoch.
    ranking : {"running", "full"}, default="running"
        How samples are ranked. ``"full"`` is the reference: an
        inference-mode loss pass over the whole training set at every
        refresh. ``"running"`` uses each sample's latest loss recorded by the
        training steps; samples never seen yet are left out of the ranking,
        unless fewer than ``n_samples`` samples have a recorded loss (the
        first mask, before any step), when the unseen ones get a loss pass.
    train_new_parameters : bool, default=True
        Whether parameters the checkpoint does not provide are trained
        densely outside the budget; if False they compete like the others.

    Notes
    -----
    ``"running"`` is the default because the full pass costs about
    ``N / (3 * refresh_every * batch_size)`` of the training time (40% for
    1,000 sentences at batch 8), while the running losses are free. They are
    at most one epoch old, measured with dropout as the reference's refreshes
    are, and in the low-resource regime FISH-DIP targets (an epoch shorter than
    ``refresh_every`` steps) every sample has been seen since the last refresh.
    With a larger training set, a refresh ranks the samples seen so far
    (``refresh_every * batch_size`` of them at the first refresh) rather than
    pay a pass over the rest: that pass was a third of the selection time at
    the first refresh of the 1,000-sentence engine benchmark.
    The reference's ranking loss also counted padding; here losses are means
    over real target tokens.
    """

    name = "fish-dip"

    def __init__(
        self,
        keep_ratio=0.01,
        refresh_every=100,
        n_samples=None,
        ranking="running",
        train_new_parameters=True,
    ):
        self.keep_ratio = keep_ratio
        self.refresh_every = refresh_every
        self.n_samples = n_samples
        self.ranking = ranking
        self.train_new_parameters = train_new_parameters

    def validate(self):
        super().validate()
        _check_int("refresh_every", self.refresh_every)
        if self.ranking not in ("running", "full"):
            raise ValueError(f"ranking must be 'running' or 'full'; got {self.ranking!r}.")

    def n_samples_for(self, n_examples, batch_size):
        """Number of highest-loss samples for a training set.

        Parameters
        ----------
        n_examples : int
            Training set size.
        batch_size : int
            Training batch size.

        Returns
        -------
        int
        """
        if self.n_samples is not None:
            return min(self.n_samples, n_examples)
        n = min(max(math.floor(0.1 * math.ceil(n_examples / batch_size)), 3), 25)
        return max(1, min(n, n_examples - 1))

    def _losses(self, ctx, n):
        losses = None
        if self.ranking == "running" and ctx.running_losses is not None:
            losses = ctx.running_losses().clone()
        if losses is None:
            losses = torch.full((len(ctx.examples),), float("nan"))
        unseen = torch.nonzero(torch.isnan(losses)).flatten().tolist()
        if unseen and len(ctx.examples) - len(unseen) >= n:
            # Enough recorded losses: rank those, never-seen samples last.
            losses[unseen] = float("-inf")
            return losses, 0
        if unseen:
            losses[unseen] = per_sample_losses(
                ctx.model,
                [ctx.examples[i] for i in unseen],
                batch_size=ctx.ranking_batch_size,
                pad_token_id=ctx.pad_token_id,
                autocast=ctx.autocast,
            )
        return losses, len(unseen)

    def _select(self, ctx):
        n = self.n_samples_for(len(ctx.examples), ctx.batch_size)
        losses, n_passed = self._losses(ctx, n)
        # Stable sort: equal losses go to the lower index.
        order = torch.sort(losses, descending=True, stable=True).indices[:n]
        return self._mask_from_samples(
            ctx, sorted(order.tolist()), ranking=self.ranking, n_loss_pass=n_passed
        )

    def initial_mask(self, ctx):
        return self._select(ctx)

    def next_mask(self, ctx, step):
        if step % self.refresh_every == 0:
            return self._select(ctx)
        return None


class Fish(_ImportanceTopK):
    """FISH mask: fixed, from the squared gradients of random training samples.

    Parameters
    ----------
    keep_ratio : float, default=0.01
        Fraction of budgeted entries kept, in (0, 1].
    n_samples : int or None, default=None
        Number of random samples; None uses ``min(1024, N)`` as FISH does.
    train_new_parameters : bool, default=True
        Whether parameters the checkpoint does not provide are trained
        densely outside the budget.
    """

    name = "fish"

    def __init__(self, keep_ratio=0.01, n_samples=None, train_new_parameters=True):
        self.keep_ratio = keep_ratio
        self.n_samples = n_samples
        self.train_new_parameters = train_new_parameters

    def initial_mask(self, ctx):
        n = min(self.n_samples or 1024, len(ctx.examples))
        samples = torch.randperm(len(ctx.examples), generator=ctx.generator)[:n]
        return self._mask_from_samples(ctx, sorted(samples.tolist()))


class DPS(SparseStrategy):
    """DPS-Dense: alternating dense and per-matrix sparse stages.

    Steps are grouped in windows of ``us = max(1, int(max_steps *
    update_ratio))``. Odd windows (stage I) train everything and accumulate,
    per ``nn.Linear`` weight matrix, ``grad ** 2 / 1000`` of the mini-batch
    gradients (reset at the start of each stage I). Even windows (stage II)
    keep, in each such matrix, the top ``ceil((1 - reserve_p) * size)``
    entries by that score; every other parameter (embeddings, tied output
    projections, norms, biases) stays dense.

    Parameters
    ----------
    reserve_p : float, default=0.3
        Fraction of each matrix frozen in stage II, in [0, 1).
    update_ratio : float, default=0.05
        Window length as a fraction of the planned steps, in (0, 1].
    train_new_parameters : bool, default=True
        Whether parameters the checkpoint does not provide are always dense;
        if False, new weight matrices are masked in stage II like the others.

    Notes
    -----
    The reference thresholds at the k-th largest score, so ties can exceed the
    quota; here exactly k entries are kept, ties going to the lower index.
    """

    name = "dps"

    def __init__(self, reserve_p=0.3, update_ratio=0.05, train_new_parameters=True):
        self.reserve_p = reserve_p
        self.update_ratio = update_ratio
        self.train_new_parameters = train_new_parameters

    def validate(self):
        super().validate()
        _check_ratio("reserve_p", self.reserve_p, low_open=False)
        _check_ratio("update_ratio", self.update_ratio)

    def window(self, ctx):
        """Steps per stage."""
        return max(1, int(ctx.max_steps * self.update_ratio))

    def stage(self, ctx, step):
        """Stage (1 or 2) of the 1-based optimizer step ``step``."""
        return 1 if math.ceil(step / self.window(ctx)) % 2 == 1 else 2

    def _matrices(self, ctx):
        # Weights of Linear layers, except those tied to an embedding.
        model = ctx.model
        embedded = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
        linear = {
            id(m.weight)
            for m in model.modules()
            if isinstance(m, torch.nn.Linear) and id(m.weight) not in embedded
        }
        return [n for n in self._pool(ctx) if id(ctx.index.params[n]) in linear]

    def _dense(self, ctx, stage):
        mask = ParameterMask(dense=ctx.index.names, budget_exempt=self._exempt(ctx))
        return mask, {"stage": stage}

    def initial_mask(self, ctx):
        return self._dense(ctx, 1)

    @torch.no_grad()
    def observe_gradients(self, ctx, step):
        if self.stage(ctx, step) != 1:
            return
        if (step - 1) % self.window(ctx) == 0 or "dps_scores" not in ctx.state:
            ctx.state["dps_scores"] = {
                n: torch.zeros_like(ctx.index.params[n], dtype=torch.float32)
                for n in self._matrices(ctx)
            }
        for name, score in ctx.state["dps_scores"].items():
            grad = ctx.index.params[name].grad
            if grad is not None:
                score.add_(grad.float().square() / 1000)

    def next_mask(self, ctx, step):
        if step % self.window(ctx) != 0:
            return None
        stage = self.stage(ctx, step + 1)
        if stage == 1:
            return self._dense(ctx, 1)
        scores = ctx.state.get("dps_scores") or {
            n: torch.zeros_like(ctx.index.params[n], dtype=torch.float32)
            for n in self._matrices(ctx)
        }
        selected = {}
        for name, score in scores.items():
            k = math.ceil((1 - self.reserve_p) * score.numel())
            selected.update(top_k_indices({name: score}, k))
        dense = set(ctx.index.names) - set(scores)
        mask = ParameterMask(dense=dense, sparse=selected, budget_exempt=self._exempt(ctx))
        return mask, {"stage": 2}


class BitFit(SparseStrategy):
    """BitFit: only bias terms are trainable.

    Parameters
    ----------
    train_new_parameters : bool, default=True
        Whether parameters the checkpoint does not provide are also trained.
    """

    name = "bitfit"

    def __init__(self, train_new_parameters=True):
        self.train_new_parameters = train_new_parameters

    def initial_mask(self, ctx):
        biases = [
            n
            for n in self._pool(ctx)
            if n.rsplit(".", 1)[-1] == "bias" and ctx.index.params[n].dim() == 1
        ]
        if not biases:
            raise ValueError(
                "BitFit needs bias parameters, and this model has none (T5 has no biases)."
            )
        exempt = self._exempt(ctx)
        return ParameterMask(dense=set(biases) | exempt, budget_exempt=exempt), {}


class RandomMask(SparseStrategy):
    """A random fixed mask over ``keep_ratio`` of the entries (a control).

    Parameters
    ----------
    keep_ratio : float, default=0.01
        Fraction of budgeted entries kept, in (0, 1].
    train_new_parameters : bool, default=True
        Whether parameters the checkpoint does not provide are trained
        densely outside the budget.

    Notes
    -----
    Entries are drawn with the training's seeded generator, so the same
    ``random_state`` gives the same mask.
    """

    name = "random"

    def __init__(self, keep_ratio=0.01, train_new_parameters=True):
        self.keep_ratio = keep_ratio
        self.train_new_parameters = train_new_parameters

    def validate(self):
        super().validate()
        _check_ratio("keep_ratio", self.keep_ratio)

    def initial_mask(self, ctx):
        pool = self._pool(ctx)
        k = budget_size(self.keep_ratio, ctx.index.numel(pool))
        scores = {n: torch.rand(ctx.index.params[n].shape, generator=ctx.generator) for n in pool}
        exempt = self._exempt(ctx)
        selected = _to_devices(ctx.index, top_k_indices(scores, k))
        return ParameterMask(dense=exempt, sparse=selected, budget_exempt=exempt), {}


class Full(SparseStrategy):
    """Full fine-tuning: every parameter is trainable."""

    name = "full"

    def initial_mask(self, ctx):
        return ParameterMask(dense=ctx.index.names), {}


_ALIASES = {cls.name: cls for cls in (FishDip, Fish, DPS, BitFit, RandomMask, Full)}


def resolve_strategy(strategy):
    """Return a strategy object for a strategy or its string alias.

    Parameters
    ----------
    strategy : str or SparseStrategy
        One of ``"fish-dip"``, ``"fish"``, ``"dps"``, ``"bitfit"``,
        ``"random"``, ``"full"`` (default parameters), or a strategy object,
        returned as is.

    Returns
    -------
    SparseStrategy
    """
    if isinstance(strategy, SparseStrategy):
        return strategy
    if isinstance(strategy, str):
        try:
            return _ALIASES[strategy]()
        except KeyError:
            raise ValueError(
                f"Unknown strategy {strategy!r}; valid names are {sorted(_ALIASES)}."
            ) from None
    raise TypeError(
        f"strategy must be a string or a SparseStrategy; got {type(strategy).__name__}."
    )
