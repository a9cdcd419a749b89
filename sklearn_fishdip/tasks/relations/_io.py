"""Joint entity-relation files: the SpERT/TANL JSON format (e.g. CoNLL04).

:func:`load_spert` is the data-set reader (re-exported by
:mod:`sklearn_fishdip.datasets`); :class:`CoNLL04Files` is what the command
line reads, writes and scores for a relations model.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

from ...augmented._schemes import spans_to_tags, tags_to_spans
from ...utils._files import read_text
from ...utils._validation import check_tokens
from .._files import TaskFiles
from ..ner._codec import resolve_overlaps
from ._codec import canonical_target
from ._metrics import relation_precision_recall_f1
from ._validation import check_relation_target

__all__ = [
    "CoNLL04Files",
    "iter_relations",
    "load_spert",
    "read_relations",
    "relations_record",
]


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
        tokens, target = _annotated_sentence(path, index, item)
        X.append(tokens)
        y.append(target)
    return X, y


def _annotated_sentence(path, index, item):
    """``(tokens, target)`` of one annotated sentence; a ValueError naming it."""
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
        raise ValueError(f"{path}: sentence {index}: {detail}") from error
    return tokens, canonical_target({"entities": entities, "relations": relations})


def _bare_sentence(path, index, item):
    """The tokens of one sentence to tag; a ValueError naming it."""
    try:
        if not isinstance(item, dict) or "tokens" not in item:
            raise ValueError("expected an object with 'tokens'")
        return check_tokens(item["tokens"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: sentence {index}: {error}") from None


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
    return [_bare_sentence(path, index, item) for index, item in enumerate(data)], None


def _is_annotated(item):
    return isinstance(item, dict) and ("tags" in item or "entities" in item)


class _NotAList(Exception):
    """The text is not a well-formed JSON list: the one-shot reader says why."""


# What json calls whitespace between values.
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _json_list_items(handle, block_size=1 << 16):
    """Yield the items of the JSON list an open text file holds, reading a block at a time.

    Raises ``_NotAList`` where the text is anything else, so that the caller
    can re-read the file whole for the exact message of :func:`json.loads`.
    """
    decoder = json.JSONDecoder()
    buffer, pos, eof = "", 0, False
    state = "open"  # then "first" (an item or "]"), "item", "separator", "done"
    while state != "done":
        pos = _JSON_SPACE.match(buffer, pos).end()
        if pos == len(buffer):
            if eof:
                raise _NotAList
            block = handle.read(block_size)
            buffer, pos, eof = buffer[pos:] + block, 0, not block
            continue
        char = buffer[pos]
        if state == "open":
            if char != "[":
                raise _NotAList
            pos, state = pos + 1, "first"
        elif state == "separator" or (state == "first" and char == "]"):
            if char not in ",]":
                raise _NotAList
            pos, state = pos + 1, "done" if char == "]" else "item"
        else:
            try:
                item, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError:
                end = None
            # An item that fails, or ends with the buffer (a number may go on), may
            # continue in the next block.
            if end is None or (end == len(buffer) and not eof):
                if eof:
                    raise _NotAList
                # Twice as much each time: a long item (or a malformed file, read to
                # its end before the error is reported) costs few re-parses.
                block = handle.read(max(block_size, 2 * (len(buffer) - pos)))
                buffer, pos, eof = buffer[pos:] + block, 0, not block
                continue
            yield item
            pos, state = end, "separator"
    # Only whitespace may follow the list.
    while True:
        if _JSON_SPACE.match(buffer, pos).end() != len(buffer):
            raise _NotAList
        buffer, pos = handle.read(block_size), 0
        if not buffer:
            return


def _relations_chunk(path, start, items, require_targets):
    if require_targets or all(_is_annotated(item) for item in items):
        pairs = [_annotated_sentence(path, start + i, item) for i, item in enumerate(items)]
        return [tokens for tokens, _ in pairs], [target for _, target in pairs]
    return [_bare_sentence(path, start + i, item) for i, item in enumerate(items)], None


def iter_relations(path, *, require_targets=False, chunk_size=1000):
    """Read a CoNLL04 (SpERT/TANL) JSON file lazily, ``chunk_size`` sentences at a time.

    The JSON list is parsed item by item from blocks of the file, so memory
    holds one chunk whatever the file's size. Sentences are checked as
    :func:`read_relations` checks them, with the same messages. Gold
    entities are read per chunk: a chunk whose sentences all carry ``"tags"``
    or ``"entities"`` has targets (checked), another has None. A file that
    is not a well-formed JSON list is then read whole, to raise the
    one-shot reader's message (with its line number), after the chunks
    before the error.

    Parameters
    ----------
    path : str
    require_targets : bool, default=False
        Refuse sentences without ``"tags"`` or ``"entities"``.
    chunk_size : int, default=1000
        Sentences per chunk (the last one may hold fewer).

    Yields
    ------
    X : list of list of str
    y : list of dict or None
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    start, items, malformed = 0, [], False
    try:
        with open(path, encoding="utf-8") as handle:
            try:
                for item in _json_list_items(handle):
                    items.append(item)
                    if len(items) == chunk_size:
                        yield _relations_chunk(path, start, items, require_targets)
                        start, items = start + len(items), []
            except _NotAList:
                malformed = True
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not utf-8 text ({error.reason})") from None
    if malformed:
        read_relations(path, require_targets=require_targets)  # raises the exact error
        raise ValueError(f"{path}: not valid JSON")  # pragma: no cover (the line above raised)
    if items:
        yield _relations_chunk(path, start, items, require_targets)


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

    def iter_read(self, path, *, gold, chunk_size):
        """Chunks of :func:`iter_relations`: the JSON list is parsed item by item."""
        return iter_relations(path, require_targets=gold, chunk_size=chunk_size)

    def write_chunks(self, out, chunks):
        """The JSON list of :meth:`write`, byte for byte, written record by record."""
        out.write("[")
        separator = ""
        for X, predicted, _ in chunks:
            for tokens, prediction in zip(X, predicted):
                out.write(separator + json.dumps(relations_record(tokens, prediction)))
                separator = ", "  # json.dumps's item separator
        out.write("]\n")

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
