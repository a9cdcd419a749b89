"""Generation of augmented text: the constrained-decoding grammar and its driver."""

from ._grammar import AugmentedGrammar, generate_augmented

__all__ = ["AugmentedGrammar", "generate_augmented"]
