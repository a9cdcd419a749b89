"""Small, safe persistence of fitted estimators: the sparse difference from the base model.

A FISH-DIP model differs from its pretrained base in about 1% of its weights,
so a fitted estimator is stored as

* the identity of the base model (name or path, revision and the sha256 of its
  weights, from :func:`~sklearn_fishdip.models.base_model_fingerprint`),
* the *delta*: for every parameter (tied weights once) that changed, the flat
  indices (int32) and the values of the entries that differ bit for bit, or
  the whole tensor where that is smaller,
* the estimator's parameters and its other fitted attributes (vocabularies,
  histories, counts).

The tokenizer and the weights are rebuilt from the process-cached base model;
a base whose checksum differs is refused. When more than half of the entries
changed (``strategy="full"``), every parameter is stored whole ("full" mode),
which is then smaller than indices plus values.

Two containers share this layout:

* ``pickle``/``joblib`` (``BaseFishDip.__getstate__``): the delta is one
  safetensors blob (bytes) inside the pickled state.
* ``save``/``load``: a folder with ``estimator.json`` and
  ``delta.safetensors``, read with :mod:`json` and :mod:`safetensors` only, so
  loading a downloaded folder never unpickles anything (no code can run).

Stored tensors are always CPU tensors and nothing device-specific is kept, so
a model trained on a GPU loads on a CPU-only machine.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import warnings

import numpy as np

__all__ = [
    "PICKLE_KEY",
    "DELTA_NAME",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "compute_delta",
    "apply_delta",
    "delta_payload_bytes",
    "weight_bytes",
    "load_estimator",
    "save_estimator",
]

FORMAT = "sklearn-fishdip"
FORMAT_VERSION = 1
MANIFEST_NAME = "estimator.json"
DELTA_NAME = "delta.safetensors"

# Above this fraction of changed entries the whole model is stored ("full" mode).
FULL_FRACTION = 0.5

# Fitted attributes rebuilt from the base model rather than stored.
_REBUILT = frozenset({"model_", "tokenizer_", "uncased_", "grammar_"})

# Key of the pickled state that holds the delta and the base model's identity.
PICKLE_KEY = "_fishdip_persisted"

_INDEX_SUFFIX, _VALUE_SUFFIX, _FULL_SUFFIX = "::indices", "::values", "::full"


# --------------------------------------------------------------------------- #
# The delta
# --------------------------------------------------------------------------- #


def _named_tensors(model):
    """Parameters (tied ones once, under their first name) and buffers of ``model``."""
    tensors = dict(model.named_parameters())
    for name, buffer in model.named_buffers():
        tensors.setdefault(name, buffer)
    return tensors


def weight_bytes(model) -> int:
    """Bytes of ``model``'s parameters, tied weights counted once.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    int
    """
    return sum(p.numel() * p.element_size() for p in model.parameters())


def _changed(tensor, base):
    """Boolean mask of the entries whose bits differ (so NaN and -0.0 are exact)."""
    import torch

    widths = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
    if tensor.dtype == torch.bool or tensor.element_size() not in widths:
        return tensor != base
    as_int = widths[tensor.element_size()]
    return tensor.view(as_int) != base.view(as_int)


def compute_delta(model, base, *, full=False):
    """The entries of ``model`` that differ from ``base``, as CPU tensors.

    Parameters
    ----------
    model : torch.nn.Module
        The fine-tuned model, on any device.
    base : torch.nn.Module
        The base model it was fine-tuned from (same architecture).
    full : bool, default=False
        Store every parameter whole. Also chosen automatically when more than
        half of all entries changed.

    Returns
    -------
    tensors : dict of str to torch.Tensor
        Contiguous CPU tensors: ``"<name>::indices"`` (int32 flat indices,
        int64 for tensors of more than 2**31 entries) and ``"<name>::values"``
        per sparsely stored tensor, ``"<name>::full"`` per whole one.
    mode : {"delta", "full"}
        Whether every parameter was stored whole.
    n_changed : int
        Number of entries that differ from the base.

    Raises
    ------
    ValueError
        If the two models do not have the same tensors.
    """
    import torch

    base_tensors = _named_tensors(base)
    changes = {}
    with torch.no_grad():
        for name, tensor in _named_tensors(model).items():
            reference = base_tensors.get(name)
            if reference is None or reference.shape != tensor.shape:
                raise ValueError(
                    f"the base model has no tensor {name!r} of shape {tuple(tensor.shape)}"
                )
            # CPU first: nothing device-specific is stored, whatever the training device.
            flat = tensor.detach().to("cpu").reshape(-1)
            if flat.dtype != reference.dtype:
                flat = flat.to(reference.dtype)
            changes[name] = (flat, _changed(flat, reference.detach().reshape(-1)))
    n_changed = sum(int(mask.sum()) for _, mask in changes.values())
    n_total = sum(flat.numel() for flat, _ in changes.values())
    mode = "full" if full or n_changed > FULL_FRACTION * max(n_total, 1) else "delta"

    parameters = {name for name, _ in model.named_parameters()}
    tensors = {}
    for name, (flat, mask) in changes.items():
        if mode == "full" and name in parameters:
            tensors[name + _FULL_SUFFIX] = flat.clone().contiguous()
            continue
        count = int(mask.sum())
        if not count:
            continue
        index_dtype = torch.int32 if flat.numel() <= np.iinfo(np.int32).max else torch.int64
        index_size = torch.empty((), dtype=index_dtype).element_size()
        # Indices plus values only where that is smaller than the whole tensor.
        if count * (index_size + flat.element_size()) >= flat.numel() * flat.element_size():
            tensors[name + _FULL_SUFFIX] = flat.clone().contiguous()
        else:
            indices = torch.nonzero(mask, as_tuple=False).reshape(-1)
            tensors[name + _INDEX_SUFFIX] = indices.to(index_dtype).contiguous()
            tensors[name + _VALUE_SUFFIX] = flat[indices].contiguous()
    return tensors, mode, n_changed


def delta_payload_bytes(tensors) -> int:
    """Bytes of the stored indices and values, without container overhead.

    Parameters
    ----------
    tensors : dict of str to torch.Tensor
        As returned by :func:`compute_delta`.

    Returns
    -------
    int
    """
    return sum(t.numel() * t.element_size() for t in tensors.values())


def apply_delta(model, tensors, *, source="the stored delta"):
    """Write a delta from :func:`compute_delta` into ``model`` in place.

    Parameters
    ----------
    model : torch.nn.Module
        A fresh copy of the base model.
    tensors : dict of str to torch.Tensor
        The delta.
    source : str, default="the stored delta"
        Named in error messages (e.g. the file).

    Raises
    ------
    ValueError
        If the delta does not fit the model (unknown tensor, wrong dtype,
        shape or index): the file is corrupt or belongs to another model.
    """
    import torch

    targets = _named_tensors(model)
    names = {key.rpartition("::")[0] for key in tensors}
    with torch.no_grad():
        for name in sorted(names):
            target = targets.get(name)
            if target is None:
                raise ValueError(f"{source}: the base model has no tensor {name!r}")
            flat = target.view(-1)
            whole = tensors.get(name + _FULL_SUFFIX)
            if whole is not None:
                if whole.dtype != flat.dtype or whole.numel() != flat.numel():
                    raise ValueError(
                        f"{source}: {name!r} holds {whole.numel()} {whole.dtype} entries, the "
                        f"base model {flat.numel()} {flat.dtype} ones"
                    )
                flat.copy_(whole.reshape(-1))
                continue
            indices, values = tensors.get(name + _INDEX_SUFFIX), tensors.get(name + _VALUE_SUFFIX)
            if indices is None or values is None:
                raise ValueError(f"{source}: {name!r} needs both indices and values")
            if indices.dtype not in (torch.int32, torch.int64) or indices.dim() != 1:
                raise ValueError(f"{source}: indices of {name!r} must be a flat int32 array")
            if values.dtype != flat.dtype or values.shape != indices.shape:
                raise ValueError(
                    f"{source}: values of {name!r} must be {indices.numel()} {flat.dtype} entries"
                )
            indices = indices.long()
            if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= flat.numel()):
                raise ValueError(f"{source}: an index of {name!r} is out of range")
            flat[indices] = values


# --------------------------------------------------------------------------- #
# JSON encoding of parameters and fitted attributes
# --------------------------------------------------------------------------- #


def _strategy_aliases():
    from ..sparse._strategies import _ALIASES

    return _ALIASES


def to_json(value, where):
    """Encode ``value`` as JSON-safe data, tagging the few library types allowed.

    Tuples become lists and non-finite floats become None (JSON has no NaN).

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


def _fitted_attributes(estimator):
    """Public fitted attributes other than those rebuilt from the base model."""
    return {
        name: value
        for name, value in vars(estimator).items()
        if name.endswith("_") and not name.startswith("_") and name not in _REBUILT
    }


# --------------------------------------------------------------------------- #
# Rebuilding the model from the base
# --------------------------------------------------------------------------- #


def _base_fingerprint(name_or_path, revision=None):
    from ..models import base_model_fingerprint

    return base_model_fingerprint(name_or_path, revision=revision)


def _delta_of(estimator):
    """(tensors, mode, n_changed, fingerprint) of a fitted estimator."""
    from ..models import load_seq2seq
    from ..sparse import resolve_strategy

    fingerprint = _base_fingerprint(estimator.model)
    base = load_seq2seq(estimator.model).model
    full = getattr(resolve_strategy(estimator.strategy), "name", None) == "full"
    tensors, mode, n_changed = compute_delta(estimator.model_, base, full=full)
    return tensors, mode, n_changed, fingerprint


def rebuild_model(estimator, base, tensors, *, source):
    """Load the base model, check its checksum, apply the delta, set the rebuilt attributes.

    Parameters
    ----------
    estimator : BaseFishDip
        With its parameters and vocabularies already restored.
    base : dict
        The stored fingerprint: ``name_or_path``, ``revision``, ``sha256``.
    tensors : dict of str to torch.Tensor
        The delta.
    source : str
        What is being loaded, for error messages.

    Raises
    ------
    ValueError
        If the base model cannot be loaded or its checksum differs.
    """
    from ..generation import AugmentedGrammar
    from ..models import load_seq2seq

    name, revision = base["name_or_path"], base.get("revision")
    try:
        current = _base_fingerprint(name, revision)
        loaded = load_seq2seq(name, revision=revision)
    except ValueError as error:
        raise ValueError(
            f"{source}: the base model {name!r} it was fine-tuned from cannot be loaded: {error}"
        ) from None
    if current["sha256"] != base["sha256"]:
        raise ValueError(
            f"{source}: the base model {name!r} has changed: the estimator was fine-tuned from "
            f"weights with sha256 {base['sha256']}, but {name!r} now loads weights with sha256 "
            f"{current['sha256']}. The stored difference only applies to the original weights; "
            "restore them (same folder contents, revision or package version)."
        )
    apply_delta(loaded.model, tensors, source=source)
    estimator.model_ = loaded.model.eval()
    estimator.tokenizer_ = loaded.tokenizer
    estimator.uncased_ = loaded.uncased
    estimator.grammar_ = AugmentedGrammar(loaded.tokenizer, *estimator._natural_vocabulary())
    _warn_unavailable_device(estimator, source)


def _warn_unavailable_device(estimator, source):
    import torch

    device = str(getattr(estimator, "device", "auto"))
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(
            f"{source} was saved with device={device!r} but CUDA is not available here; the "
            "model is on the CPU: call set_params(device='cpu') (or 'auto') before predicting",
            UserWarning,
            stacklevel=4,
        )


# --------------------------------------------------------------------------- #
# pickle / joblib
# --------------------------------------------------------------------------- #


def getstate(estimator, state):
    """Replace the model, tokenizer and grammar of a pickled state by the delta.

    Parameters
    ----------
    estimator : BaseFishDip
        A fitted estimator.
    state : dict
        A copy of its ``__dict__`` (as ``BaseEstimator.__getstate__`` gives).

    Returns
    -------
    dict
        The state to pickle.
    """
    from safetensors.torch import save

    tensors, mode, n_changed, fingerprint = _delta_of(estimator)
    for name in _REBUILT:
        state.pop(name, None)
    state[PICKLE_KEY] = {
        "format_version": FORMAT_VERSION,
        "base_model": fingerprint,
        "mode": mode,
        "n_changed": n_changed,
        # One safetensors blob: compact, and nothing device-specific or torch-pickled.
        "delta": save(tensors, metadata={"format": FORMAT, "mode": mode}),
    }
    return state


def setstate(estimator, state):
    """Restore a state written by :func:`getstate` (after ``__dict__`` is updated).

    Parameters
    ----------
    estimator : BaseFishDip
    state : dict
        The persisted part, popped from the unpickled state.
    """
    from safetensors.torch import load

    if state.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"pickled {type(estimator).__name__} uses persistence format "
            f"{state.get('format_version')!r}; this version reads format {FORMAT_VERSION}"
        )
    rebuild_model(
        estimator,
        state["base_model"],
        load(state["delta"]),
        source=f"the pickled {type(estimator).__name__}",
    )


# --------------------------------------------------------------------------- #
# save / load folders
# --------------------------------------------------------------------------- #


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
        for name, value in _fitted_attributes(estimator).items()
    }
    tensors, mode, n_changed, fingerprint = _delta_of(estimator)
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
        if not (name.endswith("_") and not name.startswith("_")) or name in _REBUILT:
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
