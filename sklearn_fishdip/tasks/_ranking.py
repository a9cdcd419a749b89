"""What the estimators that rank candidate targets share, instead of generating.

The relation classifier and the text classifier and regressor never let the
model write freely: every answer they can give is a known target text (a
relation's, a label's, a number's), and a prediction scores each under the
model. :class:`RankedEstimator` holds the two steps this changes in the shared
fit and predict (the grammar choices of a training target, the scores of the
candidates); :class:`RankingClassifierMixin` turns the scores into
scikit-learn's classifier API.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .._base import BaseFishDip
from ..generation import candidate_choices, score_candidates
from ..utils._validation import check_same_length

__all__ = ["RankedEstimator", "RankingClassifierMixin"]


class RankedEstimator(BaseFishDip):
    """A :class:`~sklearn_fishdip._base.BaseFishDip` whose answers are known target texts.

    A subclass's ``_training_texts`` returns, as its ``kept`` element, the
    candidate targets of the example (the texts it could have been taught);
    ``_candidate_scores(X)`` returns one row of summed log-likelihoods per
    item, one column per candidate, by :meth:`_rank`.
    """

    def _add_grammar_choices(self, loaded, grammar, examples, kept):
        # The decoder may only write a known target: its choices at each
        # position are those the candidates leave there. Examples that share
        # their candidates (every text classification example) share the work.
        model, tokenizer, adapter = loaded.model, loaded.tokenizer, loaded.adapter
        choices_of = {}
        for example, candidates in zip(examples, kept):
            key = tuple(candidates)
            if key not in choices_of:
                ids = [list(i) for i in adapter.encode_targets(model, tokenizer, list(key))]
                choices_of[key] = ids, candidate_choices(ids)
            candidate_ids, choices = choices_of[key]
            if example["labels"] in candidate_ids:  # not when the target was cut
                example["allowed"] = choices[candidate_ids.index(example["labels"])]

    def _rank(self, model, tokenizer, adapter, sources, candidates):
        """Summed log-likelihood of each candidate after each source.

        ``candidates``: one list for every source, or one list per source.
        Scored as the model was trained: restricted to the candidates' choices
        under the grammar loss, over the whole vocabulary otherwise.
        """
        return score_candidates(
            model,
            tokenizer,
            adapter,
            sources,
            candidates,
            batch_size=max(self.batch_size, 16),
            device=self._resolve_device(),
            restrict=self.training_loss_ == "grammar",
        )

    def _candidate_scores(self, X):
        """``(n_items, n_candidates)`` summed log-likelihoods; see :meth:`_rank`."""
        raise NotImplementedError

    def _log_proba(self, X):
        """The candidates' log-probabilities: the scores normalized over the candidates."""
        return log_softmax(self._candidate_scores(X), axis=1)


class RankingClassifierMixin(ClassifierMixin):
    """Classifier API over :meth:`RankedEstimator._candidate_scores`.

    The candidates are the targets of ``classes_``, in that order, so the
    softmax of the scores is exact over the known classes and no unknown or
    malformed answer is possible.
    """

    # How ``score``'s error names a label the estimator cannot predict.
    _label_noun = "label"

    def predict_log_proba(self, X):
        """The logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : list
            Items as :meth:`fit` takes them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._log_proba(X)

    def predict_proba(self, X):
        """The probability of each class, normalized over the known classes.

        Parameters
        ----------
        X : list
            Items as :meth:`fit` takes them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to one.
        """
        return np.exp(self._log_proba(X))

    def decision_function(self, X):
        """Confidence scores: the log-odds of ``classes_[1]`` (binary), else log-probabilities.

        Parameters
        ----------
        X : list
            Items as :meth:`fit` takes them.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            As scikit-learn's classifiers: positive values favour ``classes_[1]``.
        """
        log_proba = self._log_proba(X)
        return log_proba[:, 1] - log_proba[:, 0] if log_proba.shape[1] == 2 else log_proba

    def predict(self, X):
        """The most likely class of each item.

        Parameters
        ----------
        X : list
            Items as :meth:`fit` takes them.

        Returns
        -------
        ndarray
            One label of ``classes_`` per item.
        """
        return np.asarray(self.classes_)[self._candidate_scores(X).argmax(axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict` on ``X`` against the labels ``y``.

        Parameters
        ----------
        X : list
            Items as :meth:`fit` takes them.
        y : list
            Their labels.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float

        Raises
        ------
        ValueError
            If a label of ``y`` was not seen in ``fit`` (the model cannot
            predict it, so the score would silently count it wrong).
        """
        from sklearn.metrics import accuracy_score

        check_is_fitted(self)
        check_same_length(X, y)
        known = set(np.asarray(self.classes_).tolist())
        for index, label in enumerate(y):
            if (label.item() if isinstance(label, np.generic) else label) not in known:
                raise ValueError(
                    f"y[{index}] is {label!r}, a {self._label_noun} not seen in fit; the "
                    f"estimator only predicts {sorted(known, key=str)}"
                )
        return float(accuracy_score(list(y), self.predict(X), sample_weight=sample_weight))
