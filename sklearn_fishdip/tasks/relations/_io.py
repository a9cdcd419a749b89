"""Joint entity-relation files: the SpERT/TANL JSON format (e.g. CoNLL04).

:func:`load_spert` is the data-set reader (re-exported by
:mod:`sklearn_fishdip.datasets`); :class:`CoNLL04Files` is what the command
line reads, writes and scores for a relations model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from ...augmented._schemes import spans_to_tags, tags_to_spans
from ...utils._files import read_text
from ...utils._validation import check_tokens
from .._files import TaskFiles
from ..ner._codec import resolve_overlaps
from ._codec import canonical_target
from ._metrics import relation_precision_recall_f1
from ._validation import check_relation_target

__all__ = ["CoNLL04Files", "load_spert", "read_relations", "relations_record"]


def _entities_of(item):
    if "entities" in item:
        return [(e["start"], e["end"], e["type"]) for e in item["entities"]]
    if "tags" in item:
        if len(item["tags"]) != len(item["tokens"]):
            raise ValueError(f"has {len(item['tags'])} tags for {len(item['tokens'])} tokens")
        return tags_to_spans(item["tags"], scheme="BILOU")
    raise ValueError("has neither 'entities' nor 'tags'")


def load_spert(path, *, encoding: str = "utf-8"):
    """Load joint entity-relation data stored as a JSON list of sentences.

    Each sentence is ``{"tokens": [...], "tags": [...BILOU tags...],
    "relations": [{"head": i, "tail": j, "type": ...}]}`` where ``head`` and
    ``tail`` index the entities in order of appearance (the CoNLL04 files in
    ``../shared/data/conll04``). SpERT's own ``"entities": [{"type", "start",
    "end"}]`` lists are read too.

    Parameters
    ----------
    path : str or path-like
    encoding : str, default="utf-8"

    Returns
    -------
    X : list of list of str
        The sentences' tokens.
    y : list of dict
        ``{"entities": [(start, end, type), ...], "relations": [(head, tail,
        type), ...]}`` with ``end`` exclusive, entities sorted by position
        and relations by ``(head, tail, type)``.

    Raises
    ------
    ValueError
        If the file cannot be read, is not valid JSON (with the line number),
        or a sentence is malformed (with its index).
    """
    path = os.fspath(path)
    try:
        with open(path, encoding=encoding) as handle:
            data = json.load(handle)
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not {encoding} text ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}:{error.lineno}: not valid JSON ({error.msg}, column {error.colno})"
        ) from error
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of sentences, got {type(data).__name__}")
    X, y = [], []
    for index, item in enumerate(data):
        where = f"{path}: sentence {index}"
        try:
            if not isinstance(item, Mapping) or "tokens" not in item:
                raise ValueError("expected an object with 'tokens'")
            tokens = check_tokens(item["tokens"])
            entities = _entities_of(item)
            relations = [(r["head"], r["tail"], r["type"]) for r in item.get("relations", [])]
            entities, relations = check_relation_target(
                {"entities": entities, "relations": relations}, len(tokens)
            )
        except (KeyError, TypeError, ValueError) as error:
            detail = f"missing key {error}" if isinstance(error, KeyError) else str(error)
            raise ValueError(f"{where}: {detail}") from error
        X.append(tokens)
        y.append(canonical_target({"entities": entities, "relations": relations}))
    return X, y


def read_relations(path, *, require_targets=False):
    """Read a CoNLL04 (SpERT/TANL) JSON file; gold entities are optional for prediction.

    Parameters
    ----------
    path : str
    require_targets : bool, default=False
        Refuse sentences without ``"tags"`` or ``"entities"``.

    Returns
    -------
    X : list of list of str
    y : list of dict or None
        None when the sentences carry no entities.
    """
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}:{error.lineno}: not valid JSON ({error.msg}, column {error.colno}); a "
            "relations model reads the CoNLL04 JSON format"
        ) from None
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of sentences, got {type(data).__name__}")
    annotated = all(
        isinstance(item, dict) and ("tags" in item or "entities" in item) for item in data
    )
    if require_targets or annotated:
        return load_spert(path)
    X = []
    for index, item in enumerate(data):
        try:
            if not isinstance(item, dict) or "tokens" not in item:
                raise ValueError("expected an object with 'tokens'")
            X.append(check_tokens(item["tokens"]))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: sentence {index}: {error}") from None
    return X, None


def relations_record(tokens, prediction):
    """One predicted sentence in the CoNLL04 format.

    Overlapping entities are resolved outer-first (BILOU tags cannot nest);
    relations index the kept entities in order of appearance, and those with
    a dropped argument are left out.
    """
    kept = resolve_overlaps(prediction["entities"])
    position = {entity: index for index, entity in enumerate(kept)}
    entities = [tuple(entity) for entity in prediction["entities"]]
    relations = []
    for head, tail, label in prediction["relations"]:
        new_head, new_tail = position.get(entities[head]), position.get(entities[tail])
        if new_head is not None and new_tail is not None:
            relations.append({"head": new_head, "tail": new_tail, "type": label})
    return {
        "tokens": list(tokens),
        "tags": spans_to_tags(kept, len(tokens), "BILOU"),
        "relations": relations,
    }


class CoNLL04Files(TaskFiles):
    """CoNLL04 JSON files for the command line (see :class:`~.._files.TaskFiles`)."""

    description = "the CoNLL04 JSON format"
    output = (
        "writes the CoNLL04 JSON format (tokens, BILOU tags of the predicted entities, "
        "overlapping ones resolved outer-first, and relations over the entities in order of "
        "appearance)."
    )
    report = "entity and strict relation precision, recall and F1."

    def read(self, path, *, gold):
        return read_relations(path, require_targets=gold)

    def write(self, out, X, predicted, gold=None):
        """One JSON list of :func:`relations_record` (gold targets are not written)."""
        records = [relations_record(tokens, prediction) for tokens, prediction in zip(X, predicted)]
        out.write(json.dumps(records) + "\n")

    def scores(self, estimator, y_true, y_pred):
        """``entities`` and strict ``relations`` precision, recall and F1."""
        result, lines = {}, []
        for level in ("entities", "relations"):
            precision, recall, f1 = relation_precision_recall_f1(y_true, y_pred, level=level)
            result[level] = {"precision": precision, "recall": recall, "f1": f1}
            lines.append(
                f"{level:<10} precision {precision:.4f}  recall {recall:.4f}  f1 {f1:.4f}\n"
            )
        result["text"] = "".join(lines)
        return result
