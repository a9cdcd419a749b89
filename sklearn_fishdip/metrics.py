"""Evaluation: entity and relation precision, recall and F1, and ready scorers.

NER is scored with seqeval in strict mode with the declared tagging scheme
(seqeval's default mode is lenient and its strict mode silently falls back to
it without a scheme). Joint extraction is scored on sets per sentence:
entities as ``(start, end, type)`` and relations strictly, as
``(type, head span and type, tail span and type)``.

Each task's scores live in its folder (``sklearn_fishdip/tasks/<task>/_metrics.py``);
this module gathers them under one public name.
"""

from .tasks.dialogue_state._metrics import joint_goal_accuracy, slot_accuracy
from .tasks.events._metrics import event_f1_score, event_scores
from .tasks.ner._metrics import (
    entity_f1_score,
    entity_precision_recall_f1,
    ner_classification_report,
    ner_f1_scorer,
)
from .tasks.relation_classification._metrics import (
    semeval2010_f1_score,
    semeval2010_precision_recall_f1,
    semeval2010_scorer,
)
from .tasks.relations._metrics import (
    relation_f1_score,
    relation_f1_scorer,
    relation_precision_recall_f1,
)
from .tasks.srl._metrics import srl_f1_score, srl_precision_recall_f1

__all__ = [
    "entity_precision_recall_f1",
    "entity_f1_score",
    "ner_classification_report",
    "relation_precision_recall_f1",
    "relation_f1_score",
    "ner_f1_scorer",
    "relation_f1_scorer",
    "semeval2010_f1_score",
    "semeval2010_precision_recall_f1",
    "semeval2010_scorer",
    "srl_f1_score",
    "srl_precision_recall_f1",
    "event_scores",
    "event_f1_score",
    "joint_goal_accuracy",
    "slot_accuracy",
]
