"""SRL scores: argument precision, recall and F1 as the CoNLL-2005 scorer counts them.

The CoNLL-2005 shared task scorer, ``srl-eval.pl`` (Carreras and Marquez,
``srlconll-1.1``), is the reference for span-based SRL and also scores the
CoNLL-2012 data. :func:`srl_precision_recall_f1` computes its figures without
Perl, one example per predicate. The rules, read from the scorer's source
(``SRL::prop::load_SE_tagging``, ``discriminate_args`` and
``evaluate_proposition``):

- Arguments, not spans, are counted. An argument is a span, or a span with
  its continuation pieces: the scorer reads the spans of a predicate in
  sentence order (by start; of two spans with one start, the longer first),
  and a ``C-X`` span joins the closest ``X`` argument read before it. A
  ``C-X`` span with no ``X`` before it becomes a plain ``X`` argument.
- The argument's label is ``X``, the label of its first piece; per-label
  figures are counted under it, never under ``C-X``.
- A predicted argument is correct when a gold argument has the same label and
  exactly the same pieces. A discontinuous argument is thus right or wrong as
  a whole: missing one ``C-X`` piece, or an extra one, makes it wrong (one
  excess prediction and one missed gold argument), even with every other
  piece right.
- Reference arguments ``R-X`` are arguments of their own label ``R-X`` (and
  a ``C-R-X`` piece joins an ``R-X`` argument).
- Arguments labelled ``V``, the predicate itself, are excluded from every
  figure. A ``C-V`` piece (a phrasal verb's particle) joins the ``V`` argument
  or, with no ``V`` before it, becomes a ``V`` argument, so it is excluded
  too.
- precision = correct / predicted, recall = correct / gold, F1 their harmonic
  mean, micro-averaged over all arguments of all predicates; each is 0 where
  its denominator is 0. A proposition is "perfect" when it has no excess and
  no missed argument.

Our reading where the scorer's bracket files cannot say: an example's
arguments form a set, so a span listed twice counts once (a bracket column
cannot hold it twice), and overlapping spans are allowed and scored each on
its own, as the scorer scores nested brackets. The scorer prints percentages
rounded to two decimals; these functions return fractions in [0, 1],
unrounded.
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Sequence

from ...utils._scores import precision_recall_f1
from ...utils._validation import check_same_length

__all__ = ["srl_f1_score", "srl_precision_recall_f1"]

_EXCLUDED = frozenset({"V"})


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_spans(spans, name, index):
    """The example's spans as a set of ``(start, end, label)``, each checked."""
    if isinstance(spans, (str, bytes)) or not isinstance(spans, Sequence):
        raise TypeError(
            f"{name}[{index}] must be a list of (start, end, label) spans, "
            f"got {type(spans).__name__}"
        )
    checked = set()
    for number, span in enumerate(spans):
        if isinstance(span, (str, bytes)) or not isinstance(span, Sequence) or len(span) != 3:
            raise TypeError(
                f"{name}[{index}] span {number} must be a (start, end, label) triple, got {span!r}"
            )
        start, end, label = span
        if not (_is_int(start) and _is_int(end) and 0 <= start < end):
            raise ValueError(
                f"{name}[{index}] span {number} {span!r} needs integer offsets with "
                "0 <= start < end (end exclusive)"
            )
        if not isinstance(label, str) or not label or label == "C-":
            raise ValueError(f"{name}[{index}] span {number} {span!r} needs a non-empty label")
        checked.add((int(start), int(end), label))
    return checked


def _arguments(spans):
    """The scorer's arguments of one predicate: a Counter of ``(label, pieces)``.

    ``pieces`` is the tuple of ``(start, end)`` of the argument's span and its
    ``C-`` pieces; ``V`` arguments are left out.
    """
    arguments = []  # [label, [pieces]] in reading order
    latest = {}  # label -> index in arguments of the last argument of that label
    # The scorer's reading order: by start, the longer span first.
    for start, end, label in sorted(spans, key=lambda span: (span[0], -span[1], span[2])):
        if label.startswith("C-"):
            base = label[2:]
            if base in latest:
                arguments[latest[base]][1].append((start, end))
                continue
            label = base  # an orphan continuation is scored as a plain argument
        latest[label] = len(arguments)
        arguments.append([label, [(start, end)]])
    return Counter((label, tuple(pieces)) for label, pieces in arguments if label not in _EXCLUDED)


def srl_precision_recall_f1(y_true, y_pred):
    """Argument precision, recall and F1 of SRL predictions, as the CoNLL-2005 scorer.

    Each example is one predicate's arguments. The rules are those of
    ``srl-eval.pl`` (the module docstring states them in full):

    - a continuation ``C-X`` span joins the closest ``X`` argument before it,
      and the argument with all its pieces is one argument, correct only if
      the label and every piece match exactly;
    - a reference ``R-X`` argument is an argument of its own label;
    - ``V`` (and ``C-V``, which joins it) is excluded;
    - precision, recall and F1 are micro-averaged over all arguments.

    Parameters
    ----------
    y_true, y_pred : sequence of sequence of (int, int, str)
        Gold and predicted arguments, one list per example (predicate), as
        ``(start, end, label)`` token spans, ``end`` exclusive; the
        ``y`` of :func:`~sklearn_fishdip.tasks.srl.load_propbank_srl`. ``V``
        spans may be present or not: they are never counted.

    Returns
    -------
    dict
        ``"precision"``, ``"recall"``, ``"f1"``: micro figures over all
        arguments; ``"correct"``, ``"predicted"``, ``"support"``: the counts
        behind them (``support`` is the number of gold arguments);
        ``"perfect_props"``: the fraction of examples with no excess and no
        missed argument (the scorer's "percentage of perfect props", as a
        fraction); ``"per_label"``: for each label among the gold and
        predicted arguments, sorted, a dict of the same six figures.

    Raises
    ------
    TypeError, ValueError
        If the sequences differ in length, or a span is not a
        ``(start, end, label)`` triple with ``0 <= start < end`` and a
        non-empty label; the message names the example and the span.

    Examples
    --------
    The gold ``ARG1`` has two pieces; a prediction without the ``C-ARG1``
    piece is wrong, and the ``V`` span counts nowhere:

    >>> y_true = [[(0, 1, "ARG1"), (1, 2, "V"), (2, 4, "C-ARG1"), (4, 5, "ARGM-TMP")]]
    >>> y_pred = [[(0, 1, "ARG1"), (1, 2, "V"), (4, 5, "ARGM-TMP")]]
    >>> scores = srl_precision_recall_f1(y_true, y_pred)
    >>> scores["precision"], scores["recall"], scores["f1"]
    (0.5, 0.5, 0.5)
    >>> scores["per_label"]["ARG1"]
    {'precision': 0.0, 'recall': 0.0, 'f1': 0.0, 'correct': 0, 'predicted': 1, 'support': 1}
    """
    if isinstance(y_true, (str, bytes)) or not isinstance(y_true, Sequence):
        raise TypeError(f"y_true must be a list of span lists, got {type(y_true).__name__}")
    check_same_length(y_true, y_pred, names=("y_true", "y_pred"))
    correct, predicted, support = Counter(), Counter(), Counter()
    n_perfect = 0
    for index, (true, pred) in enumerate(zip(y_true, y_pred)):
        gold = _arguments(_check_spans(true, "y_true", index))
        guess = _arguments(_check_spans(pred, "y_pred", index))
        hits = gold & guess
        if gold == guess:  # no excess and no missed argument
            n_perfect += 1
        for counts, arguments in ((correct, hits), (predicted, guess), (support, gold)):
            for (label, _), count in arguments.items():
                counts[label] += count

    def figures(n_correct, n_predicted, n_gold):
        precision, recall, f1 = precision_recall_f1(n_correct, n_predicted, n_gold)
        return {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "correct": n_correct,
            "predicted": n_predicted,
            "support": n_gold,
        }

    result = figures(sum(correct.values()), sum(predicted.values()), sum(support.values()))
    result["perfect_props"] = n_perfect / len(y_true) if len(y_true) else 0.0
    result["per_label"] = {
        label: figures(correct[label], predicted[label], support[label])
        for label in sorted(predicted.keys() | support.keys())
    }
    return result


def srl_f1_score(y_true, y_pred) -> float:
    """Micro argument F1 of SRL predictions, as the CoNLL-2005 scorer's "Overall" F1.

    See :func:`srl_precision_recall_f1` for the rules (continuation arguments
    scored with their base argument, ``R-X`` on their own, ``V`` excluded).

    Parameters
    ----------
    y_true, y_pred : sequence of sequence of (int, int, str)
        Gold and predicted ``(start, end, label)`` arguments, one list per
        predicate.

    Returns
    -------
    float
        In [0, 1]; 0.0 when there is no argument on either side.

    Examples
    --------
    >>> srl_f1_score([[(0, 2, "ARG0"), (3, 4, "R-ARG0")]], [[(0, 2, "ARG0"), (3, 4, "ARG0")]])
    0.5
    """
    return srl_precision_recall_f1(y_true, y_pred)["f1"]
