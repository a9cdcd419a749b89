"""The grammar's automaton for one source sentence, and the ``generate`` hook over a batch.

A state is a position in the source plus a stack of open brackets; each state
has a menu of units kept in a :class:`~._tokens._Trie`. :class:`_Sentence`
follows generated prefixes through it (allowed next ids, the fewest ids that
still finish the output) and renders finished ids with the original words.
"""

from __future__ import annotations

import math

from ..augmented._entities import escape_tokens
from ..augmented._special import CLOSE, OPEN, RELATION, SEPARATOR
from ..augmented._subwords import group_ids
from ..utils._validation import check_tokens
from ._tokens import (
    _AFTER_TYPE,
    _CLOSE,
    _END,
    _EOS,
    _INIT,
    _LABEL,
    _LEAD,
    _NAME,
    _OPEN,
    _PAD,
    _REL,
    _RELATION,
    _SEP,
    _TAIL,
    _TAIL_START,
    _TAIL_WORD,
    _TYPE,
    _WORD,
    _WORD_CONTEXT,
    _check_positive,
    _spans_of,
    _Trie,
)


def _per_source_budgets(max_new_tokens, n_sources):
    """One generation budget per source (or None), validated."""
    if max_new_tokens is None:
        return None
    if isinstance(max_new_tokens, int) and not isinstance(max_new_tokens, bool):
        _check_positive(max_new_tokens, "max_new_tokens")
        return [max_new_tokens] * n_sources
    budgets = list(max_new_tokens)
    if len(budgets) != n_sources:
        raise ValueError(
            f"max_new_tokens has {len(budgets)} budgets for {n_sources} sources; "
            "give one int or one per source"
        )
    for budget in budgets:
        _check_positive(budget, "max_new_tokens")
    return budgets


class _AllowedTokens:
    """The callable returned by :meth:`AugmentedGrammar.allowed_tokens_fn`."""

    def __init__(self, sentences, prefix_length, budgets):
        self.sentences = sentences
        self.prefix_length = prefix_length
        self.budgets = budgets  # one per sentence, or None

    def __call__(self, batch_id, input_ids):
        ids = input_ids.tolist() if hasattr(input_ids, "tolist") else list(input_ids)
        content = tuple(ids[self.prefix_length :])
        remaining = None
        if self.budgets is not None:
            remaining = self.budgets[batch_id] - len(content)
        return self.sentences[batch_id].allowed(content, remaining)

    def render(self, batch_id, ids):
        """Render one generated row of source ``batch_id``; see :meth:`AugmentedGrammar.render`."""
        return self.sentences[batch_id].render(ids, self.prefix_length)


class _Sentence:
    """The grammar's automaton for one source sentence, with its caches."""

    def __init__(self, grammar, source, index=None, lead=()):
        self.grammar = grammar
        self.source = check_tokens(source, index=index)
        self.words = escape_tokens(self.source)
        self.lead = tuple(lead)
        n = self.n = len(self.words)
        text = " ".join(self.words)
        self.inner = group_ids(
            grammar.tokenizer, _WORD_CONTEXT + text, _spans_of(self.words, len(_WORD_CONTEXT))
        )
        self.first = group_ids(grammar.tokenizer, text, _spans_of(self.words[:1]))[0] if n else []
        # suffix[pos]: ids still to copy from word pos on.
        self.suffix = [0] * (n + 1)
        for pos in reversed(range(n)):
            self.suffix[pos] = self.suffix[pos + 1] + len(self.inner[pos])
        self.min_word = min(map(len, self.inner), default=0)
        markup = grammar.markup_ids
        self.frame_cost = len(markup[SEPARATOR]) + grammar._min_label + len(markup[CLOSE])
        self.tries = {}
        self.state_tries = {}
        self.initial = self._enter((_INIT, 0, (), 0 if self.lead else 1))
        self.prefixes = {(): tuple(dict.fromkeys(config for config, _ in self.initial))}
        self.steps = {}
        self.costs = {}

    # -- structure --------------------------------------------------------

    def _menu(self, state):
        """Trie key and units of a state (units depend on the state only through the key)."""
        phase, pos, frames, extra = state
        g = self.grammar
        markup = g.markup_ids
        n = self.n
        if phase in (_TYPE, _RELATION, _AFTER_TYPE, _END):
            return (phase,), None
        if phase == _INIT:
            units = []
            if not extra:
                units.append((self.lead, (_LEAD, 0)))
            if n:
                units.append((self.first, (_WORD, 0)))
                units.append((g._open_initial, (_OPEN, 0)))
            else:
                units.append(((g.eos_token_id,), (_EOS, 0)))
            return (_INIT, extra), units
        if phase == _NAME:
            can_open = pos < n and len(frames) < g.max_depth
            can_sep = bool(frames) and pos > frames[-1]
            can_end = pos == n and not frames
            units = []
            if pos < n:
                units.append((self.inner[pos], (_WORD, pos)))
            if can_open:
                units.append((markup[OPEN], (_OPEN, 0)))
            if can_sep:
                units.append((markup[SEPARATOR], (_SEP, 0)))
            if can_end:
                units.append(((g.eos_token_id,), (_EOS, 0)))
            return (_NAME, pos, can_open, can_sep, can_end), units
        if phase == _TAIL_START:
            return (_TAIL_START,), [(ids, (_TAIL_WORD, j)) for j, ids in enumerate(self.inner)]
        # _TAIL: continue the tail with the next word, or end it.
        units = [(markup[SEPARATOR], (_SEP, 0)), (markup[CLOSE], (_CLOSE, 0))]
        if extra < n:
            units.insert(0, (self.inner[extra], (_TAIL_WORD, extra)))
        return (_TAIL, extra), units

    def _trie(self, state):
        trie = self.state_tries.get(state)
        if trie is None:
            key, units = self._menu(state)
            trie = self.grammar._shared_tries.get(key) or self.tries.get(key)
            if trie is None:
                trie = self.tries[key] = _Trie(units)
            self.state_tries[state] = trie
        return trie

    @staticmethod
    def _apply(state, payload):
        phase, pos, frames, extra = state
        kind, arg = payload
        if kind == _LEAD:
            return (_INIT, pos, frames, 1)
        if kind == _WORD:
            return (_NAME, pos + 1, frames, 0)
        if kind == _OPEN:
            return (_NAME, pos, (*frames, pos), 0)
        if kind == _EOS or kind == _PAD:
            return (_END, pos, (), 0)
        if kind == _SEP:
            return (_TYPE if phase == _NAME else _RELATION, pos, frames, 0)
        if kind == _LABEL:
            return (_AFTER_TYPE, pos, frames, 0)
        if kind == _CLOSE:
            return (_NAME, pos, frames[:-1], 0)
        if kind == _REL:
            return (_TAIL_START, pos, frames, 0)
        return (_TAIL, pos, frames, arg + 1)  # _TAIL_WORD

    def _text(self, payload):
        kind, arg = payload
        if kind in (_WORD, _TAIL_WORD):
            return self.words[arg]
        if kind == _LABEL:
            return self.grammar.label_names[arg]
        if kind == _REL:
            return f"{self.grammar.relation_names[arg]} {RELATION}"
        return {_OPEN: OPEN, _CLOSE: CLOSE, _SEP: SEPARATOR}.get(kind)

    def _enter(self, state, done=()):
        """Configurations at the start of ``state``, following units without ids."""
        trie = self._trie(state)
        paths = [((state, 0), done)]
        for payload in trie.terminals[0]:
            paths.extend(self._enter(self._apply(state, payload), (*done, payload)))
        return paths

    def _step(self, config, token):
        """``(next configuration, payloads completed)`` pairs after one id."""
        state, node = config
        trie = self._trie(state)
        child = trie.children[node].get(token)
        if child is None:
            return []
        paths = [((state, child), ())] if trie.children[child] else []
        for payload in trie.terminals[child]:
            paths.extend(self._enter(self._apply(state, payload), (payload,)))
        return paths

    def _transitions(self, configs):
        steps = self.steps.get(configs)
        if steps is None:
            steps = {}
            for state, node in configs:
                for token in self._trie(state).children[node]:
                    if token not in steps:
                        steps[token] = tuple(
                            dict.fromkeys(
                                nxt for config in configs for nxt, _ in self._step(config, token)
                            )
                        )
            self.steps[configs] = steps
        return steps

    # -- budget -----------------------------------------------------------

    def _state_cost(self, state):
        """Fewest ids, EOS included, that finish the output from the start of ``state``."""
        phase, pos, frames, _ = state
        if phase == _END:
            return 0
        if phase == _INIT:
            return len(self.first) + self.suffix[1] + 1 if self.n else 1
        if phase == _NAME:
            return self.suffix[pos] + len(frames) * self.frame_cost + 1
        markup = self.grammar.markup_ids
        # Finish the innermost bracket, then copy the rest and close the others.
        rest = len(markup[CLOSE]) + self.suffix[pos] + (len(frames) - 1) * self.frame_cost + 1
        if phase == _TYPE:
            return self.grammar._min_label + rest
        if phase == _RELATION:
            return self.grammar._min_relation + self.min_word + rest
        if phase == _TAIL_START:
            return self.min_word + rest
        return rest  # _AFTER_TYPE, _TAIL

    def _cost(self, configs):
        cost = self.costs.get(configs)
        if cost is None:
            cost = math.inf
            for state, node in configs:
                if state[0] == _END:
                    return 0
                for payload, distance in self._trie(state).reach[node].items():
                    cost = min(cost, distance + self._state_cost(self._apply(state, payload)))
            self.costs[configs] = cost
        return cost

    # -- decoding ---------------------------------------------------------

    def _configs(self, prefix):
        configs = self.prefixes.get(prefix)
        if configs is not None:
            return configs
        known = len(prefix) - 1
        while prefix[:known] not in self.prefixes:
            known -= 1
        configs = self.prefixes[prefix[:known]]
        for length in range(known + 1, len(prefix) + 1):
            token = prefix[length - 1]
            configs = self._transitions(configs).get(token, ()) if configs else ()
            self.prefixes[prefix[:length]] = configs
        return configs

    def allowed(self, content, remaining=None):
        configs = self._configs(content)
        if not configs:
            # Off the grammar (a wrong prefix_length): end as soon as possible.
            return [self.grammar.eos_token_id]
        steps = self._transitions(configs)
        if remaining is not None:
            within = [t for t, nxt in steps.items() if self._cost(nxt) <= remaining - 1]
            if within:
                return within
        return list(steps)

    def render(self, ids, prefix_length):
        g = self.grammar
        ids = [int(i) for i in (ids.tolist() if hasattr(ids, "tolist") else ids)]
        if prefix_length is None:
            start = 0
            while start < len(ids) and ids[start] in g._special_ids:
                start += 1
            content = ids[start:]
        else:
            content = ids[prefix_length:]
        # Each configuration keeps the first path that reached it: its texts
        # and the ids of its unfinished unit.
        paths = {}
        for config, done in self.initial:
            paths.setdefault(config, ([self._text(p) for p in done], []))
        rest = []
        for position, token in enumerate(content):
            if all(state[0] == _END for state, _ in paths):
                break
            following = {}
            for config, (texts, pending) in paths.items():
                for nxt, done in self._step(config, token):
                    if nxt in following:
                        continue
                    if done:
                        following[nxt] = (texts + [self._text(p) for p in done], [])
                    else:
                        following[nxt] = (texts, pending + [token])
            if not following:
                rest = content[position:]
                break
            paths = following
        # Prefer a finished output, then one that may finish now.
        best = min(
            paths.items(),
            key=lambda item: (item[0][0][0] != _END, self._cost((item[0],)) != 1),
        )
        texts, pending = best[1]
        pieces = [text for text in texts if text]
        for extra in (pending, rest):
            extra = [t for t in extra if t != g.eos_token_id and t != g.pad_token_id]
            if extra:
                decoded = g.tokenizer.decode(
                    extra, skip_special_tokens=True, clean_up_tokenization_spaces=False
                ).strip()
                if decoded:
                    pieces.append(decoded)
        return " ".join(pieces)
