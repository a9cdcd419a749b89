"""One folder per task: its codec, estimator, files and scores.

Importing this package defines, and so registers, every task's estimator
(:func:`sklearn_fishdip.all_estimators`). A task's estimator names its codec
(:class:`~sklearn_fishdip.tasks.TaskCodec`) and its file format for the
command line (:class:`~sklearn_fishdip.tasks.TaskFiles`); see the user
guide's "Adding a task".
"""

from ._codec import TaskCodec
from ._files import TaskFiles
from .ner import FishDipNER
from .relations import FishDipRelationExtractor

__all__ = ["FishDipNER", "FishDipRelationExtractor", "TaskCodec", "TaskFiles"]
