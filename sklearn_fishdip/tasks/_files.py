"""What the ``fishdip`` command line needs from a task: reading, writing and scoring its files.

A task estimator names its file format as the class attribute ``files`` (see
:mod:`sklearn_fishdip.tasks._codec`); the command line finds it through the
registry, so adding a task needs no change there.
"""

from __future__ import annotations

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

    def write(self, out, X, predicted, gold=None):
        """Write predictions to the open text file ``out`` (``gold`` targets when known)."""
        raise NotImplementedError

    def scores(self, estimator, y_true, y_pred):
        """Evaluation scores as a JSON-ready dict; its ``"text"`` entry is the
        human-readable report (left out of ``--json`` output)."""
        raise NotImplementedError
