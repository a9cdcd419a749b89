"""Data-parallel fits (gloo, 2 processes on CPU) agree with one process."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sklearn_fishdip.sparse import _strategies
from sklearn_fishdip.sparse._distributed import Communicator, resolve_communicator
from sklearn_fishdip.utils._testing import make_tiny_t5

from ._distributed_worker import STRATEGIES, fit_estimator, run_fit

WORKER = Path(__file__).with_name("_distributed_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def tiny_t5_folder(tmp_path_factory):
    """A tiny T5 without dropout, saved (dropout would differ across ranks)."""
    model, tokenizer = make_tiny_t5(seed=0, d_model=16, dropout_rate=0.0)
    path = tmp_path_factory.mktemp("tiny_t5_no_dropout")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory, tiny_t5_folder):
    """Each rank's results, from two worker processes launched as torchrun does."""
    out = tmp_path_factory.mktemp("ranks")
    port = str(_free_port())
    procs = []
    for rank in range(2):
        env = dict(
            os.environ,
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE="2",
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=port,
            OMP_NUM_THREADS="1",
            PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        )
        log = open(out / f"rank{rank}.log", "wb")  # noqa: SIM115 (closed below)
        procs.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), str(out), tiny_t5_folder],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        log.close()
    # A rank that fails leaves the other waiting in a collective: stop it then.
    deadline = time.monotonic() + 300
    while any(proc.poll() is None for proc in procs):
        failed = any(proc.poll() not in (None, 0) for proc in procs)
        if failed or time.monotonic() > deadline:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            break
        time.sleep(0.2)
    for rank, proc in enumerate(procs):
        assert proc.returncode == 0, (out / f"rank{rank}.log").read_text()[-4000:]
    return [torch.load(out / f"rank{rank}.pt", weights_only=False) for rank in range(2)]


@pytest.fixture(scope="module")
def alone():
    """Single-process results, computed once per strategy."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run_fit(name, distributed=False)
        return cache[name]

    return get


def test_every_registered_strategy_is_covered():
    assert set(STRATEGIES) == set(_strategies._ALIASES)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_masks_agree_across_ranks_and_match_one_process(ranks, alone, name):
    first, second = ranks[0][name], ranks[1][name]
    assert first["steps"] == second["steps"]
    assert first["checksums"] == second["checksums"]
    alone = alone(name)
    assert first["steps"] == alone["steps"]
    assert first["checksums"] == alone["checksums"]
    if name in ("fish-dip", "dps"):
        assert len(first["steps"]) > 1  # the mask was re-selected during training


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_training_equals_one_process(ranks, alone, name):
    alone = alone(name)
    for result in (ranks[0][name], ranks[1][name]):
        for key, value in alone["state"].items():
            # Shares of a batch sum in another order than one batch: rounding
            # only. Attention key biases have an exactly zero gradient (softmax
            # ignores them), so theirs is rounding noise, which Adafactor's
            # normalised update turns into steps of either sign: both sides keep
            # them near zero, nothing more can agree.
            atol = 1e-4 if key.endswith("key.bias") else 1e-6
            torch.testing.assert_close(result["state"][key], value, rtol=1e-4, atol=atol)
        assert result["losses"] == pytest.approx(alone["losses"], rel=1e-5)
        torch.testing.assert_close(result["sample_losses"], alone["sample_losses"])
    assert alone["communication"] is None


def test_length_grouped_batches_agree_across_ranks_and_match_one_process(ranks):
    alone = run_fit("fish-dip", distributed=False, group_by_length=True)
    for result in (ranks[0], ranks[1]):
        grouped = result["fish-dip, grouped by length"]
        assert grouped["checksums"] == alone["checksums"]
        assert grouped["losses"] == pytest.approx(alone["losses"], rel=1e-5)
        torch.testing.assert_close(grouped["sample_losses"], alone["sample_losses"])
    # Other batches than plain shuffling's: the per-epoch losses differ.
    assert alone["losses"] != pytest.approx(ranks[0]["fish-dip"]["losses"], rel=1e-5)


def test_communication_is_recorded_and_masked(ranks):
    sparse = ranks[0]["fish-dip"]["communication"]
    full = ranks[0]["full"]["communication"]
    assert sparse["world_size"] == full["world_size"] == 2
    assert sparse["backend"] == "gloo"
    assert len(sparse["step_bytes"]) == 6
    assert len(sparse["selection_bytes"]) == len(ranks[0]["fish-dip"]["steps"])
    # Off-mask gradients are not sent: 5% of the entries cost far less than all.
    assert max(sparse["step_bytes"]) < 0.2 * min(full["step_bytes"])
    assert sparse["bytes_by_purpose"]["importance"] > 0
    assert ranks[0]["fish-dip"]["communication"] == ranks[1]["fish-dip"]["communication"]


def test_estimator_unchanged_under_a_launcher(ranks, tiny_t5_folder):
    """FishDipNER.fit in a script launched on 2 ranks equals a one-process fit."""
    alone = fit_estimator(tiny_t5_folder)
    assert alone["sent"][0] is None and alone["checksums"][0] is None
    assert ranks[0]["estimator"]["checksums"] == ranks[1]["estimator"]["checksums"]
    for result in ranks:
        assert result["estimator"]["sent"][0] > 0  # it did train data-parallel
        assert [row["train_loss"] for row in result["estimator"]["history"]] == pytest.approx(
            [row["train_loss"] for row in alone["history"]], rel=1e-5
        )
        for key, value in alone["state"].items():
            torch.testing.assert_close(
                result["estimator"]["state"][key], value, atol=1e-6, rtol=1e-4
            )


def test_disagreement_raises(ranks):
    for result in ranks:
        assert "differs across ranks" in result["disagreement_error"]


def test_single_process_needs_no_communicator():
    assert resolve_communicator("auto") is None
    assert resolve_communicator(False) is None
    with pytest.raises(RuntimeError, match="no process group"):
        resolve_communicator(True)
    with pytest.raises(ValueError, match="distributed must be"):
        resolve_communicator("yes")


def test_shares_cover_the_batch_in_order():
    comm = object.__new__(Communicator)
    comm.world_size = 3
    shares = []
    for rank in range(3):
        comm.rank = rank
        shares.append(comm.shard(list(range(7))))
    assert shares == [[0, 1, 2], [3, 4], [5, 6]]
    comm.rank = 2
    assert comm.shard([0, 1]) == []


def test_shares_normalized_by_the_global_count_sum_to_the_batch_loss():
    from sklearn_fishdip.sparse._seq2seq import token_losses

    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 4, 7, generator=generator)
    labels = torch.randint(0, 7, (5, 4), generator=generator)
    labels[1, 2:] = labels[4, 1:] = -100
    whole = token_losses(logits, labels)[1]
    count = int((labels != -100).sum())
    shares = [
        token_losses(logits[a:b], labels[a:b], normalizer=count)[1] for a, b in [(0, 3), (3, 5)]
    ]
    torch.testing.assert_close(sum(shares), whole)
