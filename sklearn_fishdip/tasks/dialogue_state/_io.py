"""MultiWOZ 2.1 in the ConvLab-2 JSON format: reading, low-resource sampling, writing.

A file is one JSON object ``{dialogue_id: {"goal": ..., "log": [turn, ...]}}``
whose turns alternate user and system, starting with the user. A system
turn's ``metadata`` holds the belief state after the user turn before it:
per domain, ``semi`` slots and ``book`` slots (the ``booked`` list of
reservations is not a slot and is skipped). This is the layout of
``val.json`` and ``test.json`` in ``../shared/data/multiwoz21``; that copy has
no training split, so the low-resource protocol draws its training
dialogues from ``val.json`` and tests on all of ``test.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

from ...utils._validation import check_fraction, check_same_length
from .._files import TaskFiles
from ._codec import MULTIWOZ_SLOTS
from ._metrics import joint_goal_accuracy, normalize_value, slot_accuracy

__all__ = [
    "MULTIWOZ_DOMAINS",
    "MultiWOZFiles",
    "dialogue_subset",
    "load_multiwoz",
    "sample_dialogues",
    "write_states",
]

#: The five domains tracked; hospital, police and bus are left out (as TRADE does).
MULTIWOZ_DOMAINS = tuple(sorted(MULTIWOZ_SLOTS))

# Metadata slot names -> the short names of states (TRADE's: lower case, "book " before
# booking slots).
_SEMI_NAMES = {"leaveAt": "leaveat", "arriveBy": "arriveby", "pricerange": "pricerange"}


def _read_json(path):
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        line = f"{error.lineno}:" if isinstance(error, json.JSONDecodeError) else ""
        raise ValueError(f"{path}:{line} not a JSON file: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(
            f"{path}: expected a JSON object {{dialogue_id: {{'log': [...]}}}} (ConvLab-2 "
            f"MultiWOZ), got a {type(data).__name__}"
        )
    return path, data


def _state(metadata, where, domains):
    if not isinstance(metadata, dict):
        raise ValueError(f"{where}: the system turn's metadata is not an object")
    state = {}
    for domain in domains:
        parts = metadata.get(domain, {})
        if not isinstance(parts, dict):
            raise ValueError(f"{where}: metadata[{domain!r}] is not an object")
        for part, prefix in (("semi", ""), ("book", "book ")):
            slots = parts.get(part, {})
            if not isinstance(slots, dict):
                raise ValueError(f"{where}: metadata[{domain!r}][{part!r}] is not an object")
            for slot, value in slots.items():
                if slot == "booked":
                    continue
                if not isinstance(value, str):
                    raise ValueError(
                        f"{where}: metadata[{domain!r}][{part!r}][{slot!r}] is not a string"
                    )
                value = normalize_value(value)
                if value is not None:
                    name = prefix + _SEMI_NAMES.get(slot, slot.lower())
                    state[(domain, name)] = value
    return state


def _dialogue_examples(path, dialogue_id, dialogue, domains):
    where = f"{path}: dialogue {dialogue_id!r}"
    log = dialogue.get("log") if isinstance(dialogue, dict) else None
    if not isinstance(log, list):
        raise ValueError(f"{where}: no 'log' list of turns")
    X, y, history = [], [], []
    for position, turn in enumerate(log):
        turn_where = f"{where}, turn {position}"
        if not isinstance(turn, dict) or not isinstance(turn.get("text"), str):
            raise ValueError(f"{turn_where}: a turn must be an object with a 'text' string")
        speaker = "user" if position % 2 == 0 else "system"
        if speaker == "system":
            X.append(tuple(history))
            y.append(_state(turn.get("metadata"), turn_where, domains))
        history.append((speaker, " ".join(turn["text"].split())))
    return X, y


def load_multiwoz(
    path, n_dialogues=None, random_state=None, *, domains=MULTIWOZ_DOMAINS, return_ids=False
):
    """Load a ConvLab-2 MultiWOZ file: one example per user turn.

    Parameters
    ----------
    path : str or path-like
        ``val.json`` or ``test.json`` of ConvLab-2's MultiWOZ 2.1 (or a file
        in that layout).
    n_dialogues : int or None, default=None
        Keep a seeded sample of this many dialogues (see
        :func:`sample_dialogues`); None keeps every dialogue in file order.
        The low-resource protocol trains on 42, 84 or 422 dialogues of
        ``val.json`` (0.5, 1 and 5 % of MultiWOZ's 8,438 training dialogues).
    random_state : int, RandomState or None, default=None
        Seed of the sample.
    domains : sequence of str, default=MULTIWOZ_DOMAINS
        The domains whose slots make the state (hotel, train, restaurant,
        attraction, taxi); the others (hospital, police, bus) are dropped.
    return_ids : bool, default=False
        Also return ``(dialogue_id, turn_index)`` per example.

    Returns
    -------
    X : list of tuple of (str, str)
        Per user turn, the history up to and including it, as
        ``(speaker, text)`` turns (``"user"`` or ``"system"``).
    y : list of dict
        The belief state after that turn, ``{(domain, slot): value}``, from
        the next system turn's metadata (``semi`` and ``book`` slots; booking
        slots named ``"book day"``, ``"book people"``, ...; values normalized
        as the metrics compare them).
    ids : list of (str, int)
        Only with ``return_ids``.

    Raises
    ------
    ValueError
        If the file is not such JSON; the message names the file, the
        dialogue and the turn.
    """
    path, data = _read_json(path)
    ids = list(data)
    if n_dialogues is not None:
        ids = sample_dialogues(ids, n_dialogues, random_state)
    X, y, where = [], [], []
    for dialogue_id in ids:
        dialogue_X, dialogue_y = _dialogue_examples(path, dialogue_id, data[dialogue_id], domains)
        X.extend(dialogue_X)
        y.extend(dialogue_y)
        where.extend((dialogue_id, 2 * turn) for turn in range(len(dialogue_X)))
    return (X, y, where) if return_ids else (X, y)


def sample_dialogues(dialogue_ids, n_dialogues, random_state=None):
    """A seeded sample of ``n_dialogues`` dialogue ids, in their original order.

    Examples
    --------
    >>> sample_dialogues(["a", "b", "c", "d"], 2, random_state=0)
    ['c', 'd']
    """
    dialogue_ids = list(dialogue_ids)
    if isinstance(n_dialogues, bool) or not isinstance(n_dialogues, (int, np.integer)):
        raise TypeError(f"n_dialogues must be an integer, got {n_dialogues!r}")
    if not 0 < n_dialogues <= len(dialogue_ids):
        raise ValueError(
            f"n_dialogues={n_dialogues} must be between 1 and the {len(dialogue_ids)} dialogues"
        )
    rng = check_random_state(random_state)
    chosen = sorted(rng.choice(len(dialogue_ids), size=int(n_dialogues), replace=False))
    return [dialogue_ids[index] for index in chosen]


def dialogue_subset(X, y, n_dialogues, random_state=None):
    """The user turns of ``n_dialogues`` seeded dialogues of ``X``, in file order.

    ``X`` lists user turns as :func:`load_multiwoz` does: a dialogue's turns
    are consecutive, and its first has a one-turn history. Sampling whole
    dialogues (not turns) keeps each training dialogue's turns together, as
    the low-resource protocol does.

    Parameters
    ----------
    X : list of histories
    y : list of dict
    n_dialogues : int
        How many dialogues to keep (see :func:`sample_dialogues`).
    random_state : int, RandomState or None, default=None

    Returns
    -------
    X_subset, y_subset : list

    Examples
    --------
    >>> X = [[("user", "a")], [("user", "a"), ("system", "b"), ("user", "c")], [("user", "d")]]
    >>> X_kept, _ = dialogue_subset(X, [{}, {}, {}], 1, random_state=1)
    >>> [len(history) for history in X_kept]
    [1, 3]
    """
    check_same_length(X, y)
    starts = [i for i, history in enumerate(X) if len(history) == 1]
    if not starts or starts[0] != 0:
        raise ValueError(
            "X[0] does not start a dialogue: its history must be one user turn, "
            "as load_multiwoz lists them"
        )
    starts.append(len(X))
    chosen = sample_dialogues(range(len(starts) - 1), n_dialogues, random_state)
    rows = [i for d in chosen for i in range(starts[d], starts[d + 1])]
    return [X[i] for i in rows], [y[i] for i in rows]


def _state_json(state):
    return {f"{domain}-{slot}": value for (domain, slot), value in sorted(state.items())}


def write_states(out, X, predicted, gold=None):
    """Write predicted states as one JSON list: per example its last user turn and state."""
    rows = []
    for index, (history, state) in enumerate(zip(X, predicted)):
        row = {
            "index": index,
            "user": history[-1][1] if history else "",
            "predicted": _state_json(state),
        }
        if gold is not None:
            row["gold"] = _state_json(gold[index])
        rows.append(row)
    json.dump(rows, out, indent=1, ensure_ascii=False)
    out.write("\n")


class MultiWOZFiles(TaskFiles):
    """ConvLab-2 MultiWOZ JSON files for the command line (see :class:`~.._files.TaskFiles`)."""

    description = "ConvLab-2 MultiWOZ 2.1 JSON files (val.json, test.json)"
    output = (
        "writes a JSON list with, per user turn, its text and the predicted belief state "
        "{'domain-slot': value} (and the gold one)."
    )
    report = "joint goal accuracy and slot accuracy over the five MultiWOZ domains."

    def read(self, path, *, gold):
        return load_multiwoz(path)

    def subset(self, X, y, fraction, random_state=None):
        """Whole dialogues: ``round(fraction * n_dialogues)`` of them (at least one)."""
        check_fraction(fraction)
        n_dialogues = sum(len(history) == 1 for history in X)
        return dialogue_subset(X, y, max(1, round(fraction * n_dialogues)), random_state)

    def write(self, out, X, predicted, gold=None):
        write_states(out, X, predicted, gold)

    def scores(self, estimator, y_true, y_pred):
        """``joint_goal_accuracy`` and ``slot_accuracy``."""
        joint = joint_goal_accuracy(y_true, y_pred)
        slot = slot_accuracy(y_true, y_pred)
        return {
            "joint_goal_accuracy": joint,
            "slot_accuracy": slot,
            "n_turns": len(y_true),
            "text": f"joint goal accuracy {joint:.4f}\nslot accuracy       {slot:.4f}\n"
            f"turns               {len(y_true)}\n",
        }
