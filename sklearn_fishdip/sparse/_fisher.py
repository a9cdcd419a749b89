"""Fisher-importance strategies: FISH-DIP (re-selected from high-loss samples) and FISH (fixed)."""

import math

import torch

from ._masks import ParameterMask, budget_size, top_k_indices
from ._selection import SparseStrategy, _check_int, _check_ratio


class _ImportanceTopK(SparseStrategy):
    """Global top ``keep_ratio`` of squared per-sample gradients of some samples."""

    def validate(self):
        super().validate()
        _check_ratio("keep_ratio", self.keep_ratio)
        _check_int("n_samples", self.n_samples, allow_none=True)

    def _mask_from_samples(self, ctx, samples, **extra):
        scores = ctx.importance_of(samples)
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
            losses[unseen] = ctx.losses_of(unseen)
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
