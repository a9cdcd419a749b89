"""Precision, recall and F1 from counts, shared by the tasks' metrics."""

from __future__ import annotations

__all__ = ["precision_recall_f1"]


def precision_recall_f1(n_correct, n_predicted, n_gold):
    """``(precision, recall, f1)`` of counts, each 0.0 where it is undefined.

    >>> precision_recall_f1(3, 4, 6)
    (0.75, 0.5, 0.6)
    >>> precision_recall_f1(0, 0, 0)
    (0.0, 0.0, 0.0)
    """
    precision = n_correct / n_predicted if n_predicted else 0.0
    recall = n_correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
