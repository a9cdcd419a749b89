"""Augmented text in a tokenizer's subword units: which ids each mark and word gets.

The decoding grammar (:mod:`sklearn_fishdip.generation`) and the prefix LM's
target positions (:mod:`sklearn_fishdip.models`) must agree on the ids a
markup character takes in a target, so both read them here. Every unit is
tokenized where it stands in a real target, after a space, so the ids match
what the model sees in training.
"""

from __future__ import annotations

from bisect import bisect_right

from ._special import CLOSE, OPEN, RELATION, SEPARATOR

__all__ = ["MARKUP_CHARS", "group_ids", "markup_ids"]

#: The markup characters, in the order :func:`markup_ids` reports them.
MARKUP_CHARS = (OPEN, CLOSE, SEPARATOR, RELATION)

# Every mark between plain words, as it stands inside a target.
_MARKUP_PROBE = f"a {OPEN} a {CLOSE} a {SEPARATOR} a {RELATION} a"


def group_ids(tokenizer, text, spans):
    """Tokenize ``text`` once and return the ids falling in each character span.

    A token belongs to the span holding its first non-space character; a
    whitespace-only piece (a lone SentencePiece ``"▁"``) belongs to the span
    that follows it. Tokens outside every span (the context) are dropped.
    """
    if not getattr(tokenizer, "is_fast", False):
        # Slow tokenizers give no offsets: tokenize each span on its own, which
        # matches in-context ids for tokenizers that split on whitespace first.
        return [
            list(tokenizer(text[start:end], add_special_tokens=False)["input_ids"])
            for start, end in spans
        ]
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ends = [end for _, end in spans]
    groups = [[] for _ in spans]
    for token, (start, end) in zip(encoded["input_ids"], encoded["offset_mapping"]):
        key = next((p for p in range(start, end) if not text[p].isspace()), None)
        blank = key is None
        if blank:
            key = end
        index = bisect_right(ends, key)
        if index == len(spans):
            continue
        span_start, span_end = spans[index]
        if key < span_start:
            # Context between spans; a blank piece right before a span is its prefix.
            if not (blank and not text[key:span_start].strip()):
                continue
        elif end > span_end:
            raise ValueError(
                f"the tokenizer merges {text[start:end]!r} across a word boundary; "
                "constrained decoding needs tokens that never span two words"
            )
        groups[index].append(int(token))
    return groups


def markup_ids(tokenizer):
    """The ids of each markup character inside a target, and of ``[`` starting one.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase

    Returns
    -------
    inside : dict of str -> list of int
        Ids of ``[``, ``]``, ``|`` and ``=`` between words (after a space).
    initial_open : list of int
        Ids of ``[`` as the first character of a target, which byte-level
        BPE writes differently (no leading space).
    """
    spans = [(_MARKUP_PROBE.index(char), _MARKUP_PROBE.index(char) + 1) for char in MARKUP_CHARS]
    inside = dict(zip(MARKUP_CHARS, group_ids(tokenizer, _MARKUP_PROBE, spans)))
    return inside, group_ids(tokenizer, f"{OPEN} a", [(0, 1)])[0]
