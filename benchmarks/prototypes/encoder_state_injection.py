"""RESEARCH PROTOTYPE (issue 15, lever 2b) -- not library code, not a benchmark of record.

Question: does adding, to each decoder input embedding of the offline default's
BERT2BERT model, the encoder state of the source word the decoder is about to
copy, close the gap between generative TANL (0.146 entity F1 on the first 300
CoNLL-2003 test sentences) and the same MiniLM as a token tagger (0.768)?

Model: ``load_seq2seq("minilm-bert2bert")`` (``EncoderDecoderModel``, MiniLM
encoder and decoder, decoder cross-attention copied from self-attention), fully
fine-tuned. The script runs the encoder and the decoder itself (no
``model.generate``), so the baseline and the injected variants share one code
path; ``--selftest`` checks that, without injection, this path gives the same
loss as ``model(..., labels=...)`` and the same constrained greedy output as
``model.generate`` with the library's grammar.

Alignment rule (the anchor of each decoder step)
------------------------------------------------
Let the source be ``[CLS] pieces(w_0) ... pieces(w_{n-1}) [SEP]`` (escaped words
joined by spaces, as the library encodes them) and let the labels be the target
ids ``y_0 .. y_{T-1}`` (``encode_targets``: no [CLS], ending with [SEP] = EOS).
Decoder step ``t`` reads input ``x_t`` (``x_0`` = decoder start [CLS],
``x_t = y_{t-1}``) and predicts ``y_t``. Its anchor word is

    j_t = number of source words whose pieces are all among y_0 .. y_{t-1}

i.e. the next source word still to be copied (a partially copied word is still
"to be copied"); markup (``[``, ``|``, ``]``) and label-name ids never advance
it. The anchor position is the first piece of word ``j_t`` in the encoder
input, or the final [SEP] when ``j_t = n``. The decoder input embedding becomes

    word_embedding(x_t) + inject(encoder_hidden[anchor_t])

before the decoder's position/type embeddings and LayerNorm (``inputs_embeds``).

Training computes ``j_t`` with :class:`AnchorWalker` from the target ids;
generation takes it from the library grammar's automaton
(``_Sentence._configs(prefix)``: the ``pos`` of every configuration, asserted
unique) -- and also runs the walker and counts disagreements (must be 0). The
training targets are checked against the automaton too (``check_alignment``).

Variants (``--variant``):

* ``none``   -- baseline, no injection (same code path).
* ``linear`` -- ``inject = Linear(384, 384)`` zero-initialized (weight and bias),
  so training starts from the pretrained model exactly.
* ``gate``   -- ``inject(e) = g * e`` with a learned scalar ``g`` initialized to 0.

Gradients flow through the injection into the encoder (full fine-tuning).

Run on a snapshot of the last commit (other sessions edit the working tree)::

    rm -rf /tmp/fishdip_head5 && mkdir -p /tmp/fishdip_head5 && \
        git -C /work/main archive HEAD | tar -x -C /tmp/fishdip_head5
    python benchmarks/prototypes/encoder_state_injection.py --selftest
    python benchmarks/prototypes/encoder_state_injection.py --variant linear --epochs 30 --lr 3e-4

Writes JSON to ``benchmarks/results/encoder_state_injection_<variant>_...json``.
"""

import sys

SNAPSHOT = "/tmp/fishdip_head5"
sys.path.insert(0, SNAPSHOT)

import argparse  # noqa: E402
import bisect  # noqa: E402
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from sklearn_fishdip.augmented import (  # noqa: E402
    decode_ner,
    encode_ner,
    escape_token,  # noqa: E402
)
from sklearn_fishdip.datasets import load_conll, low_resource_subset  # noqa: E402
from sklearn_fishdip.generation import AugmentedGrammar  # noqa: E402
from sklearn_fishdip.metrics import entity_precision_recall_f1  # noqa: E402
from sklearn_fishdip.models import load_seq2seq  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = Path("/work/shared/data/conll2003")
RESULTS = ROOT / "benchmarks" / "results"
LABELS = ["PER", "LOC", "ORG", "MISC"]
NAMES = ["person", "location", "organization", "miscellaneous"]
LABEL_NAMES = dict(zip(LABELS, NAMES))


class AnchorWalker:
    """``j`` (next source word still to copy) from target ids alone, one id at a time.

    ``word_pieces``: the ids of each escaped source word as copied into a target
    (``grammar.word_ids``). ``j`` is read *before* ``step`` for the step whose
    input is the previous id; ``step(token)`` consumes one target id.
    """

    def __init__(self, word_pieces, markup, eos_id):
        self.flat = [i for ids in word_pieces for i in ids]
        self.ends = list(
            np.cumsum([len(ids) for ids in word_pieces])
        )  # piece count at each word's end
        self.open, self.close, self.sep = markup["["][0], markup["]"][0], markup["|"][0]
        assert all(len(markup[k]) == 1 for k in "[]|")
        self.eos = eos_id
        self.copied = 0  # pieces copied
        self.in_label = False

    @property
    def j(self):
        return bisect.bisect_right(self.ends, self.copied)  # words with all pieces copied

    def step(self, token):
        token = int(token)
        if self.in_label:  # label-name ids up to and including "]"
            if token == self.close:
                self.in_label = False
        elif token == self.sep:
            self.in_label = True
        elif token in (self.open, self.eos):
            pass
        else:
            if self.copied >= len(self.flat) or token != self.flat[self.copied]:
                raise AssertionError(
                    f"id {token} is not the next source piece (copied {self.copied})"
                )
            self.copied += 1


class Example:
    def __init__(self, tokens, tags, loaded, grammar):
        tok = loaded.tokenizer
        self.tokens = tokens
        words = [escape_token(t) for t in tokens]
        self.src = tok(" ".join(words), add_special_tokens=True)["input_ids"]  # [CLS] ... [SEP]
        self.word_pieces = grammar.word_ids(tokens)
        flat = [i for ids in self.word_pieces for i in ids]
        assert (
            self.src[1:-1] == flat
            and self.src[0] == tok.cls_token_id
            and self.src[-1] == tok.sep_token_id
        )
        starts = np.cumsum([0] + [len(ids) for ids in self.word_pieces])[:-1]
        # anchor_of[j]: encoder position of word j's first piece; anchor_of[n] = final [SEP]
        self.anchor_of = [1 + int(s) for s in starts] + [len(self.src) - 1]
        self.n = len(tokens)
        if tags is not None:
            self.text = encode_ner(tokens, tags, LABEL_NAMES)
            self.labels = loaded.encode_targets([self.text])[0]
            self.dec_in = [loaded.model.config.decoder_start_token_id] + self.labels[:-1]
            walker = self.walker(grammar)
            self.js = []
            for t in range(len(self.labels)):
                self.js.append(walker.j)  # j for input x_t: after consuming y_0..y_{t-1}
                walker.step(self.labels[t])
            self.anchors = [self.anchor_of[j] for j in self.js]

    def walker(self, grammar):
        return AnchorWalker(self.word_pieces, grammar.markup_ids, grammar.eos_token_id)


def automaton_j(sentence, prefix):
    configs = sentence._configs(tuple(prefix))
    poss = {state[1] for state, _node in configs}
    assert len(poss) == 1, (prefix, configs)
    return poss.pop()


def check_alignment(examples, grammar):
    """The walker's j on every training target equals the automaton's pos for the same prefix."""
    n = mismatches = 0
    for ex in examples:
        fn = grammar.allowed_tokens_fn([ex.tokens], prefix_length=0, lead_ids=())
        sentence = fn.sentences[0]
        for t in range(len(ex.labels)):
            assert ex.labels[t] in fn(0, ex.labels[:t]), (ex.text, t)  # target is a grammar path
            mismatches += automaton_j(sentence, ex.labels[:t]) != ex.js[t]
            n += 1
    return n, mismatches


class Injector(torch.nn.Module):
    def __init__(self, variant, hidden):
        super().__init__()
        self.variant = variant
        if variant == "linear":
            self.proj = torch.nn.Linear(hidden, hidden)
            torch.nn.init.zeros_(self.proj.weight)
            torch.nn.init.zeros_(self.proj.bias)
        elif variant == "gate":
            self.gate = torch.nn.Parameter(torch.zeros(()))

    def forward(self, states):
        if self.variant == "linear":
            return self.proj(states)
        return self.gate * states


def decoder_logits(model, injector, enc, src_mask, dec_ids, dec_mask, anchors):
    """Decoder logits with (optional) encoder-state injection; enc: (B, S, H), anchors: (B, T)."""
    emb = model.decoder.get_input_embeddings()(dec_ids)
    if injector is not None:
        picked = torch.gather(enc, 1, anchors[..., None].expand(-1, -1, enc.size(-1)))
        emb = emb + injector(picked)
    out = model.decoder(
        inputs_embeds=emb,
        attention_mask=dec_mask,
        encoder_hidden_states=enc,
        encoder_attention_mask=src_mask,
        use_cache=False,
    )
    return out.logits


def collate(exs, pad_id):
    S = max(len(e.src) for e in exs)
    T = max(len(e.labels) for e in exs)
    src = torch.tensor([e.src + [pad_id] * (S - len(e.src)) for e in exs])
    src_mask = torch.tensor([[1] * len(e.src) + [0] * (S - len(e.src)) for e in exs])
    dec = torch.tensor([e.dec_in + [pad_id] * (T - len(e.dec_in)) for e in exs])
    dec_mask = torch.tensor([[1] * len(e.dec_in) + [0] * (T - len(e.dec_in)) for e in exs])
    anchors = torch.tensor([e.anchors + [0] * (T - len(e.anchors)) for e in exs])
    labels = torch.tensor([e.labels + [-100] * (T - len(e.labels)) for e in exs])
    return src, src_mask, dec, dec_mask, anchors, labels


def batch_loss(model, injector, batch):
    src, src_mask, dec, dec_mask, anchors, labels = batch
    enc = model.encoder(input_ids=src, attention_mask=src_mask).last_hidden_state
    logits = decoder_logits(model, injector, enc, src_mask, dec, dec_mask, anchors)
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.size(-1)), labels.reshape(-1)
    )


def budget_for(ex):
    return 2 * (len(ex.src) - 2) + 20  # the library's default budget (generate_augmented)


@torch.no_grad()
def generate(model, injector, ex, grammar, start_id, use_cache=True):
    """Greedy constrained decoding.

    With ``use_cache`` the decoder reads one new input per step with a KV cache
    (exact: an input's embedding and anchor are fixed once it is appended);
    without, it reruns on the whole prefix each step (``--selftest`` compares both).
    """
    budget = budget_for(ex)
    fn = grammar.allowed_tokens_fn(
        [ex.tokens], prefix_length=0, lead_ids=(), max_new_tokens=[budget]
    )
    sentence = fn.sentences[0]
    src = torch.tensor([ex.src])
    enc = model.encoder(input_ids=src).last_hidden_state
    walker = ex.walker(grammar)
    gen, dec_in, js = [], [start_id], [automaton_j(sentence, ())]
    disagree = int(js[0] != walker.j)
    cache = None
    for _ in range(budget):
        if use_cache:
            emb = model.decoder.get_input_embeddings()(torch.tensor([dec_in[-1:]]))
            if injector is not None:
                emb = emb + injector(enc[:, ex.anchor_of[js[-1]]][:, None])
            out = model.decoder(
                inputs_embeds=emb, encoder_hidden_states=enc, cache=cache, use_cache=True
            )
            cache = out.cache
            logits = out.logits[0, -1]
        else:
            anchors = torch.tensor([[ex.anchor_of[j] for j in js]])
            logits = decoder_logits(
                model, injector, enc, None, torch.tensor([dec_in]), None, anchors
            )[0, -1]
        allowed = fn(0, gen)
        token = allowed[int(torch.argmax(logits[allowed]))] if len(allowed) > 1 else allowed[0]
        gen.append(int(token))
        if token == grammar.eos_token_id:
            break
        walker.step(token)
        j = automaton_j(sentence, gen)
        disagree += j != walker.j
        dec_in.append(int(token))
        js.append(j)
    return gen, fn.render(0, gen), js, disagree


def selftest(loaded, grammar, X, y):
    from sklearn_fishdip.generation import generate_augmented  # noqa: F401  (import check only)

    model = loaded.model
    model.eval()
    exs = [Example(a, b, loaded, grammar) for a, b in zip(X[:6], y[:6])]
    batch = collate(exs, loaded.tokenizer.pad_token_id)
    src, src_mask, dec, dec_mask, anchors, labels = batch
    with torch.no_grad():
        mine = batch_loss(model, None, batch).item()
        ref = model(input_ids=src, attention_mask=src_mask, labels=labels).loss.item()
        inj = Injector("linear", model.config.encoder.hidden_size)
        zero = batch_loss(model, inj, batch).item()
    print(
        f"loss: my path {mine:.6f}, model(labels=) {ref:.6f}, zero-init linear injection {zero:.6f}"
    )
    ok = abs(mine - ref) < 1e-4 and abs(zero - mine) < 1e-6
    n, mism = check_alignment(exs, grammar)
    print(f"alignment: {n} training steps, walker vs automaton mismatches {mism}")
    ok &= mism == 0
    ex = exs[1]
    print("anchors of", ex.text)
    toks = loaded.tokenizer.convert_ids_to_tokens(ex.dec_in)
    src_toks = loaded.tokenizer.convert_ids_to_tokens(ex.src)
    print("  ", [(a, src_toks[b]) for a, b in zip(toks, ex.anchors)])
    # greedy constrained generation: my loop vs model.generate with the same grammar
    from transformers import GenerationConfig

    start = model.config.decoder_start_token_id
    for e in exs[:3]:
        gen, text, js, dis = generate(model, None, e, grammar, start)
        fn = grammar.allowed_tokens_fn(
            [e.tokens], prefix_length=1, lead_ids=(), max_new_tokens=[budget_for(e)]
        )
        cfg = GenerationConfig(
            max_new_tokens=budget_for(e),
            do_sample=False,
            num_beams=1,
            decoder_start_token_id=start,
            eos_token_id=grammar.eos_token_id,
            pad_token_id=loaded.tokenizer.pad_token_id,
        )
        out = model.generate(
            input_ids=torch.tensor([e.src]), generation_config=cfg, prefix_allowed_tokens_fn=fn
        )
        theirs = out[0].tolist()[1:]
        same = theirs[: len(gen)] == gen
        gen_c, _, _, _ = generate(model, None, e, grammar, start, use_cache=True)
        print(
            f"generate equal={same} cached equal={gen_c == gen} disagreements={dis}: {text[:100]}"
        )
        ok &= same and dis == 0 and gen_c == gen
    # injected decoding: cached vs full prefix, with a random (non-zero) injection
    torch.manual_seed(0)
    inj = Injector("linear", model.config.encoder.hidden_size)
    torch.nn.init.normal_(inj.proj.weight, std=0.05)
    for e in exs[:3]:
        a = generate(model, inj, e, grammar, start, use_cache=False)
        b = generate(model, inj, e, grammar, start, use_cache=True)
        print(f"injected: cached equal={a[0] == b[0]} disagreements={a[3]}: {a[1][:100]}")
        ok &= a[0] == b[0] and a[3] == 0
    print("SELFTEST", "OK" if ok else "FAILED")
    return ok


def provenance():
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    import transformers

    import sklearn_fishdip

    return dict(
        command=" ".join([sys.executable, *sys.argv]),
        commit=commit,
        snapshot=SNAPSHOT,
        package_file=sklearn_fishdip.__file__,
        torch=torch.__version__,
        transformers=transformers.__version__,
        python=platform.python_version(),
        date=datetime.datetime.now().isoformat(timespec="seconds"),
        host=platform.node(),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", choices=["none", "linear", "gate"], default="linear")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--fraction", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--n-train", type=int, default=None, help="cap the training subset (timing runs)"
    )
    ap.add_argument("--max-test", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--show", type=int, default=6)
    ap.add_argument(
        "--eval-train",
        action="store_true",
        help="tag the training sentences instead of the test sentences (memorization / path check)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    loaded = load_seq2seq("minilm-bert2bert")
    grammar = AugmentedGrammar(loaded.tokenizer, NAMES)
    X, y = load_conll(DATA / "train.txt")
    X, y = low_resource_subset(X, y, args.fraction, random_state=args.seed)
    if args.selftest:
        sys.exit(0 if selftest(loaded, grammar, X, y) else 1)
    if args.n_train:
        X, y = X[: args.n_train], y[: args.n_train]
    Xt, yt = load_conll(DATA / "test.txt")
    Xt, yt = Xt[: args.max_test], yt[: args.max_test]
    if args.eval_train:
        Xt, yt = list(X), list(y)

    train = [Example(a, b, loaded, grammar) for a, b in zip(X, y)]
    n_steps, mism = check_alignment(train, grammar)
    assert mism == 0, mism
    print(
        f"alignment check: {n_steps} training decoder steps, walker == automaton on all", flush=True
    )
    model = loaded.model
    pad = loaded.tokenizer.pad_token_id
    rng = np.random.default_rng(args.seed)
    total = -(-len(train) // args.batch_size) * args.epochs
    losses = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        injector = (
            None
            if args.variant == "none"
            else Injector(args.variant, model.config.encoder.hidden_size)
        )
        params = list(model.parameters()) + (
            list(injector.parameters()) if injector is not None else []
        )
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / total))
        model.train()
        t0 = time.perf_counter()
        for epoch in range(args.epochs):
            order = rng.permutation(len(train))
            ep = []
            for first in range(0, len(order), args.batch_size):
                batch = collate([train[i] for i in order[first : first + args.batch_size]], pad)
                loss = batch_loss(model, injector, batch)
                loss.backward()
                opt.step()
                sched.step()
                opt.zero_grad()
                ep.append(float(loss.detach()))
            losses.append(float(np.mean(ep)))
            extra = ""
            if injector is not None:
                extra = (
                    f" gate {injector.gate.item():.4f}"
                    if args.variant == "gate"
                    else f" |W| {injector.proj.weight.norm().item():.3f}"
                )
            print(
                f"epoch {epoch + 1}/{args.epochs} loss {losses[-1]:.4f}{extra} ({time.perf_counter() - t0:.0f}s)",
                flush=True,
            )
        fit_s = time.perf_counter() - t0

    model.eval()
    if injector is not None:
        injector.eval()
    start = model.config.decoder_start_token_id
    t0 = time.perf_counter()
    preds, texts, n_errors, disagreements = [], [], {}, 0
    for tokens in Xt:
        ex = Example(tokens, None, loaded, grammar)
        _, text, _, dis = generate(model, injector, ex, grammar, start)
        disagreements += dis
        tags, errors = decode_ner(text, tokens, LABELS, LABEL_NAMES, ignore_case=True)
        for k, v in dataclasses.asdict(errors).items():
            n_errors[k] = n_errors.get(k, 0) + v
        preds.append(tags)
        texts.append(text)
    tag_s = time.perf_counter() - t0
    p, r, f = entity_precision_recall_f1(yt, preds, scheme="IOB2")
    n_pred = sum(t.count("[") for t in texts)
    n_gold = sum(sum(tag.startswith("B-") for tag in s) for s in yt)
    print(
        f"variant {args.variant} lr {args.lr:g} epochs {args.epochs} n_train {len(train)}: F1 {f:.3f} P {p:.3f} "
        f"R {r:.3f} final train loss {losses[-1]:.4f} fit {fit_s:.0f}s tagging {tag_s:.0f}s "
        f"predicted entities {n_pred} gold {n_gold} walker/automaton disagreements {disagreements} "
        f"decode errors {n_errors}"
    )
    examples, shown = [], 0
    for tokens, gold, pred, text in zip(Xt, yt, preds, texts):
        gold_text = encode_ner(tokens, gold, LABEL_NAMES)
        if shown < args.show:
            print(("  OK  " if gold == pred else "  ERR ") + "GOLD:", gold_text)
            print("       PRED:", text)
            shown += 1
        if len(examples) < 40:
            examples.append(dict(gold=gold_text, pred=text))
    result = dict(
        prototype="benchmarks/prototypes/encoder_state_injection.py (research prototype, issue 15 lever 2b)",
        variant=args.variant,
        injection={
            "none": "none (baseline)",
            "linear": "zero-initialized Linear(384,384) of encoder state",
            "gate": "learned scalar gate (init 0) times encoder state",
        }[args.variant],
        alignment_rule=(
            "decoder input x_t (start, or y_{t-1}) gets + inject(enc[first piece of word j_t]), "
            "j_t = source words fully copied by y_0..y_{t-1}; markup/label ids do not advance j; "
            "j_t = n -> final [SEP]. Training: AnchorWalker on the target ids; generation: the "
            "grammar automaton's pos (walker cross-checked)."
        ),
        f1=f,
        precision=p,
        recall=r,
        final_train_loss=losses[-1],
        epoch_losses=losses,
        fit_seconds=fit_s,
        tagging_seconds=tag_s,
        decode_errors=n_errors,
        predicted_entities=n_pred,
        gold_entities=n_gold,
        generation_walker_automaton_disagreements=disagreements,
        training_alignment_steps_checked=n_steps,
        injector_state=(
            None
            if injector is None
            else {
                k: v.tolist() if v.numel() == 1 else float(v.norm())
                for k, v in injector.state_dict().items()
            }
        ),
        settings=dict(
            eval_on_train=args.eval_train,
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            fraction=args.fraction,
            seed=args.seed,
            n_train=len(train),
            max_test=args.max_test,
            threads=args.threads,
            optimizer="torch.optim.AdamW(weight_decay=0), linear decay to 0, no warmup, no clipping",
            decoding="greedy, constrained by AugmentedGrammar, budget 2*source pieces+20",
        ),
        examples=examples,
        provenance=provenance(),
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = (
        Path(args.json)
        if args.json
        else RESULTS
        / (
            f"encoder_state_injection_{args.variant}_lr{args.lr:g}_e{args.epochs}_n{len(train)}_"
            f"{'train' if args.eval_train else 't'}{len(Xt)}.json"
        )
    )
    path.write_text(json.dumps(result, indent=1))
    print("wrote", path)


if __name__ == "__main__":
    main()
