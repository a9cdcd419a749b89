"""The ``fishdip`` command line (also ``python -m sklearn_fishdip``): fit, predict, evaluate.

Files are CoNLL column files for NER (token first, tag last, blank lines
between sentences) and the CoNLL04 JSON format for joint entity and relation
extraction (``{"tokens", "tags" (BILOU), "relations": [{"head", "tail",
"type"}]}`` per sentence). A missing or malformed file, or a model folder of
the wrong kind, gives one line ``fishdip: error: <path>:<line>: ...`` on
stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings

__all__ = ["main"]

PROG = "fishdip"
TASKS = ("ner", "relations")
_TASK_CLASSES = {"ner": "FishDipNER", "relations": "FishDipRelationExtractor"}
# Long messages (e.g. a reader quoting a whole one-line JSON file) are cut to stay readable.
_MAX_MESSAGE = 400


# --------------------------------------------------------------------------- #
# Reading and writing files
# --------------------------------------------------------------------------- #


def _read_text(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not utf-8 text ({error.reason})") from None


def _check_not_json(path, text, task):
    # A JSON file read as CoNLL would fail on its (possibly huge) first line; say why instead.
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        line = text[: len(text) - len(stripped)].count("\n") + 1
        raise ValueError(
            f"{path}:{line}: looks like JSON, but a {task} model reads CoNLL column files "
            "(one token and its tag per line)"
        )


def read_ner(path, *, require_tags=False):
    """Read a CoNLL column file; tags are optional for prediction.

    Parameters
    ----------
    path : str
    require_tags : bool, default=False
        Refuse a file of bare tokens (one column).

    Returns
    -------
    X : list of list of str
    y : list of list of str or None
        None when the file holds tokens only.
    """
    from ..datasets import load_conll

    text = _read_text(path)
    _check_not_json(path, text, "ner")
    first = None
    for number, line in enumerate(text.splitlines(), start=1):
        columns = line.split()
        if columns and columns[0] != "-DOCSTART-":
            first = (number, len(columns))
            break
    if require_tags or first is None or first[1] > 1:
        return load_conll(path)
    # One token per line, no tags: the layout of a file to tag.
    X, tokens = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        columns = line.split()
        if not columns or columns[0] == "-DOCSTART-":
            if tokens:
                X.append(tokens)
                tokens = []
            continue
        if len(columns) != 1:
            raise ValueError(
                f"{path}:{number}: expected one token per line, as on line {first[0]}, "
                f"got {line.rstrip()!r}"
            )
        tokens.append(columns[0])
    if tokens:
        X.append(tokens)
    return X, None


def read_relations(path, *, require_targets=False):
    """Read a CoNLL04 (SpERT/TANL) JSON file; gold entities are optional for prediction.

    Parameters
    ----------
    path : str
    require_targets : bool, default=False
        Refuse sentences without ``"tags"`` or ``"entities"``.

    Returns
    -------
    X : list of list of str
    y : list of dict or None
        None when the sentences carry no entities.
    """
    from ..datasets import load_spert
    from ..utils._validation import check_tokens

    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path}:{error.lineno}: not valid JSON ({error.msg}, column {error.colno}); a "
            "relations model reads the CoNLL04 JSON format"
        ) from None
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of sentences, got {type(data).__name__}")
    annotated = all(
        isinstance(item, dict) and ("tags" in item or "entities" in item) for item in data
    )
    if require_targets or annotated:
        return load_spert(path)
    X = []
    for index, item in enumerate(data):
        try:
            if not isinstance(item, dict) or "tokens" not in item:
                raise ValueError("expected an object with 'tokens'")
            X.append(check_tokens(item["tokens"]))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: sentence {index}: {error}") from None
    return X, None


def _relations_record(tokens, prediction):
    """One predicted sentence in the CoNLL04 format.

    Overlapping entities are resolved outer-first (BILOU tags cannot nest);
    relations index the kept entities in order of appearance, and those with
    a dropped argument are left out.
    """
    from ..augmented._ner import resolve_overlaps
    from ..augmented._schemes import spans_to_tags

    kept = resolve_overlaps(prediction["entities"])
    position = {entity: index for index, entity in enumerate(kept)}
    entities = [tuple(entity) for entity in prediction["entities"]]
    relations = []
    for head, tail, label in prediction["relations"]:
        new_head, new_tail = position.get(entities[head]), position.get(entities[tail])
        if new_head is not None and new_tail is not None:
            relations.append({"head": new_head, "tail": new_tail, "type": label})
    return {
        "tokens": list(tokens),
        "tags": spans_to_tags(kept, len(tokens), "BILOU"),
        "relations": relations,
    }


@contextlib.contextmanager
def _output(path):
    """stdout, or a file written only once the command got that far."""
    if path is None:
        yield sys.stdout
        return
    try:
        handle = open(path, "w", encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{path}: cannot write the file ({error.strerror or error})") from None
    with handle:
        yield handle


# --------------------------------------------------------------------------- #
# Models and scores
# --------------------------------------------------------------------------- #


def _task_of(estimator):
    name = type(estimator).__name__
    return next(task for task, cls in _TASK_CLASSES.items() if cls == name)


def _load_model(path, task, device, quiet):
    from .._base import BaseFishDip

    with warnings.catch_warnings():
        # The CLI picks the device below; a saved CUDA device is no concern here.
        warnings.filterwarnings("ignore", message=".*CUDA is not available here.*")
        estimator = BaseFishDip.load(path)
    found = _task_of(estimator)
    if task is not None and task != found:
        raise ValueError(
            f"{path}: holds a {found} model ({type(estimator).__name__}), not a {task} model"
        )
    estimator.set_params(device=device)
    if quiet:
        estimator.set_params(verbose=0)
    return estimator


def _read(task, path, *, gold):
    if task == "ner":
        return read_ner(path, require_tags=gold)
    return read_relations(path, require_targets=gold)


def scores(estimator, X, y):
    """Evaluation scores of ``estimator`` on gold data, JSON-ready.

    Parameters
    ----------
    estimator : FishDipNER or FishDipRelationExtractor
    X, y : list
        Sentences and gold targets.

    Returns
    -------
    dict
        NER: micro ``precision``/``recall``/``f1`` and seqeval's per-type
        ``report`` (dict and ``text``). Relations: ``entities`` and
        ``relations`` P/R/F1. Both with ``n_sentences`` and
        ``decode_errors``.
    """
    from ..metrics import (
        entity_precision_recall_f1,
        ner_classification_report,
        relation_precision_recall_f1,
    )
    from ..persistence import to_json

    task = _task_of(estimator)
    predicted = estimator.predict(X)
    result = {"task": task, "n_sentences": len(X)}
    if task == "ner":
        scheme = estimator.scheme
        precision, recall, f1 = entity_precision_recall_f1(y, predicted, scheme=scheme)
        result["micro"] = {"precision": precision, "recall": recall, "f1": f1}
        result["report"] = ner_classification_report(y, predicted, scheme=scheme, output_dict=True)
        result["text"] = ner_classification_report(y, predicted, scheme=scheme)
    else:
        for level in ("entities", "relations"):
            precision, recall, f1 = relation_precision_recall_f1(y, predicted, level=level)
            result[level] = {"precision": precision, "recall": recall, "f1": f1}
    result["decode_errors"] = estimator.decode_errors_.as_dict()
    return to_json(result, "scores")


def _print_scores(result, out, *, as_json):
    if as_json:
        out.write(json.dumps({k: v for k, v in result.items() if k != "text"}, indent=2) + "\n")
        return
    if result["task"] == "ner":
        out.write(result["text"].rstrip("\n") + "\n")
    else:
        for level in ("entities", "relations"):
            s = result[level]
            out.write(
                f"{level:<10} precision {s['precision']:.4f}  recall {s['recall']:.4f}  "
                f"f1 {s['f1']:.4f}\n"
            )
    errors = result["decode_errors"]
    bad = {k: v for k, v in errors.items() if k != "n_sentences" and v}
    if bad:
        details = ", ".join(f"{k}={v}" for k, v in bad.items())
        out.write(f"decode errors in {errors['n_sentences']} sentences: {details}\n")


# --------------------------------------------------------------------------- #
# Commands
# --------------------------------------------------------------------------- #


def _info(args, message):
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def cmd_fit(args):
    from .. import FishDipNER, FishDipRelationExtractor
    from ..datasets import low_resource_subset

    X, y = _read(args.task, args.train, gold=True)
    if not X:
        raise ValueError(f"{args.train}: holds no sentence")
    dev = _read(args.task, args.dev, gold=True) if args.dev else None
    if args.fraction is not None:
        X, y = low_resource_subset(X, y, args.fraction, random_state=args.seed)
    params = dict(
        model=args.model,
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
    )
    if args.task == "ner":
        estimator = FishDipNER(scheme=args.scheme, **params)
    else:
        estimator = FishDipRelationExtractor(**params)
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
            hint = f" (read with --scheme {args.scheme})" if args.task == "ner" else ""
            raise ValueError(f"{args.train}: {error}{hint}") from None
        raise
    if dev is not None:
        print(f"dev scores ({args.dev}):")
        _print_scores(scores(estimator, *dev), sys.stdout, as_json=False)
    estimator.save(args.out)
    _info(args, f"saved to {args.out}")
    return 0


def cmd_predict(args):
    estimator = _load_model(args.model, args.task, args.device, args.quiet)
    task = _task_of(estimator)
    X, gold = _read(task, args.input, gold=False)
    predicted = estimator.predict(X)
    with _output(args.output) as out:
        if task == "ner":
            for index, (tokens, tags) in enumerate(zip(X, predicted)):
                if index:
                    out.write("\n")
                gold_tags = gold[index] if gold is not None else None
                for position, (token, tag) in enumerate(zip(tokens, tags)):
                    columns = (
                        [token, tag] if gold_tags is None else [token, gold_tags[position], tag]
                    )
                    out.write(" ".join(columns) + "\n")
        else:
            records = [_relations_record(t, p) for t, p in zip(X, predicted)]
            out.write(json.dumps(records) + "\n")
    if args.output is not None:
        _info(args, f"wrote {len(X)} sentences to {args.output}")
    return 0


def cmd_evaluate(args):
    estimator = _load_model(args.model, args.task, args.device, args.quiet)
    X, y = _read(_task_of(estimator), args.test, gold=True)
    if not X:
        raise ValueError(f"{args.test}: holds no sentence")
    if args.limit is not None:
        # Generation runs at a few sentences per second on a CPU: score a prefix.
        X, y = X[: args.limit], y[: args.limit]
    _print_scores(scores(estimator, X, y), sys.stdout, as_json=args.json)
    return 0


# --------------------------------------------------------------------------- #
# Argument parsing
# --------------------------------------------------------------------------- #


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def build_parser():
    """The argument parser of ``fishdip``.

    Returns
    -------
    argparse.ArgumentParser
    """
    from ..models import DEFAULT_MODEL

    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Low-resource NER and joint entity-relation extraction with FISH-DIP sparse "
            "fine-tuning of a seq2seq model. NER files are CoNLL column files (token first, "
            "tag last); relation files use the CoNLL04 JSON format."
        ),
        epilog=(
            "example: fishdip fit --task ner --train train.txt --fraction 0.01 --seed 1 "
            "--out model/ && fishdip evaluate --model model/ --test test.txt"
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fit = commands.add_parser(
        "fit",
        help="train a model and save it to a folder",
        description="Train on a CoNLL (ner) or CoNLL04 JSON (relations) file and save the "
        "model with save() (the sparse difference from the base model plus JSON).",
    )
    fit.add_argument("--task", choices=TASKS, required=True, help="ner or relations")
    fit.add_argument("--train", required=True, metavar="FILE", help="training data")
    fit.add_argument("--dev", metavar="FILE", help="development data, scored after training")
    fit.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="NAME",
        help=f"base seq2seq model: Hub name or local folder (default: {DEFAULT_MODEL}, offline)",
    )
    fit.add_argument(
        "--strategy",
        default="fish-dip",
        choices=("fish-dip", "fish", "dps", "bitfit", "random", "full"),
        help="which parameters are trained (default: fish-dip)",
    )
    fit.add_argument(
        "--keep-ratio",
        type=_positive_float,
        default=0.01,
        metavar="R",
        help="fraction of parameters trained (default: 0.01)",
    )
    fit.add_argument(
        "--refresh-every",
        type=_positive_int,
        default=100,
        metavar="N",
        help="steps between mask selections of fish-dip (default: 100)",
    )
    fit.add_argument("--epochs", type=_positive_int, default=20, metavar="N", help="(default: 20)")
    fit.add_argument(
        "--batch-size", type=_positive_int, default=8, metavar="B", help="(default: 8)"
    )
    fit.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=None,
        metavar="LR",
        help="default: 1e-2 with Adafactor (as in the paper), 3e-4 with AdamW",
    )
    fit.add_argument(
        "--optimizer",
        choices=["adafactor", "adamw"],
        default="adafactor",
        help="(default: adafactor)",
    )
    fit.add_argument(
        "--lr-schedule",
        choices=["linear", "constant"],
        default="linear",
        help="linear decay to 0 over the run, as the paper's trainer (default: linear)",
    )
    fit.add_argument(
        "--fraction",
        type=_positive_float,
        default=None,
        metavar="F",
        help="train on this seeded fraction of --train (e.g. 0.01), the low-resource protocol",
    )
    fit.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="seed of --fraction's subset and of training (default: 0)",
    )
    fit.add_argument(
        "--scheme",
        default="IOB2",
        choices=("IOB2", "IOB1", "IOBES", "BILOU"),
        help="tagging scheme of a ner file (default: IOB2)",
    )
    fit.add_argument("--device", default="auto", help="auto, cpu or cuda[:N] (default: auto)")
    fit.add_argument("--out", required=True, metavar="DIR", help="folder to save the model to")
    fit.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    fit.set_defaults(handler=cmd_fit)

    predict = commands.add_parser(
        "predict",
        help="tag a file with a saved model",
        description="ner: writes 'token predicted' per line ('token gold predicted' when the "
        "input has tags), a blank line between sentences. relations: writes the CoNLL04 JSON "
        "format (tokens, BILOU tags of the predicted entities, overlapping ones resolved "
        "outer-first, and relations over the entities in order of appearance).",
    )
    predict.add_argument("--model", required=True, metavar="DIR", help="folder written by fit")
    predict.add_argument("--input", required=True, metavar="FILE", help="sentences to tag")
    predict.add_argument("--output", metavar="FILE", help="default: standard output")
    predict.set_defaults(handler=cmd_predict)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a saved model on gold data",
        description="ner: seqeval's classification report (strict, in the model's scheme). "
        "relations: entity and strict relation precision, recall and F1.",
    )
    evaluate.add_argument("--model", required=True, metavar="DIR", help="folder written by fit")
    evaluate.add_argument("--test", required=True, metavar="FILE", help="gold data")
    evaluate.add_argument("--json", action="store_true", help="print machine-readable JSON")
    evaluate.add_argument(
        "--limit",
        type=_positive_int,
        metavar="N",
        help="score only the first N sentences of the file (default: all)",
    )
    evaluate.set_defaults(handler=cmd_evaluate)

    for command in (predict, evaluate):
        command.add_argument(
            "--task", choices=TASKS, help="refuse a model folder of the other task"
        )
        command.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
        command.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    return parser


def _one_line(message):
    message = " ".join(str(message).split())
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return message


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a usage error or a bad file.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed by argparse
        return exit_.code if isinstance(exit_.code, int) else 2
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.handler(args)
        except (ValueError, OSError) as error:
            print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
            return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
