"""JSON encoding of an estimator's parameters and fitted attributes.

Only plain values and a few tagged library types (label verbalizers, decode
error counts, built-in strategies) are stored, so reading a saved folder
never runs code.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

__all__ = ["from_json", "to_json"]


def _strategy_aliases():
    from ..sparse._strategies import _ALIASES

    return _ALIASES


def to_json(value, where):
    """Encode ``value`` as JSON-safe data, tagging the few library types allowed.

    Tuples become lists, paths (a ``checkpoint_dir``) strings and non-finite
    floats None (JSON has no NaN).

    Parameters
    ----------
    value : object
    where : str
        Named in the error message, e.g. ``"parameter random_state"``.

    Returns
    -------
    object
        JSON-safe data.

    Raises
    ------
    TypeError
        If ``value`` holds something that JSON cannot represent.
    """
    from ..augmented._report import DecodeErrors
    from ..augmented._verbalizer import LabelVerbalizer
    from ..sparse._strategies import SparseStrategy

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return to_json(value.tolist(), where)
    if hasattr(value, "detach") and hasattr(value, "tolist"):  # a torch tensor
        return to_json(value.detach().cpu().tolist(), where)
    if isinstance(value, (list, tuple)):
        return [to_json(item, where) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError(f"{where} has non-string keys, which JSON cannot store")
        return {key: to_json(item, where) for key, item in value.items()}
    if isinstance(value, LabelVerbalizer):
        return {
            "__type__": "LabelVerbalizer",
            "labels": list(value.labels),
            "names": list(value.natural_names),
        }
    if isinstance(value, DecodeErrors):
        return {"__type__": "DecodeErrors", "counts": value.as_dict()}
    if isinstance(value, SparseStrategy):
        if _strategy_aliases().get(value.name) is not type(value):
            raise TypeError(
                f"{where} is a custom strategy ({type(value).__name__}), which a JSON file "
                "cannot rebuild; save with pickle/joblib instead, or use a built-in strategy"
            )
        return {
            "__type__": "SparseStrategy",
            "name": value.name,
            "params": to_json(value.get_params(deep=False), where),
        }
    raise TypeError(
        f"{where} = {value!r} ({type(value).__name__}) cannot be stored as JSON; use "
        "plain values (e.g. an int random_state) or save with pickle/joblib instead"
    )


def from_json(value, where):
    """Decode data written by :func:`to_json` (only the tagged library types)."""
    from ..augmented._report import DecodeErrors
    from ..augmented._verbalizer import LabelVerbalizer

    if isinstance(value, list):
        return [from_json(item, where) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("__type__")
    if kind is None:
        return {key: from_json(item, where) for key, item in value.items()}
    try:
        if kind == "LabelVerbalizer":
            return LabelVerbalizer(value["labels"], dict(zip(value["labels"], value["names"])))
        if kind == "DecodeErrors":
            return DecodeErrors(**value["counts"])
        if kind == "SparseStrategy":
            strategy = _strategy_aliases()[value["name"]]()
            return strategy.set_params(**value["params"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{where}: malformed {kind} entry ({error})") from None
    raise ValueError(f"{where}: unknown entry type {kind!r}")
