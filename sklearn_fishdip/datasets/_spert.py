"""Reader for joint entity-relation data in the SpERT/TANL JSON format (e.g. CoNLL04)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from ..augmented._relations import canonical_target
from ..augmented._schemes import tags_to_spans
from ..utils._validation import check_relation_target, check_tokens

__all__ = ["load_spert"]


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
