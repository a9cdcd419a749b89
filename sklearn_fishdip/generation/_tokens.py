"""Token-level units of augmented text: the id trie, and which ids each word or mark gets.

Every unit (a source word, a markup character, a type name) is tokenized where
it stands in a real target, after a space, so the ids match what the model
sees in training.
"""

from __future__ import annotations

import math

from ..augmented._special import OPEN

# Phases of a grammar state ``(phase, pos, frames, extra)``: ``pos`` is the
# number of source words copied, ``frames`` the start positions of the open
# brackets (all in their name part except possibly the innermost, whose part is
# the phase), ``extra`` the tail's next word (_TAIL) or whether the optional
# leading ids were consumed (_INIT). Plain ints keep states cheap to hash and
# iteration order independent of the hash seed.
_INIT, _NAME, _TYPE, _AFTER_TYPE, _RELATION, _TAIL_START, _TAIL, _END = range(8)

# Kinds of units, as ``(kind, argument)`` payloads of trie terminals.
_WORD, _OPEN, _CLOSE, _SEP, _LABEL, _REL, _TAIL_WORD, _LEAD, _EOS, _PAD = range(10)

# Context before a word when tokenizing it: every unit is tokenized where it
# stands in a real target, after a space (markup: augmented._subwords).
_WORD_CONTEXT = f"{OPEN} "


class _Trie:
    """Token-id trie of a state's units, with each node's distance to every unit end."""

    __slots__ = ("children", "terminals", "reach")

    def __init__(self, units):
        self.children = [{}]
        self.terminals = [[]]
        for ids, payload in units:
            node = 0
            for token in ids:
                child = self.children[node].get(token)
                if child is None:
                    child = len(self.children)
                    self.children[node][token] = child
                    self.children.append({})
                    self.terminals.append([])
                node = child
            self.terminals[node].append(payload)
        # Children have larger indices than their parent, so one reverse pass
        # computes, per node, how many more ids reach each unit's end.
        self.reach = [None] * len(self.children)
        for node in reversed(range(len(self.children))):
            reach = dict.fromkeys(self.terminals[node], 0)
            for child in self.children[node].values():
                for payload, distance in self.reach[child].items():
                    if distance + 1 < reach.get(payload, math.inf):
                        reach[payload] = distance + 1
            self.reach[node] = reach


def _spans_of(words, offset=0):
    spans, position = [], offset
    for word in words:
        spans.append((position, position + len(word)))
        position += len(word) + 1
    return spans


def _check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
