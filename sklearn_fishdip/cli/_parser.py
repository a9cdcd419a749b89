"""The argument parser of ``fishdip``: its ``--task`` choices come from the registry."""

from __future__ import annotations

import argparse

from .._registry import all_estimators
from ._commands import cmd_evaluate, cmd_fit, cmd_predict

__all__ = ["PROG", "build_parser"]

PROG = "fishdip"


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


def _label_name(text):
    label, sep, name = text.partition("=")
    if not sep or not label.strip() or not name.strip():
        raise argparse.ArgumentTypeError(f"expected LABEL=NAME, got {text!r}")
    return label.strip(), name.strip()


def build_parser():
    """The argument parser of ``fishdip``.

    Returns
    -------
    argparse.ArgumentParser
    """
    from .._params import TRAINING_LOSSES
    from ..models import DEFAULT_MODEL, MODEL_KINDS

    # Read when the parser is built, so a task registered after import is offered too.
    estimators = all_estimators()
    tasks = [task for task, _ in estimators]
    task_files = [(task, cls.files) for task, cls in estimators if cls.files is not None]
    formats = "; ".join(f"{task}: {files.description}" for task, files in task_files)
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Low-resource sequence labeling (tasks: " + ", ".join(tasks) + ") with FISH-DIP "
            f"sparse fine-tuning of a seq2seq model. Files per task: {formats}."
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
        description=f"Train on a file of the task's format ({formats}) and save the "
        "model with save() (the sparse difference from the base model plus JSON).",
    )
    fit.add_argument("--task", choices=tasks, required=True, help=" or ".join(tasks))
    fit.add_argument("--train", required=True, metavar="FILE", help="training data")
    fit.add_argument("--dev", metavar="FILE", help="development data, scored after training")
    fit.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="NAME",
        help=f"pretrained model: Hub name or local folder (default: {DEFAULT_MODEL}, offline)",
    )
    fit.add_argument(
        "--model-kind",
        default="auto",
        choices=MODEL_KINDS,
        help="how the model becomes text-to-text (default: auto, read from the model)",
    )
    fit.add_argument(
        "--training-loss",
        default="auto",
        choices=TRAINING_LOSSES,
        help="full vocabulary or the grammar's ids (default: auto, grammar for prefix LMs)",
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
        help="tagging scheme of the file, for tasks read as tags (default: IOB2)",
    )
    fit.add_argument(
        "--label-name",
        type=_label_name,
        action="append",
        default=None,
        metavar="LABEL=NAME",
        help="the natural name the model writes for a label, e.g. --label-name 0=negative "
        "--label-name PER=person (repeatable; default: the library's names)",
    )
    fit.add_argument("--device", default="auto", help="auto, cpu or cuda[:N] (default: auto)")
    fit.add_argument(
        "--autocast",
        default="auto",
        choices=("auto", "bf16", "none"),
        help="precision of training: auto is bf16 on a CUDA GPU that supports it, else float32; "
        "bf16 also on the CPU, faster on CPUs with AVX512-BF16 or AMX (default: auto)",
    )
    fit.add_argument(
        "--group-by-length",
        action="store_true",
        help="train on shuffled batches of sentences of similar lengths: less padding, "
        "faster where lengths vary (default: plain shuffling)",
    )
    fit.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        default=None,
        help="save the training state there after every epoch; the same command run again "
        "resumes a stopped fit after its last saved epoch",
    )
    fit.add_argument("--out", required=True, metavar="DIR", help="folder to save the model to")
    fit.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    fit.set_defaults(handler=cmd_fit)

    predict = commands.add_parser(
        "predict",
        help="tag a file with a saved model",
        description=" ".join(f"{task}: {files.output}" for task, files in task_files),
    )
    predict.add_argument("--model", required=True, metavar="DIR", help="folder written by fit")
    predict.add_argument("--input", required=True, metavar="FILE", help="sentences to tag")
    predict.add_argument("--output", metavar="FILE", help="default: standard output")
    predict.add_argument(
        "--chunk-size",
        type=_positive_int,
        default=500,
        metavar="N",
        help="sentences read, tagged and written at a time: memory holds one chunk (default: 500)",
    )
    predict.set_defaults(handler=cmd_predict)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a saved model on gold data",
        description=" ".join(f"{task}: {files.report}" for task, files in task_files),
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
        command.add_argument("--task", choices=tasks, help="refuse a model folder of another task")
        command.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
        command.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    return parser
