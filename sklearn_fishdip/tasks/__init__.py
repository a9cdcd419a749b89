"""One folder per task: its codec, estimator, readers and metric.

Importing this package defines, and so registers, every task's estimator
(:func:`sklearn_fishdip.all_estimators`).
"""

from .ner import FishDipNER
from .relations import FishDipRelationExtractor

__all__ = ["FishDipNER", "FishDipRelationExtractor"]
