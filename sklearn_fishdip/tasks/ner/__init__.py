"""Named entity recognition: token lists in, tags (or spans) out."""

from ._estimator import FishDipNER

__all__ = ["FishDipNER"]
