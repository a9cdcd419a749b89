"""The shared base of the text classifier and regressor: texts in, candidates ranked."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ...utils._validation import check_same_length
from .._ranking import RankedEstimator
from ._codec import check_texts, format_source

__all__ = ["RankedTextEstimator"]


class RankedTextEstimator(RankedEstimator):
    """What the text classifier and regressor share: inputs, sources and ranking.

    A subclass's codec gives ``target(estimator, y_i)`` and
    ``candidates(estimator)`` (every possible target text, in a fixed order);
    predictions score each candidate after the source.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.one_d_labels = True
        return tags

    # The steps of the shared fit ------------------------------------------

    def _check_inputs(self, X):
        # After fit, the kind of input (texts or pairs) is fixed.
        return check_texts(X, pairs=getattr(self, "pairs_", None))

    def _budget(self, model, tokenizer, adapter):
        """Most source ids: ``max_source_length``, and what the longest target leaves."""
        budget = adapter.source_budget(model, self.max_source_length)
        limit = adapter.position_limit(model)
        if limit is not None and adapter.shares_positions:
            targets = self.codec.candidates(self)
            longest = max(map(len, adapter.encode_targets(model, tokenizer, targets)))
            budget = min(budget, limit - longest)
        return max(budget, 1)

    def _sources(self, model, tokenizer, adapter, X):
        """``(sources, cut)``: the model inputs of checked items, long texts cut at the end.

        As Hugging Face's ``"longest_first"`` truncation does, words are taken
        from the end of the longer text of a pair until the source fits.
        """
        budget = self._budget(model, tokenizer, adapter)
        sources = [format_source(parts) for parts in X]
        lengths = map(len, adapter.encode_sources(model, tokenizer, sources))
        cut = [n_ids > budget for n_ids in lengths]
        for index in np.flatnonzero(cut):
            parts = [list(words) for words in X[index]]
            n_ids = len(adapter.encode_sources(model, tokenizer, [sources[index]])[0])
            while n_ids > budget and any(len(words) > 1 for words in parts):
                # A first cut from word lengths, then one word at a time.
                longest = max(range(len(parts)), key=lambda k: len(parts[k]))
                drop = max(1, (n_ids - budget) // 4)
                del parts[longest][max(1, len(parts[longest]) - drop) :]
                sources[index] = format_source(parts)
                n_ids = len(adapter.encode_sources(model, tokenizer, [sources[index]])[0])
            if n_ids > budget:
                raise ValueError(
                    f"the text {format_source(X[index])[:40]!r}... needs {n_ids} source ids even "
                    "cut to one word per text, more than max_source_length and the model's "
                    f"positions leave ({budget})"
                )
        return sources, cut

    def fit(self, X, y):
        checked = check_texts(X)
        check_same_length(checked, y)
        # Set before the shared fit, whose input check then holds every item to one kind.
        previous = self.__dict__.get("pairs_")
        self.pairs_ = len(checked[0]) == 2
        try:
            return super().fit(X, y)
        except BaseException:
            # A failed fit leaves the estimator as it was (unfitted, or its last fit).
            if previous is None:
                del self.pairs_
            else:
                self.pairs_ = previous
            raise

    def _training_texts(self, loaded, x, target):
        # ``kept``: the candidate targets, for _add_grammar_choices.
        sources, cut = self._sources(loaded.model, loaded.tokenizer, loaded.adapter, [x])
        candidates = self.codec.candidates(self)
        return sources[0], self.codec.target(self, target), candidates, cut[0]

    def _candidate_scores(self, X):
        """Summed log-likelihood of every candidate target, per item."""
        check_is_fitted(self)
        X = self._check_inputs(X)
        model, tokenizer = self.model_, self.tokenizer_
        adapter = self._model_adapter()
        sources, _ = self._sources(model, tokenizer, adapter, X)
        return self._rank(model, tokenizer, adapter, sources, self.codec.candidates(self))
