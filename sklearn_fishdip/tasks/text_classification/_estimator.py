"""FishDipTextClassifier and FishDipTextRegressor: texts and text pairs (GLUE) by ranking."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from ..._docstrings import FITTED_DOC, PARAMETERS_DOC
from ...models import DEFAULT_MODEL
from .._ranking import RankingClassifierMixin
from ._codec import TextClassificationCodec, TextRegressionCodec
from ._io import TextFiles
from ._ranked import RankedTextEstimator

__all__ = ["FishDipTextClassifier", "FishDipTextRegressor"]


_COMMON_DOC = """
    The source is the text, or for a pair ``sentence 1 : <text_a> sentence 2
    : <text_b>`` (plain words, the same for every tokenizer; see
    :mod:`sklearn_fishdip.tasks.text_classification`). A text too long for
    ``max_source_length`` (or the model's positions) is cut at its end; of a
    pair, the longer text is cut first. Predictions rank the candidate
    targets instead of generating: each is scored under the model
    (:func:`~sklearn_fishdip.generation.score_candidates`) and the softmax of
    the summed log-likelihoods gives exact probabilities over the candidates,
    so no malformed answer is possible and ``num_beams`` and
    ``constrained_decoding`` have no effect. With ``training_loss="grammar"``
    (the ``"auto"`` choice for prefix LMs) each target position is
    normalized over the choices the candidates leave there, in training and
    in ranking."""


class FishDipTextClassifier(RankingClassifierMixin, RankedTextEstimator):
    __doc__ = f"""Text and text-pair classifier (GLUE-style) trained by FISH-DIP sparse
    fine-tuning.

    ``X`` holds texts, or ``(text_a, text_b)`` pairs; ``y`` their class
    labels. The model learns to answer with the label's natural name
    (``label_names``, keyed by label or ``str(label)``; by default the label
    split into lower-case words, e.g. ``not_entailment`` -> ``not
    entailment``)::

        sentence 1 : No weapons were found . sentence 2 : Weapons were found .
        -> not entailment
    {_COMMON_DOC}

    Parameters
    ----------
    {PARAMETERS_DOC}

    Attributes
    ----------
    classes_ : ndarray
        The labels seen in training, sorted: the columns of :meth:`predict_proba`.
    label_verbalizer_ : LabelVerbalizer
        The natural name of each label, keyed by ``str(label)``.
    pairs_ : bool
        Whether the estimator takes pairs (as ``X`` in ``fit`` held).
    {FITTED_DOC}

    Examples
    --------
    >>> from sklearn_fishdip import FishDipTextClassifier
    >>> clf = FishDipTextClassifier(label_names={{0: "negative", 1: "positive"}})
    >>> clf.fit(["a dull mess", "a gripping film"], [0, 1])  # doctest: +SKIP
    """

    task = "text_classification"
    codec = TextClassificationCodec()
    files = TextFiles()

    def fit(self, X, y):
        """Fine-tune the model on texts (or text pairs) and their labels.

        Parameters
        ----------
        X : list of str, or list of (str, str)
            Texts, or ``(text_a, text_b)`` pairs; all of one kind.
        y : list
            One label per item (strings, integers or booleans); at least two classes.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        TypeError, ValueError
            If an item is not a text or a pair, a text is empty, the items
            mix texts and pairs, a label is not a string or an integer, or
            ``y`` holds one class; the message names the item.
        """
        return super().fit(X, y)


class FishDipTextRegressor(RegressorMixin, RankedTextEstimator):
    __doc__ = f"""Text and text-pair regressor (STS-B) trained by FISH-DIP sparse fine-tuning.

    ``X`` holds texts, or ``(text_a, text_b)`` pairs; ``y`` numbers. As T5
    does for STS-B, the target is the number rounded to the nearest multiple
    of ``resolution`` and written out (``3.8``); a prediction is the
    expectation of the candidate values (every multiple of ``resolution``
    between the smallest and the largest training target) under their
    probabilities, so it is continuous and always inside the training range.
    {_COMMON_DOC}

    Parameters
    ----------
    {PARAMETERS_DOC}
    resolution : float, default=0.2
        The step between candidate values (T5 uses 0.2 on STS-B's 0-5 scale:
        26 candidates).

    Attributes
    ----------
    values_ : ndarray of float
        The candidate values: the columns of :meth:`predict_distribution`.
    pairs_ : bool
        Whether the estimator takes pairs (as ``X`` in ``fit`` held).
    {FITTED_DOC}
    """

    task = "text_regression"
    codec = TextRegressionCodec()
    files = TextFiles(regression=True)

    def __init__(
        self,
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
        resolution=0.2,
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
        self.resolution = resolution

    def fit(self, X, y):
        """Fine-tune the model on texts (or text pairs) and their scores.

        Parameters
        ----------
        X : list of str, or list of (str, str)
            Texts, or ``(text_a, text_b)`` pairs; all of one kind.
        y : list of float
            One finite number per item.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        TypeError, ValueError
            If an item is not a text or a pair, a text is empty, the items
            mix texts and pairs, a target is not a finite number, or
            ``resolution`` is not a positive number.
        """
        import numbers

        resolution = self.resolution
        if isinstance(resolution, bool) or not isinstance(resolution, numbers.Real):
            raise TypeError(f"resolution must be a positive number, got {resolution!r}")
        if not resolution > 0:
            raise ValueError(f"resolution must be a positive number, got {resolution!r}")
        return super().fit(X, y)

    def predict_distribution(self, X):
        """The probability of each candidate value (the columns of ``values_``).

        Parameters
        ----------
        X : list of str, or list of (str, str)

        Returns
        -------
        ndarray of shape (n_samples, n_values)
            Rows sum to one.
        """
        return np.exp(self._log_proba(X))

    def predict(self, X):
        """The expected value of each item under :meth:`predict_distribution`.

        Parameters
        ----------
        X : list of str, or list of (str, str)

        Returns
        -------
        ndarray of float of shape (n_samples,)
        """
        return self.predict_distribution(X) @ np.asarray(self.values_, dtype=float)

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination (R²) of :meth:`predict` against ``y``.

        Parameters
        ----------
        X : list of str, or list of (str, str)
        y : array-like of float
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        # scikit-learn's R², with a docstring the API reference can render.
        return super().score(X, y, sample_weight=sample_weight)
