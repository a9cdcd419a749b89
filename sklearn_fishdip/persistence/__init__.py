"""Saving fitted estimators as a sparse delta from their base model.

Pickles and ``save`` folders hold only the entries that differ from the base
model, plus JSON; ``load`` reads a folder without unpickling anything. One
module per job: ``_delta`` (compute and apply the difference), ``_json``
(parameters and attributes as JSON), ``_state`` (the base model's identity,
rebuilding, pickle state), ``_folder`` (save/load folders and their manifest)
and ``_mixin`` (the estimators' ``save``/``load``/pickle methods).
"""

from ._delta import (
    apply_delta,
    compute_delta,
    count_changed_parameters,
    delta_payload_bytes,
    weight_bytes,
)
from ._folder import DELTA_NAME, MANIFEST_NAME, load_estimator, read_manifest, save_estimator
from ._json import from_json, to_json
from ._mixin import PersistenceMixin
from ._state import FORMAT_VERSION, PICKLE_KEY, getstate, rebuild_model, setstate

__all__ = [
    "DELTA_NAME",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "PICKLE_KEY",
    "PersistenceMixin",
    "apply_delta",
    "compute_delta",
    "count_changed_parameters",
    "delta_payload_bytes",
    "from_json",
    "getstate",
    "load_estimator",
    "read_manifest",
    "rebuild_model",
    "save_estimator",
    "setstate",
    "to_json",
    "weight_bytes",
]
