"""Checks of joint entity-relation targets: entities over the sentence, relations over them."""

from __future__ import annotations

from collections.abc import Mapping

from ...utils._validation import _is_sequence, _where, check_spans

__all__ = ["check_relations", "check_relation_target"]


def check_relations(relations, n_entities: int, *, index: int | None = None):
    """Check relations ``(head, tail, type)`` whose head and tail index the entities.

    Returns the relations as a list of tuples; raises ``TypeError``/``ValueError``
    naming the relation for a wrong shape, an index out of range, a relation of
    an entity with itself, or a duplicate.
    """
    if not _is_sequence(relations):
        raise TypeError(f"relations{_where(index)} must be a list of (head, tail, type)")
    checked = []
    for number, relation in enumerate(relations):
        if not _is_sequence(relation) or len(relation) != 3:
            raise TypeError(
                f"relation {number}{_where(index)} must be a (head, tail, type) triple, "
                f"got {relation!r}"
            )
        head, tail, label = relation
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (head, tail)):
            raise TypeError(f"relation {number}{_where(index)} {relation!r} needs integer indices")
        if not isinstance(label, str) or not label:
            raise TypeError(
                f"relation {number}{_where(index)} {relation!r} needs a non-empty string type"
            )
        if not (0 <= head < n_entities and 0 <= tail < n_entities):
            raise ValueError(
                f"relation {number}{_where(index)} {relation!r} indexes an entity out of range "
                f"(there are {n_entities} entities)"
            )
        if head == tail:
            raise ValueError(
                f"relation {number}{_where(index)} {relation!r} relates an entity to itself"
            )
        checked.append((head, tail, label))
    if len(set(checked)) != len(checked):
        duplicate = next(rel for rel in checked if checked.count(rel) > 1)
        raise ValueError(f"relation {duplicate!r}{_where(index)} is listed twice")
    return checked


def check_relation_target(target, n_tokens: int, *, index: int | None = None):
    """Check one joint entity-relation target.

    Parameters
    ----------
    target : mapping
        ``{"entities": [(start, end, type), ...], "relations": [(head, tail, type), ...]}``;
        ``"relations"`` may be omitted.
    n_tokens : int
        Length of the sentence.
    index : int, optional
        Position of the sentence in its data set, used in error messages.

    Returns
    -------
    entities, relations : list of tuple
    """
    if not isinstance(target, Mapping) or "entities" not in target:
        raise TypeError(
            f"target{_where(index)} must be a dict with 'entities' (and 'relations'), "
            f"got {type(target).__name__}"
        )
    unknown = set(target) - {"entities", "relations"}
    if unknown:
        raise ValueError(f"target{_where(index)} has unknown keys {sorted(unknown)}")
    entities = check_spans(target["entities"], n_tokens, index=index)
    relations = check_relations(target.get("relations", []), len(entities), index=index)
    return entities, relations
