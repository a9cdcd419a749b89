"""The estimators the library knows, one per task, registered when their class is defined.

Persistence (which class a saved folder holds), the command line (its
``--task`` choices), the benchmarks and the shared estimator tests iterate
over this registry instead of naming each task, as scikit-learn's
``all_estimators`` does. A task estimator registers itself by setting the
class attribute ``task`` (see :class:`~sklearn_fishdip._base.BaseFishDip`).
This module imports nothing from the package, so any module may use it.
"""

from __future__ import annotations

__all__ = ["all_estimators", "estimator_for_task", "register_estimator"]

_BY_TASK: dict = {}


def register_estimator(cls):
    """Record ``cls`` as the estimator of its ``task``; returns ``cls``.

    Raises
    ------
    ValueError
        If another class already claims the same task name.
    """
    task = cls.task
    if not isinstance(task, str) or not task:
        raise ValueError(f"{cls.__name__}.task must be a non-empty string, got {task!r}")
    other = _BY_TASK.get(task)
    if other is not None and other.__qualname__ != cls.__qualname__:
        raise ValueError(
            f"task {task!r} is already registered by {other.__module__}.{other.__qualname__}"
        )
    _BY_TASK[task] = cls
    return cls


def all_estimators():
    """The registered estimators as ``(task, class)`` pairs, sorted by task name.

    Returns
    -------
    list of (str, type)

    Examples
    --------
    >>> from sklearn_fishdip import all_estimators
    >>> [task for task, _ in all_estimators()]  # doctest: +NORMALIZE_WHITESPACE
    ['dialogue_state', 'events', 'ner', 'relation_classification', 'relations', 'srl',
     'text_classification', 'text_regression']
    """
    return sorted(_BY_TASK.items())


def estimator_for_task(task):
    """The estimator class of a task name (``"ner"``, ``"relations"``, ...).

    Raises
    ------
    ValueError
        If no estimator is registered for ``task``; the message lists those that are.
    """
    try:
        return _BY_TASK[task]
    except (KeyError, TypeError):
        raise ValueError(f"unknown task {task!r}; known tasks: {sorted(_BY_TASK)}") from None
