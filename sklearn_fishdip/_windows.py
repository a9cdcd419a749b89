"""Sources longer than ``max_source_length``: the estimators' word windows.

A sentence whose subword ids do not fit the source length (and, with a
model, the positions its adapter leaves a source) is tagged window by
window; a task whose input brackets a span (an event's trigger, an SRL
predicate) keeps the one window that holds it.
"""

from __future__ import annotations

from .models import adapter_for_model

__all__ = ["SourceWindowsMixin"]


class SourceWindowsMixin:
    """Word windows of a source that fit ``max_source_length``; mixed into the estimators."""

    def _word_lengths(self, tokenizer, words):
        """Number of subword ids of each escaped word, as the tokenizer splits it."""
        encoded = tokenizer(words, add_special_tokens=False)["input_ids"]
        return [max(1, len(ids)) for ids in encoded]

    def _word_budget(self, tokenizer, model=None, adapter=None):
        """Subword ids a source's words may take: ``max_source_length`` (and, with a
        model, what its adapter leaves of the positions) less the special ids."""
        if model is None:
            n_special = len(tokenizer("", add_special_tokens=True)["input_ids"])
            return max(1, self.max_source_length - n_special)
        adapter = adapter_for_model(model, tokenizer) if adapter is None else adapter
        n_special = len(adapter.encode_sources(model, tokenizer, [""])[0])
        return max(1, adapter.source_budget(model, self.max_source_length) - n_special)

    def _windows(self, tokenizer, words, model=None, adapter=None):
        """Split a sentence into consecutive word windows that fit the source length.

        With a model, a window also fits the model's positions as its adapter
        counts them (for decoder-only and prefix LMs, source and target share
        them, so a source may take a third).
        """
        budget = self._word_budget(tokenizer, model, adapter)
        windows, start, used = [], 0, 0
        for position, length in enumerate(self._word_lengths(tokenizer, words)):
            if used + length > budget and position > start:
                windows.append((start, position))
                start, used = position, 0
            used += length
        windows.append((start, len(words)))
        return windows

    def _window_around(self, tokenizer, bracketed, start, end, model=None, adapter=None):
        """The one window of ``bracketed`` (the words with a span's brackets written
        in) that holds ``start``, stretched to ``end`` so the span stays whole."""
        windows = self._windows(tokenizer, bracketed, model, adapter)
        first = next(window for window in windows if window[0] <= start < window[1])
        return first[0], max(first[1], end)
