"""The token-level grammar of belief states, for constrained dialogue state tracking.

A dialogue state tracker writes its state as
``[belief] hotel area north , hotel book day not given , ... [belief]``: for
every domain present, all of its known slots in a fixed order, each with a
value. :class:`BeliefGrammar` restricts generation, token id by token id, to

* ``[belief]``, zero or more entries separated by ``,``, ``[belief]``, EOS;
* entries that list, for each domain written (in the given domain order, each
  at most once), *all* of its known slots in the given order, every entry
  being the domain's natural name, the slot's natural name and a value;
* values that are ``not given``, one of the values seen for that slot in
  training, or a contiguous span of 1 to ``max_copy_words`` words of the
  dialogue history (never crossing a speaker marker or a ``;``).

It reuses the automaton of :class:`~._grammar.AugmentedGrammar`: each state has
a menu of units (a name's ids, a value's ids, a history word's ids ...) kept in
a trie, so multi-id words work and ambiguous prefixes are followed in
parallel; an output is steered to finish within its budget; :meth:`render`
writes the names and values as text (copied words as the history spells them)
so the codec's reader parses every constrained output.
"""

from __future__ import annotations

import math

from ..augmented._subwords import group_ids
from ._automaton import _Sentence
from ._grammar import AugmentedGrammar
from ._tokens import _END, _check_positive, _Trie

__all__ = ["BeliefGrammar"]

# Phases of a state ``(phase, domain, slot, extra)``; _END is the automaton's own.
_INIT, _OPENED, _SLOT, _VALUE, _COPY, _AFTER, _COMMA, _FINAL = range(8, 16)
# Kinds of units (payload ``(kind, argument)``).
_LEAD, _MARK_OPEN, _MARK_CLOSE, _DOMAIN, _SLOTNAME, _VAL, _WORD, _SEP, _EOS, _PAD = range(10)


def _name_map(names, keys, what):
    names = dict(names or {})
    out = []
    for key in keys:
        name = " ".join(str(names.get(key, key)).split())
        if not name:
            raise ValueError(f"{what}: the name of {key!r} is blank")
        out.append(name)
    return out


class BeliefGrammar(AugmentedGrammar):
    """Grammar of belief states: ``[belief]``, ``domain slot value`` entries, ``[belief]``.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        The model's tokenizer.
    domain_slots : dict of str -> sequence of str
        Each domain's known slots; domains are written in the dict's order
        and a domain's slots in their given order (pass them sorted, as the
        codec writes them).
    slot_values : dict of str -> dict of str -> sequence of str, optional
        Values seen for each ``domain -> slot`` (in training); each may be
        written as a value of its slot.
    domain_names, slot_names : dict of str -> str, optional
        Natural names of the domains and slots (a missing one is its key).
    max_copy_words : int, default=6
        Longest span of history words a value may copy.
    skip_words : sequence of str, default=()
        History words never copied (speaker markers, turn ends); a copied
        span does not cross them. Words holding ``separator`` or a bracket
        are never copied either.
    marker, separator, empty_value : str
        The state's markers (``[belief]``), the entry separator (``,``) and
        the value of a slot without one (``not given``).
    eos_token_id : int or None, default=None
        As for :class:`~sklearn_fishdip.generation.AugmentedGrammar`.

    Examples
    --------
    >>> from sklearn_fishdip.utils._testing import make_tiny_tokenizer
    >>> grammar = BeliefGrammar(make_tiny_tokenizer(), {"hotel": ["area", "name"]},
    ...                         {"hotel": {"area": ["paris"]}})
    >>> ids = grammar.tokenizer("[belief] hotel area paris , hotel name not given [belief]")
    >>> grammar.render(ids["input_ids"], ["hi"])
    '[belief] hotel area paris , hotel name not given [belief]'
    """

    def __init__(
        self,
        tokenizer,
        domain_slots,
        slot_values=None,
        *,
        domain_names=None,
        slot_names=None,
        max_copy_words=6,
        skip_words=(),
        marker="[belief]",
        separator=",",
        empty_value="not given",
        eos_token_id=None,
    ):
        self.tokenizer = tokenizer
        _check_positive(max_copy_words, "max_copy_words")
        self.max_copy_words = max_copy_words
        self.skip_words = frozenset(skip_words)
        self.marker, self.separator, self.empty_value = marker, separator, empty_value
        self.domains = [str(domain) for domain in domain_slots]
        self.slots = [[str(slot) for slot in domain_slots[domain]] for domain in domain_slots]
        if any(not slots for slots in self.slots):
            raise ValueError("domain_slots: every domain needs at least one slot")
        self.domain_names = _name_map(domain_names, self.domains, "domain_names")
        self.slot_names = [_name_map(slot_names, slots, "slot_names") for slots in self.slots]
        slot_values = slot_values or {}
        self.values = [
            sorted(
                {" ".join(str(v).split()) for v in slot_values.get(domain, {}).get(slot, ())} - {""}
            )
            for domain, slots in zip(self.domains, self.slots)
            for slot in slots
        ]
        self._init_specials(eos_token_id)
        self._init_ids()
        self._shared_tries = {}

    # -- ids of the fixed units --------------------------------------------

    def _phrase_ids(self, phrase):
        """Ids of ``phrase`` as it stands inside a state, after a space."""
        text = f"{self.marker} {phrase} {self.marker}"
        start = len(self.marker) + 1
        return group_ids(self.tokenizer, text, [(start, start + len(phrase))])[0]

    def _init_ids(self):
        def needed(ids, what):
            if not ids:
                raise ValueError(f"{what} gives no token ids")
            return tuple(ids)

        marker = self.marker
        first = group_ids(self.tokenizer, f"{marker} a", [(0, len(marker))])[0]
        inner = group_ids(self.tokenizer, f"a {marker} a", [(2, 2 + len(marker))])[0]
        self.open_ids = tuple(dict.fromkeys([needed(first, marker), needed(inner, marker)]))
        self.close_ids = needed(inner, marker)
        self.separator_ids = needed(self._phrase_ids(self.separator), self.separator)
        self.empty_ids = needed(self._phrase_ids(self.empty_value), self.empty_value)
        self.domain_ids = [needed(self._phrase_ids(n), repr(n)) for n in self.domain_names]
        self.slot_ids = [
            [needed(self._phrase_ids(n), repr(n)) for n in names] for names in self.slot_names
        ]
        self.value_ids = [[tuple(self._phrase_ids(v)) for v in values] for values in self.values]
        # Index of each (domain, slot) in the flat value lists.
        self._flat = []
        for d, slots in enumerate(self.slots):
            self._flat.append([len(sum(self.slots[:d], [])) + s for s in range(len(slots))])

    def value_index(self, d, s):
        """Flat index of slot ``s`` of domain ``d`` (into :attr:`values`)."""
        return self._flat[d][s]

    # -- public decoding hooks ---------------------------------------------

    def word_ids(self, source):
        """Token ids of each history word as a value copies it."""
        return [list(ids) for ids in _BeliefSentence(self, source).word_ids]

    def _automaton(self, source, index=None, lead=()):
        # ``allowed_tokens_fn``, ``choices`` and ``render`` (inherited) walk this
        # automaton: the source is the history's words, what a value may copy.
        return _BeliefSentence(self, source, lead=lead)

    def __repr__(self):
        return (
            f"{type(self).__name__}(domains={self.domains!r}, max_copy_words={self.max_copy_words})"
        )


class _BeliefSentence(_Sentence):
    """The belief grammar's automaton for one dialogue history."""

    def __init__(self, grammar, source, lead=()):
        self.grammar = grammar
        self.words = [str(word) for word in source]
        self.lead = tuple(lead)
        text = f"{grammar.marker} " + " ".join(self.words)
        spans, position = [], len(grammar.marker) + 1
        for word in self.words:
            spans.append((position, position + len(word)))
            position += len(word) + 1
        self.word_ids = [tuple(ids) for ids in group_ids(grammar.tokenizer, text, spans)]
        self.copyable = [
            bool(ids)
            and word not in grammar.skip_words
            and grammar.separator not in word
            and not any(char in word for char in "[]")
            for word, ids in zip(self.words, self.word_ids)
        ]
        min_word = min(
            (len(ids) for ids, ok in zip(self.word_ids, self.copyable) if ok), default=math.inf
        )
        self._init_costs(min_word)
        self.tries = {}
        self.state_tries = {}
        self.initial = self._enter((_INIT, 0, 0, 0 if self.lead else 1))
        self.prefixes = {(): tuple(dict.fromkeys(config for config, _ in self.initial))}
        self.steps = {}
        self.costs = {}

    # -- structure --------------------------------------------------------

    def _init_costs(self, min_word):
        """Fewest ids that finish the output after each slot's value (``tail``)."""
        g = self.grammar
        n_sep, n_close = len(g.separator_ids), len(g.close_ids)
        self.min_value, self.tail, self.slot_cost = {}, {}, {}
        for d in reversed(range(len(g.domains))):
            last = len(g.slots[d]) - 1
            for s in reversed(range(last + 1)):
                values = g.value_ids[g.value_index(d, s)]
                self.min_value[d, s] = min(
                    [len(g.empty_ids), min_word, *(len(v) for v in values if v)]
                )
                if s < last:
                    tail = n_sep + len(g.domain_ids[d]) + self.slot_cost[d, s + 1]
                else:
                    tail = min([n_close + 1, n_sep + self._domains_cost(d + 1)])
                self.tail[d, s] = tail
                self.slot_cost[d, s] = len(g.slot_ids[d][s]) + self.min_value[d, s] + tail

    def _domains_cost(self, first):
        g = self.grammar
        return min(
            (len(g.domain_ids[d]) + self.slot_cost[d, 0] for d in range(first, len(g.domains))),
            default=math.inf,
        )

    def _after_units(self, d, s):
        g = self.grammar
        units = []
        last = s == len(g.slots[d]) - 1
        if not last or d + 1 < len(g.domains):
            units.append((g.separator_ids, (_SEP, 0)))
        if last:
            units.append((g.close_ids, (_MARK_CLOSE, 0)))
        return units

    def _menu(self, state):
        """``(key, units)`` of a state; the units depend on the state only through the key."""
        phase, d, s, extra = state
        g = self.grammar
        if phase == _INIT:
            units = [(ids, (_MARK_OPEN, 0)) for ids in g.open_ids]
            if not extra and self.lead:
                units.append((self.lead, (_LEAD, 0)))
            return state, units
        if phase == _OPENED:
            units = [(g.close_ids, (_MARK_CLOSE, 0))]
            units += [(ids, (_DOMAIN, (k, 0))) for k, ids in enumerate(g.domain_ids)]
            return state, units
        if phase == _SLOT:
            return state, [(g.slot_ids[d][s], (_SLOTNAME, (d, s)))]
        if phase == _VALUE:
            flat = g.value_index(d, s)
            units = [(g.empty_ids, (_VAL, (flat, -1)))]
            units += [(ids, (_VAL, (flat, k))) for k, ids in enumerate(g.value_ids[flat]) if ids]
            units += [(ids, (_WORD, j)) for j, ids in enumerate(self.word_ids) if self.copyable[j]]
            return state, units
        if phase == _COPY:
            j, length = extra
            units = self._after_units(d, s)
            nxt = j + 1
            if length < g.max_copy_words and nxt < len(self.words) and self.copyable[nxt]:
                units.append((self.word_ids[nxt], (_WORD, nxt)))
            return (phase, d, s, nxt if length < g.max_copy_words else None), units
        if phase == _AFTER:
            return state, self._after_units(d, s)
        if phase == _COMMA:
            if s + 1 < len(g.slots[d]):
                return state, [(g.domain_ids[d], (_DOMAIN, (d, s + 1)))]
            return state, [
                (g.domain_ids[k], (_DOMAIN, (k, 0))) for k in range(d + 1, len(g.domains))
            ]
        if phase == _FINAL:
            return state, [((g.eos_token_id,), (_EOS, 0))]
        return state, [((g.pad_token_id,), (_PAD, 0))]  # _END

    def _trie(self, state):
        trie = self.state_tries.get(state)
        if trie is None:
            key, units = self._menu(state)
            # Menus without history words are the same for every history.
            shared = state[0] not in (_VALUE, _COPY)
            cache = self.grammar._shared_tries if shared else self.tries
            if shared:
                key = (key, self.lead)
            trie = cache.get(key)
            if trie is None:
                trie = cache[key] = _Trie(units)
            self.state_tries[state] = trie
        return trie

    def _apply(self, state, payload):
        phase, d, s, extra = state
        kind, arg = payload
        if kind == _LEAD:
            return (_INIT, 0, 0, 1)
        if kind == _MARK_OPEN:
            return (_OPENED, 0, 0, 0)
        if kind == _MARK_CLOSE:
            return (_FINAL, 0, 0, 0)
        if kind == _DOMAIN:
            return (_SLOT, arg[0], arg[1], 0)
        if kind == _SLOTNAME:
            return (_VALUE, d, s, 0)
        if kind == _VAL:
            return (_AFTER, d, s, 0)
        if kind == _WORD:
            length = extra[1] + 1 if phase == _COPY else 1
            return (_COPY, d, s, (arg, length))
        if kind == _SEP:
            return (_COMMA, d, s, 0)
        return (_END, 0, 0, 0)  # _EOS, _PAD

    def _text(self, payload):
        kind, arg = payload
        g = self.grammar
        if kind in (_MARK_OPEN, _MARK_CLOSE):
            return g.marker
        if kind == _DOMAIN:
            return g.domain_names[arg[0]]
        if kind == _SLOTNAME:
            return g.slot_names[arg[0]][arg[1]]
        if kind == _VAL:
            flat, k = arg
            return g.empty_value if k < 0 else g.values[flat][k]
        if kind == _WORD:
            return self.words[arg]
        if kind == _SEP:
            return g.separator
        return None

    # -- budget -----------------------------------------------------------

    def _state_cost(self, state):
        """Fewest ids, EOS included, that finish the output from the start of ``state``."""
        phase, d, s, _ = state
        g = self.grammar
        if phase == _END:
            return 0
        if phase == _FINAL:
            return 1
        if phase in (_AFTER, _COPY):
            return self.tail[d, s]
        if phase == _VALUE:
            return self.min_value[d, s] + self.tail[d, s]
        if phase == _SLOT:
            return self.slot_cost[d, s]
        if phase == _COMMA:
            if s + 1 < len(g.slots[d]):
                return len(g.domain_ids[d]) + self.slot_cost[d, s + 1]
            return self._domains_cost(d + 1)
        opened = min(len(g.close_ids) + 1, self._domains_cost(0))
        if phase == _OPENED:
            return opened
        return min(map(len, g.open_ids)) + opened  # _INIT
