"""Text classification and regression (GLUE-style) as augmented text.

An input is a text or a pair of texts; the source is the text itself, or the
two texts introduced by fixed words, and the target is the label's natural
name (a classifier) or the score written as a number (a regressor)::

    single:  source  a gripping , funny film .
             target  positive
    pair:    source  sentence 1 : A plane is taking off . sentence 2 : An air plane is taking off .
             target  5.0

The pair format uses words and ``:`` only, no model's special tokens, so it
reads the same for every tokenizer and model family, in the spirit of TANL's
plain-text queries. Whitespace runs in a text are written as one space; no
markup is escaped, because nothing is parsed back: predictions rank the
known targets (:func:`~sklearn_fishdip.generation.score_candidates`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from ...augmented._entities import build_verbalizer
from .._codec import TaskCodec

__all__ = [
    "PAIR_FORMAT",
    "TextClassificationCodec",
    "TextRegressionCodec",
    "check_texts",
    "class_verbalizer",
    "format_source",
    "score_grid",
]

# The words that introduce the two texts of a pair (module docstring).
PAIR_FORMAT = "sentence 1 : {} sentence 2 : {}"


def _kind(x):
    return "a pair" if isinstance(x, (tuple, list)) else "a single text"


def check_texts(X, *, pairs=None, name="X"):
    """Check texts or text pairs; return them as tuples of word lists.

    Parameters
    ----------
    X : sequence of str or of (str, str)
        Texts, or ``(text_a, text_b)`` pairs (tuples or 2-item lists); all of
        one kind.
    pairs : bool or None, default=None
        Whether pairs are expected (fitted estimators know); None accepts
        either kind, as the first item has it.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    list of tuple of list of str
        Per item, ``(words,)`` or ``(words_a, words_b)``.

    Raises
    ------
    TypeError
        If ``X`` is not a list, or an item is neither a string nor a pair of
        strings.
    ValueError
        If ``X`` is empty, a text is empty or blank, or the items mix single
        texts and pairs (or are not of the kind ``pairs`` asks for). Every
        message names the item (``X[3]``).
    """
    if not isinstance(X, Sequence) or isinstance(X, (str, bytes)):
        raise TypeError(
            f"{name} must be a list of texts or of (text_a, text_b) pairs, got {type(X).__name__}"
        )
    if len(X) == 0:
        raise ValueError(f"{name} is empty: at least one text is needed")
    checked = []
    for index, x in enumerate(X):
        where = f"{name}[{index}]"
        if isinstance(x, (tuple, list)):
            if len(x) != 2:
                raise TypeError(
                    f"{where} must be a text or a (text_a, text_b) pair, got a "
                    f"{type(x).__name__} of {len(x)} items"
                )
            parts = x
        elif isinstance(x, str):
            parts = (x,)
        else:
            raise TypeError(
                f"{where} must be a text or a (text_a, text_b) pair, got {type(x).__name__}"
            )
        is_pair = len(parts) == 2
        if pairs is None:
            pairs = is_pair
        elif is_pair != pairs:
            expected = "(text_a, text_b) pairs" if pairs else "single texts"
            raise ValueError(f"{where} is {_kind(x)}, but the estimator takes {expected}")
        words = []
        for position, text in enumerate(parts):
            part = f"{where}[{position}]" if is_pair else where
            if not isinstance(text, str):
                raise TypeError(f"{part} must be a string, got {type(text).__name__}")
            split = text.split()
            if not split:
                raise ValueError(f"{part} is an empty text: every text needs at least one word")
            words.append(split)
        checked.append(tuple(words))
    return checked


def format_source(parts):
    """The model input of one checked item (``(words,)`` or ``(words_a, words_b)``).

    Examples
    --------
    >>> format_source((["A", "plane", "."], ["A", "jet", "."]))
    'sentence 1 : A plane . sentence 2 : A jet .'
    """
    texts = [" ".join(words) for words in parts]
    return texts[0] if len(texts) == 1 else PAIR_FORMAT.format(*texts)


def _label_key(label):
    """A label as the estimator keeps it: NumPy scalars become Python ones."""
    return label.item() if isinstance(label, np.generic) else label


class TextClassificationCodec(TaskCodec):
    """The codec of :class:`~sklearn_fishdip.FishDipTextClassifier`.

    Targets are class labels (strings, integers or booleans, hashable and
    sortable). Fitted attributes: ``classes_`` (the sorted labels) and
    ``label_verbalizer_`` (the natural name of each, keyed by ``str(label)``).
    ``label_names`` keys may be the labels or their ``str`` (``{"1":
    "positive"}`` names the integer label 1, and is saved with the estimator).
    """

    # The target is not the source marked up: a prefix LM numbers it after the source.
    copies_source = False

    def check_targets(self, estimator, X, y):
        labels = []
        for index, label in enumerate(y):
            label = _label_key(label)
            if (
                label is None
                or not isinstance(label, (str, numbers.Integral))
                or (isinstance(label, str) and not label.strip())
            ):
                raise ValueError(
                    f"y[{index}] is {label!r}: a class label must be a non-blank string, an "
                    "integer or a boolean"
                )
            labels.append(label)
        distinct = set(labels)
        if len(distinct) < 2:
            raise ValueError(
                f"y holds a single class ({labels[0]!r}): a classifier needs at least 2 classes"
            )
        if len({str(label) for label in distinct}) != len(distinct):
            raise ValueError(f"y mixes labels with the same text, e.g. 1 and '1': {distinct}")
        return labels

    def fit_vocabulary(self, estimator, targets):
        classes = np.unique(np.asarray(targets))
        return {
            "classes_": classes,
            "label_verbalizer_": class_verbalizer(classes.tolist(), estimator.label_names),
        }

    def natural_vocabulary(self, estimator):
        return estimator.label_verbalizer_.natural_names, ()

    def target(self, estimator, label):
        """The target text of a label: its natural name."""
        return estimator.label_verbalizer_.verbalize(str(_label_key(label)))

    def candidates(self, estimator):
        """The target texts of every class, in the order of ``classes_``."""
        return list(estimator.label_verbalizer_.natural_names)


def class_verbalizer(classes, label_names=None):
    """The natural names of class labels, keyed by ``str(label)``.

    Parameters
    ----------
    classes : list
        The sorted labels.
    label_names : dict or None
        Natural names keyed by label or by ``str(label)``; other keys are ignored.

    Returns
    -------
    LabelVerbalizer

    Examples
    --------
    >>> class_verbalizer([0, 1], {"0": "negative", 1: "positive"}).natural_names
    ('negative', 'positive')
    """
    if label_names is not None and not isinstance(label_names, Mapping):
        raise TypeError(
            f"label_names must be a dict of label -> natural name, got {type(label_names).__name__}"
        )
    names = {str(key): value for key, value in (label_names or {}).items()}
    return build_verbalizer([str(label) for label in classes], names)


def score_grid(low, high, resolution):
    """The candidate values of a regressor: multiples of ``resolution`` covering [low, high].

    Examples
    --------
    >>> score_grid(0.1, 0.9, 0.2).tolist()
    [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
    start = math.floor(round(low / resolution, 9))
    stop = math.ceil(round(high / resolution, 9))
    return np.round(np.arange(start, stop + 1) * resolution, _decimals(resolution))


def _decimals(resolution):
    """Fewest decimals that write every multiple of ``resolution`` exactly (0.2 -> 1)."""
    for decimals in range(10):
        if abs(round(resolution, decimals) - resolution) < 1e-12:
            return decimals
    return 10


class TextRegressionCodec(TaskCodec):
    """The codec of :class:`~sklearn_fishdip.FishDipTextRegressor`.

    Targets are finite numbers. The target text is the number rounded to the
    nearest multiple of ``resolution`` and written with as many decimals as
    ``resolution`` needs (T5's STS-B format: ``3.8``). Fitted attribute:
    ``values_``, the candidate values (every multiple of ``resolution`` from
    the smallest to the largest training target, rounded outwards).
    """

    # The target is not the source marked up: a prefix LM numbers it after the source.
    copies_source = False

    def check_targets(self, estimator, X, y):
        values = []
        for index, value in enumerate(y):
            value = _label_key(value)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
            ):
                raise ValueError(f"y[{index}] is {value!r}: a target must be a finite number")
            values.append(float(value))
        return values

    def fit_vocabulary(self, estimator, targets):
        return {"values_": score_grid(min(targets), max(targets), estimator.resolution)}

    def natural_vocabulary(self, estimator):
        return tuple(self.candidates(estimator)), ()

    def _write(self, estimator, value):
        return f"{value:.{_decimals(estimator.resolution)}f}"

    def target(self, estimator, value):
        """The target text of a value: the nearest candidate, written as a number."""
        values = np.asarray(estimator.values_, dtype=float)
        return self._write(estimator, values[np.abs(values - value).argmin()])

    def candidates(self, estimator):
        """The target texts of every candidate value, in the order of ``values_``."""
        return [self._write(estimator, value) for value in estimator.values_]
