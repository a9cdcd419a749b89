"""Target position ids aligned to the source words a target copies.

In a prefix LM, source and target share one position table. Numbered one
after the other, a target id stands far from the source word it copies, and
the pretrained positional attention (the previous and next word) lands on
target neighbours that say nothing about what comes next. Aligned, a target
id that copies source piece ``j`` gets position ``j``, and every markup or
type id gets the position of the last piece copied before it (before any
copy, the position just before the first copyable piece: the start
token's). A row at position ``p`` then predicts either source piece
``p + 1`` or markup, and the model reads the source around the word it is
writing the way it was pretrained to.

The positions are computed from the ids alone, left to right, so generation
reproduces exactly what training saw: each generated id's position depends
only on the source and the ids before it. Outside a bracket's type part
(between its first ``|`` and its ``]``), an id equal to the next source piece
is a copy; inside it nothing is (type names and relation tails may repeat
source words). An id that is neither markup nor the next piece (unconstrained
generation can write one) keeps the last position and does not advance.

A source may hold text its target does not copy: markup (semantic role
labeling brackets the predicate, ``The cat [ sat ] on the mat``), the type
part of a bracket (event arguments read their trigger typed, ``were [
attacked | attack ] in``: the target copies ``attacked`` but not ``| attack
]``) and a task prefix at its start (``triggers : ...``; the aligner is told
the prefixes a task writes, :meth:`TargetAligner.with_source_prefixes`). The
walk steps over all three before it compares the next piece, so the copy goes
on past them; a source without them walks as before.

Only targets that copy their source in order are aligned. A target that
does not (a dialogue state, a class name) would sit at one position
throughout; its task numbers it after the source instead (the adapter
without an aligner, :meth:`~sklearn_fishdip.models.ModelAdapter.for_task`).
"""

from __future__ import annotations

from ..augmented._special import CLOSE, OPEN, RELATION, SEPARATOR
from ..augmented._subwords import markup_ids

__all__ = ["AlignedWalk", "TargetAligner"]


class TargetAligner:
    """Aligns target ids to source pieces, from a tokenizer's markup ids.

    Parameters
    ----------
    opens, closes, separators, relations : sequence of sequence of int
        Each markup character's id sequences (``"["`` may have two: where it
        starts a target and elsewhere, for byte-level BPE).
    source_lead, source_tail : int, default=1
        Special ids the tokenizer puts before and after a source's pieces
        (BERT's ``[CLS]`` and ``[SEP]``); they are never copied.
    source_prefixes : sequence of sequence of int, default=()
        Id sequences a source may start with (after ``source_lead``) that the
        target never copies: a task prefix. The longest that matches is
        stepped over.
    """

    _MARKS = ("opens", "closes", "separators", "relations")

    def __init__(
        self,
        opens,
        closes,
        separators,
        relations,
        source_lead=1,
        source_tail=1,
        source_prefixes=(),
    ):
        self.opens = tuple(tuple(ids) for ids in opens)
        self.closes = tuple(tuple(ids) for ids in closes)
        self.separators = tuple(tuple(ids) for ids in separators)
        self.relations = tuple(tuple(ids) for ids in relations)
        for name in self._MARKS:
            if not getattr(self, name) or not all(getattr(self, name)):
                raise ValueError(f"TargetAligner.{name} needs non-empty id sequences")
        for name, value in (("source_lead", source_lead), ("source_tail", source_tail)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"TargetAligner.{name} must be an int >= 0, got {value!r}")
        self.source_lead = source_lead
        self.source_tail = source_tail
        prefixes = tuple(tuple(ids) for ids in source_prefixes)
        if not all(prefixes):
            raise ValueError("TargetAligner.source_prefixes needs non-empty id sequences")
        # Longest first, so a prefix that starts another does not hide it.
        self.source_prefixes = tuple(sorted(set(prefixes), key=lambda ids: (-len(ids), ids)))

    @classmethod
    def from_tokenizer(cls, tokenizer):
        """Read the markup ids of ``tokenizer``, as the decoding grammar reads them."""
        found, initial_open = markup_ids(tokenizer)
        # At the very start of a target, byte-level BPE writes "[" differently.
        opens = {tuple(found[OPEN]), tuple(initial_open)}
        plain = list(tokenizer("a", add_special_tokens=False)["input_ids"])
        full = list(tokenizer("a", add_special_tokens=True)["input_ids"])
        lead = next(
            (i for i in range(len(full) - len(plain) + 1) if full[i : i + len(plain)] == plain), 0
        )
        return cls(
            opens=sorted(opens),
            closes=(found[CLOSE],),
            separators=(found[SEPARATOR],),
            relations=(found[RELATION],),
            source_lead=lead,
            source_tail=max(0, len(full) - lead - len(plain)),
        )

    def with_source_prefixes(self, prefixes):
        """This aligner, stepping over the task prefixes ``prefixes`` (id sequences).

        Parameters
        ----------
        prefixes : sequence of sequence of int

        Returns
        -------
        TargetAligner
            A new aligner; this one is unchanged.
        """
        return type(self)(
            self.opens,
            self.closes,
            self.separators,
            self.relations,
            source_lead=self.source_lead,
            source_tail=self.source_tail,
            source_prefixes=prefixes,
        )

    def __repr__(self):
        prefixes = f", source_prefixes={self.source_prefixes}" if self.source_prefixes else ""
        return (
            f"TargetAligner(opens={self.opens}, closes={self.closes}, "
            f"separators={self.separators}, relations={self.relations}, "
            f"source_lead={self.source_lead}, source_tail={self.source_tail}{prefixes})"
        )

    def __eq__(self, other):
        return isinstance(other, TargetAligner) and repr(self) == repr(other)

    def __hash__(self):
        return hash(repr(self))

    def match(self, ids, at):
        """``(kind, length)`` of the markup starting at ``ids[at]``, or ``(None, 0)``."""
        for kind, options in (
            (OPEN, self.opens),
            (CLOSE, self.closes),
            (SEPARATOR, self.separators),
            (RELATION, self.relations),
        ):
            for option in options:
                if tuple(ids[at : at + len(option)]) == option:
                    return kind, len(option)
        return None, 0

    def positions(self, source_ids, target_ids):
        """Position of every target id, aligned to the source piece it copies.

        Parameters
        ----------
        source_ids : sequence of int
            The row's source with its special ids; position ``j`` is
            ``source_ids[j]``'s.
        target_ids : sequence of int
            Target ids as they stand in the row (generated so far, or the
            reference target with its EOS).

        Returns
        -------
        list of int
            One position per target id, each below ``len(source_ids)``.

        Examples
        --------
        >>> aligner = TargetAligner(opens=[[5]], closes=[[6]], separators=[[7]], relations=[[8]])
        >>> # [CLS] eu rejects [SEP] -> "[ eu | org ] rejects [SEP]"
        >>> aligner.positions([1, 20, 21, 2], [5, 20, 7, 30, 6, 21, 2])
        [0, 1, 1, 1, 1, 2, 2]
        """
        return self.walk(source_ids).positions(target_ids)

    def walk(self, source_ids):
        """An incremental :meth:`positions` for a target that grows one id at a time.

        Parameters
        ----------
        source_ids : sequence of int
            As in :meth:`positions`.

        Returns
        -------
        AlignedWalk
            Its ``positions(target_ids)`` gives what :meth:`positions` gives, in time
            proportional to the ids added since its last call.
        """
        return AlignedWalk(self, source_ids)


class AlignedWalk:
    """The left-to-right pass of :meth:`TargetAligner.positions`, kept between calls.

    Generation calls :meth:`positions` once per step with the ids so far; the
    walk resumes where it stopped instead of starting over (which made a
    sentence's cost quadratic in its length). An id is settled once the ids
    after it can no longer turn it into the start of a longer markup
    sequence; the few unsettled ones are walked again on the next call.

    Parameters
    ----------
    aligner : TargetAligner
    source_ids : sequence of int
    """

    def __init__(self, aligner, source_ids):
        self.aligner = aligner
        self.source_ids = list(source_ids)
        self._stop = len(self.source_ids) - aligner.source_tail
        # What the target never copies, start -> length: a task prefix, markup (a
        # bracketed predicate) and a bracket's type part. Without the skips the walk
        # would wait at the first of them for the rest of the target.
        self._skips = {}
        at = min(aligner.source_lead, len(self.source_ids))
        for prefix in aligner.source_prefixes:
            if tuple(self.source_ids[at : at + len(prefix)]) == prefix:
                self._skips[at] = len(prefix)
                at += len(prefix)
                break
        # Before any copy, markup takes the position just before the first copyable
        # piece: the start token's, or a task prefix's last piece.
        first_last = max(at - 1, 0)
        depth = 0
        while at < self._stop:
            kind, length = aligner.match(self.source_ids, at)
            if kind == SEPARATOR and depth:
                length = self._type_part_length(at)
                depth -= 1
            elif kind == OPEN:
                depth += 1
            elif kind == CLOSE:
                depth = max(0, depth - 1)
            if kind is not None:
                self._skips[at] = length
            at += max(length, 1)
        self._longest = max(
            len(option) for name in TargetAligner._MARKS for option in getattr(aligner, name)
        )
        # Settled state: ids walked, their positions, and (pointer, last, frames).
        self._settled = []
        self._state = (min(aligner.source_lead, len(self.source_ids)), first_last, ())

    def _type_part_length(self, at):
        """Pieces from the separator at ``at`` through the close of its bracket."""
        end, inner = at, 0
        while end < self._stop:
            kind, length = self.aligner.match(self.source_ids, end)
            end += max(length, 1)
            if kind == OPEN:
                inner += 1
            elif kind == CLOSE:
                if not inner:
                    break
                inner -= 1
        return end - at

    def _unit(self, ids, at, state):
        """Walk the unit starting at ``ids[at]``: ``(length, position, new state)``."""
        pointer, last, frames = state
        kind, length = self.aligner.match(ids, at)
        if kind is not None:
            if kind == OPEN:
                frames = (*frames, True)  # in the new bracket's name part
            elif kind == SEPARATOR and frames:
                frames = (*frames[:-1], False)
            elif kind == CLOSE and frames:
                frames = frames[:-1]
            return length, last, (pointer, last, frames)
        # Outside a bracket's type part, an id equal to the next source piece copies it.
        copying = not frames or frames[-1]
        while pointer in self._skips:
            pointer += self._skips[pointer]
        if copying and pointer < self._stop and ids[at] == self.source_ids[pointer]:
            last, pointer = pointer, pointer + 1
        return 1, last, (pointer, last, frames)

    def positions(self, target_ids):
        """Position of every id of ``target_ids``, which extend the ids of the last call.

        Parameters
        ----------
        target_ids : sequence of int

        Returns
        -------
        list of int
        """
        ids = list(target_ids)
        at, state = len(self._settled), self._state
        out = list(self._settled)
        while at < len(ids):
            length, position, state = self._unit(ids, at, state)
            out.extend([position] * length)
            at += length
            # Settled: no longer markup option could have started at or before here.
            if at + self._longest - 1 <= len(ids):
                self._settled, self._state = list(out), state
        return out
