"""The event codec: triggers and arguments as augmented text, and back (TANL, two stages).

Stage 1 (triggers) reads the plain sentence and brackets each trigger with
its type; stage 2 (arguments) runs once per trigger, reads the sentence with
that trigger bracketed and typed, and brackets that trigger's arguments with
their role, pointing at the trigger as joint entity-relation extraction
points at a tail::

    triggers:  Two soldiers were attacked        -> Two soldiers were [ attacked | attack ]
    arguments: Two soldiers were [ attacked | attack ]
               -> [ Two soldiers | argument | victim = attacked ] were attacked

Both stages train one model, told apart by a task prefix in the source.

Record form
-----------
An event is a dict ``{"trigger": (start, end, type), "arguments": [(start,
end, role), ...]}`` with ``end`` exclusive; ``y`` holds one list of events
per sentence. :func:`check_events` validates it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from ...augmented._entities import build_verbalizer, read_entities
from ...augmented._parser import parse_augmented
from ...augmented._writer import Annotation, write_augmented
from .._codec import TaskCodec

__all__ = ["ARGUMENT_KEY", "ARGUMENT_MARK", "EventCodec", "check_events", "event_source"]

#: The type every stage-2 bracket carries (its role is the relation tag);
#: ``label_names={ARGUMENT_KEY: "..."}`` renames it.
ARGUMENT_MARK = "argument"
ARGUMENT_KEY = "__argument__"
TRIGGER_PREFIX = "triggers :"
ARGUMENT_PREFIX = "arguments :"


def _check_span(where, span, n_tokens, what):
    if isinstance(span, list):
        span = tuple(span)
    if not isinstance(span, tuple) or len(span) != 3:
        raise TypeError(f"{where}: the {what} must be a (start, end, label) triple, got {span!r}")
    start, end, label = span
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise TypeError(f"{where}: the {what} {span!r} needs integer start and end")
    if not isinstance(label, str) or not label:
        raise TypeError(f"{where}: the {what} {span!r} needs a non-empty string label")
    if not 0 <= start < end <= n_tokens:
        raise ValueError(
            f"{where}: the {what} {span!r} is empty or outside the sentence "
            f"(0..{n_tokens}, end exclusive)"
        )
    return span


def check_events(X, y, schema=None):
    """Check event records against their sentences; return them canonical.

    Parameters
    ----------
    X : list of list of str
        The sentences.
    y : list of list of dict
        Per sentence, its events ``{"trigger": (start, end, type),
        "arguments": [(start, end, role), ...]}`` (``end`` exclusive).
    schema : dict or None, default=None
        Trigger type -> allowed roles; when given, other types and roles are
        refused.

    Returns
    -------
    list of list of dict
        The events with tuple spans, arguments sorted.

    Raises
    ------
    TypeError, ValueError
        Naming the example (``y[i]: ...``): a wrong shape or type, a span
        outside the sentence or empty, two events on one trigger span,
        overlapping arguments of one trigger, an argument overlapping its
        trigger, or a type or role the schema does not allow.

    Examples
    --------
    >>> check_events([["a", "b"]], [[{"trigger": [1, 2, "T"], "arguments": [[0, 1, "R"]]}]])
    [[{'trigger': (1, 2, 'T'), 'arguments': [(0, 1, 'R')]}]]
    >>> check_events([["a"]], [[{"trigger": (0, 3, "T"), "arguments": []}]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y[0] event 0: the trigger (0, 3, 'T') is empty or outside the sentence ...
    """
    if isinstance(y, (str, Mapping)) or not isinstance(y, Sequence):
        raise TypeError(f"y must be a list of event lists, got {type(y).__name__}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} sentences but y has {len(y)} event lists")
    checked = []
    for index, (tokens, events) in enumerate(zip(X, y)):
        if isinstance(events, (str, Mapping)) or not isinstance(events, Sequence):
            raise TypeError(f"y[{index}] must be a list of events, got {type(events).__name__}")
        sentence, triggers = [], set()
        for number, event in enumerate(events):
            where = f"y[{index}] event {number}"
            if not isinstance(event, Mapping) or set(event) != {"trigger", "arguments"}:
                raise TypeError(
                    f"{where} must be a dict with keys 'trigger' and 'arguments', got {event!r:.80}"
                )
            trigger = _check_span(where, event["trigger"], len(tokens), "trigger")
            if trigger[:2] in triggers:
                raise ValueError(f"{where}: a second event on the trigger span {trigger[:2]}")
            triggers.add(trigger[:2])
            arguments = event["arguments"]
            if isinstance(arguments, (str, Mapping)) or not isinstance(arguments, Sequence):
                raise TypeError(f"{where}: 'arguments' must be a list of (start, end, role)")
            arguments = sorted(_check_span(where, a, len(tokens), "argument") for a in arguments)
            for first, second in zip(arguments, arguments[1:]):
                if second[0] < first[1]:
                    raise ValueError(f"{where}: the arguments {first!r} and {second!r} overlap")
            for argument in arguments:
                if argument[0] < trigger[1] and trigger[0] < argument[1]:
                    raise ValueError(
                        f"{where}: the argument {argument!r} overlaps its trigger {trigger!r}"
                    )
            if schema is not None:
                if trigger[2] not in schema:
                    raise ValueError(f"{where}: the trigger type {trigger[2]!r} is not in schema")
                for argument in arguments:
                    if argument[2] not in schema[trigger[2]]:
                        raise ValueError(
                            f"{where}: the role {argument[2]!r} is not allowed for "
                            f"{trigger[2]!r} by the schema"
                        )
            sentence.append({"trigger": trigger, "arguments": arguments})
        checked.append(sorted(sentence, key=lambda e: e["trigger"]))
    return checked


def event_source(words, trigger=None, type_name=None):
    """The model input of a stage: the task prefix, then the escaped words.

    Examples
    --------
    >>> event_source(["Two", "soldiers", "were", "attacked"])
    'triggers : Two soldiers were attacked'
    >>> event_source(["Two", "soldiers", "were", "attacked"], (3, 4), "attack")
    'arguments : Two soldiers were [ attacked | attack ]'
    """
    if trigger is None:
        return " ".join([TRIGGER_PREFIX, *words])
    start, end = trigger
    return " ".join(
        [ARGUMENT_PREFIX, *words[:start], "[", *words[start:end], "|", type_name, "]", *words[end:]]
    )


class EventCodec(TaskCodec):
    """The codec of :class:`~sklearn_fishdip.FishDipEventExtractor`.

    Its targets are stage targets, one per model example, that the estimator
    builds from the event records: ``{"trigger": None, "spans": [(start, end,
    type), ...]}`` for stage 1 and ``{"trigger": (start, end, type), "spans":
    [(start, end, role), ...]}`` for stage 2. A decoded window gives
    ``{"triggers": [...], "arguments": [...]}``; the estimator keeps what its
    stage asks for.
    """

    source_prefixes = (TRIGGER_PREFIX, ARGUMENT_PREFIX)

    def check_targets(self, estimator, X, y):
        # Stage targets are built by the estimator from records check_events accepted.
        return list(y)

    def fit_vocabulary(self, estimator, targets):
        types = sorted(
            {s[2] for t in targets if t["trigger"] is None for s in t["spans"]}
            | {t["trigger"][2] for t in targets if t["trigger"] is not None}
        )
        roles = sorted({s[2] for t in targets if t["trigger"] is not None for s in t["spans"]})
        names = dict(estimator.label_names or {})
        type_names = {k: v for k, v in names.items() if k in types}
        mark = names.get(ARGUMENT_KEY, ARGUMENT_MARK)
        type_verbalizer = build_verbalizer(
            [*types, ARGUMENT_KEY], {**type_names, ARGUMENT_KEY: mark}
        )
        role_verbalizer = build_verbalizer(roles, {k: v for k, v in names.items() if k in roles})
        return {
            "event_types_": types,
            "roles_": roles,
            "type_verbalizer_": type_verbalizer,
            "role_verbalizer_": role_verbalizer,
        }

    def natural_vocabulary(self, estimator):
        return estimator.type_verbalizer_.natural_names, estimator.role_verbalizer_.natural_names

    def encode(self, estimator, words, target):
        types, roles = estimator.type_verbalizer_, estimator.role_verbalizer_
        trigger = target["trigger"]
        if trigger is None:
            annotations = [Annotation(s, e, types.verbalize(t)) for s, e, t in target["spans"]]
        else:
            trigger_text = " ".join(words[trigger[0] : trigger[1]])
            mark = types.verbalize(ARGUMENT_KEY)
            annotations = [
                Annotation(s, e, mark, ((roles.verbalize(role), trigger_text),))
                for s, e, role in target["spans"]
            ]
        return write_augmented(words, annotations)[0]

    def clip_target(self, target, end):
        spans = [(s, min(e, end), t) for s, e, t in target["spans"] if s < end]
        return {"trigger": target["trigger"], "spans": spans}

    def decode(self, estimator, text, words):
        entities, errors = read_entities(
            parse_augmented(text), words, estimator.type_verbalizer_, ignore_case=estimator.uncased_
        )
        triggers, arguments = set(), set()
        for entity in entities:
            if entity.label != ARGUMENT_KEY:
                if entity.extra_tags:
                    errors = replace(errors, format_error=1)
                triggers.add((entity.start, entity.end, entity.label))
                continue
            for tag in entity.extra_tags:
                # The tail (the trigger's words) is ignored, as in the reference.
                role = None
                if len(tag) == 2:
                    role = estimator.role_verbalizer_.parse(tag[0], ignore_case=estimator.uncased_)
                if role is None:
                    errors = replace(
                        errors,
                        format_error=1 if len(tag) != 2 else errors.format_error,
                        label_error=1 if len(tag) == 2 else errors.label_error,
                    )
                    continue
                arguments.add((entity.start, entity.end, role))
            if not entity.extra_tags:
                errors = replace(errors, format_error=1)
        return {"triggers": sorted(triggers), "arguments": sorted(arguments)}, errors

    def shift_prediction(self, prediction, offset):
        return {
            key: [(s + offset, e + offset, t) for s, e, t in spans]
            for key, spans in prediction.items()
        }

    def merge_predictions(self, parts):
        return {
            "triggers": sorted({s for part in parts for s in part["triggers"]}),
            "arguments": sorted({s for part in parts for s in part["arguments"]}),
        }
