"""FishDipDialogueStateTracker: MultiWOZ-style dialogue state tracking by sparse fine-tuning."""

from __future__ import annotations

import warnings

from sklearn.utils.validation import check_is_fitted

from ..._base import BaseFishDip
from ..._docstrings import FITTED_DOC, PARAMETERS_DOC
from ..._params import check_positive_integer
from ...augmented._report import DecodeErrors
from ...generation import BeliefGrammar, generate_augmented
from ...models import DEFAULT_MODEL
from ...utils._threads import torch_threads_share
from ._codec import (
    BELIEF,
    NOT_GIVEN,
    SPEAKERS,
    DialogueStateCodec,
    check_dialogues,
    dialogue_source,
)
from ._io import MultiWOZFiles
from ._metrics import joint_goal_accuracy

__all__ = ["FishDipDialogueStateTracker"]


class FishDipDialogueStateTracker(BaseFishDip):
    __doc__ = f"""Dialogue state tracker trained by FISH-DIP sparse fine-tuning (TANL's format).

    Each example is a dialogue history up to the current user turn, a list
    of ``(speaker, text)`` turns (``"user"`` or ``"system"``), and its target
    the belief state ``{{(domain, slot): value}}``. The model reads the history
    (``[Agent]: ... ; [User]: ... ;``, cut from the left so the most recent
    turns fit ``max_source_length``) and writes the state as
    ``[belief] hotel area north , hotel book day not given , ... [belief]``:
    for every domain in the state all of its known slots, sorted, with
    natural slot names (``pricerange`` -> ``price range``; ``label_names``
    overrides them). See :mod:`sklearn_fishdip.tasks.dialogue_state._codec`.

    With ``constrained_decoding=True`` (the default) generation follows a
    :class:`~sklearn_fishdip.generation.BeliefGrammar`: ``[belief]``, then
    for each domain written (known domains, in order, each once) all of its
    known slots in the order above, each with a value that is ``not given``,
    a value seen for that slot in training (``slot_values_``) or a span of
    1 to ``max_copy_words`` words of the history; then ``[belief]`` and the
    end. Every such output parses. The ``"grammar"`` training loss (the
    default for prefix LMs) restricts each target id's softmax to what that
    grammar allows there. With ``constrained_decoding=False`` the model writes freely; the
    reader keeps only known ``(domain, slot)`` pairs (the five MultiWOZ
    domains' 30 slots plus any seen in training) and counts the others, and
    unreadable text, in ``decode_errors_``; it never fails.

    Parameters
    ----------
    max_copy_words : int, default=6
        Longest span of history words a value may copy under constrained
        decoding. MultiWOZ values are short (names, times, areas); a longer
        span lets the model write longer names at the cost of more ways to
        run past the value.
    {PARAMETERS_DOC}

    Attributes
    ----------
    domain_slots_ : dict of str -> list of str
        The known slots of each domain.
    domain_verbalizer_, slot_verbalizer_ : LabelVerbalizer
        Natural names of the domains and slots.
    slot_values_ : dict of str -> dict of str -> list of str
        The values seen for each ``domain -> slot`` in training, which
        constrained decoding may write.
    grammar_ : BeliefGrammar
        The decoding grammar.
    {FITTED_DOC}

    Examples
    --------
    >>> from sklearn_fishdip import FishDipDialogueStateTracker
    >>> X = [[("user", "i need a cheap hotel")]]
    >>> y = [{{("hotel", "pricerange"): "cheap"}}]
    >>> dst = FishDipDialogueStateTracker(max_epochs=1, verbose=0).fit(X, y)  # doctest: +SKIP
    >>> dst.predict(X)  # doctest: +SKIP
    """

    task = "dialogue_state"
    codec = DialogueStateCodec()
    files = MultiWOZFiles()

    def __init__(
        self,
        max_copy_words=6,
        model=DEFAULT_MODEL,
        model_kind="auto",
        strategy="fish-dip",
        keep_ratio=0.01,
        refresh_every=100,
        optimizer="adafactor",
        learning_rate=None,
        weight_decay=0.0,
        lr_schedule="linear",
        max_epochs=20,
        batch_size=8,
        max_source_length=256,
        max_target_length=256,
        num_beams=1,
        constrained_decoding=True,
        training_loss="auto",
        label_names=None,
        device="auto",
        random_state=None,
        verbose=1,
        checkpoint_dir=None,
        autocast="auto",
        group_by_length=False,
    ):
        super().__init__(
            model=model,
            model_kind=model_kind,
            strategy=strategy,
            keep_ratio=keep_ratio,
            refresh_every=refresh_every,
            optimizer=optimizer,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            max_epochs=max_epochs,
            batch_size=batch_size,
            max_source_length=max_source_length,
            max_target_length=max_target_length,
            num_beams=num_beams,
            constrained_decoding=constrained_decoding,
            training_loss=training_loss,
            label_names=label_names,
            device=device,
            random_state=random_state,
            verbose=verbose,
            checkpoint_dir=checkpoint_dir,
            autocast=autocast,
            group_by_length=group_by_length,
        )
        self.max_copy_words = max_copy_words

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.dict = True
        return tags

    # The steps of the shared fit ------------------------------------------

    def _check_params(self):
        check_positive_integer("max_copy_words", self.max_copy_words)
        return super()._check_params()

    def _check_inputs(self, X):
        return check_dialogues(X)

    def _first_kept(self, tokenizer, words, model, adapter):
        """Index of the first source word kept: the longest suffix that fits."""
        budget = self._word_budget(tokenizer, model, adapter)
        lengths = self._word_lengths(tokenizer, words) if words else []
        used, start = 0, len(words)
        for position in range(len(words) - 1, -1, -1):
            length = lengths[position]
            if used + length > budget and start < len(words):
                break
            used += length
            start = position
        return start

    def _input_windows(self, tokenizer, x, words, model, adapter):
        # One window per history: its most recent words (TANL truncates from the left).
        return [(self._first_kept(tokenizer, words, model, adapter), len(words))]

    def _training_texts(self, loaded, x, target):
        words = dialogue_source(x).split()
        start = self._first_kept(loaded.tokenizer, words, loaded.model, loaded.adapter)
        source = " ".join(words[start:])
        return source, self.codec.encode(self, None, target), words[start:], start > 0

    def _truncation_message(self, n_truncated, n_examples):
        # Only the oldest turns go; the state stays whole.
        return (
            f"{n_truncated} of {n_examples} training histories are longer than "
            f"max_source_length={self.max_source_length} subword tokens; their oldest turns "
            "were left out for training (the states kept whole)"
        )

    def _belief_grammar(self, tokenizer):
        """The decoding grammar of the fitted vocabulary."""
        slots = self.domain_slots_
        return BeliefGrammar(
            tokenizer,
            slots,
            getattr(self, "slot_values_", None),
            domain_names={domain: self.domain_verbalizer_.verbalize(domain) for domain in slots},
            slot_names={
                slot: self.slot_verbalizer_.verbalize(slot)
                for names in slots.values()
                for slot in names
            },
            skip_words=(*SPEAKERS.values(), ";"),
            marker=BELIEF,
            empty_value=NOT_GIVEN,
            max_copy_words=self.max_copy_words,
        )

    def _decoding_grammar(self):
        """``grammar_``, rebuilt when it is not a belief grammar (a loaded estimator)."""
        if not isinstance(getattr(self, "grammar_", None), BeliefGrammar):
            self.grammar_ = self._belief_grammar(self.tokenizer_)
        return self.grammar_

    def _add_grammar_choices(self, loaded, grammar, examples, kept):
        # The belief grammar's choices along each target, its history's words to copy.
        belief = self._belief_grammar(loaded.tokenizer)
        lead = loaded.adapter.grammar_lead_ids(loaded.model, belief)
        for example, words in zip(examples, kept):
            example["allowed"] = belief.choices(words, example["labels"], lead_ids=lead)

    # Prediction -----------------------------------------------------------

    def _predict_targets(self, X):
        check_is_fitted(self)
        X = check_dialogues(X)
        adapter = self._model_adapter()
        sources, n_cut = [], 0
        for history in X:
            words = dialogue_source(history).split()
            ((start, _),) = self._input_windows(
                self.tokenizer_, history, words, self.model_, adapter
            )
            n_cut += start > 0
            sources.append(words[start:])
        if n_cut:
            warnings.warn(
                f"{n_cut} of {len(X)} histories are longer than max_source_length="
                f"{self.max_source_length} subword tokens; their oldest turns were left out",
                UserWarning,
                stacklevel=3,
            )
        batch_size = max(self.batch_size, 16)
        with torch_threads_share():
            texts = generate_augmented(
                self.model_,
                self.tokenizer_,
                sources,
                source_texts=[" ".join(words) for words in sources],
                grammar=self._decoding_grammar() if self.constrained_decoding else None,
                num_beams=self.num_beams,
                max_new_tokens=self.max_target_length,
                batch_size=batch_size,
                device=self._resolve_device(),
                max_source_length=self.max_source_length,
                adapter=adapter,
                progress=bool(self.verbose),
            )
        predictions, errors = [], DecodeErrors()
        for text in texts:
            state, found = self.codec.decode(self, text)
            predictions.append(state)
            errors = errors + found
        self.decode_errors_ = errors
        return predictions

    # Public API -----------------------------------------------------------

    def fit(self, X, y):
        """Fine-tune the model on dialogue histories and their belief states.

        Parameters
        ----------
        X : list of list of (str, str)
            Per example, the turns so far, oldest first, ending with the
            current user turn; a speaker is ``"user"`` or ``"system"``.
        y : list of dict
            Per example, the belief state ``{(domain, slot): value}`` (string
            keys and values; ``"not mentioned"``-like values count as absent).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        TypeError, ValueError
            Naming the example (``X[3]: ...``, ``y[3]: ...``): a turn that is
            not ``(speaker, text)``, an unknown speaker, an empty history, a
            key that is not a ``(domain, slot)`` pair or a value that is not a
            string.
        """
        super().fit(X, y)
        self.grammar_ = self._belief_grammar(self.tokenizer_)
        return self

    def predict(self, X):
        """Predict the belief state after each history.

        Parameters
        ----------
        X : list of list of (str, str)

        Returns
        -------
        list of dict
            ``{(domain, slot): value}`` per example, known pairs only.
        """
        return self._predict_targets(X)

    def score(self, X, y):
        """Joint goal accuracy (:func:`~sklearn_fishdip.metrics.joint_goal_accuracy`).

        Parameters
        ----------
        X : list of list of (str, str)
        y : list of dict

        Returns
        -------
        float
        """
        X = check_dialogues(X)
        gold = self.codec.check_targets(self, X, y)
        return joint_goal_accuracy(gold, self.predict(X))
