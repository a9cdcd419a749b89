"""What the shared base needs from a task: its codec (targets <-> augmented text).

A task estimator (a subclass of :class:`~sklearn_fishdip._base.BaseFishDip`)
names its codec and its file format as class attributes::

    class FishDipNER(BaseFishDip):
        task = "ner"            # registry and command-line name
        codec = NERCodec()      # targets <-> augmented text
        files = CoNLLFiles()    # reading, writing and scoring files

Codecs and file formats hold no state: what they learn in ``fit`` (label
vocabularies, verbalizers) they return as fitted attributes, which the base
sets on the estimator. So every fitted attribute stays public, is pickled and
saved like any other, and one codec instance serves every estimator.
"""

from __future__ import annotations

__all__ = ["TaskCodec"]


class TaskCodec:
    """Converts one task's targets to and from augmented text.

    The base calls these methods in this order. In ``fit``:
    :meth:`check_targets`, :meth:`fit_vocabulary`, :meth:`natural_vocabulary`
    (for the decoding grammar), then :meth:`clip_target` (only for sentences
    longer than the model's source) and :meth:`encode` per sentence. In
    ``predict``, per window of a sentence: :meth:`decode` and
    :meth:`shift_prediction`, then per sentence :meth:`merge_predictions`.

    ``words`` are always the sentence's tokens already checked and escaped
    (:func:`~sklearn_fishdip.augmented.escape_token`) by the estimator: a
    codec neither checks nor escapes them again. ``estimator`` gives access to
    the parameters (``label_names``, a tagging scheme, ...) and to the fitted
    attributes that :meth:`fit_vocabulary` returned.

    A task whose inputs are not token lists (a relation classifier's
    ``{"tokens", "head", "tail"}`` dicts) overrides the estimator's steps of
    ``fit`` instead of :meth:`encode` and :meth:`clip_target`:
    ``_check_inputs(X)`` (check and convert ``X``), ``_training_texts(loaded,
    x, target)`` (one example's source and target texts) and, for the
    ``"grammar"`` training loss, ``_add_grammar_choices``; ``X`` then reaches
    :meth:`check_targets` as ``_check_inputs`` returns it.

    Attributes
    ----------
    copies_source : bool
        Whether a target copies its source's words in order, marked up
        (tagging tasks), so that a prefix LM aligns each target id to the
        source piece it copies. False (a dialogue state, a class name): the
        target is numbered after the source.
    source_prefixes : tuple of str
        Task prefixes a source may start with, which targets never copy.
    """

    copies_source = True
    source_prefixes = ()

    def check_targets(self, estimator, X, y):
        """Validate ``y`` against the checked sentences ``X``; return the targets in the
        form the other methods take (e.g. spans for tags).

        Raises ``TypeError``/``ValueError`` naming the sentence (``y[i]: ...``).
        """
        raise NotImplementedError

    def fit_vocabulary(self, estimator, targets):
        """The fitted attributes (dict of name -> value, names ending in ``_``)
        learned from the checked targets: label lists and verbalizers."""
        raise NotImplementedError

    def natural_vocabulary(self, estimator):
        """``(type_names, relation_names)``: the natural label names that the
        decoding grammar lets the model write (relation names may be empty)."""
        raise NotImplementedError

    def encode(self, estimator, words, target):
        """The augmented text of one sentence (``words`` escaped) and its target."""
        raise NotImplementedError

    def clip_target(self, target, end):
        """The part of ``target`` inside the sentence's first ``end`` words."""
        raise NotImplementedError

    def decode(self, estimator, text, words):
        """Read a generated text back: ``(prediction, DecodeErrors)``; never raises
        on bad text. ``words`` are the escaped words of the window generated from."""
        raise NotImplementedError

    def shift_prediction(self, prediction, offset):
        """A window's prediction moved to sentence positions (``offset`` words later)."""
        raise NotImplementedError

    def merge_predictions(self, parts):
        """One sentence's prediction from its windows' shifted predictions, in order."""
        raise NotImplementedError
