"""sklearn-fishdip: low-resource sequence labeling with sparsely fine-tuned seq2seq models.

Sequence labeling tasks (NER, joint entity and relation extraction) are
written as augmented natural language (:mod:`sklearn_fishdip.augmented`) and
learned by a pretrained seq2seq model of which only a small, changing subset
of parameters is trained (:mod:`sklearn_fishdip.sparse`, FISH-DIP). The
estimators :class:`FishDipNER` and :class:`FishDipRelationExtractor` wrap it
all behind ``fit``/``predict``.
"""

from ._registry import all_estimators
from ._version import __version__
from .models import DEFAULT_MODEL
from .tasks import FishDipNER, FishDipRelationExtractor

__all__ = [
    "DEFAULT_MODEL",
    "FishDipNER",
    "FishDipRelationExtractor",
    "__version__",
    "all_estimators",
]
