"""How much of a training batch is padding: plainly shuffled against length-grouped batches.

For each data set of ``low_resource.py`` the script builds the training examples the
offline default trains on (the benchmark's seeded subset at the given fraction, the
estimator's own TANL encoding and tokenization; no training), then forms one epoch
of batches the two ways ``fit`` can (plain shuffling, and
:class:`~sklearn_fishdip.sparse.LengthGroupedBatches` for ``group_by_length=True``)
and reports real ids over padded ids (a batch's rows padded to its longest), the
mean over ``--epochs`` epochs.

Run from the repository root, offline (a minute or two; it loads each data set)::

    python benchmarks/batch_padding.py

It prints a table and writes ``benchmarks/results/batch_padding.json`` with the
command and the git commit.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import low_resource  # noqa: E402
import torch  # noqa: E402
from _provenance import provenance  # noqa: E402

from sklearn_fishdip.sparse import LengthGroupedBatches, Seq2SeqNet  # noqa: E402

DEFAULT_JSON = ROOT / "benchmarks" / "results" / "batch_padding.json"

#: (data set, fraction, batch size) as the benchmarks train them.
CASES = (
    ("conll2003", 0.01, 8),
    ("conll04", 0.05, 32),
    ("srl", 0.05, 8),
    ("casie", 0.05, 8),
    ("multiwoz", 0.005, 8),
)


class _Examples(Exception):
    """Carries the training examples out of ``fit`` before any training."""


def training_examples(dataset, fraction, seed, data_dir):
    """The tokenized examples the offline default would train on, without training."""
    spec = low_resource.DATASETS[dataset]
    X, y, _, _ = low_resource.load_dataset(dataset, data_dir, max_test=1)
    subset = spec.get("subset", low_resource.low_resource_subset)
    X, y = subset(X, y, fraction, random_state=seed)

    def stop_with_examples(self, examples, *args, **kwargs):
        raise _Examples(examples)

    estimator = low_resource.ESTIMATORS[spec["task"]](random_state=seed, verbose=0)
    # The engine's net receives the examples fit built: stop there, before training.
    with mock.patch.object(Seq2SeqNet, "fit", stop_with_examples):
        try:
            estimator.fit(X, y)
        except _Examples as carried:
            return carried.args[0]
    raise RuntimeError(f"{dataset}: fit did not build its examples")


def real_share(lengths, batches):
    """Real ids over padded ids of ``batches`` (lists of indices into ``lengths``)."""
    padded = sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)
    return sum(lengths[i] for batch in batches for i in batch) / padded


def epoch_shares(grouped, epochs):
    """Mean real share of ``epochs`` epochs, plainly shuffled and grouped by length.

    ``grouped`` is the :class:`LengthGroupedBatches` of the samples; the plain
    shuffles draw from its generator too.
    """
    lengths, batch_size, generator = grouped.lengths, grouped.batch_size, grouped.generator
    plain, by_length = [], []
    for _ in range(epochs):
        order = torch.randperm(len(lengths), generator=generator).tolist()
        plain.append(
            real_share(
                lengths, [order[k : k + batch_size] for k in range(0, len(order), batch_size)]
            )
        )
        by_length.append(real_share(lengths, list(grouped)))
    return sum(plain) / epochs, sum(by_length) / epochs


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset",
        action="append",
        choices=[c[0] for c in CASES],
        help="only these data sets (repeatable; default: all)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5, help="epochs of batches to average")
    parser.add_argument("--data-dir", default=str(low_resource.DEFAULT_DATA_DIR))
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be a positive integer")
    return args


def main(argv=None):
    args = parse_args(argv)
    record = provenance(__file__, argv)
    record["settings"] = {key: value for key, value in vars(args).items() if key != "json"}
    record["results"] = []
    print(
        f"{'data set':<10} {'fraction':>8} {'batch':>5} {'examples':>8} {'mean ids':>8} "
        f"{'shuffled':>8} {'grouped':>8}"
    )
    for dataset, fraction, batch_size in CASES:
        if args.dataset and dataset not in args.dataset:
            continue
        examples = training_examples(dataset, fraction, args.seed, args.data_dir)
        batches = LengthGroupedBatches.from_examples(
            examples, batch_size, torch.Generator().manual_seed(args.seed)
        )
        lengths = batches.lengths
        plain, grouped = epoch_shares(batches, args.epochs)
        row = dict(
            dataset=dataset,
            fraction=fraction,
            batch_size=batch_size,
            n_examples=len(lengths),
            mean_ids=sum(lengths) / len(lengths),
            max_ids=max(lengths),
            real_share_shuffled=plain,
            real_share_grouped=grouped,
        )
        record["results"].append(row)
        print(
            f"{dataset:<10} {fraction:>8} {batch_size:>5} {len(lengths):>8} "
            f"{row['mean_ids']:>8.0f} {plain:>8.2f} {grouped:>8.2f}"
        )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(record, indent=2))
    return record


if __name__ == "__main__":
    main()
