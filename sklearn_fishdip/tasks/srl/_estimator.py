"""FishDipSRL: semantic role labeling (predicate given) by sparsely fine-tuned generation."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

from ..._base import BaseFishDip
from ..._docstrings import FITTED_DOC, PARAMETERS_DOC
from ...augmented._entities import escape_tokens
from ...utils._validation import CheckedTokens, check_tokens
from ._codec import SRLCodec, srl_source, target_form
from ._io import PropBankFiles, srl_spans_to_tags
from ._metrics import srl_f1_score

__all__ = ["FishDipSRL", "check_srl_inputs"]


class PredicateTokens(CheckedTokens):
    """A checked sentence that knows the position of its predicate (``predicate``).

    The shared base handles it as any checked sentence; the SRL steps read
    ``predicate`` to bracket it in the source and keep it in the window.
    """

    __slots__ = ("predicate",)


def check_srl_inputs(X):
    """Check SRL inputs: ``(tokens, predicate_index)`` pairs, one per predicate.

    Returns
    -------
    list of PredicateTokens

    Raises
    ------
    TypeError, ValueError
        Naming the example (``X[i]``): not a pair, bad tokens, or a predicate
        index that is not an integer inside the sentence.
    """
    if isinstance(X, str) or not isinstance(X, Sequence):
        raise TypeError(
            f"X must be a list of (tokens, predicate_index) pairs, got {type(X).__name__}"
        )
    checked = []
    for index, example in enumerate(X):
        if isinstance(example, PredicateTokens):
            checked.append(example)
            continue
        if isinstance(example, str) or not isinstance(example, Sequence) or len(example) != 2:
            raise TypeError(
                f"X[{index}] must be a (tokens, predicate_index) pair, got {example!r:.80}"
            )
        tokens, predicate = example
        tokens = PredicateTokens(check_tokens(tokens, index=index))
        if not isinstance(predicate, numbers.Integral) or isinstance(predicate, bool):
            raise TypeError(
                f"X[{index}]: the predicate index must be an integer, got {predicate!r}"
            )
        if not 0 <= predicate < len(tokens):
            raise ValueError(
                f"X[{index}]: the predicate index {predicate} is outside the sentence of "
                f"{len(tokens)} tokens"
            )
        tokens.predicate = int(predicate)
        checked.append(tokens)
    return checked


class FishDipSRL(BaseFishDip):
    __doc__ = f"""Semantic role labeler (predicate given) trained by FISH-DIP sparse fine-tuning.

    One example per predicate, as in TANL: the model reads the sentence with
    the predicate bracketed (``The cat [ sat ] on the mat``) and writes it
    back with the predicate's arguments bracketed and typed, the predicate
    left plain (``[ The cat | first argument ] sat [ on the mat | location
    ]``). Only a small, changing fraction of the model's parameters is
    trained. Label names: see :mod:`sklearn_fishdip.tasks.srl._codec`
    (``ARG0`` -> ``first argument``, ``ARGM-TMP`` -> ``time``, ...; any other
    label keeps its code; ``label_names`` overrides them).

    Parameters
    ----------
    {PARAMETERS_DOC}

    Attributes
    ----------
    labels_ : list of str
        Argument labels seen in training; no other label is ever predicted.
    target_form_ : {{"spans", "tags"}}
        The form of ``y`` in ``fit``, which ``predict`` returns.
    {FITTED_DOC}

    Notes
    -----
    A sentence longer than ``max_source_length`` (or the model's positions)
    is cut to the window of consecutive words that holds its predicate, for
    training (with its arguments clipped to the window, and a warning) and
    for prediction (arguments outside the window are not predicted, and a
    warning says how many examples were cut).

    Examples
    --------
    >>> from sklearn_fishdip import FishDipSRL
    >>> X = [(["The", "cat", "sat", "on", "the", "mat"], 2)]
    >>> y = [[(0, 2, "ARG0"), (3, 6, "ARGM-LOC")]]
    >>> srl = FishDipSRL(max_epochs=1, verbose=0).fit(X, y)  # doctest: +SKIP
    >>> srl.predict(X)  # doctest: +SKIP
    """

    task = "srl"
    codec = SRLCodec()
    files = PropBankFiles()

    # The steps of the shared fit and predict ------------------------------

    def _check_inputs(self, X):
        return check_srl_inputs(X)

    def _source_text(self, x, words, start, end):
        return srl_source(words[start:end], x.predicate - start)

    def _input_windows(self, tokenizer, x, words, model, adapter):
        # Windows measured with the predicate's brackets, so the source fits;
        # only the one holding the predicate is tagged.
        bracketed = list(words)
        bracketed[x.predicate] = f"[ {words[x.predicate]} ]"
        predicate = x.predicate
        return [self._window_around(tokenizer, bracketed, predicate, predicate + 1, model, adapter)]

    def _training_texts(self, loaded, x, target):
        words = escape_tokens(x)
        start, end = self._input_windows(loaded.tokenizer, x, words, loaded.model, loaded.adapter)[
            0
        ]
        truncated = (start, end) != (0, len(words))
        if truncated:
            clipped = self.codec.clip_target(target, end)
            target = [
                (max(s, start) - start, e - start, label) for s, e, label in clipped if e > start
            ]
        text = self.codec.encode(self, words[start:end], target)
        return self._source_text(x, words, start, end), text, x[start:end], truncated

    def _generate(self, X, escaped):
        windows, texts = super()._generate(X, escaped)
        n_cut = sum(spans != [(0, len(words))] for spans, words in zip(windows, escaped))
        if n_cut:
            warnings.warn(
                f"{n_cut} of {len(X)} sentences are longer than max_source_length="
                f"{self.max_source_length} subword tokens; only the window around each one's "
                "predicate was labeled",
                UserWarning,
                stacklevel=4,
            )
        return windows, texts

    # Public API -----------------------------------------------------------

    def fit(self, X, y):
        """Fine-tune the model on predicates and their arguments.

        Parameters
        ----------
        X : list of (list of str, int)
            ``(tokens, predicate_index)``: a sentence and the position of one
            of its predicates.
        y : list of list of (int, int, str), or list of list of str
            Per example, its arguments as ``(start, end, label)`` spans
            (``end`` exclusive, the predicate's own ``V`` span left out), or
            one BIO tag per token (``B-ARG0``, ``I-ARG0``, ``O``). ``predict``
            answers in the same form.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        TypeError, ValueError
            Naming the example, if a predicate index lies outside its
            sentence, an argument span is malformed, outside the sentence,
            overlaps another or covers the predicate, or a tag list does not
            match its sentence.
        """
        form = target_form(y) if isinstance(y, Sequence) else "spans"
        super().fit(X, y)
        self.target_form_ = form
        return self

    def predict_spans(self, X):
        """Predict argument spans.

        Parameters
        ----------
        X : list of (list of str, int)
            ``(tokens, predicate_index)`` pairs.

        Returns
        -------
        list of list of (int, int, str)
            Per example, sorted non-overlapping ``(start, end, label)`` spans;
            none covers the predicate.
        """
        X = check_srl_inputs(X)
        predictions = self._predict_targets(X)
        return [_argument_spans(spans, x.predicate) for x, spans in zip(X, predictions)]

    def predict(self, X):
        """Predict the arguments of each predicate, in the form ``fit`` was given.

        Parameters
        ----------
        X : list of (list of str, int)
            ``(tokens, predicate_index)`` pairs.

        Returns
        -------
        list of list of (int, int, str), or list of list of str
            Spans as :meth:`predict_spans` gives them, or BIO tags if ``fit``
            got tags.
        """
        X = check_srl_inputs(X)
        spans = self.predict_spans(X)
        if getattr(self, "target_form_", "spans") == "tags":
            return [srl_spans_to_tags(len(x), found) for x, found in zip(X, spans)]
        return spans

    def score(self, X, y):
        """Micro argument F1 (:func:`~sklearn_fishdip.metrics.srl_f1_score`).

        Parameters
        ----------
        X : list of (list of str, int)
        y : list of list of (int, int, str), or list of list of str
            Gold spans, or gold BIO tags.

        Returns
        -------
        float
        """
        X = check_srl_inputs(X)
        gold = self.codec.check_targets(self, X, y)
        return srl_f1_score(gold, self.predict_spans(X))


def _argument_spans(spans, predicate):
    """Spans kept as arguments: none covering the predicate, outer ones first on overlap."""
    kept = []
    for start, end, label in sorted(spans, key=lambda s: (s[0] - s[1], s[0], s[2])):
        if start <= predicate < end:
            continue
        if all(end <= other[0] or start >= other[1] for other in kept):
            kept.append((start, end, label))
    return sorted(kept)
