"""Saved folders: ``estimator.json`` and ``delta.safetensors``, read without unpickling.

The folder is read with :mod:`json` and :mod:`safetensors` only, so loading a
downloaded folder never unpickles anything (no code can run). The class is
found through the registry of estimators, so a new task needs no change here.
"""

from __future__ import annotations

import json
import os
import warnings

from ._delta import delta_payload_bytes
from ._json import from_json, to_json
from ._state import FORMAT, FORMAT_VERSION, REBUILT, delta_of, fitted_attributes, rebuild_model

__all__ = ["DELTA_NAME", "MANIFEST_NAME", "load_estimator", "read_manifest", "save_estimator"]

MANIFEST_NAME = "estimator.json"
DELTA_NAME = "delta.safetensors"


def _known_classes():
    from .._registry import all_estimators

    return {cls.__name__: cls for _, cls in all_estimators()}


def _class_name(cls):
    # The library's estimators are stored under their public name: private
    # module paths change when code moves. Other classes keep their full path.
    if _known_classes().get(cls.__name__) is cls:
        return f"sklearn_fishdip.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _resolve_saved_class(saved_class):
    """The registered class a manifest names, older private paths included
    (``sklearn_fishdip._ner.FishDipNER``), or None."""
    package, _, name = saved_class.partition(".")
    if package != "sklearn_fishdip":
        return None
    return _known_classes().get(name.rpartition(".")[2])


def save_estimator(estimator, path):
    """Write a fitted estimator to a folder: ``estimator.json`` and ``delta.safetensors``.

    Parameters
    ----------
    estimator : BaseFishDip
        A fitted estimator whose parameters JSON can store.
    path : str or path-like
        The folder; created if needed, its two files overwritten.

    Returns
    -------
    str
        The folder.

    Raises
    ------
    TypeError
        If a parameter or fitted attribute cannot be stored as JSON (the
        message names it).
    """
    from safetensors.torch import save_file

    from .._version import __version__

    path = os.fspath(path)
    # Encode everything before writing anything: a bad parameter leaves no half-written folder.
    params = {
        name: to_json(value, f"parameter {name}")
        for name, value in estimator.get_params(deep=False).items()
    }
    attributes = {
        name: to_json(value, f"attribute {name}")
        for name, value in fitted_attributes(estimator).items()
    }
    tensors, mode, n_changed, fingerprint = delta_of(estimator)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": _class_name(type(estimator)),
        "library_version": __version__,
        "params": params,
        "base_model": fingerprint,
        "delta": {
            "file": DELTA_NAME,
            "mode": mode,
            "n_changed": n_changed,
            "payload_bytes": delta_payload_bytes(tensors),
        },
        "attributes": attributes,
    }
    os.makedirs(path, exist_ok=True)
    save_file(tensors, os.path.join(path, DELTA_NAME), metadata={"format": FORMAT, "mode": mode})
    # The manifest last: a folder without it is not a (half-)saved estimator.
    with open(os.path.join(path, MANIFEST_NAME), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, allow_nan=False)
        handle.write("\n")
    return path


def read_manifest(path):
    """Read and check the ``estimator.json`` of a saved folder.

    Parameters
    ----------
    path : str or path-like
        The folder.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        If the folder or its manifest is missing or malformed.
    """
    path = os.fspath(path)
    manifest_path = os.path.join(path, MANIFEST_NAME)
    if not os.path.isdir(path):
        raise ValueError(f"{path}: no such folder (expected a folder written by save())")
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        raise ValueError(
            f"{path}: not a saved sklearn-fishdip estimator (no {MANIFEST_NAME})"
        ) from None
    except OSError as error:
        raise ValueError(f"{manifest_path}: cannot read the file ({error.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = f":{error.lineno}" if isinstance(error, json.JSONDecodeError) else ""
        raise ValueError(f"{manifest_path}{line}: not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{manifest_path}: not a sklearn-fishdip estimator manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{manifest_path}: format version {manifest.get('format_version')!r} is not "
            f"supported (this version reads {FORMAT_VERSION}); upgrade sklearn-fishdip"
        )
    for key in ("class", "params", "base_model", "delta", "attributes"):
        if key not in manifest:
            raise ValueError(f"{manifest_path}: missing {key!r}")
    return manifest


def load_estimator(path, cls=None):
    """Load a folder written by :func:`save_estimator`, without unpickling anything.

    Parameters
    ----------
    path : str or path-like
        The folder.
    cls : type or None, default=None
        The expected estimator class; a folder that holds another class is
        refused. None accepts the library's estimators (FishDipNER,
        FishDipRelationExtractor).

    Returns
    -------
    BaseFishDip
        The fitted estimator, its model rebuilt from the cached base model.

    Raises
    ------
    ValueError
        If the folder is not a saved estimator, holds another class, or its
        base model cannot be loaded or has changed.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from .._version import __version__

    path = os.fspath(path)
    manifest = read_manifest(path)
    saved_class = manifest["class"]
    if cls is None:
        cls = _resolve_saved_class(saved_class)
        if cls is None:
            raise ValueError(
                f"{path}: holds a {saved_class}, not one of the library's estimators; "
                "load it with its own class's load()"
            )
    elif saved_class != _class_name(cls) and _resolve_saved_class(saved_class) is not cls:
        raise ValueError(
            f"{path}: holds a {saved_class}, not a {_class_name(cls)}; load it with "
            f"{saved_class.rpartition('.')[2]}.load()"
        )
    if manifest.get("library_version") != __version__:
        warnings.warn(
            f"{path} was saved with sklearn-fishdip {manifest.get('library_version')}, "
            f"this is {__version__}",
            UserWarning,
            stacklevel=3,
        )

    params = from_json(manifest["params"], f"{path}: params")
    valid = set(cls().get_params(deep=False))
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ValueError(f"{path}: unknown parameters {unknown} for {cls.__name__}")
    estimator = cls(**params)
    for name, value in from_json(manifest["attributes"], f"{path}: attributes").items():
        if not (name.endswith("_") and not name.startswith("_")) or name in REBUILT:
            raise ValueError(f"{path}: unexpected attribute {name!r}")
        setattr(estimator, name, value)

    delta_path = os.path.join(path, manifest["delta"].get("file", DELTA_NAME))
    if os.path.dirname(os.path.relpath(delta_path, path)) or not os.path.isfile(delta_path):
        raise ValueError(f"{delta_path}: missing delta file")
    try:
        tensors = load_file(delta_path, device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(f"{delta_path}: not a valid safetensors file ({error})") from None
    rebuild_model(estimator, manifest["base_model"], tensors, source=path)
    return estimator
