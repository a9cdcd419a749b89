"""Generation of augmented text: the constrained-decoding grammar and its driver."""

from ._driver import generate_augmented
from ._grammar import AugmentedGrammar

__all__ = ["AugmentedGrammar", "generate_augmented"]
