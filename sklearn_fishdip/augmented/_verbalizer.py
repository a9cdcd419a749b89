"""One-to-one mapping between short label names and natural words."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

from ._special import SPECIAL_CHARACTERS

__all__ = ["LabelVerbalizer"]

# Natural names of the labels of common datasets. A pretrained decoder already
# knows what "person" or "works for" means, which is much of TANL's
# low-resource gain, so these are plain English rather than the raw codes.
_DEFAULT_NAMES = {
    # CoNLL-2003, ACE 2005 and OntoNotes entity types.
    "PER": "person",
    "LOC": "location",
    "ORG": "organization",
    "MISC": "miscellaneous",
    "GPE": "country city state",
    "FAC": "facility",
    "VEH": "vehicle",
    "WEA": "weapon",
    "PERSON": "person",
    "NORP": "nationality religious political group",
    "PRODUCT": "product",
    "EVENT": "event",
    "WORK_OF_ART": "work of art",
    "LAW": "law",
    "LANGUAGE": "language",
    "DATE": "date",
    "TIME": "time",
    "PERCENT": "percent",
    "MONEY": "monetary",
    "QUANTITY": "quantity",
    "ORDINAL": "ordinal",
    "CARDINAL": "cardinal",
    # ACE 2005 relation types.
    "PHYS": "located in",
    "ART": "artifact",
    "ORG-AFF": "employer",
    "GEN-AFF": "affiliation",
    "PER-SOC": "social",
    "PART-WHOLE": "part of",
    # CoNLL04 entity and relation types.
    "Peop": "person",
    "Org": "organization",
    "Loc": "location",
    "Other": "other",
    "Work_For": "works for",
    "Kill": "kills",
    "OrgBased_In": "organization based in",
    "Live_In": "lives in",
    "Located_In": "located in",
    # GENIA keeps its acronyms, which the generic rule would lowercase.
    "DNA": "DNA",
    "RNA": "RNA",
}

# Word boundaries inside a label: "_", "-", whitespace, a lower-case letter or
# digit before an upper-case one ("dateOf"), and the end of an acronym ("HTTPServer").
_BOUNDARY = re.compile(r"[_\-\s]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _default_name(label: str) -> str:
    if label in _DEFAULT_NAMES:
        return _DEFAULT_NAMES[label]
    return " ".join(part.lower() for part in _BOUNDARY.split(label) if part)


def _normalize(text: str) -> str:
    return " ".join(text.split())


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _check_texts(owners: tuple[str, ...], texts: tuple[str, ...], kind: str) -> None:
    # ``owners`` are the labels the texts belong to, named in the error message.
    blank = [owner for owner, text in zip(owners, texts) if not text.strip()]
    if blank:
        raise ValueError(f"{kind} must not be empty or blank; offending labels: {_quoted(blank)}")
    special = [
        owner for owner, text in zip(owners, texts) if not SPECIAL_CHARACTERS.isdisjoint(text)
    ]
    if special:
        raise ValueError(
            f"{kind} must not contain any of '[', ']', '|', '='; "
            f"offending labels: {_quoted(special)}"
        )


class LabelVerbalizer:
    """Map short label names to natural words and back.

    TANL targets contain natural words such as ``person`` or ``works for``
    instead of the dataset's codes ``PER`` or ``Work_For``. The mapping must be
    one-to-one, and the natural names must avoid the characters ``[ ] | =``,
    which delimit annotations in augmented text.

    Parameters
    ----------
    labels : iterable of str
        Unique, non-empty short label names. Their order is kept.
    label_names : mapping of str to str, default=None
        Natural names overriding the defaults, keyed by short label. Labels
        not given here use a built-in table (CoNLL-2003, CoNLL04, OntoNotes,
        ACE 2005 and GENIA labels); any other label is split on ``_``, ``-``,
        whitespace and camelCase boundaries, lowercased and joined with single
        spaces (``DateOfBirth`` gives ``date of birth``). Natural names are
        stripped and their inner whitespace is collapsed.

    Attributes
    ----------
    labels : tuple of str
        The short label names, in the given order.

    Raises
    ------
    TypeError
        If a label or natural name is not a string, or ``label_names`` is not
        a mapping.
    ValueError
        If a label repeats, a label or natural name is blank or contains a
        special character, ``label_names`` has keys that are not labels, or
        two labels get the same natural name, compared case-insensitively
        because uncased models may lowercase their output.

    Examples
    --------
    >>> verbalizer = LabelVerbalizer(["PER", "Work_For", "DateOfBirth"])
    >>> verbalizer.natural_names
    ('person', 'works for', 'date of birth')
    >>> verbalizer.parse("works  for")
    'Work_For'
    """

    def __init__(self, labels: Iterable[str], label_names: Mapping[str, str] | None = None):
        if isinstance(labels, str) or not isinstance(labels, Iterable):
            raise TypeError(f"labels must be an iterable of strings, got {type(labels).__name__}")
        labels = tuple(labels)
        for label in labels:
            if not isinstance(label, str):
                raise TypeError(f"labels must be strings, got {type(label).__name__}: {label!r}")
        repeated = [label for label, count in Counter(labels).items() if count > 1]
        if repeated:
            raise ValueError(f"labels must be unique; repeated: {_quoted(repeated)}")
        _check_texts(labels, labels, "labels")

        if label_names is None:
            label_names = {}
        elif not isinstance(label_names, Mapping):
            raise TypeError(
                "label_names must be a mapping from label to natural name, "
                f"got {type(label_names).__name__}"
            )
        unknown = [key for key in label_names if key not in labels]
        if unknown:
            raise ValueError(f"label_names has keys that are not labels: {_quoted(unknown)}")
        for label, name in label_names.items():
            if not isinstance(name, str):
                raise TypeError(
                    f"natural name of label {label!r} must be a string, got {type(name).__name__}"
                )

        naturals = tuple(
            _normalize(label_names[label]) if label in label_names else _default_name(label)
            for label in labels
        )
        _check_texts(labels, naturals, "natural names")
        to_natural = dict(zip(labels, naturals))
        by_folded: dict[str, list[str]] = {}
        for label, natural in to_natural.items():
            by_folded.setdefault(natural.casefold(), []).append(label)
        clashes = [group for group in by_folded.values() if len(group) > 1]
        if clashes:
            details = "; ".join(
                ", ".join(f"{label!r} -> {to_natural[label]!r}" for label in group)
                for group in clashes
            )
            raise ValueError(
                "labels must have distinct natural names (compared case-insensitively), "
                f"but {details}; pass label_names to name them apart"
            )

        self.labels = labels
        self._to_natural = to_natural
        self._to_label = {natural: label for label, natural in to_natural.items()}
        self._to_label_folded = {folded: group[0] for folded, group in by_folded.items()}

    @property
    def natural_names(self) -> tuple[str, ...]:
        """tuple of str: The natural names, in the order of :attr:`labels`."""
        return tuple(self._to_natural[label] for label in self.labels)

    def verbalize(self, label: str) -> str:
        """Return the natural name of a short label.

        Parameters
        ----------
        label : str
            One of :attr:`labels`.

        Returns
        -------
        str
            Its natural name.

        Raises
        ------
        TypeError
            If ``label`` is not a string.
        ValueError
            If ``label`` is not one of :attr:`labels`.
        """
        if not isinstance(label, str):
            raise TypeError(f"label must be a string, got {type(label).__name__}")
        try:
            return self._to_natural[label]
        except KeyError:
            raise ValueError(
                f"unknown label {label!r}; expected one of {_quoted(self.labels)}"
            ) from None

    def parse(self, natural: str, ignore_case: bool = False) -> str | None:
        """Return the short label whose natural name is ``natural``.

        Parameters
        ----------
        natural : str
            Natural text, for instance a tag decoded by the model. Leading,
            trailing and repeated whitespace is ignored.
        ignore_case : bool, default=False
            Compare case-insensitively, for models that lowercase their output.

        Returns
        -------
        str or None
            The short label, or None when no label has this natural name.

        Raises
        ------
        TypeError
            If ``natural`` is not a string.
        """
        if not isinstance(natural, str):
            raise TypeError(f"natural must be a string, got {type(natural).__name__}")
        natural = _normalize(natural)
        if ignore_case:
            return self._to_label_folded.get(natural.casefold())
        return self._to_label.get(natural)

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)

    def __eq__(self, other) -> bool:
        # Two verbalizers are interchangeable when they map the same labels to
        # the same names; the order of the labels does not matter.
        if not isinstance(other, LabelVerbalizer):
            return NotImplemented
        return self._to_natural == other._to_natural

    def __hash__(self) -> int:
        return hash(frozenset(self._to_natural.items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(labels={self.labels!r}, label_names={self._to_natural!r})"
