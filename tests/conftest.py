"""Shared test configuration: everything runs offline and on few threads."""

import os

# Read once by huggingface_hub at import time, so set before anything imports it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402

# CI and developer machines have 2 cores; oversubscription makes tests slower, not faster.
torch.set_num_threads(1)

from tests.estimator_fixtures import tiny_bert_path, tiny_t5_path  # noqa: E402,F401  (shared)
