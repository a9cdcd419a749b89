"""The token-level grammar of augmented natural language, for constrained decoding.

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

from collections.abc import Callable

from ..augmented._special import CLOSE, OPEN, RELATION, SEPARATOR
from ..augmented._subwords import group_ids, markup_ids
from ._automaton import _AllowedTokens, _per_source_budgets, _Sentence
from ._tokens import (
    _AFTER_TYPE,
    _CLOSE,
    _END,
    _LABEL,
    _PAD,
    _REL,
    _RELATION,
    _SEP,
    _TYPE,
    _check_positive,
    _Trie,
)

__all__ = ["AugmentedGrammar", "grammar_for_model"]


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
        # At the very start of a target only "[" can stand; some tokenizers
        # (byte-level BPE) write it differently there.
        self.markup_ids, self._open_initial = markup_ids(self.tokenizer)
        unk = getattr(self.tokenizer, "unk_token_id", None)
        for char, ids in [*self.markup_ids.items(), (OPEN, self._open_initial)]:
            if not ids or (unk is not None and unk in ids):
                raise ValueError(
                    f"the tokenizer cannot represent the markup character {char!r} "
                    f"(it gives ids {ids}); add it to the vocabulary"
                )
        if len({tuple(ids) for ids in self.markup_ids.values()}) != len(self.markup_ids):
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
        return group_ids(self.tokenizer, text, [(start, start + len(name))])[0]

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
            self._automaton(source, index=index, lead=lead) for index, source in enumerate(sources)
        ]
        return _AllowedTokens(sentences, prefix_length, budgets)

    def _automaton(self, source, index=None, lead=()):
        """The automaton of one source; a grammar of another target form overrides this."""
        return _Sentence(self, source, index=index, lead=lead)

    def choices(self, source, ids, *, lead_ids=None):
        """The ids the grammar allows before each id of a target, for training.

        Walking a reference target (``ids``, e.g. the labels of a training
        example) through the automaton gives, at each step, the choices
        constrained decoding would have there. A training loss restricted to
        them (the estimators' ``training_loss="grammar"``) learns the same
        decisions generation makes, and nothing for ids the grammar forces.

        Parameters
        ----------
        source : sequence of str
            The target's source tokens, not escaped.
        ids : sequence of int
            The target's ids, as they follow the decoder start (or prompt).
        lead_ids : sequence of int or None, default=None
            As for :meth:`allowed_tokens_fn`.

        Returns
        -------
        list of tuple of int or None
            One entry per id: the sorted allowed ids before it, or None from
            the first id the grammar does not allow on (a target cut at a
            length limit, a structure the grammar cannot write).

        Examples
        --------
        >>> from sklearn_fishdip.utils._testing import make_tiny_tokenizer
        >>> grammar = AugmentedGrammar(make_tiny_tokenizer(), ["person", "location"])
        >>> tokenizer = grammar.tokenizer
        >>> ids = tokenizer("[ John | person ] visited")["input_ids"]
        >>> for options in grammar.choices(["John", "visited"], ids):
        ...     print(tokenizer.convert_ids_to_tokens(list(options)))
        ['[', 'John']
        ['[', 'John']
        ['[', '|', 'visited']
        ['person', 'location']
        [']']
        ['[', 'visited']
        ['</s>']
        """
        ids = [int(i) for i in ids]
        fn = self.allowed_tokens_fn([source], prefix_length=0, lead_ids=lead_ids)
        out = []
        for position, token in enumerate(ids):
            allowed = tuple(sorted(int(i) for i in fn(0, ids[:position])))
            if token not in allowed:
                return out + [None] * (len(ids) - position)
            out.append(allowed)
        return out

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
        return self._automaton(source, lead=self.lead_ids).render(ids, prefix_length)

    def __repr__(self):
        return (
            f"{type(self).__name__}(label_names={self.label_names!r}, "
            f"relation_names={self.relation_names!r}, max_depth={self.max_depth})"
        )


def grammar_for_model(loaded, vocabulary):
    """The decoding grammar of a loaded model, or a ValueError naming the model.

    Parameters
    ----------
    loaded : LoadedModel
        What :func:`~sklearn_fishdip.models.load_model` returns.
    vocabulary : tuple
        ``(type_names, relation_names)``, as a task codec's
        ``natural_vocabulary`` gives them.

    Returns
    -------
    AugmentedGrammar
    """
    try:
        return AugmentedGrammar(loaded.tokenizer, *vocabulary)
    except ValueError as error:
        arch = ", ".join(loaded.model.config.architectures or []) or type(loaded.model).__name__
        raise ValueError(
            f"model {loaded.name_or_path!r} ({arch}, loaded as {loaded.kind!r}) cannot be "
            f"used: {error}"
        ) from None
