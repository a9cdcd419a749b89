"""Event files: the CASIE corpus reader and the JSON-lines format of the command line.

CASIE (``annotation/<id>.json`` documents with character offsets) is split
into sentences and tokens by :func:`split_sentences` and :func:`tokenize`,
two small deterministic regular-expression rules (no model, no download).

The command line reads and writes JSON lines, one sentence per line::

    {"tokens": ["Hackers", "breached", "the", "bank"],
     "events": [{"trigger": [1, 2, "Databreach"], "arguments": [[0, 1, "Attacker"]]}]}

``events`` may be left out of a file to predict on.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ...utils._validation import check_tokens
from .._files import TaskFiles
from ._codec import check_events
from ._metrics import event_scores

__all__ = ["CasieReport", "EventJSONLFiles", "load_casie", "split_sentences", "tokenize"]

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n\s*")
_TOKEN = re.compile(r"\w+(?:[-'’.@/]\w+)*|[^\w\s]")


def split_sentences(text):
    """``(start, end)`` character spans of the sentences of ``text``.

    A sentence ends at a line break, or at ``.``, ``!`` or ``?`` followed by
    white space and a capital letter or a digit.

    Examples
    --------
    >>> text = "Hackers struck. The bank paid.\\nNext"
    >>> [text[s:e] for s, e in split_sentences(text)]
    ['Hackers struck.', 'The bank paid.', 'Next']
    """
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def tokenize(text, start=0, end=None):
    """``(token, start, end)`` of the words and punctuation of ``text[start:end]``.

    Examples
    --------
    >>> [t for t, _, _ in tokenize("CVE-2016-7989 hit users' PCs.")]
    ['CVE-2016-7989', 'hit', 'users', "'", 'PCs', '.']
    """
    end = len(text) if end is None else end
    return [
        (m.group(), m.start() + start, m.end() + start) for m in _TOKEN.finditer(text[start:end])
    ]


@dataclass
class CasieReport:
    """What :func:`load_casie` read and what it dropped, and why.

    Attributes
    ----------
    n_documents, n_sentences, n_events, n_arguments : int
        Read and kept.
    dropped : collections.Counter
        Counts by reason: ``"trigger_crosses_sentences"`` (event dropped),
        ``"duplicate_trigger"`` (a second event on one trigger span, dropped),
        ``"argument_outside_sentence"``, ``"argument_crosses_sentences"``,
        ``"argument_overlaps_trigger"``, ``"overlapping_argument"`` (argument
        dropped, event kept) and ``"no_tokens"`` (a span without a token).
    text_mismatch : int
        Triggers and arguments whose ``content[start:end]`` differs from their
        ``text`` (a known issue of the data); they are kept, at their offsets.
    """

    n_documents: int = 0
    n_sentences: int = 0
    n_events: int = 0
    n_arguments: int = 0
    dropped: Counter = field(default_factory=Counter)
    text_mismatch: int = 0


def _token_span(tokens, start, end):
    inside = [i for i, (_, s, e) in enumerate(tokens) if s < end and e > start]
    return (inside[0], inside[-1] + 1) if inside else None


def _read_document(document, report):
    content = document["content"]
    sentences = []
    for start, end in split_sentences(content):
        tokens = tokenize(content, start, end)
        if tokens:
            sentences.append((start, end, tokens, []))
    report.n_sentences += len(sentences)

    def locate(offsets):
        if content[offsets["startOffset"] : offsets["endOffset"]] != offsets.get("text"):
            report.text_mismatch += 1
        for number, (start, end, tokens, _) in enumerate(sentences):
            if start <= offsets["startOffset"] < end:
                if offsets["endOffset"] > end:
                    return number, None
                return number, _token_span(tokens, offsets["startOffset"], offsets["endOffset"])
        return None, None

    hoppers = (document.get("cyberevent") or {}).get("hopper") or []
    for hopper in hoppers:
        for event in hopper.get("events", []):
            number, trigger = locate(event["nugget"])
            if trigger is None:
                report.dropped[
                    "trigger_crosses_sentences" if number is not None else "no_tokens"
                ] += 1
                continue
            events = sentences[number][3]
            if any(e["trigger"][:2] == trigger for e in events):
                report.dropped["duplicate_trigger"] += 1
                continue
            arguments = []
            for argument in event.get("argument", []):
                where, span = locate(argument)
                if where != number:
                    report.dropped["argument_outside_sentence"] += 1
                elif span is None:
                    report.dropped["argument_crosses_sentences"] += 1
                elif span[0] < trigger[1] and trigger[0] < span[1]:
                    report.dropped["argument_overlaps_trigger"] += 1
                elif any(span[0] < e and s < span[1] for s, e, _ in arguments):
                    report.dropped["overlapping_argument"] += 1
                else:
                    arguments.append((*span, argument["role"]["type"]))
            events.append({"trigger": (*trigger, event["subtype"]), "arguments": sorted(arguments)})
            report.n_events += 1
            report.n_arguments += len(arguments)
    return [
        ([t for t, _, _ in tokens], sorted(events, key=lambda e: e["trigger"]))
        for _, _, tokens, events in sentences
    ]


def load_casie(folder, split="train", *, return_report=False):
    """Read a CASIE split as sentences and their events.

    Parameters
    ----------
    folder : str or path
        The CASIE folder: ``annotation/<id>.json`` and ``split_ids.json``
        (document ids per split).
    split : {"train", "dev", "test"}, default="train"
    return_report : bool, default=False
        Also return a :class:`CasieReport` of what was read and dropped.

    Returns
    -------
    X : list of list of str
        Every sentence of the split's documents, in document-id order.
    y : list of list of dict
        Its events ``{"trigger": (start, end, subtype), "arguments":
        [(start, end, role), ...]}`` (token positions, ``end`` exclusive).
        An event is kept when its trigger lies in one sentence; of its
        arguments, those in the trigger's sentence are kept.
    report : CasieReport
        Only with ``return_report=True``.
    """
    folder = Path(folder)
    splits = json.loads((folder / "split_ids.json").read_text(encoding="utf-8"))
    if split not in splits:
        raise ValueError(f"split must be one of {sorted(splits)}, got {split!r}")
    report = CasieReport()
    X, y = [], []
    for doc_id in sorted(splits[split]):
        path = folder / "annotation" / f"{doc_id}.json"
        document = json.loads(path.read_text(encoding="utf-8"))
        report.n_documents += 1
        for tokens, events in _read_document(document, report):
            X.append(tokens)
            y.append(events)
    return (X, y, report) if return_report else (X, y)


def read_event_lines(path, *, gold):
    """``(X, y)`` from a JSON-lines file (see the module docstring).

    Errors are ``ValueError`` starting with ``path:line:``.
    """
    X, y = [], []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or "tokens" not in record:
                    raise ValueError('expected an object with "tokens" (and "events")')
                tokens = check_tokens(record["tokens"])
                if "events" in record:
                    events = check_events([tokens], [record["events"]])[0]
                elif gold:
                    raise ValueError('no "events" (needed to fit or evaluate)')
                else:
                    events = None
            except (TypeError, ValueError) as error:
                raise ValueError(f"{path}:{number}: {error}") from None
            X.append(tokens)
            y.append(events)
    if not gold and any(events is None for events in y):
        return X, None
    return X, y


def _jsonable(events):
    return [
        {"trigger": list(e["trigger"]), "arguments": [list(a) for a in e["arguments"]]}
        for e in events
    ]


class EventJSONLFiles(TaskFiles):
    """JSON-lines event files for the command line (see the module docstring)."""

    description = 'JSON lines {"tokens": [...], "events": [{"trigger": [s, e, type], ...}]}'
    output = (
        'writes one JSON line per sentence: "tokens", "events" (predicted), and "gold" if known.'
    )
    report = "trigger and argument identification and classification precision, recall and F1."

    def read(self, path, *, gold):
        return read_event_lines(path, gold=gold)

    def write(self, out, X, predicted, gold=None):
        for index, (tokens, events) in enumerate(zip(X, predicted)):
            record = {"tokens": list(tokens), "events": _jsonable(events)}
            if gold is not None:
                record["gold"] = _jsonable(gold[index])
            out.write(json.dumps(record) + "\n")

    def scores(self, estimator, y_true, y_pred):
        result = event_scores(y_true, y_pred)
        text = "\n".join(
            f"{name:<26} P={r['precision']:.4f} R={r['recall']:.4f} F1={r['f1']:.4f}"
            for name, r in result.items()
        )
        return {**result, "text": text}
