"""Augmented natural language: task-agnostic writing, parsing and alignment.

Sequence labeling tasks are written as the sentence itself with bracketed,
typed spans (TANL's format), for example
``[ EU | organization ] rejects [ German | miscellaneous ] call``; relations go
on the head entity as ``| works for = Acme``. This subpackage writes such text,
parses generated text robustly (never raising), aligns it back to the source
tokens and verbalizes labels (``PER`` -> ``person``).

The conversions of NER tags and entity-relation targets to and from it live
with their tasks (``sklearn_fishdip/tasks/ner``, ``tasks/relations``) and are
re-exported here, where users find them.
"""

from ..tasks.ner._codec import (
    decode_ner,
    decode_ner_spans,
    encode_ner,
    encode_ner_spans,
    resolve_overlaps,
)
from ..tasks.relations._codec import (
    ambiguous_relations,
    canonical_target,
    decode_relations,
    encode_relations,
)
from ._aligner import align_words, aligned_span
from ._parser import ParsedEntity, ParsedText, parse_augmented
from ._report import DecodeErrors
from ._schemes import SCHEMES, check_scheme, spans_to_tags, tags_to_spans
from ._special import SPECIAL_CHARACTERS, escape_token, unescape_token
from ._verbalizer import LabelVerbalizer
from ._writer import Annotation, write_augmented

__all__ = [
    "Annotation",
    "DecodeErrors",
    "LabelVerbalizer",
    "ParsedEntity",
    "ParsedText",
    "SCHEMES",
    "SPECIAL_CHARACTERS",
    "align_words",
    "aligned_span",
    "ambiguous_relations",
    "canonical_target",
    "check_scheme",
    "decode_ner",
    "decode_ner_spans",
    "decode_relations",
    "encode_ner",
    "encode_ner_spans",
    "encode_relations",
    "escape_token",
    "parse_augmented",
    "resolve_overlaps",
    "spans_to_tags",
    "tags_to_spans",
    "unescape_token",
    "write_augmented",
]
