"""Tests for sklearn_fishdip.generation.BeliefGrammar: the grammar of belief states."""

import pytest
import torch
from transformers import BertForMaskedLM

from sklearn_fishdip import FishDipDialogueStateTracker
from sklearn_fishdip.generation import AugmentedGrammar, BeliefGrammar, generate_augmented
from sklearn_fishdip.tasks.dialogue_state import dialogue_source
from sklearn_fishdip.utils._testing import (
    make_tiny_bart,
    make_tiny_bert,
    make_tiny_bpe_tokenizer,
    make_tiny_gpt2,
    make_tiny_t5,
    make_tiny_tokenizer,
)

from .test_grammar import byte_level_tokenizer

HISTORIES = [
    [("user", "i need a cheap hotel in the north please")],
    [("user", "a taxi to the station"), ("system", "when ?"), ("user", "leave at 10:15")],
    [("user", "hello")],
]
STATES = [
    {("hotel", "pricerange"): "cheap", ("hotel", "area"): "north"},
    {("taxi", "destination"): "the station", ("taxi", "leaveat"): "10:15"},
    {},
]


def _fitted_vocabulary(states=STATES):
    """A tracker holding the vocabulary fit would give it (no model)."""
    estimator = FishDipDialogueStateTracker()
    for name, value in estimator.codec.fit_vocabulary(estimator, states).items():
        setattr(estimator, name, value)
    return estimator


def _words(history):
    return dialogue_source(history).split()


def _ids(tokenizer, grammar, text):
    return list(tokenizer(text, add_special_tokens=False)["input_ids"]) + [grammar.eos_token_id]


TOKENIZERS = {"word-level": make_tiny_tokenizer, "byte-level": make_tiny_bpe_tokenizer}


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_every_target_the_codec_writes_is_accepted(name):
    tokenizer = TOKENIZERS[name]()
    estimator = _fitted_vocabulary()
    grammar = estimator._belief_grammar(tokenizer)
    assert isinstance(grammar, AugmentedGrammar)  # generate_augmented takes it
    for history, state in zip(HISTORIES, STATES):
        text = estimator.codec.encode(estimator, None, state)
        ids = _ids(tokenizer, grammar, text)
        choices = grammar.choices(_words(history), ids, lead_ids=())
        assert None not in choices, text
        assert all(token in allowed for token, allowed in zip(ids, choices))
        assert choices[-1] == (grammar.eos_token_id,)
        rendered = grammar.render(ids, _words(history), prefix_length=0)
        assert estimator.codec.decode(estimator, rendered)[0] == state


def _accepted(tokenizer, grammar, history, text):
    ids = _ids(tokenizer, grammar, text)
    return None not in grammar.choices(_words(history), ids, lead_ids=())


NO = " , ".join(f"hotel {slot} not given" for slot in ["book day", "book people", "book stay"])
REST = " , ".join(
    f"hotel {slot} not given" for slot in ["internet", "name", "parking", "price range"]
)
TAIL = "hotel stars not given , hotel type not given"


@pytest.mark.parametrize(
    "text, ok",
    [
        (f"[belief] hotel area north , {NO} , {REST} , {TAIL} [belief]", True),
        ("[belief] [belief]", True),
        # a span of the history, and a value seen in training for another slot
        (f"[belief] hotel area the north , {NO} , {REST} , {TAIL} [belief]", True),
        (f"[belief] hotel area cheap , {NO} , {REST} , {TAIL} [belief]", True),
        # an unknown slot, a skipped slot, slots out of order, an unknown domain
        (f"[belief] hotel colour north , {NO} , {REST} , {TAIL} [belief]", False),
        (f"[belief] hotel area north , {REST} , {TAIL} [belief]", False),
        (f"[belief] hotel area north , {NO} , {REST} , {TAIL.split(' , ')[1]} [belief]", False),
        ("[belief] spa area north [belief]", False),
        # a value neither seen, "not given", nor copied from the history
        (f"[belief] hotel area south , {NO} , {REST} , {TAIL} [belief]", False),
        # a copy longer than max_copy_words, or crossing a turn's end
        (f"[belief] hotel area i need a cheap hotel in the , {NO} [belief]", False),
        # an unfinished domain, or text after the state
        ("[belief] hotel area north [belief]", False),
        ("[belief] [belief] hotel", False),
    ],
)
def test_malformed_states_are_rejected(text, ok):
    tokenizer = make_tiny_bpe_tokenizer()
    grammar = _fitted_vocabulary()._belief_grammar(tokenizer)
    assert _accepted(tokenizer, grammar, HISTORIES[0], text) is ok


@pytest.mark.parametrize("max_copy_words, ok", [(1, False), (2, True), (6, True)])
def test_the_tracker_s_max_copy_words_bounds_copied_values(max_copy_words, ok):
    tokenizer = make_tiny_bpe_tokenizer()
    estimator = _fitted_vocabulary().set_params(max_copy_words=max_copy_words)
    grammar = estimator._belief_grammar(tokenizer)
    assert grammar.max_copy_words == max_copy_words
    # "the north" is two history words, not a value seen in training
    text = f"[belief] hotel area the north , {NO} , {REST} , {TAIL} [belief]"
    assert _accepted(tokenizer, grammar, HISTORIES[0], text) is ok


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "6"])
def test_a_bad_max_copy_words_is_refused_at_fit(bad):
    estimator = FishDipDialogueStateTracker(max_copy_words=bad)
    with pytest.raises(ValueError, match=f"max_copy_words must be a positive integer, got {bad!r}"):
        estimator.fit([[("user", "hi")]], [{}])


def test_domains_come_in_order_and_once():
    tokenizer = make_tiny_bpe_tokenizer()
    estimator = _fitted_vocabulary()
    grammar = estimator._belief_grammar(tokenizer)
    hotel = estimator.codec.encode(estimator, None, STATES[0])
    taxi = estimator.codec.encode(estimator, None, STATES[1])
    taxi_body = taxi[len("[belief] ") : -len(" [belief]")]
    hotel_body = hotel[len("[belief] ") : -len(" [belief]")]
    history = [*HISTORIES[0], *HISTORIES[1]]
    assert _accepted(tokenizer, grammar, history, f"[belief] {hotel_body} , {taxi_body} [belief]")
    assert not _accepted(
        tokenizer, grammar, history, f"[belief] {taxi_body} , {hotel_body} [belief]"
    )
    assert not _accepted(
        tokenizer, grammar, history, f"[belief] {hotel_body} , {hotel_body} [belief]"
    )


def test_speaker_markers_are_never_copied():
    tokenizer = make_tiny_bpe_tokenizer()
    grammar = _fitted_vocabulary()._belief_grammar(tokenizer)
    history = HISTORIES[1]
    ok = "[belief] taxi arrive by when , taxi departure not given"
    bad = "[belief] taxi arrive by when ? ; , taxi departure not given"
    for text, accepted in ((ok, True), (bad, False)):
        ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        assert (None not in grammar.choices(_words(history), ids, lead_ids=())) is accepted


def test_bad_parameters_are_refused():
    tokenizer = make_tiny_tokenizer()
    with pytest.raises(ValueError, match="at least one slot"):
        BeliefGrammar(tokenizer, {"hotel": []})
    with pytest.raises(ValueError, match="max_copy_words"):
        BeliefGrammar(tokenizer, {"hotel": ["area"]}, max_copy_words=0)


# --------------------------------------------------------------------------- #
# Untrained models always write a state that parses
# --------------------------------------------------------------------------- #


def _gpt2():
    model, tokenizer = make_tiny_gpt2(n_positions=512)
    tokenizer.pad_token = tokenizer.eos_token  # as load_model sets it
    return model, tokenizer


def _prefix_lm():
    encoder, tokenizer = make_tiny_bert(max_position_embeddings=512)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        model = BertForMaskedLM(encoder.config)
    model.config.eos_token_id = tokenizer.eos_token_id
    return model, tokenizer


def _bart():
    tokenizer = byte_level_tokenizer()
    model = make_tiny_bart(
        tokenizer, max_position_embeddings=512, forced_bos_token_id=tokenizer.bos_token_id
    )
    model.generation_config.forced_bos_token_id = tokenizer.bos_token_id
    return model, tokenizer


BUILDERS = {"t5": make_tiny_t5, "bart": _bart, "gpt2": _gpt2, "prefix-lm": _prefix_lm}


@pytest.mark.parametrize("family", sorted(BUILDERS))
@pytest.mark.parametrize("num_beams", [1, 2])
def test_random_models_write_states_that_parse(family, num_beams):
    model, tokenizer = BUILDERS[family]()[:2]
    estimator = _fitted_vocabulary()
    grammar = estimator._belief_grammar(tokenizer)
    sources = [_words(history) for history in HISTORIES]
    texts = generate_augmented(
        model,
        tokenizer,
        sources,
        source_texts=[" ".join(words) for words in sources],
        grammar=grammar,
        num_beams=num_beams,
        max_new_tokens=60,
    )
    for text in texts:
        assert text.startswith("[belief]") and text.endswith("[belief]"), text
        state, errors = estimator.codec.decode(estimator, text)
        assert errors.format_error == 0 and errors.label_error == 0, text
        assert all(slot in estimator.domain_slots_[domain] for domain, slot in state)
