"""FishDipRelationClassifier: sentence-level relation classification by sparse fine-tuning."""

from __future__ import annotations

from sklearn.utils.validation import check_is_fitted

from ..._docstrings import FITTED_DOC, PARAMETERS_DOC
from ...augmented._entities import escape_tokens
from ...utils._validation import check_tokens
from .._ranking import RankedEstimator, RankingClassifierMixin
from ._codec import RelationClassificationCodec, check_relation_inputs
from ._io import SemEvalFiles

__all__ = ["FishDipRelationClassifier"]


class FishDipRelationClassifier(RankingClassifierMixin, RankedEstimator):
    __doc__ = f"""Relation classifier (head and tail entity given) trained by FISH-DIP sparse
    fine-tuning.

    Each example is ``{{"tokens": [...], "head": (start, end), "tail": (start,
    end)}}`` (token offsets, ``end`` exclusive; the spans must not overlap)
    and its target a relation label. Following TANL, both entities are
    bracketed in the sentence, a query names them, and the model learns to
    answer with the relation's natural name::

        [ Tolkien ] wrote [ The Lord of the Rings ] The relationship between
        [ The Lord of the Rings ] and [ Tolkien ] is
        -> relationship between [ The Lord of the Rings ] and [ Tolkien ] = author

    Predictions rank the known relations instead of generating: the target
    of every relation seen in ``fit`` is scored under the model, and the
    softmax of the summed log-likelihoods gives :meth:`predict_proba`, exact
    over the known relations; no malformed or unknown answer is possible.
    So ``num_beams`` and ``constrained_decoding`` have no effect.

    Natural names follow ``label_names``, the library's built-in names and,
    for SemEval-2010 Task 8 labels such as ``Component-Whole(e2,e1)``, the
    roles of the head then the tail (``"whole component"``; see
    :func:`~sklearn_fishdip.tasks.relation_classification.relation_verbalizer`).

    With ``training_loss="grammar"`` (the ``"auto"`` choice for prefix LMs)
    each target position is normalized over the choices the known relations
    leave there, so training is a cross-entropy over the relations, and the
    ranking scores the same restricted likelihood; with ``"full"`` both use
    the whole vocabulary.

    Parameters
    ----------
    {PARAMETERS_DOC}

    Attributes
    ----------
    classes_ : ndarray of str
        The relation labels seen in training, sorted: the columns of
        :meth:`predict_proba`.
    relation_verbalizer_ : LabelVerbalizer
        The natural name of each relation.
    {FITTED_DOC}
    """

    task = "relation_classification"
    _label_noun = "relation"
    codec = RelationClassificationCodec()
    files = SemEvalFiles()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.dict = True
        tags.target_tags.one_d_labels = True
        return tags

    # The steps of the shared fit ------------------------------------------

    def _check_inputs(self, X):
        return check_relation_inputs(X)

    def _fit_source(self, model, tokenizer, adapter, x):
        """``(x, cut)``: the example, its sentence cut around the entities when its
        source would not fit ``max_source_length`` (or the model's positions)."""
        words = escape_tokens(x["tokens"])
        budget, hard = adapter.source_budget(model, self.max_source_length), None
        limit = adapter.position_limit(model)
        if limit is not None:
            hard = limit
            if adapter.shares_positions:
                # Targets are short here: the source may take what the longest leaves.
                targets = self.codec.candidates(self, words, x)
                longest = max(map(len, adapter.encode_targets(model, tokenizer, targets)))
                hard = limit - longest
                budget = min(self.max_source_length, hard)
        n_ids = self._source_ids(model, tokenizer, adapter, words, x)
        if n_ids <= budget:
            return x, False
        # The entities, their brackets, the query and the special ids stay; the
        # words around the entities are added back, nearest first, while they fit.
        lengths = self._word_lengths(tokenizer, words)
        (h0, h1), (t0, t1) = x["head"], x["tail"]
        first, last = min(h0, t0), max(h1, t1)
        start, end = first, last
        used = n_ids - sum(lengths) + sum(lengths[start:end])
        grown = True
        while grown:
            grown = False
            for position in (start - 1, end):
                if 0 <= position < len(words) and used + lengths[position] <= budget:
                    used += lengths[position]
                    start, end = min(start, position), max(end, position + 1)
                    grown = True
        while True:
            window = {
                "tokens": check_tokens(x["tokens"]).window(start, end),
                "head": (h0 - start, h1 - start),
                "tail": (t0 - start, t1 - start),
            }
            n_ids = self._source_ids(model, tokenizer, adapter, words[start:end], window)
            # Word by word counts can miss a few ids of the joined text: trim again.
            if n_ids <= budget or (start, end) == (first, last):
                break
            start, end = (start + 1, end) if first - start >= end - last else (start, end - 1)
        if hard is not None and n_ids > hard:
            raise ValueError(
                f"the example with head {' '.join(words[h0:h1])!r} and tail "
                f"{' '.join(words[t0:t1])!r} needs {n_ids} source ids even without the words "
                f"around its entities, more than the model's positions leave ({hard})"
            )
        return window, True

    def _source_ids(self, model, tokenizer, adapter, words, x):
        return len(adapter.encode_sources(model, tokenizer, [self.codec.source(words, x)])[0])

    def _training_texts(self, loaded, x, label):
        x, cut = self._fit_source(loaded.model, loaded.tokenizer, loaded.adapter, x)
        words = escape_tokens(x["tokens"])
        candidates = self.codec.candidates(self, words, x)
        target = self.codec.encode_example(self, words, x, label)
        # What _add_grammar_choices needs: the example's candidate targets.
        return self.codec.source(words, x), target, candidates, cut

    # Public API -----------------------------------------------------------

    def fit(self, X, y):
        """Fine-tune the model on examples and their relation labels.

        Parameters
        ----------
        X : list of dict
            ``{"tokens": [...], "head": (start, end), "tail": (start, end)}``.
        y : list of str
            One relation label per example.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        TypeError, ValueError
            If an example is not such a dict, a span lies outside its
            sentence, the head and tail overlap, or a label is not a string;
            the message names the example.
        """
        return super().fit(X, y)

    def _candidate_scores(self, X):
        """Summed log-likelihood of every known relation's target, per example."""
        check_is_fitted(self)
        X = self._check_inputs(X)
        model, tokenizer = self.model_, self.tokenizer_
        adapter = self._model_adapter()
        sources, candidates = [], []
        for x in X:
            x, _ = self._fit_source(model, tokenizer, adapter, x)
            words = escape_tokens(x["tokens"])
            sources.append(self.codec.source(words, x))
            candidates.append(self.codec.candidates(self, words, x))
        return self._rank(model, tokenizer, adapter, sources, candidates)
