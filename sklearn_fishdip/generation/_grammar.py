"""Constrained generation of augmented natural language.

A fine-tuned seq2seq model should copy its source sentence and insert typed
brackets, but free generation may drop, misspell or invent words, and an
uncased or punctuation-splitting tokenizer cannot even give back the source's
casing or its ``1996-08-22``. :class:`AugmentedGrammar` restricts generation,
token id by token id, to outputs that

* copy the (escaped) source words in order, in the tokenizer's own subword
  units, inserting markup only between words;
* open a bracket ``[`` only before a source word, nested at most
  ``max_depth`` deep (a nested span is written inside its parent's name, as in
  ``[ Bank of [ China | location ] | organization ]``);
* end a name, once it holds at least one source word, with ``|`` and one of
  the given type names, then either close it with ``]`` or, when relation
  names are given, add tags ``| relation = tail`` whose tail copies any
  contiguous span of source words;
* stop (EOS) only once every source word is copied and every bracket closed.

The grammar is a nondeterministic automaton over token ids: every state has a
menu of *units* (a word's ids, a markup character's ids, a type name's ids
...), kept in a trie, so multi-id words, markup and multi-word names all work
and ambiguous prefixes (``organization`` / ``organization based in``) are
followed in parallel. It plugs into ``model.generate`` as
``prefix_allowed_tokens_fn`` and works with greedy and beam search.

Because the automaton knows which source word every copied id came from,
:meth:`AugmentedGrammar.render` writes the output with the *original* source
words (escaped, in their casing) and the natural type names, so a constrained
output reconstructs its source exactly whatever the tokenizer's decoding does.
"""

from __future__ import annotations

import copy
import math
from bisect import bisect_right
from collections.abc import Callable, Sequence

from ..augmented._special import CLOSE, OPEN, RELATION, SEPARATOR, escape_token
from ..utils._validation import check_tokens

__all__ = ["AugmentedGrammar", "generate_augmented"]

# Phases of a grammar state ``(phase, pos, frames, extra)``: ``pos`` is the
# number of source words copied, ``frames`` the start positions of the open
# brackets (all in their name part except possibly the innermost, whose part is
# the phase), ``extra`` the tail's next word (_TAIL) or whether the optional
# leading ids were consumed (_INIT). Plain ints keep states cheap to hash and
# iteration order independent of the hash seed.
_INIT, _NAME, _TYPE, _AFTER_TYPE, _RELATION, _TAIL_START, _TAIL, _END = range(8)

# Kinds of units, as ``(kind, argument)`` payloads of trie terminals.
_WORD, _OPEN, _CLOSE, _SEP, _LABEL, _REL, _TAIL_WORD, _LEAD, _EOS, _PAD = range(10)

# Context around markup, names and words when tokenizing them: every unit is
# tokenized where it stands in a real target, after a space.
_MARKUP_PROBE = f"a {OPEN} a {CLOSE} a {SEPARATOR} a {RELATION} a"
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


def _group_ids(tokenizer, text, spans):
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


def _spans_of(words, offset=0):
    spans, position = [], offset
    for word in words:
        spans.append((position, position + len(word)))
        position += len(word) + 1
    return spans


def _check_names(names, what):
    if isinstance(names, str | bytes) or not hasattr(names, "__iter__"):
        raise TypeError(f"{what} must be a sequence of strings, got {type(names).__name__}")
    names = list(names)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{what} must hold strings, got {type(name).__name__} ({name!r})")
        if not name.strip():
            raise ValueError(f"{what} must not hold an empty or blank name, got {name!r}")
        if any(char in name for char in OPEN + CLOSE + SEPARATOR + RELATION):
            raise ValueError(f"{what} must not contain any of '[', ']', '|', '=', got {name!r}")
    # Whitespace is collapsed because the target text collapses it.
    names = [" ".join(name.split()) for name in names]
    if len(set(names)) != len(names):
        raise ValueError(f"{what} holds a name twice: {names!r}")
    return names


class AugmentedGrammar:
    """Token-level grammar of augmented natural language for constrained decoding.

    Parameters
    ----------
    tokenizer : transformers.PreTrainedTokenizerBase
        The model's tokenizer. A fast tokenizer is preferred: its offsets tell
        which ids each word gets inside a target text.
    label_names : sequence of str
        Natural type names (``"person"``, ``"organization based in"``); an
        entity's type must be one of them.
    relation_names : sequence of str, default=()
        Natural relation names. When empty, an entity carries only its type.
    max_depth : int, default=3
        Largest number of brackets open at once.
    eos_token_id : int or None, default=None
        Id that ends a target. ``None`` takes the id the tokenizer appends to
        every text (``</s>`` for T5 and BART, ``[SEP]`` for BERT), else its EOS
        or SEP token.

    Attributes
    ----------
    label_names : list of str
        The type names, whitespace collapsed.
    relation_names : list of str
        The relation names, whitespace collapsed.
    label_ids : list of list of int
        Token ids of each type name as it appears in a target.
    relation_ids : list of list of int
        Token ids of each relation name followed by ``=``.
    markup_ids : dict of str to list of int
        Token ids of ``[``, ``]``, ``|`` and ``=`` inside a target.
    eos_token_id : int
        Id that ends a generated target.
    lead_ids : tuple of int
        Special ids the tokenizer puts before a target's text (``<s>`` for
        BART, ``[CLS]`` for BERT, none for T5); generation may emit them,
        once, before the text.

    Raises
    ------
    TypeError
        If names are not strings.
    ValueError
        If ``label_names`` is empty, a name is blank, repeated or holds one of
        ``[ ] | =``, two names tokenize alike, ``max_depth < 1``, or a markup
        character is unknown to the tokenizer.

    Notes
    -----
    A state is a position in the source plus a stack of open brackets, so
    following a prefix is linear in its length; results are cached by prefix
    (a beam extends a cached prefix by one id), and each state's menu of units
    is built once.

    Examples
    --------
    >>> from sklearn_fishdip.utils._testing import make_tiny_tokenizer
    >>> grammar = AugmentedGrammar(make_tiny_tokenizer(), ["person", "location"])
    >>> tokenizer = grammar.tokenizer
    >>> ids = tokenizer("[ John | person ] visited Paris")["input_ids"]
    >>> grammar.render(ids, ["John", "visited", "Paris"])
    '[ John | person ] visited Paris'
    """

    def __init__(self, tokenizer, label_names, relation_names=(), max_depth=3, eos_token_id=None):
        self.tokenizer = tokenizer
        self.label_names = _check_names(label_names, "label_names")
        self.relation_names = _check_names(relation_names, "relation_names")
        if not self.label_names:
            raise ValueError("label_names is empty: at least one type name is needed")
        _check_positive(max_depth, "max_depth")
        self.max_depth = max_depth
        self._init_markup()
        self._init_specials(eos_token_id)
        self.label_ids = [self._name_ids(name) for name in self.label_names]
        self.relation_ids = [
            self._name_ids(name) + self.markup_ids[RELATION] for name in self.relation_names
        ]
        for what, names, ids in (
            ("label_names", self.label_names, self.label_ids),
            ("relation_names", self.relation_names, self.relation_ids),
        ):
            seen = {}
            for name, name_ids in zip(names, ids):
                if not name_ids:
                    raise ValueError(f"{what}: {name!r} gives no token ids")
                other = seen.setdefault(tuple(name_ids), name)
                if other != name:
                    raise ValueError(
                        f"{what}: {other!r} and {name!r} give the same token ids, so a "
                        "generated type could not tell them apart"
                    )
        self._min_label = min(map(len, self.label_ids))
        self._min_relation = min(map(len, self.relation_ids), default=0)
        self._shared_tries = {
            (_TYPE,): _Trie((ids, (_LABEL, k)) for k, ids in enumerate(self.label_ids)),
            (_RELATION,): _Trie((ids, (_REL, k)) for k, ids in enumerate(self.relation_ids)),
            (_AFTER_TYPE,): _Trie(
                [(self.markup_ids[CLOSE], (_CLOSE, 0))]
                + ([(self.markup_ids[SEPARATOR], (_SEP, 0))] if self.relation_names else [])
            ),
            (_END,): _Trie([((self.pad_token_id,), (_PAD, 0))]),
        }

    # -- tokenizer facts --------------------------------------------------

    def _init_markup(self):
        chars = (OPEN, CLOSE, SEPARATOR, RELATION)
        spans = [(_MARKUP_PROBE.index(char), _MARKUP_PROBE.index(char) + 1) for char in chars]
        groups = _group_ids(self.tokenizer, _MARKUP_PROBE, spans)
        self.markup_ids = dict(zip(chars, groups))
        # At the very start of a target only "[" can stand; some tokenizers
        # (byte-level BPE) write it differently there.
        self._open_initial = _group_ids(self.tokenizer, f"{OPEN} a", [(0, 1)])[0]
        unk = getattr(self.tokenizer, "unk_token_id", None)
        for char, ids in [*self.markup_ids.items(), (OPEN, self._open_initial)]:
            if not ids or (unk is not None and unk in ids):
                raise ValueError(
                    f"the tokenizer cannot represent the markup character {char!r} "
                    f"(it gives ids {ids}); add it to the vocabulary"
                )
        if len({tuple(ids) for ids in self.markup_ids.values()}) != len(chars):
            raise ValueError(f"the markup characters share token ids: {self.markup_ids}")

    def _init_specials(self, eos_token_id):
        tokenizer = self.tokenizer
        plain = list(tokenizer("a", add_special_tokens=False)["input_ids"])
        full = list(tokenizer("a")["input_ids"])
        lead, trail = (), ()
        for start in range(len(full) - len(plain) + 1):
            if full[start : start + len(plain)] == plain:
                lead = tuple(full[:start])
                trail = tuple(full[start + len(plain) :])
                break
        self.lead_ids = lead
        eos = eos_token_id
        if eos is None and trail:
            eos = trail[0]
        if eos is None:
            eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else None
        if eos is None:
            eos = getattr(tokenizer, "sep_token_id", None)
        self.eos_token_id = eos
        pad = tokenizer.pad_token_id
        self.pad_token_id = pad if pad is not None else eos
        # Leading ids render skips; <unk> may be a copied word's id.
        self._special_ids = frozenset(int(i) for i in tokenizer.all_special_ids) - {
            getattr(tokenizer, "unk_token_id", None)
        }

    @property
    def eos_token_id(self):
        """int: Id that ends a generated target."""
        return self._eos

    @eos_token_id.setter
    def eos_token_id(self, value):
        if value is None:
            raise ValueError(
                "the tokenizer appends no end-of-sequence id and has no EOS or SEP token"
            )
        self._eos = int(value)

    def _name_ids(self, name):
        text = f"a {SEPARATOR} {name} {CLOSE}"
        start = len(f"a {SEPARATOR} ")
        return _group_ids(self.tokenizer, text, [(start, start + len(name))])[0]

    def word_ids(self, source):
        """Token ids of each escaped source word as it is copied into a target.

        Parameters
        ----------
        source : sequence of str
            Source tokens, not escaped.

        Returns
        -------
        list of list of int
            One list of ids per word, as the tokenizer produces them for the
            word inside a target text (after a space or markup).
        """
        return [list(ids) for ids in _Sentence(self, source).inner]

    # -- public decoding hooks --------------------------------------------

    def allowed_tokens_fn(
        self,
        sources,
        prefix_length: int = 1,
        *,
        lead_ids=None,
        max_new_tokens=None,
    ) -> Callable:
        """Build a ``prefix_allowed_tokens_fn`` for ``model.generate``.

        Parameters
        ----------
        sources : sequence of sequence of str
            The batch's source sentences, not escaped, in the order of the
            rows given to ``generate`` (all beams of a row share its source).
        prefix_length : int, default=1
            Number of leading ids of each decoder row that precede the
            generated text: the decoder start token of an encoder-decoder.
        lead_ids : sequence of int or None, default=None
            Ids that may come first, once, before the text (BART's ``<s>``
            after its decoder start ``</s>``). ``None`` uses
            :attr:`lead_ids`; pass ``()`` when the decoder start already is
            the tokenizer's leading id (BERT2BERT's ``[CLS]``).
        max_new_tokens : int, sequence of int or None, default=None
            Generation budget, for every row or one per source. When given,
            an id is allowed only if the output can still be finished (every
            word copied, every bracket closed, EOS) within the budget, so a
            long output is never cut off unless the budget is too small even
            for a bare copy.

        Returns
        -------
        callable
            ``fn(batch_id, input_ids) -> list[int]``. Once the row holds EOS
            it allows only padding. It also has a ``render(batch_id, ids)``
            method, :meth:`render` for that row's source.
        """
        if isinstance(prefix_length, bool) or not isinstance(prefix_length, int):
            raise TypeError(f"prefix_length must be an int, got {prefix_length!r}")
        if prefix_length < 0:
            raise ValueError(f"prefix_length must be >= 0, got {prefix_length}")
        budgets = _per_source_budgets(max_new_tokens, len(sources))
        lead = self.lead_ids if lead_ids is None else tuple(int(i) for i in lead_ids)
        sentences = [
            _Sentence(self, source, index=index, lead=lead) for index, source in enumerate(sources)
        ]
        return _AllowedTokens(sentences, prefix_length, budgets)

    def render(self, ids, source, *, prefix_length=None) -> str:
        """Write generated ids as text in terms of the original source words.

        The ids are walked with the grammar: each copied word is written as
        the escaped source word (original casing and punctuation), each type
        or relation as its natural name, markup as ``[ ] | =``, all separated
        by single spaces. Ids that leave the grammar (free generation) and an
        unfinished last unit are decoded with the tokenizer and appended, so
        rendering never raises on generated ids.

        Parameters
        ----------
        ids : sequence of int or torch.Tensor
            One generated row; padding and ids after EOS are ignored.
        source : sequence of str
            Its source tokens, not escaped.
        prefix_length : int or None, default=None
            Number of leading ids to skip (the decoder start). ``None`` skips
            every leading special id.

        Returns
        -------
        str
            The augmented text.
        """
        return _Sentence(self, source, lead=self.lead_ids).render(ids, prefix_length)

    def __repr__(self):
        return (
            f"{type(self).__name__}(label_names={self.label_names!r}, "
            f"relation_names={self.relation_names!r}, max_depth={self.max_depth})"
        )


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
        self.words = [escape_token(token) for token in self.source]
        self.lead = tuple(lead)
        n = self.n = len(self.words)
        text = " ".join(self.words)
        self.inner = _group_ids(
            grammar.tokenizer, _WORD_CONTEXT + text, _spans_of(self.words, len(_WORD_CONTEXT))
        )
        self.first = _group_ids(grammar.tokenizer, text, _spans_of(self.words[:1]))[0] if n else []
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


def generate_augmented(
    model,
    tokenizer,
    sources,
    *,
    grammar=None,
    num_beams=1,
    max_new_tokens=None,
    batch_size=16,
    device=None,
    max_source_length=512,
    input_prefix="",
):
    """Generate augmented text for source sentences, constrained or free.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        An encoder-decoder model (T5, BART, BERT2BERT ``EncoderDecoderModel``).
        It is put in eval mode for generation and its train/eval mode is
        restored afterwards.
    tokenizer : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    sources : sequence of sequence of str
        Source sentences as tokens, not escaped; they are escaped and joined
        by spaces to form the model input.
    grammar : AugmentedGrammar or None, default=None
        When given, generation follows it (every output copies its source and
        parses with known types) and the output is rendered with the original
        source words (:meth:`AugmentedGrammar.render`). ``None`` generates
        freely and decodes with the tokenizer.
    num_beams : int, default=1
        Beam width; 1 is greedy search.
    max_new_tokens : int or None, default=None
        Most ids generated per sentence. ``None`` gives each sentence twice
        its own source length in ids plus 20, so a sentence's output does not
        depend on which sentences share its batch. With a grammar, outputs
        are steered to finish within the budget; without one they are cut
        at it.
    batch_size : int, default=16
        Sentences per ``generate`` call.
    device : str, torch.device or None, default=None
        Device to generate on; the model is moved there and back. ``None``
        uses the model's device.
    max_source_length : int, default=512
        Model inputs are truncated to this many ids (the grammar still copies
        the whole source).
    input_prefix : str, default=""
        Text put before every input (a multitask prefix such as
        ``"conll04 : "``).

    Returns
    -------
    list of str
        One augmented text per source sentence.

    Raises
    ------
    TypeError, ValueError
        If a sentence is not a list of non-empty tokens without whitespace, a
        numeric parameter is out of range, or ``grammar`` ends targets with an
        id the model does not treat as EOS.

    Notes
    -----
    Generation settings that fight copying are switched off for the call:
    sampling, ``no_repeat_ngram_size`` (BART checkpoints set 3, which would
    forbid repeating ``| person ]``), and minimum lengths.
    """
    import torch

    sources = [check_tokens(source, index=i) for i, source in enumerate(_as_list(sources))]
    _check_positive(num_beams, "num_beams")
    _check_positive(batch_size, "batch_size")
    _check_positive(max_source_length, "max_source_length")
    if max_new_tokens is not None:
        _check_positive(max_new_tokens, "max_new_tokens")
    if not isinstance(input_prefix, str):
        raise TypeError(f"input_prefix must be a string, got {type(input_prefix).__name__}")
    if grammar is not None and not isinstance(grammar, AugmentedGrammar):
        raise TypeError(
            f"grammar must be an AugmentedGrammar or None, got {type(grammar).__name__}"
        )

    config = copy.deepcopy(model.generation_config)
    config.num_beams = num_beams
    config.num_return_sequences = 1
    config.do_sample = False
    config.no_repeat_ngram_size = 0
    config.min_length = 0
    config.min_new_tokens = None
    for sampling in ("temperature", "top_p", "top_k"):
        # Unused without sampling; cleared so generate does not warn.
        setattr(config, sampling, None)
    start = model.config.decoder_start_token_id
    if start is None:
        start = config.decoder_start_token_id
    lead = ()
    if grammar is not None:
        eos = config.eos_token_id
        eos = set(eos) if isinstance(eos, list | tuple) else {eos}
        if grammar.eos_token_id not in eos:
            raise ValueError(
                f"the grammar ends targets with id {grammar.eos_token_id} but the model's "
                f"generation config stops at {sorted(e for e in eos if e is not None)}"
            )
        # The grammar decides where EOS goes.
        config.forced_eos_token_id = None
        lead = grammar.lead_ids
        # Mirror how targets are encoded: a leading id equal to the decoder
        # start is not part of the labels.
        if lead and lead[0] == start:
            lead = lead[1:]

    texts = [input_prefix + " ".join(escape_token(t) for t in source) for source in sources]
    model_device = next(model.parameters()).device
    device = model_device if device is None else torch.device(device)
    was_training = model.training
    outputs = []
    try:
        if device != model_device:
            model.to(device)
        model.eval()
        with torch.inference_mode():
            for begin in range(0, len(sources), batch_size):
                batch = sources[begin : begin + batch_size]
                batch_texts = texts[begin : begin + batch_size]
                encoded = tokenizer(
                    batch_texts,
                    return_tensors="pt",
                    padding=True,
                    truncation=True,
                    max_length=max_source_length,
                )
                if max_new_tokens is None:
                    lengths = tokenizer(batch_texts, add_special_tokens=False)["input_ids"]
                    budgets = [2 * len(ids) + 20 for ids in lengths]
                else:
                    budgets = [max_new_tokens] * len(batch)
                config.max_new_tokens = max(budgets)
                config.max_length = None
                kwargs = {}
                allowed = None
                if grammar is not None:
                    allowed = grammar.allowed_tokens_fn(
                        batch, prefix_length=1, lead_ids=lead, max_new_tokens=budgets
                    )
                    kwargs["prefix_allowed_tokens_fn"] = allowed
                generated = model.generate(
                    input_ids=encoded["input_ids"].to(device),
                    attention_mask=encoded["attention_mask"].to(device),
                    generation_config=config,
                    **kwargs,
                )
                # After the decoder start, at most each row's own budget.
                rows = [row[: 1 + budget] for row, budget in zip(generated.tolist(), budgets)]
                if allowed is not None:
                    outputs.extend(allowed.render(i, row) for i, row in enumerate(rows))
                else:
                    outputs.extend(
                        tokenizer.batch_decode(
                            rows, skip_special_tokens=True, clean_up_tokenization_spaces=False
                        )
                    )
    finally:
        model.train(was_training)
        if device != model_device:
            model.to(model_device)
    return [" ".join(text.split()) for text in outputs]


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


def _check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _as_list(sources):
    if isinstance(sources, str) or not isinstance(sources, Sequence):
        raise TypeError(f"sources must be a list of token lists, got {type(sources).__name__}")
    return list(sources)
