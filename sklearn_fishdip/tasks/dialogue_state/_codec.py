"""Dialogue states as augmented text (TANL's MultiWOZ format, formats.md 2.6).

The source is the dialogue so far, oldest turn first, each turn written
``[Agent]: text ;`` or ``[User]: text ;``; the target lists the belief state
between two ``[belief]`` markers::

    source: [User]: i need a cheap hotel in the north ;
    target: [belief] hotel area north , hotel book day not given , ... ,
            hotel price range cheap , ... [belief]

For every domain that holds a value, *all* of that domain's known slots are
listed (those without a value read ``not given``), sorted by domain then
slot. Slots are named by their natural names (``pricerange`` -> ``price
range``, ``leaveat`` -> ``leave at``, ``arriveby`` -> ``arrive by``).

A state is a dict ``{(domain, slot): value}`` with lower-case string keys;
reading text back drops ``not given`` entries and pairs whose domain or slot
is unknown (counted as label errors), and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ...augmented._entities import build_verbalizer
from ...augmented._report import DecodeErrors
from .._codec import TaskCodec

__all__ = [
    "BELIEF",
    "DST_SLOT_NAMES",
    "MULTIWOZ_SLOTS",
    "NOT_GIVEN",
    "SPEAKERS",
    "DialogueStateCodec",
    "check_dialogues",
    "check_states",
    "decode_state",
    "dialogue_source",
    "encode_state",
]

BELIEF = "[belief]"
NOT_GIVEN = "not given"
#: The speakers of a turn and how the source names them.
SPEAKERS = {"user": "[User]:", "system": "[Agent]:"}
_SPEAKER_ALIASES = {
    "user": "user",
    "usr": "user",
    "system": "system",
    "sys": "system",
    "agent": "system",
}

#: The natural names of the slots whose short names are one word (TRADE's names).
DST_SLOT_NAMES = {"pricerange": "price range", "leaveat": "leave at", "arriveby": "arrive by"}

#: The slots of the five MultiWOZ 2.1 domains tracked (TRADE's 30 domain-slot pairs).
MULTIWOZ_SLOTS = {
    "attraction": ("area", "name", "type"),
    "hotel": (
        "area",
        "book day",
        "book people",
        "book stay",
        "internet",
        "name",
        "parking",
        "pricerange",
        "stars",
        "type",
    ),
    "restaurant": (
        "area",
        "book day",
        "book people",
        "book time",
        "food",
        "name",
        "pricerange",
    ),
    "taxi": ("arriveby", "departure", "destination", "leaveat"),
    "train": ("arriveby", "book people", "day", "departure", "destination", "leaveat"),
}


def _clean(text):
    """A value or name as one line: whitespace collapsed; markers and commas spelled out."""
    text = " ".join(str(text).split())
    return text.replace(BELIEF, "belief").replace(",", " ").replace("  ", " ").strip()


def check_dialogues(X, *, name="X"):
    """Check dialogue histories: lists of ``(speaker, text)`` turns.

    Parameters
    ----------
    X : sequence of sequence of (str, str)
        One history per example, oldest turn first; a speaker is ``"user"``
        or ``"system"`` (``"usr"``, ``"sys"`` and ``"agent"`` are accepted).
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    list of tuple of (str, str)
        Histories with speakers as ``"user"``/``"system"``.

    Raises
    ------
    TypeError, ValueError
        Naming the example (``X[3]: ...``): not a list of pairs, an unknown
        speaker, a text that is not a non-blank string, or an empty history.

    Examples
    --------
    >>> check_dialogues([[("USR", "a cheap hotel please")]])
    [(('user', 'a cheap hotel please'),)]
    """
    if isinstance(X, (str, bytes, Mapping)) or not isinstance(X, Sequence):
        raise TypeError(
            f"{name} must be a list of dialogue histories (lists of (speaker, text) turns), "
            f"got {type(X).__name__}"
        )
    checked = []
    for index, history in enumerate(X):
        where = f"{name}[{index}]"
        if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Sequence):
            raise TypeError(
                f"{where} must be a list of (speaker, text) turns, got {type(history).__name__}"
            )
        if len(history) == 0:
            raise ValueError(f"{where} is an empty history: it needs at least one turn")
        turns = []
        for position, turn in enumerate(history):
            if isinstance(turn, (str, bytes)) or not isinstance(turn, Sequence) or len(turn) != 2:
                raise TypeError(
                    f"{where}: turn {position} must be a (speaker, text) pair, got {turn!r:.80}"
                )
            speaker, text = turn
            role = _SPEAKER_ALIASES.get(speaker.lower()) if isinstance(speaker, str) else None
            if role is None:
                raise ValueError(
                    f"{where}: turn {position} has the unknown speaker {speaker!r}; "
                    "use 'user' or 'system'"
                )
            if not isinstance(text, str):
                raise TypeError(
                    f"{where}: turn {position}'s text must be a string, got {type(text).__name__}"
                )
            turns.append((role, text))
        checked.append(tuple(turns))
    return checked


def check_states(y, *, name="y"):
    """Check belief states: dicts ``{(domain, slot): value}`` of strings.

    Keys and values are lower-cased and their whitespace collapsed.

    Returns
    -------
    list of dict

    Raises
    ------
    TypeError, ValueError
        Naming the example (``y[3]: ...``).
    """
    if isinstance(y, (str, bytes, Mapping)) or not isinstance(y, Sequence):
        raise TypeError(f"{name} must be a list of dicts {{(domain, slot): value}}")
    checked = []
    for index, state in enumerate(y):
        where = f"{name}[{index}]"
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{where} must be a dict {{(domain, slot): value}}, got {type(state).__name__}"
            )
        clean = {}
        for key, value in state.items():
            if (
                not isinstance(key, tuple)
                or len(key) != 2
                or not all(isinstance(part, str) and part.strip() for part in key)
            ):
                raise ValueError(
                    f"{where}: the key {key!r} is not a (domain, slot) pair of strings"
                )
            if not isinstance(value, str):
                raise TypeError(
                    f"{where}: the value of {key!r} must be a string, got {type(value).__name__}"
                )
            domain, slot = (" ".join(part.lower().split()) for part in key)
            value = _clean(value.lower())
            if value:
                clean[(domain, slot)] = value
        checked.append(clean)
    return checked


def dialogue_source(history):
    """The model input of a checked history: ``[User]: text ; [Agent]: text ;``.

    Examples
    --------
    >>> dialogue_source([("user", "hi"), ("system", "hello .")])
    '[User]: hi ; [Agent]: hello . ;'
    """
    return " ".join(f"{SPEAKERS[speaker]} {' '.join(text.split())} ;" for speaker, text in history)


def _verbalizers(slots, label_names):
    names = dict(DST_SLOT_NAMES)
    names.update(label_names or {})
    domains = sorted(slots)
    all_slots = sorted({slot for domain in domains for slot in slots[domain]})
    return build_verbalizer(domains, names), build_verbalizer(all_slots, names)


def encode_state(state, slots=None, label_names=None):
    """The target text of a belief state.

    Parameters
    ----------
    state : dict
        ``{(domain, slot): value}``.
    slots : dict of str -> sequence of str, optional
        The known slots of each domain; defaults to :data:`MULTIWOZ_SLOTS`
        (a slot of ``state`` outside them is listed too).
    label_names : dict, optional
        Natural names of domains and slots overriding :data:`DST_SLOT_NAMES`.

    Examples
    --------
    >>> encode_state({("taxi", "leaveat"): "10:15"})
    '[belief] taxi arrive by not given , taxi departure not given , taxi destination not given , taxi leave at 10:15 [belief]'
    """  # noqa: E501
    (state,) = check_states([state], name="state")
    slots = _merge_slots(MULTIWOZ_SLOTS if slots is None else slots, [state])
    domain_names, slot_names = _verbalizers(slots, label_names)
    return _encode(state, slots, domain_names, slot_names)


def _merge_slots(known, states):
    merged = {domain: set(values) for domain, values in known.items()}
    for state in states:
        for domain, slot in state:
            merged.setdefault(domain, set()).add(slot)
    return {domain: sorted(values) for domain, values in sorted(merged.items())}


def _encode(state, slots, domain_names, slot_names):
    entries = []
    for domain in sorted({domain for domain, _ in state}):
        for slot in slots[domain]:
            value = state.get((domain, slot), NOT_GIVEN)
            entries.append(f"{domain_names.verbalize(domain)} {slot_names.verbalize(slot)} {value}")
    return f"{BELIEF} {' , '.join(entries)} {BELIEF}" if entries else f"{BELIEF} {BELIEF}"


def decode_state(text, slots=None, label_names=None):
    """Read a generated target back: ``(state, DecodeErrors)``; never raises on bad text.

    The text between the first and last ``[belief]`` is split on commas; an
    entry is ``domain slot value`` with a known domain and one of its known
    slots (longest name first). ``not given`` entries are dropped; entries
    with an unknown domain or slot are dropped and counted (``label_error``);
    text without the two markers is a ``format_error`` (what it holds is
    still read).

    Examples
    --------
    >>> state, errors = decode_state("[belief] hotel price range cheap , spa area x [belief]")
    >>> state, errors.label_error
    ({('hotel', 'pricerange'): 'cheap'}, 1)
    """
    slots = _merge_slots(MULTIWOZ_SLOTS if slots is None else slots, [])
    domain_names, slot_names = _verbalizers(slots, label_names)
    return _decode(text, slots, domain_names, slot_names)


# Tokenizers that split punctuation decode "[belief]" as "[ belief ]" and "10:15" as "10 : 15".
_MARKER = re.compile(r"\[\s*belief\s*\]", re.IGNORECASE)
_JOINED = re.compile(r"\s*([:'])\s*")


def _decode(text, slots, domain_names, slot_names):
    text = _MARKER.sub(BELIEF, " ".join(str(text).split()))
    lowered = text.lower()
    first, last = lowered.find(BELIEF), lowered.rfind(BELIEF)
    format_error = int(first < 0 or last == first)
    if first >= 0 and last > first:
        body = text[first + len(BELIEF) : last]
    else:
        body = text[first + len(BELIEF) :] if first >= 0 else text
    state, unknown = {}, 0
    for entry in body.split(","):
        words = entry.split()
        if not words:
            continue
        found = _split_entry(words, slots, domain_names, slot_names)
        if found is None:
            unknown += 1
            continue
        domain, slot, value = found
        if value and NOT_GIVEN not in value.lower():
            value = _JOINED.sub(r"\1", value.lower().replace("-", " "))
            state[(domain, slot)] = value
    errors = DecodeErrors(format_error=format_error, label_error=int(unknown > 0), n_sentences=1)
    return state, errors


def _split_entry(words, slots, domain_names, slot_names):
    """``(domain, slot, value)`` of one entry's words, or None when not known."""
    for n_domain in range(len(words), 0, -1):
        domain = domain_names.parse(" ".join(words[:n_domain]), ignore_case=True)
        if domain is None:
            continue
        rest = words[n_domain:]
        for n_slot in range(len(rest), 0, -1):
            slot = slot_names.parse(" ".join(rest[:n_slot]), ignore_case=True)
            if slot in slots.get(domain, ()):
                return domain, slot, " ".join(rest[n_slot:])
        return None
    return None


def _seen_values(states):
    """``{domain: {slot: sorted values}}`` of the states (what decoding may write back)."""
    seen = {}
    for state in states:
        for (domain, slot), value in state.items():
            seen.setdefault(domain, {}).setdefault(slot, set()).add(value)
    return {
        domain: {slot: sorted(values) for slot, values in sorted(slots.items())}
        for domain, slots in sorted(seen.items())
    }


class DialogueStateCodec(TaskCodec):
    """The codec of :class:`~sklearn_fishdip.FishDipDialogueStateTracker`.

    Fitted attributes: ``domain_slots_`` (each domain's known slots: the
    MultiWOZ ones plus any seen in training), ``domain_verbalizer_``,
    ``slot_verbalizer_`` and ``slot_values_`` (the values seen for each slot
    in training, ``{domain: {slot: values}}``). Sources are histories (:func:`dialogue_source`),
    so the estimator writes them itself; targets never copy the source.
    """

    # The target is not the source marked up: a prefix LM numbers it after the source.
    copies_source = False

    def check_targets(self, estimator, X, y):
        return check_states(y)

    def fit_vocabulary(self, estimator, targets):
        slots = _merge_slots(MULTIWOZ_SLOTS, targets)
        domains, slot_names = _verbalizers(slots, estimator.label_names)
        return {
            "domain_slots_": slots,
            "domain_verbalizer_": domains,
            "slot_verbalizer_": slot_names,
            "slot_values_": _seen_values(targets),
        }

    def natural_vocabulary(self, estimator):
        # Targets are not copies of the source: this grammar only checks that
        # the tokenizer writes the markup (with the marker's word as the one
        # type name); the estimator decodes with its BeliefGrammar instead.
        return ("belief",), ()

    def encode(self, estimator, words, target):
        return _encode(
            target,
            estimator.domain_slots_,
            estimator.domain_verbalizer_,
            estimator.slot_verbalizer_,
        )

    def decode(self, estimator, text, words=None):
        return _decode(
            text,
            estimator.domain_slots_,
            estimator.domain_verbalizer_,
            estimator.slot_verbalizer_,
        )

    def clip_target(self, target, end):
        return target

    def shift_prediction(self, prediction, offset):
        return prediction

    def merge_predictions(self, parts):
        merged = {}
        for part in parts:
            merged.update(part)
        return merged
