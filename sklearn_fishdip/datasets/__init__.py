"""Readers for benchmark data and the low-resource sampling protocol."""

from ._conll import load_conll
from ._home import get_data_home
from ._spert import load_spert
from ._subset import low_resource_subset

__all__ = ["get_data_home", "load_conll", "load_spert", "low_resource_subset"]
