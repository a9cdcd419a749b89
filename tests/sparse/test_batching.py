import math

import pytest
import torch

from sklearn_fishdip.models import ModelAdapter
from sklearn_fishdip.sparse import LengthGroupedBatches, fit_sparse
from sklearn_fishdip.utils._testing import make_tiny_t5

from .conftest import tokenize

COLLATE = ModelAdapter.collate


def example_length(example):
    return len(example["input_ids"]) + len(example["labels"])


LENGTHS = [7, 3, 12, 5, 9, 1, 15, 4, 8, 2, 11, 6, 14, 10, 13]


def _batches(lengths, batch_size, seed=0, **options):
    return list(
        LengthGroupedBatches(lengths, batch_size, torch.Generator().manual_seed(seed), **options)
    )


def _padded(lengths, batches):
    return sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)


@pytest.mark.parametrize("batch_size, pool_batches", [(4, 50), (4, 2), (2, 1), (15, 3), (20, 1)])
def test_batches_cover_every_sample_once_in_plain_shuffling_sizes(batch_size, pool_batches):
    batches = _batches(LENGTHS, batch_size, pool_batches=pool_batches)
    assert sorted(i for batch in batches for i in batch) == list(range(len(LENGTHS)))
    assert len(batches) == math.ceil(len(LENGTHS) / batch_size)
    sizes = sorted(len(batch) for batch in batches)
    # Every batch full, except one that holds what is left.
    assert sizes[1:] == [batch_size] * (len(batches) - 1)
    assert sizes[0] == len(LENGTHS) - batch_size * (len(batches) - 1)


def test_one_pool_cuts_the_length_order_into_batches():
    batches = _batches(LENGTHS, 4)
    by_length = sorted(range(len(LENGTHS)), key=lambda i: -LENGTHS[i])
    expected = [sorted(by_length[k : k + 4]) for k in range(0, len(LENGTHS), 4)]
    assert sorted(sorted(batch) for batch in batches) == sorted(expected)


def test_pools_sort_within_themselves_and_pad_less_than_shuffling():
    generator = torch.Generator().manual_seed(5)
    lengths = torch.randint(1, 200, (400,), generator=generator).tolist()
    grouped = _batches(lengths, 8, seed=1, pool_batches=10)
    shuffled = torch.randperm(400, generator=torch.Generator().manual_seed(1)).tolist()
    plain = [shuffled[k : k + 8] for k in range(0, 400, 8)]
    assert _padded(lengths, grouped) < 0.8 * _padded(lengths, plain)
    assert sum(lengths) / _padded(lengths, grouped) > 0.9
    # Ten-batch pools: the batches are not one global length order cut up.
    assert sorted(map(sorted, grouped)) != sorted(
        map(sorted, _batches(lengths, 8, pool_batches=50))
    )


def test_generator_decides_the_batches():
    first = LengthGroupedBatches(LENGTHS, 4, torch.Generator().manual_seed(3), pool_batches=1)
    epoch_1, epoch_2 = list(first), list(first)
    assert epoch_1 != epoch_2  # the generator moves on between epochs
    again = LengthGroupedBatches(LENGTHS, 4, torch.Generator().manual_seed(3), pool_batches=1)
    assert [list(again), list(again)] == [epoch_1, epoch_2]


@pytest.mark.parametrize("option", ["batch_size", "pool_batches"])
@pytest.mark.parametrize("value", [0, 2.0, None])
def test_bad_sizes_are_refused(option, value):
    options = {"batch_size": 2, "pool_batches": 3, option: value}
    with pytest.raises(ValueError, match=f"{option} must be a positive integer"):
        LengthGroupedBatches(LENGTHS, generator=torch.Generator(), **options)


def _fit_recording_widths(group_by_length, monkeypatch, seed=0):
    model, tokenizer = make_tiny_t5()
    examples = tokenize(tokenizer, 12)
    widths = []

    def recording(self, batch, pad_token_id):
        widths.append(sorted(example_length(example) for example in batch))
        return COLLATE(self, batch, pad_token_id)

    monkeypatch.setattr(ModelAdapter, "collate", recording)
    net = fit_sparse(
        model,
        examples,
        "full",
        optimizer="adamw",
        lr=1e-3,
        max_epochs=3,
        batch_size=4,
        random_state=seed,
        group_by_length=group_by_length,
    )
    return net, widths, examples


def test_fit_trains_on_grouped_batches_with_the_same_steps(monkeypatch):
    grouped, grouped_batches, examples = _fit_recording_widths(True, monkeypatch)
    plain, plain_batches, _ = _fit_recording_widths(False, monkeypatch)
    assert grouped.n_steps_ == plain.n_steps_ == 9
    # Only training batches pass the recorder (no validation split).
    assert len(grouped_batches) == len(plain_batches) == 9
    lengths = sorted(example_length(example) for example in examples)
    # Twelve examples, three batches of four, one pool: the length order cut in three.
    for batch in grouped_batches:
        assert batch in (lengths[:4], lengths[4:8], lengths[8:])
    assert any(batch not in (lengths[:4], lengths[4:8], lengths[8:]) for batch in plain_batches)
    assert sum(len(b) * b[-1] for b in grouped_batches) < sum(len(b) * b[-1] for b in plain_batches)
    again, again_batches, _ = _fit_recording_widths(True, monkeypatch)
    assert again_batches == grouped_batches
    assert again.history[:, "train_loss"] == grouped.history[:, "train_loss"]


def test_fit_refuses_a_group_by_length_that_is_not_a_bool():
    model, tokenizer = make_tiny_t5()
    with pytest.raises(TypeError, match="group_by_length must be True or False"):
        fit_sparse(model, tokenize(tokenizer, 2), "full", group_by_length="yes")
