"""Readers for benchmark data and the low-resource sampling protocol."""

from ._conll import load_conll
from ._spert import load_spert
from ._subset import low_resource_subset

__all__ = ["load_conll", "load_spert", "low_resource_subset"]
