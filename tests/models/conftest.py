"""Tiny offline checkpoints of every model family, saved as local folders."""

import pytest

from sklearn_fishdip.utils._testing import make_tiny_bert, make_tiny_gpt2, make_tiny_llama


def _save(tmp_path_factory, name, model, tokenizer):
    path = tmp_path_factory.mktemp(name)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def gpt2_path(tmp_path_factory):
    """A tiny GPT-2 (Conv1D layers, tied head, 64 positions), tokenizer without padding."""
    return _save(tmp_path_factory, "tiny_gpt2", *make_tiny_gpt2())


@pytest.fixture(scope="session")
def llama_path(tmp_path_factory):
    """A tiny Llama (RMSNorm, rotary positions, 64 positions), tokenizer adding BOS."""
    return _save(tmp_path_factory, "tiny_llama", *make_tiny_llama())


@pytest.fixture(scope="session")
def bert_path(tmp_path_factory):
    """A tiny encoder-only BERT without LM head (like a sentence-transformers checkpoint)."""
    return _save(tmp_path_factory, "tiny_bert_encoder", *make_tiny_bert())


@pytest.fixture(scope="session")
def family_paths(gpt2_path, llama_path, bert_path):
    """``{family: (path, model_kind)}`` for the three families beyond encoder-decoders."""
    return {
        "gpt2": (gpt2_path, "auto"),
        "llama": (llama_path, "causal"),
        "prefix-lm": (bert_path, "prefix-lm"),
    }
