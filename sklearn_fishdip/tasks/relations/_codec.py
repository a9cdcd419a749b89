"""Joint entity and relation extraction as augmented text.

Every entity is bracketed; a relation is written on its head as an extra tag
holding the tail's words:
``[ Smith | person | works for = Acme ] joined [ Acme | organization ]``.

Targets are ``{"entities": [(start, end, type), ...], "relations": [(head,
tail, type), ...]}`` with ``end`` exclusive and ``head``/``tail`` indexing
``entities``. Decoding returns them in canonical order: entities sorted by
``(start, end, type)``, relations by ``(head, tail, type)``.

The public functions (re-exported by :mod:`sklearn_fishdip.augmented`) check
and escape their tokens; :class:`RelationsCodec`, used by
:class:`FishDipRelationExtractor` through the shared base, receives words
already checked and escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ...augmented._entities import build_verbalizer, escape_tokens, read_entities, warn_crossing
from ...augmented._parser import parse_augmented
from ...augmented._verbalizer import LabelVerbalizer
from ...augmented._writer import Annotation, write_augmented
from ...utils._validation import check_tokens
from .._codec import TaskCodec
from ._validation import check_relation_target

__all__ = [
    "RelationsCodec",
    "encode_relations",
    "decode_relations",
    "canonical_target",
    "ambiguous_relations",
]


def _split_label_names(label_names, entity_types, relation_types):
    """One ``label_names`` for both vocabularies -> (entity, relation) verbalizers."""
    if label_names is not None and not isinstance(label_names, Mapping):
        raise TypeError(
            "label_names must be a dict of short label -> natural name, got "
            f"{type(label_names).__name__}"
        )
    names = dict(label_names or {})
    entity_names = {k: v for k, v in names.items() if k in entity_types}
    relation_names = {k: v for k, v in names.items() if k in relation_types}
    return (
        build_verbalizer(entity_types, entity_names),
        build_verbalizer(relation_types, relation_names),
    )


def canonical_target(target):
    """Sort a target's entities by ``(start, end, type)`` and its relations by index.

    Parameters
    ----------
    target : dict
        ``{"entities": [...], "relations": [...]}``.

    Returns
    -------
    dict
        A new target with lists of tuples, relation indices remapped.
    """
    entities = [tuple(entity) for entity in target["entities"]]
    order = sorted(range(len(entities)), key=lambda i: entities[i])
    new_index = {old: new for new, old in enumerate(order)}
    relations = sorted(
        (new_index[head], new_index[tail], label)
        for head, tail, label in (tuple(r) for r in target.get("relations", []))
    )
    return {"entities": [entities[i] for i in order], "relations": relations}


def encode_relations(tokens, target, label_names=None) -> str:
    """Write a sentence with its entities and relations as augmented text.

    Parameters
    ----------
    tokens : list of str
        The sentence; tokens holding ``[ ] | =`` are escaped reversibly.
    target : dict
        ``{"entities": [(start, end, type), ...], "relations": [(head, tail, type), ...]}``.
    label_names : dict, optional
        Natural names for entity and relation types, overriding the defaults
        (``Peop`` -> ``person``, ``Work_For`` -> ``works for``, ...).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For spans out of range or empty, relation indices out of range,
        duplicates, or labels that cannot be verbalized.

    Examples
    --------
    >>> encode_relations(
    ...     ["Smith", "joined", "Acme"],
    ...     {"entities": [(0, 1, "Peop"), (2, 3, "Org")], "relations": [(0, 1, "Work_For")]})
    '[ Smith | person | works for = Acme ] joined [ Acme | organization ]'
    """
    tokens = check_tokens(tokens)
    entities, relations = check_relation_target(target, len(tokens))
    target = canonical_target({"entities": entities, "relations": relations})
    entity_verbalizer, relation_verbalizer = _split_label_names(
        label_names,
        sorted({label for _, _, label in entities}),
        sorted({label for _, _, label in relations}),
    )
    return _write(escape_tokens(tokens), target, entity_verbalizer, relation_verbalizer)


def _write(words, target, entity_verbalizer, relation_verbalizer) -> str:
    entities = target["entities"]
    annotations = []
    for index, (start, end, label) in enumerate(entities):
        tags = tuple(
            (
                relation_verbalizer.verbalize(rel),
                " ".join(words[entities[tail][0] : entities[tail][1]]),
            )
            for head, tail, rel in target["relations"]
            if head == index
        )
        annotations.append(Annotation(start, end, entity_verbalizer.verbalize(label), tags))
    text, dropped = write_augmented(words, annotations)
    if dropped:
        warn_crossing(dropped)
    return text


def _gap(a, b) -> int:
    return min(abs(a.start - b.end), abs(b.start - a.end))


def decode_relations(
    text,
    tokens,
    entity_types,
    relation_types,
    label_names=None,
    *,
    ignore_case: bool = False,
):
    """Read entities and relations from generated augmented text; never raises on bad text.

    A relation's tail is resolved as the reference does: among the other valid
    entities whose generated words equal the tail text, the nearest to the
    head (smallest gap, then order of appearance) that does not repeat an
    existing relation.

    Parameters
    ----------
    text : str
        Generated text.
    tokens : list of str
        The source sentence.
    entity_types, relation_types : iterable of str
        The allowed short labels.
    label_names : dict, optional
        As in :func:`encode_relations`.
    ignore_case : bool, default=False
        Compare words and label names case-insensitively (uncased models).

    Returns
    -------
    target : dict
        ``{"entities": [...], "relations": [...]}`` in canonical order.
    errors : DecodeErrors
        This sentence's error flags; ``entity_error`` means a tail matched no
        entity.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    tokens = check_tokens(tokens)
    entity_types, relation_types = list(entity_types), list(relation_types)
    entity_verbalizer, relation_verbalizer = _split_label_names(
        label_names, entity_types, relation_types
    )
    return _read(
        text, escape_tokens(tokens), entity_verbalizer, relation_verbalizer, ignore_case=ignore_case
    )


def _read(text, words, entity_verbalizer: LabelVerbalizer, relation_verbalizer, *, ignore_case):
    fold = str.casefold if ignore_case else str
    decoded, errors = read_entities(
        parse_augmented(text), words, entity_verbalizer, ignore_case=ignore_case
    )
    # One entity per (span, type); relation tags of a repeated bracket are merged.
    entities, tags_of, position = [], [], {}
    for entity in decoded:
        key = (entity.start, entity.end, entity.label)
        if key not in position:
            position[key] = len(entities)
            entities.append(entity)
            tags_of.append([])
        tags_of[position[key]].extend(entity.extra_tags)

    format_error, label_error, entity_error = False, False, False
    relations: list[tuple[int, int, str]] = []
    for head, head_entity in enumerate(entities):
        for tag in tags_of[head]:
            if len(tag) != 2:
                format_error = True
                continue
            relation = relation_verbalizer.parse(tag[0], ignore_case=ignore_case)
            if relation is None:
                label_error = True
                continue
            tail_name = fold(tag[1])
            candidates = [
                index
                for index, candidate in enumerate(entities)
                if index != head and fold(candidate.name) == tail_name
            ]
            if not candidates:
                entity_error = True
                continue
            candidates.sort(key=lambda index: _gap(entities[index], head_entity))
            for tail in candidates:
                if (head, tail, relation) not in relations:
                    relations.append((head, tail, relation))
                    break
    errors = replace(
        errors,
        format_error=int(errors.format_error or format_error),
        label_error=int(errors.label_error or label_error),
        entity_error=int(entity_error),
    )
    target = canonical_target(
        {
            "entities": [(e.start, e.end, e.label) for e in entities],
            "relations": relations,
        }
    )
    return target, errors


def ambiguous_relations(tokens, target, label_names=None) -> list[tuple[int, int, str]]:
    """List the relations that the augmented format cannot give back.

    TANL writes a relation's tail as text and resolves it to the nearest
    entity with those words. When the tail's words occur as another entity
    nearer to the head, decoding the gold text picks that one. This function
    encodes and decodes ``target`` and returns the gold relations (indexed as
    in :func:`canonical_target` of ``target``) that were not recovered.

    Parameters
    ----------
    tokens : list of str
    target : dict
    label_names : dict, optional

    Returns
    -------
    list of (int, int, str)
    """
    tokens = check_tokens(tokens)
    entities, relations = check_relation_target(target, len(tokens))
    gold = canonical_target({"entities": entities, "relations": relations})
    entity_types = sorted({label for _, _, label in entities})
    relation_types = sorted({label for _, _, label in relations})
    verbalizers = _split_label_names(label_names, entity_types, relation_types)
    words = escape_tokens(tokens)
    decoded, _ = _read(_write(words, gold, *verbalizers), words, *verbalizers, ignore_case=False)
    found = set(decoded["relations"]) if decoded["entities"] == gold["entities"] else set()
    return [relation for relation in gold["relations"] if relation not in found]


class RelationsCodec(TaskCodec):
    """The codec of :class:`~sklearn_fishdip.FishDipRelationExtractor`.

    Targets are ``{"entities": [...], "relations": [...]}`` in canonical
    order. Fitted attributes: ``entity_types_``, ``relation_types_`` and their
    verbalizers ``entity_verbalizer_``, ``relation_verbalizer_``.
    """

    def check_targets(self, estimator, X, y):
        targets = []
        for index, (tokens, target) in enumerate(zip(X, y)):
            entities, relations = check_relation_target(target, len(tokens), index=index)
            targets.append(canonical_target({"entities": entities, "relations": relations}))
        return targets

    def fit_vocabulary(self, estimator, targets):
        entity_types = sorted({e[2] for t in targets for e in t["entities"]})
        relation_types = sorted({r[2] for t in targets for r in t["relations"]})
        entity_verbalizer, relation_verbalizer = _split_label_names(
            estimator.label_names, entity_types, relation_types
        )
        return {
            "entity_types_": entity_types,
            "relation_types_": relation_types,
            "entity_verbalizer_": entity_verbalizer,
            "relation_verbalizer_": relation_verbalizer,
        }

    def natural_vocabulary(self, estimator):
        return (
            estimator.entity_verbalizer_.natural_names,
            estimator.relation_verbalizer_.natural_names,
        )

    def encode(self, estimator, words, target):
        return _write(words, target, estimator.entity_verbalizer_, estimator.relation_verbalizer_)

    def clip_target(self, target, end):
        kept = [i for i, (start, _, _) in enumerate(target["entities"]) if start < end]
        new_index = {old: new for new, old in enumerate(kept)}
        entities = [
            (start, min(stop, end), label)
            for start, stop, label in (target["entities"][i] for i in kept)
        ]
        relations = [
            (new_index[head], new_index[tail], label)
            for head, tail, label in target["relations"]
            if head in new_index and tail in new_index
        ]
        return canonical_target({"entities": entities, "relations": relations})

    def decode(self, estimator, text, words):
        return _read(
            text,
            words,
            estimator.entity_verbalizer_,
            estimator.relation_verbalizer_,
            ignore_case=estimator.uncased_,
        )

    def shift_prediction(self, prediction, offset):
        return {
            "entities": [(s + offset, e + offset, t) for s, e, t in prediction["entities"]],
            "relations": list(prediction["relations"]),
        }

    def merge_predictions(self, parts):
        entities, relations = [], []
        for part in parts:
            offset = len(entities)
            entities.extend(part["entities"])
            relations.extend((h + offset, t + offset, r) for h, t, r in part["relations"])
        return canonical_target({"entities": entities, "relations": relations})
