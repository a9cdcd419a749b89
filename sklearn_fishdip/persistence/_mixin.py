"""The estimators' persistence methods: pickle state, ``save`` and ``load``."""

from __future__ import annotations

from sklearn.utils.validation import check_is_fitted

from ._folder import load_estimator, save_estimator
from ._state import PICKLE_KEY, getstate, setstate

__all__ = ["PersistenceMixin"]


class PersistenceMixin:
    """Pickling as a sparse delta, and :meth:`save`/:meth:`load` of folders.

    Mixed into :class:`~sklearn_fishdip._base.BaseFishDip`; the methods call
    the modules of this package, which hold the format.
    """

    def __getstate__(self):
        """Pickle the sparse difference from the base model instead of the model.

        The state holds the base model's identity (name or path, revision,
        weight checksum), the entries that differ from it (one safetensors
        blob of CPU tensors), the parameters and the other fitted attributes;
        not the weights, the tokenizer or the decoding grammar, which
        unpickling rebuilds from the cached base model. An unfitted estimator
        pickles as usual.
        """
        state = dict(super().__getstate__())
        if not self.__sklearn_is_fitted__():
            return state
        return getstate(self, state)

    def __setstate__(self, state):
        state = dict(state)
        persisted = state.pop(PICKLE_KEY, None)
        super().__setstate__(state)
        if persisted is not None:
            setstate(self, persisted)

    def save(self, path):
        """Save the fitted estimator to a folder that loads without unpickling.

        The folder holds ``estimator.json`` (class, library version,
        parameters, fitted vocabularies and diagnostics, the base model's name,
        revision and sha256) and ``delta.safetensors`` (per changed parameter,
        int32 flat indices and values, CPU tensors). The base model and its
        tokenizer are not stored: :meth:`load` rebuilds them from the same
        base, and refuses a base whose weights changed.

        Parameters
        ----------
        path : str or path-like
            The folder, created if needed.

        Returns
        -------
        self : object
            The estimator.

        Raises
        ------
        TypeError
            If a parameter cannot be stored as JSON (e.g. a ``RandomState``
            as ``random_state``); pickle such an estimator instead.
        """
        check_is_fitted(self)
        save_estimator(self, path)
        return self

    @classmethod
    def load(cls, path):
        """Load an estimator saved with :meth:`save`.

        Only JSON and safetensors are read: nothing is unpickled, so a
        downloaded folder cannot run code. The model is rebuilt on the CPU
        from the base model (loaded as the estimator loads it, never with
        ``trust_remote_code``), whatever device it was trained on.

        Parameters
        ----------
        path : str or path-like
            A folder written by :meth:`save`.

        Returns
        -------
        estimator : object
            The fitted estimator, an instance of this class.

        Raises
        ------
        ValueError
            If the folder is not a saved estimator, holds another class, or
            the base model is missing or its weights' checksum differs.
        """
        # On the shared base, any registered estimator; on a task class, only that class.
        return load_estimator(path, cls if getattr(cls, "task", None) else None)
