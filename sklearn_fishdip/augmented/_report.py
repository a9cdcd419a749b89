"""Counts of the ways generated augmented text can fail to decode."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields

__all__ = ["DecodeErrors"]

_KINDS = ("wrong_reconstruction", "format_error", "label_error", "entity_error")


@dataclass(frozen=True)
class DecodeErrors:
    """Decoding errors of one or more generated sentences.

    Each kind counts sentences: for a single sentence it is 0 or 1 (TANL's
    per-example flag) and ``n_sentences`` is 1; reports add up with ``+`` and
    ``sum()``.

    Parameters
    ----------
    wrong_reconstruction : int, default=0
        Sentences whose words, with all whitespace removed, differ from the
        source: the model changed, dropped or added words. Entities are still
        read, through the alignment.
    format_error : int, default=0
        Sentences with malformed markup: unequal numbers of ``[`` and ``]``,
        an entity without a type tag or whose type tag holds ``=``, or a
        relation tag that does not split into exactly two parts on ``=``.
    label_error : int, default=0
        Sentences with an unknown entity type (the entity and its relations
        are dropped) or an unknown relation type (the relation is dropped).
    entity_error : int, default=0
        Sentences with a relation whose tail matches the name of no valid
        predicted entity (the relation is dropped).
    n_sentences : int, default=0
        Number of sentences counted.

    Raises
    ------
    TypeError
        If a field is not an integer (booleans are accepted and stored as 0
        or 1).
    ValueError
        If a count is negative or exceeds ``n_sentences``.

    Examples
    --------
    >>> first = DecodeErrors(format_error=1, n_sentences=1)
    >>> second = DecodeErrors(n_sentences=1)
    >>> total = sum([first, second])
    >>> total.rates()["format_error"]
    0.5
    """

    wrong_reconstruction: int = 0
    format_error: int = 0
    label_error: int = 0
    entity_error: int = 0
    n_sentences: int = 0

    def __post_init__(self):
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, numbers.Integral):
                raise TypeError(f"{item.name} must be an integer, got {type(value).__name__}")
            if value < 0:
                raise ValueError(f"{item.name} must be non-negative, got {value}")
            # Flags given as booleans are stored as plain counts.
            object.__setattr__(self, item.name, int(value))
        over = [kind for kind in _KINDS if getattr(self, kind) > self.n_sentences]
        if over:
            raise ValueError(
                f"{', '.join(over)} cannot exceed n_sentences={self.n_sentences}: "
                "each kind counts sentences"
            )

    def __add__(self, other: DecodeErrors) -> DecodeErrors:
        if not isinstance(other, DecodeErrors):
            return NotImplemented
        return DecodeErrors(
            **{
                item.name: getattr(self, item.name) + getattr(other, item.name)
                for item in fields(self)
            }
        )

    def __radd__(self, other) -> DecodeErrors:
        # sum() starts from the integer 0.
        if isinstance(other, numbers.Integral) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    @property
    def any(self) -> bool:
        """bool: Whether any error of any kind was counted."""
        return any(getattr(self, kind) for kind in _KINDS)

    def as_dict(self) -> dict[str, int]:
        """Return the counts and ``n_sentences`` as a dict.

        Returns
        -------
        dict of str to int
            One entry per field, in field order.
        """
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def rates(self) -> dict[str, float]:
        """Return the fraction of sentences with each kind of error.

        Returns
        -------
        dict of str to float
            One entry per error kind; all 0.0 when no sentence was counted.
        """
        if self.n_sentences == 0:
            return dict.fromkeys(_KINDS, 0.0)
        return {kind: getattr(self, kind) / self.n_sentences for kind in _KINDS}
