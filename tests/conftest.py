"""Shared test configuration: everything runs offline and on few threads."""

import os

# Read once by huggingface_hub at import time, so set before anything imports it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402

# Parallelism comes from pytest-xdist's workers, one per core: a second torch thread in each
# would oversubscribe the cores and make every test slower, not faster.
torch.set_num_threads(1)

from tests.estimator_fixtures import tiny_bert_path, tiny_t5_path  # noqa: E402,F401  (shared)

# Each worker imports torch and transformers and builds its own test models, so memory grows
# with workers; and beyond a few, the wall time is the integration file's (its two long tests
# run one after the other in one worker), not the cores'.
MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: the cores this process may run on, at most ``MAX_WORKERS``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))
