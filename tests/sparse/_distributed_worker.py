"""One rank of the data-parallel tests, launched as ``torchrun`` would launch it.

``python _distributed_worker.py OUT_DIR TINY_T5_FOLDER`` writes
``OUT_DIR/rank{RANK}.pt``.

Run as a script with ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT`` set: :func:`fit_sparse` then initializes the gloo process group
itself, as it does under ``torchrun``. The test module imports :func:`run_fit`
for the single-process reference, so both sides fit exactly the same thing.
"""

import sys

import torch

from sklearn_fishdip.sparse import DPS, BitFit, Fish, FishDip, Full, RandomMask, fit_sparse
from sklearn_fishdip.utils._testing import make_tiny_bert2bert

SOURCES = ["john lives in paris", "he met mary smith in new york today", "google", "anna"]
TARGETS = ["[ john | person ] lives", "he met [ mary smith | person ]", "[ google | org ]", "x"]

#: Settings under which every strategy changes or keeps its mask within 6 steps.
STRATEGIES = {
    "fish-dip": lambda: FishDip(keep_ratio=0.05, refresh_every=2, n_samples=3),
    "fish": lambda: Fish(keep_ratio=0.05, n_samples=5),
    "dps": lambda: DPS(update_ratio=0.34),
    "bitfit": BitFit,
    "random": lambda: RandomMask(keep_ratio=0.05),
    "full": Full,
}


def run_fit(name, distributed, group_by_length=False):
    """Fit a tiny BERT2BERT with strategy ``name``; return what the tests compare.

    Dropout is off: with it, each rank would draw its own dropout masks (as
    it should), and the fit could not equal a single process's. 9 examples in
    batches of 4 make a last batch of one row, so one rank has an empty share.
    """
    model, tokenizer, new = make_tiny_bert2bert(dropout_rate=0.0)
    examples = [
        {
            "input_ids": tokenizer(SOURCES[i % 4]).input_ids,
            "labels": tokenizer(TARGETS[i % 4]).input_ids,
        }
        for i in range(9)
    ]
    net = fit_sparse(
        model,
        examples,
        STRATEGIES[name](),
        max_steps=6,
        batch_size=4,
        importance_batch_size=2,
        random_state=0,
        new_parameter_names=new,
        distributed=distributed,
        group_by_length=group_by_length,
    )
    update = dict(net.callbacks_)["sparse_update"]
    return {
        "steps": [record["step"] for record in update.mask_history_],
        "checksums": update.mask_checksums_,
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "losses": [float(row["train_loss"]) for row in net.history],
        "sample_losses": net.sample_losses_.clone(),
        "communication": update.communication_,
    }


def fit_estimator(model_path):
    """Fit FishDipNER on a tiny T5 folder; unchanged code, whatever the launch."""
    from sklearn_fishdip import FishDipNER
    from tests.estimator_fixtures import NER_X, NER_Y, fast_params

    ner = FishDipNER(**fast_params(model_path)).fit(NER_X, NER_Y)
    return {
        "state": {k: v.detach().clone() for k, v in ner.model_.state_dict().items()},
        "checksums": [record.get("mask_checksum") for record in ner.mask_history_],
        "history": ner.history_,
        "sent": [record.get("communicated_bytes") for record in ner.mask_history_],
    }


def main(out_dir, model_path):
    torch.set_num_threads(1)
    results = {name: run_fit(name, True) for name in STRATEGIES}
    results["fish-dip, grouped by length"] = run_fit("fish-dip", True, group_by_length=True)
    results["estimator"] = fit_estimator(model_path)
    import torch.distributed as dist

    from sklearn_fishdip.sparse._distributed import Communicator

    comm = Communicator()
    try:
        comm.check_agreement(comm.rank)  # different on each rank: must raise
        results["disagreement_error"] = None
    except RuntimeError as error:
        results["disagreement_error"] = str(error)
    torch.save(results, f"{out_dir}/rank{comm.rank}.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
