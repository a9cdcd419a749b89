"""Training options the fitting benchmarks share: precision, batching, epoch checkpoints.

``low_resource.py`` and ``relation_classification.py`` take them alike: one
definition of each option, of what it sets on an estimator, and of what it
adds to the settings ``--resume`` must match (nothing at its default, so
files written before an option existed still resume).
"""


def add_training_options(add):
    """Add ``--autocast``, ``--group-by-length`` and ``--checkpoint-dir`` with ``add``
    (a parser's ``add_argument``)."""
    add(
        "--autocast",
        default="auto",
        choices=["auto", "bf16", "none"],
        help="precision of training: auto is bf16 on a CUDA GPU that supports it, else float32; "
        "bf16 also on the CPU (0.75-0.85 of the float32 time on CPUs with AVX512-BF16 or AMX, "
        "about 6.5 times it on CPUs without them, which emulate bf16)",
    )
    add(
        "--group-by-length",
        action="store_true",
        help="train on shuffled batches of similar lengths (group_by_length=True): less "
        "padding, faster where lengths vary (default: plain shuffling)",
    )
    add(
        "--checkpoint-dir",
        default=None,
        help="save each fit's state there after every epoch; the same command run again "
        "(with --resume) continues an interrupted fit where it stopped, to the same result",
    )


def estimator_training_options(args):
    """The estimator parameters of :func:`add_training_options`' options."""
    return {
        "autocast": None if args.autocast == "none" else args.autocast,
        "group_by_length": args.group_by_length,
        "checkpoint_dir": args.checkpoint_dir,
    }


def training_settings(args):
    """What the options change in a result, for ``--resume``: only non-defaults.

    Where fits are saved changes no result, so ``--checkpoint-dir`` is left out.
    """
    settings = {}
    if args.autocast != "auto":
        settings["autocast"] = args.autocast
    if args.group_by_length:
        settings["group_by_length"] = True
    return settings
