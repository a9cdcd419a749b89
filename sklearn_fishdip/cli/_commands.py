"""The ``fishdip`` commands: fit, predict and evaluate.

Every task-specific step (reading and writing files, scores) goes through the
task's ``files`` (:class:`~sklearn_fishdip.tasks.TaskFiles`), found in the
registry by task name, so adding a task needs no change here.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings

from .._registry import estimator_for_task

__all__ = ["cmd_evaluate", "cmd_fit", "cmd_predict", "scores"]


def _files(task):
    files = estimator_for_task(task).files
    if files is None:
        raise ValueError(f"the {task} task has no file format for the command line")
    return files


@contextlib.contextmanager
def _output(path):
    """stdout, or a file that appears only once the command got that far.

    A file is written under ``<path>.part`` and renamed at the end, so a bad
    input line met half-way through a streamed file leaves no partial output.
    """
    if path is None:
        yield sys.stdout
        return
    # A device or a pipe (/dev/stdout, a FIFO) is written directly: it cannot be renamed onto.
    special = os.path.exists(path) and not os.path.isfile(path)
    partial = path if special else f"{path}.part"
    try:
        handle = open(partial, "w", encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{path}: cannot write the file ({error.strerror or error})") from None
    try:
        with handle:
            yield handle
        if not special:
            os.replace(partial, path)
    except OSError as error:
        if error.filename in (partial, path):
            raise ValueError(f"{path}: cannot write the file ({error.strerror or error})") from None
        raise
    finally:
        if not special:
            with contextlib.suppress(OSError):
                os.remove(partial)


def _load_model(path, task, device, quiet):
    from ..persistence import load_estimator

    with warnings.catch_warnings():
        # The CLI picks the device below; a saved CUDA device is no concern here.
        warnings.filterwarnings("ignore", message=".*CUDA is not available here.*")
        estimator = load_estimator(path)
    if task is not None and task != estimator.task:
        raise ValueError(
            f"{path}: holds a {estimator.task} model ({type(estimator).__name__}), "
            f"not a {task} model"
        )
    estimator.set_params(device=device)
    if quiet:
        estimator.set_params(verbose=0)
    return estimator


def scores(estimator, X, y):
    """Evaluation scores of ``estimator`` on gold data, JSON-ready.

    Parameters
    ----------
    estimator : a registered estimator (FishDipNER, FishDipRelationExtractor, ...)
    X, y : list
        Sentences and gold targets.

    Returns
    -------
    dict
        ``task``, ``n_sentences``, the task's scores (its ``files.scores``:
        NER micro ``precision``/``recall``/``f1`` and seqeval's per-type
        ``report``; relations ``entities`` and ``relations`` P/R/F1), a
        human-readable ``text`` and ``decode_errors``.
    """
    from ..persistence import to_json

    predicted = estimator.predict(X)
    result = {"task": estimator.task, "n_sentences": len(X)}
    result.update(_files(estimator.task).scores(estimator, y, predicted))
    result["decode_errors"] = estimator.decode_errors_.as_dict()
    return to_json(result, "scores")


def _print_scores(result, out, *, as_json):
    if as_json:
        out.write(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2) + "\n")
        return
    out.write(result["text"].rstrip("\n") + "\n")
    errors = result["decode_errors"]
    bad = {k: v for k, v in errors.items() if k != "n_sentences" and v}
    if bad:
        details = ", ".join(f"{k}={v}" for k, v in bad.items())
        out.write(f"decode errors in {errors['n_sentences']} sentences: {details}\n")


def _info(args, message):
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def cmd_fit(args):
    cls = estimator_for_task(args.task)
    files = _files(args.task)
    X, y = files.read(args.train, gold=True)
    if not X:
        raise ValueError(f"{args.train}: holds no sentence")
    dev = files.read(args.dev, gold=True) if args.dev else None
    if args.fraction is not None:
        X, y = files.subset(X, y, args.fraction, random_state=args.seed)
    params = dict(
        model=args.model,
        model_kind=args.model_kind,
        training_loss=args.training_loss,
        strategy=args.strategy,
        keep_ratio=args.keep_ratio,
        refresh_every=args.refresh_every,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        optimizer=args.optimizer,
        lr_schedule=args.lr_schedule,
        device=args.device,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
        checkpoint_dir=args.checkpoint_dir,
        autocast=None if args.autocast == "none" else args.autocast,
        group_by_length=args.group_by_length,
    )
    if args.label_name:
        params["label_names"] = dict(args.label_name)
    # --scheme goes to the tasks whose estimator reads tags in a scheme.
    reads_tags = "scheme" in cls().get_params(deep=False)
    if reads_tags:
        params["scheme"] = args.scheme
    estimator = cls(**params)
    _info(
        args,
        f"fitting {type(estimator).__name__} on {len(X)} sentences of {args.train} "
        f"(model {args.model}, strategy {args.strategy}, keep ratio {args.keep_ratio})",
    )
    try:
        estimator.fit(X, y)
    except ValueError as error:
        # Targets the reader accepts but the estimator does not (tags in another scheme).
        if str(error).startswith("y["):
            hint = f" (read with --scheme {args.scheme})" if reads_tags else ""
            raise ValueError(f"{args.train}: {error}{hint}") from None
        raise
    if dev is not None:
        print(f"dev scores ({args.dev}):")
        _print_scores(scores(estimator, *dev), sys.stdout, as_json=False)
    estimator.save(args.out)
    _info(args, f"saved to {args.out}")
    return 0


def cmd_predict(args):
    from tqdm.auto import tqdm

    estimator = _load_model(args.model, args.task, args.device, args.quiet)
    # One progress bar over the whole file, not one per chunk's generation.
    estimator.set_params(verbose=0)
    files = _files(estimator.task)
    chunks = files.iter_read(args.input, gold=False, chunk_size=args.chunk_size)
    # On a terminal only (disable=None): a log file or a pipe gets no bar.
    progress = tqdm(
        desc="tagging", unit=" sentences", disable=True if args.quiet else None, file=sys.stderr
    )
    n_sentences = 0

    def predicted_chunks():
        # Read, predict and write one chunk at a time: the writer asks for the
        # next chunk only once it wrote this one, so memory holds one chunk.
        nonlocal n_sentences
        for X, gold in chunks:
            yield X, estimator.predict(X) if X else [], gold
            n_sentences += len(X)
            progress.update(len(X))

    with progress, _output(args.output) as out:
        files.write_chunks(out, predicted_chunks())
    if args.output is not None:
        _info(args, f"wrote {n_sentences} sentences to {args.output}")
    return 0


def cmd_evaluate(args):
    estimator = _load_model(args.model, args.task, args.device, args.quiet)
    X, y = _files(estimator.task).read(args.test, gold=True)
    if not X:
        raise ValueError(f"{args.test}: holds no sentence")
    if args.limit is not None:
        # Generation runs at a few sentences per second on a CPU: score a prefix.
        X, y = X[: args.limit], y[: args.limit]
    _print_scores(scores(estimator, X, y), sys.stdout, as_json=args.json)
    return 0
