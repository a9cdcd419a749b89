"""Saving fitted estimators as a sparse delta from their base model.

Pickles and ``save`` folders hold only the entries that differ from the base
model, plus JSON; ``load`` reads a folder without unpickling anything.
"""

from ._estimator import (
    DELTA_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    PICKLE_KEY,
    apply_delta,
    compute_delta,
    delta_payload_bytes,
    from_json,
    getstate,
    load_estimator,
    read_manifest,
    rebuild_model,
    save_estimator,
    setstate,
    to_json,
    weight_bytes,
)

__all__ = [
    "DELTA_NAME",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "PICKLE_KEY",
    "apply_delta",
    "compute_delta",
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
