"""Tiny models and tokenized examples shared by the sparse-engine tests."""

import pytest

from sklearn_fishdip.utils._testing import make_tiny_bert2bert, make_tiny_t5

SOURCES = [
    "john lives in paris",
    "he met mary smith in new york today",
    "google",
    "the bank of rome is a bank",
    "anna joined acme",
]
TARGETS = [
    "[ john | person ] lives in [ paris | location ]",
    "he met [ mary smith | person ]",
    "[ google | organization ] and",
    "the bank",
    "[ anna | person ] joined [ acme | organization ] on monday",
]


def tokenize(tokenizer, n=5):
    """``n`` tokenized examples of different source and target lengths."""
    return [
        {
            "input_ids": tokenizer(SOURCES[i % 5]).input_ids,
            "labels": tokenizer(TARGETS[i % 5]).input_ids,
        }
        for i in range(n)
    ]


@pytest.fixture
def t5():
    return make_tiny_t5()


@pytest.fixture
def bert2bert():
    return make_tiny_bert2bert()
