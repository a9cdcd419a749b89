"""Readers for benchmark data and the low-resource sampling protocol.

Each task's reader lives in its folder (``sklearn_fishdip/tasks/<task>/_io.py``)
and is re-exported here.
"""

from ..tasks.ner._io import load_conll
from ..tasks.relations._io import load_spert
from ._home import get_data_home
from ._subset import low_resource_subset

__all__ = ["get_data_home", "load_conll", "load_spert", "low_resource_subset"]
