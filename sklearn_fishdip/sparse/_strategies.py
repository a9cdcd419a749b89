"""Strategies: which parameter entries are trainable, and when that changes.

A strategy is a parameter object (``get_params``/``set_params``/``clone``)
whose ``__init__`` only stores its arguments; :meth:`~SparseStrategy.validate`
checks them at fit time. During training the :class:`SparseUpdate` callback
asks it for the first mask, shows it the gradients of each step and asks after
each step whether the mask changes. Runtime state lives in the
:class:`SelectionContext`, not in the strategy.
"""

import math

import torch

from ._fisher import Fish, FishDip
from ._masks import ParameterMask, budget_size, top_k_indices
from ._selection import SparseStrategy, _check_ratio, _to_devices


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
