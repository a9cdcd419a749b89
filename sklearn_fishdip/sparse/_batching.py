"""Training batches of similar lengths (``group_by_length=True``).

A batch is padded to its longest row, so random batches of sentences spend
much of their compute on padding: on the benchmarks' training subsets, real
ids are 46-70% of a random batch's padded size and over 90% of a
length-grouped one. Grouping by length is the usual remedy (Hugging Face's
``group_by_length``): shuffle, sort each pool of consecutive batches by length,
cut the pool into batches, and shuffle the batches.
"""

import math

import torch

__all__ = ["POOL_BATCHES", "LengthGroupedBatches"]

#: Batches per sorted pool: large enough that a pool's batches pad little,
#: small enough that a large training set still mixes across the epoch.
POOL_BATCHES = 50


class LengthGroupedBatches(torch.utils.data.Sampler):
    """Batches of sample indices, shuffled, each of similar lengths.

    Every epoch draws a permutation, cuts it into pools of ``pool_batches *
    batch_size`` samples, sorts each pool by length (longest first), cuts it
    into batches and yields all batches in a random order. The number and
    sizes of batches are those of plain shuffling (only the last batch of the
    epoch is short), so learning-rate schedules and step counts do not change.

    With fewer than ``pool_batches`` batches an epoch, the whole epoch is one
    pool: the batches then hold much the same samples every epoch (those of
    neighbouring lengths), less random than plain shuffling.

    Parameters
    ----------
    lengths : sequence of int
        Length of each sample.
    batch_size : int
        Samples per batch.
    generator : torch.Generator
        Source of the shuffles; its state decides the batches (a resumed fit
        restores it).
    pool_batches : int, default=POOL_BATCHES
        Batches per sorted pool.

    Examples
    --------
    >>> import torch
    >>> batches = LengthGroupedBatches([5, 1, 4, 2, 3, 6], 2, torch.Generator().manual_seed(0))
    >>> sorted(sorted(batch) for batch in batches)
    [[0, 5], [1, 3], [2, 4]]
    """

    def __init__(self, lengths, batch_size, generator, pool_batches=POOL_BATCHES):
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not (isinstance(pool_batches, int) and pool_batches >= 1):
            raise ValueError(f"pool_batches must be a positive integer, got {pool_batches!r}")
        self.lengths = [int(n) for n in lengths]
        self.batch_size = batch_size
        self.generator = generator
        self.pool_batches = pool_batches

    @classmethod
    def from_examples(cls, examples, batch_size, generator, pool_batches=POOL_BATCHES):
        """Batches of tokenized examples (dicts with ``"input_ids"`` and ``"labels"``),
        an example's length its source and target ids together."""
        lengths = [len(example["input_ids"]) + len(example["labels"]) for example in examples]
        return cls(lengths, batch_size, generator, pool_batches)

    def __len__(self):
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        n, size = len(self.lengths), self.batch_size
        order = torch.randperm(n, generator=self.generator).tolist()
        pool = size * self.pool_batches
        batches = []
        for begin in range(0, n, pool):
            # Stable sort: equal lengths keep their shuffled order.
            ranked = sorted(order[begin : begin + pool], key=lambda i: -self.lengths[i])
            batches.extend(ranked[k : k + size] for k in range(0, len(ranked), size))
        for b in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[b]
