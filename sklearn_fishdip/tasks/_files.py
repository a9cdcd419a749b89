"""What the ``fishdip`` command line needs from a task: reading, writing and scoring its files.

A task estimator names its file format as the class attribute ``files`` (see
:mod:`sklearn_fishdip.tasks._codec`); the command line finds it through the
registry, so adding a task needs no change there.
"""

from __future__ import annotations

from ..utils._subset import low_resource_subset

__all__ = ["TaskFiles"]


class TaskFiles:
    """How the ``fishdip`` command line reads, writes and scores one task's files.

    Attributes
    ----------
    description : str
        The file format, for help texts (``"CoNLL column files"``).
    output : str
        What ``fishdip predict`` writes, for its help text.
    report : str
        What ``fishdip evaluate`` prints, for its help text.
    """

    description = ""
    output = ""
    report = ""

    def read(self, path, *, gold):
        """``(X, y)`` from a file; ``y`` is None when the file holds no targets and
        ``gold`` is False. Errors are ``ValueError`` starting with ``path:line:``."""
        raise NotImplementedError

    def subset(self, X, y, fraction, random_state=None):
        """The seeded low-resource training subset that ``fishdip fit --fraction`` trains on.

        This default draws examples with
        :func:`~sklearn_fishdip.datasets.low_resource_subset`; a task whose
        examples come in groups that belong together (the turns of a
        dialogue) overrides it to draw whole groups.
        """
        return low_resource_subset(X, y, fraction, random_state=random_state)

    def write(self, out, X, predicted, gold=None):
        """Write predictions to the open text file ``out`` (``gold`` targets when known)."""
        raise NotImplementedError

    def iter_read(self, path, *, gold, chunk_size):
        """Yield ``(X, y)`` chunks of at most ``chunk_size`` sentences, as :meth:`read`
        returns them for the whole file.

        A task that can read its format lazily overrides this, so that
        ``fishdip predict`` holds one chunk at a time; this default reads the
        whole file first. Errors are those of :meth:`read`, raised when the
        reader reaches them.
        """
        X, y = self.read(path, gold=gold)
        for start in range(0, len(X), chunk_size):
            yield (
                X[start : start + chunk_size],
                None if y is None else y[start : start + chunk_size],
            )

    def write_chunks(self, out, chunks):
        """Write ``(X, predicted, gold)`` chunks to ``out`` as :meth:`write` writes all of them.

        The output is the same as one :meth:`write` of the concatenated
        chunks. A task whose format allows it writes each chunk before
        taking the next from the iterator (so reading, predicting and writing
        go chunk by chunk); this default collects them all first.
        """
        X, predicted, gold = [], [], []
        for chunk_X, chunk_predicted, chunk_gold in chunks:
            X.extend(chunk_X)
            predicted.extend(chunk_predicted)
            gold = None if chunk_gold is None or gold is None else gold + list(chunk_gold)
        self.write(out, X, predicted, gold)

    def scores(self, estimator, y_true, y_pred):
        """Evaluation scores as a JSON-ready dict; its ``"text"`` entry is the
        human-readable report (left out of ``--json`` output)."""
        raise NotImplementedError
