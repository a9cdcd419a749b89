"""The SRL codec: a predicate's arguments as augmented text, and back.

One example per predicate (TANL, section 2.4 of the formats notes). The input
brackets the predicate, untyped, and the output brackets the arguments only,
as joint entity-relation extraction brackets entities::

    input:  The cat [ sat ] on the mat
    output: [ The cat | first argument ] sat [ on the mat | location ]

:class:`SRLCodec` writes and reads the output; the input is written by
:func:`srl_source`, which :class:`~sklearn_fishdip.FishDipSRL` uses as the
source text while the decoding grammar copies the plain words.

Label names
-----------
PropBank labels are codes (``ARG0``, ``ARGM-TMP``). A pretrained model knows
words better than codes, which is much of TANL's low-resource gain, so the
defaults (:data:`SRL_LABEL_NAMES`) name the numbered arguments by their
position (``ARG0`` -> ``first argument``, as TANL does for CoNLL-2005; it
maps ``ARG1`` -> ``second argument`` too) and the modifiers by their PropBank
guideline meaning (``ARGM-LOC`` -> ``location``, ``ARGM-TMP`` -> ``time``).
Reference (``R-``) and continuation (``C-``) labels prefix the name of the
label they refer to (``R-ARG0`` -> ``reference to first argument``). Any
other label keeps its raw code, as the reference implementation keeps its
unmapped labels. ``label_names`` overrides any of them.
"""

from __future__ import annotations

from dataclasses import replace

from ...augmented._entities import build_verbalizer, read_entities
from ...augmented._parser import parse_augmented
from ...augmented._verbalizer import LabelVerbalizer
from ...augmented._writer import Annotation, write_augmented
from .._codec import TaskCodec
from ._io import srl_spans_to_tags, srl_tags_to_spans

__all__ = [
    "SRL_LABEL_NAMES",
    "SRLCodec",
    "srl_label_names",
    "srl_source",
    "target_form",
]

_NUMBERED = ("first", "second", "third", "fourth", "fifth", "sixth")

#: Natural names of the PropBank argument labels (see the module docstring).
SRL_LABEL_NAMES = {
    **{f"ARG{number}": f"{word} argument" for number, word in enumerate(_NUMBERED)},
    "ARGA": "causative agent",
    "ARGM-ADJ": "adjectival",
    "ARGM-ADV": "adverbial",
    "ARGM-CAU": "cause",
    "ARGM-COM": "comitative",
    "ARGM-CXN": "construction",
    "ARGM-DIR": "direction",
    "ARGM-DIS": "discourse",
    "ARGM-DSP": "direct speech",
    "ARGM-EXT": "extent",
    "ARGM-GOL": "goal",
    "ARGM-LOC": "location",
    "ARGM-LVB": "light verb",
    "ARGM-MNR": "manner",
    "ARGM-MOD": "modal",
    "ARGM-NEG": "negation",
    "ARGM-PNC": "purpose or reason",
    "ARGM-PRD": "secondary predication",
    "ARGM-PRP": "purpose",
    "ARGM-PRR": "predicating relation",
    "ARGM-REC": "reciprocal",
    "ARGM-TMP": "time",
    "C-V": "continuation of predicate",
}
_PREFIXES = {"R-": "reference to ", "C-": "continuation of "}


def srl_label_names(labels, label_names=None):
    """The natural name of each PropBank label, with the user's overrides.

    Parameters
    ----------
    labels : iterable of str
        Short labels.
    label_names : dict or None, default=None
        Overrides, keyed by short label.

    Returns
    -------
    dict
        Label -> natural name, for every label of ``labels``.

    Examples
    --------
    >>> srl_label_names(["ARG0", "R-ARGM-LOC", "ARGM-XYZ"])
    {'ARG0': 'first argument', 'R-ARGM-LOC': 'reference to location', 'ARGM-XYZ': 'ARGM-XYZ'}
    """
    names = {}
    for label in labels:
        name = SRL_LABEL_NAMES.get(label)
        prefix = label[:2]
        if name is None and prefix in _PREFIXES and label[2:] in SRL_LABEL_NAMES:
            name = _PREFIXES[prefix] + SRL_LABEL_NAMES[label[2:]]
        names[label] = label if name is None else name
    names.update({key: value for key, value in (label_names or {}).items() if key in names})
    return names


def srl_source(words, predicate):
    """The model input: the escaped ``words`` with the predicate bracketed, untyped.

    Examples
    --------
    >>> srl_source(["The", "cat", "sat", "on", "the", "mat"], 2)
    'The cat [ sat ] on the mat'
    """
    return " ".join([*words[:predicate], "[", words[predicate], "]", *words[predicate + 1 :]])


def _check_example(index, tokens, target):
    """``(spans, form)`` of one target: spans, or BIO tags read as spans."""
    if isinstance(target, str) or not hasattr(target, "__len__"):
        raise TypeError(
            f"y[{index}] must be a list of (start, end, label) spans or of BIO tags, "
            f"got {type(target).__name__}"
        )
    target = list(target)
    form = "tags" if target and all(isinstance(item, str) for item in target) else "spans"
    try:
        if form == "tags":
            if len(target) != len(tokens):
                raise ValueError(f"{len(target)} tags for {len(tokens)} tokens")
            spans = srl_tags_to_spans(target)
        else:
            spans = [tuple(span) if isinstance(span, list) else span for span in target]
        # Checks shape, bounds and overlaps (arguments of one predicate never overlap).
        srl_spans_to_tags(len(tokens), spans)
    except (TypeError, ValueError) as error:
        raise ValueError(f"y[{index}]: {error}") from None
    spans = sorted((int(start), int(end), label) for start, end, label in spans)
    predicate = tokens.predicate
    for start, end, label in spans:
        if start <= predicate < end:
            raise ValueError(
                f"y[{index}]: the argument span {(start, end, label)!r} covers the predicate "
                f"{tokens[predicate]!r} at token {predicate}; an argument may not cross or "
                "overlap its predicate"
            )
    return spans, form if target else None


def target_form(y):
    """``"tags"`` if the non-empty targets of ``y`` are BIO tag lists, else ``"spans"``.

    Raises a ValueError if some are tags and others spans.
    """
    forms = {
        "tags" if all(isinstance(item, str) for item in target) else "spans"
        for target in y
        if not isinstance(target, str) and hasattr(target, "__len__") and len(target)
    }
    if len(forms) > 1:
        raise ValueError("y mixes span lists and BIO tag lists; give one form for all")
    return forms.pop() if forms else "spans"


class SRLCodec(TaskCodec):
    """The codec of :class:`~sklearn_fishdip.FishDipSRL`: targets are argument spans.

    ``X`` reaches it as checked sentences that know their predicate index
    (``tokens.predicate``). Targets are ``(start, end, label)`` spans or BIO
    tags (one per token), all of one form; they are handled as sorted spans.
    Fitted attributes: ``labels_`` (argument labels seen) and ``verbalizer_``.
    """

    def check_targets(self, estimator, X, y):
        targets = [
            _check_example(index, tokens, target)[0]
            for index, (tokens, target) in enumerate(zip(X, y))
        ]
        target_form(y)  # one form for all
        return targets

    def fit_vocabulary(self, estimator, targets):
        labels = sorted({label for spans in targets for _, _, label in spans})
        if isinstance(estimator.label_names, LabelVerbalizer):
            verbalizer = build_verbalizer(labels, estimator.label_names)
        else:
            verbalizer = build_verbalizer(labels, srl_label_names(labels, estimator.label_names))
        return {"labels_": labels, "verbalizer_": verbalizer}

    def natural_vocabulary(self, estimator):
        return estimator.verbalizer_.natural_names, ()

    def encode(self, estimator, words, target):
        verbalizer = estimator.verbalizer_
        annotations = [Annotation(s, e, verbalizer.verbalize(label)) for s, e, label in target]
        return write_augmented(words, annotations)[0]

    def clip_target(self, target, end):
        return [(start, min(stop, end), label) for start, stop, label in target if start < end]

    def decode(self, estimator, text, words):
        entities, errors = read_entities(
            parse_augmented(text), words, estimator.verbalizer_, ignore_case=estimator.uncased_
        )
        spans = set()
        for entity in entities:
            if entity.label not in estimator.labels_:
                errors = replace(errors, label_error=1)
                continue
            if entity.extra_tags:
                errors = replace(errors, format_error=1)
            spans.add((entity.start, entity.end, entity.label))
        return sorted(spans), errors

    def shift_prediction(self, prediction, offset):
        return [(start + offset, end + offset, label) for start, end, label in prediction]

    def merge_predictions(self, parts):
        return [span for part in parts for span in part]
