"""sklearn-fishdip: low-resource sequence labeling with sparsely fine-tuned seq2seq models.

Sequence labeling tasks (NER, joint entity and relation extraction) are
written as augmented natural language (:mod:`sklearn_fishdip.augmented`) and
learned by a pretrained seq2seq model of which only a small, changing subset
of parameters is trained (:mod:`sklearn_fishdip.sparse`, FISH-DIP). The
estimators :class:`FishDipNER` and :class:`FishDipRelationExtractor` wrap it
all behind ``fit``/``predict``; :class:`FishDipRelationClassifier` classifies
the relation between two given entities; :class:`FishDipSRL` labels the
arguments of a given predicate.
"""

# augmented first: it re-exports the task codecs, which import its modules, so
# it must start loading before any task does (or its re-export meets a half-loaded codec).
from . import augmented  # noqa: F401, I001
from ._registry import all_estimators
from ._version import __version__
from .models import DEFAULT_MODEL
from .tasks import FishDipNER, FishDipRelationExtractor
from .tasks.dialogue_state import FishDipDialogueStateTracker
from .tasks.events import FishDipEventExtractor
from .tasks.relation_classification import FishDipRelationClassifier
from .tasks.srl import FishDipSRL
from .tasks.text_classification import FishDipTextClassifier, FishDipTextRegressor

__all__ = [
    "DEFAULT_MODEL",
    "FishDipDialogueStateTracker",
    "FishDipEventExtractor",
    "FishDipNER",
    "FishDipRelationClassifier",
    "FishDipRelationExtractor",
    "FishDipSRL",
    "FishDipTextClassifier",
    "FishDipTextRegressor",
    "__version__",
    "all_estimators",
]
