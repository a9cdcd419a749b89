"""Joint entity and relation extraction: token lists in, entities and relations out."""

from ._estimator import FishDipRelationExtractor

__all__ = ["FishDipRelationExtractor"]
