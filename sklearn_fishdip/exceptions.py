"""Warnings raised by sklearn-fishdip."""

__all__ = ["CrossingSpansWarning"]


class CrossingSpansWarning(UserWarning):
    """Spans that cross each other cannot be written as augmented text.

    The augmented format nests brackets, so of two crossing spans only the one
    placed first is written. The warning names the spans that were left out.
    """
