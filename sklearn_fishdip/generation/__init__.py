"""Generation of augmented text: the constrained-decoding grammar and its driver,
the grammar of belief states (dialogue state tracking), and the ranking of
known candidate outputs by their likelihood."""

from ._belief import BeliefGrammar
from ._driver import generate_augmented
from ._grammar import AugmentedGrammar, grammar_for_model
from ._ranking import candidate_choices, score_candidates

__all__ = [
    "AugmentedGrammar",
    "BeliefGrammar",
    "candidate_choices",
    "generate_augmented",
    "grammar_for_model",
    "score_candidates",
]
