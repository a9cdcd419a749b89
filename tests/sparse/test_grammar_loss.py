"""The grammar-restricted training loss (``training_loss="grammar"``): engine and estimators."""

import pytest
import torch

from sklearn_fishdip import FishDipNER, FishDipRelationExtractor
from sklearn_fishdip.generation import AugmentedGrammar
from sklearn_fishdip.models import adapter_for_model
from sklearn_fishdip.sparse import squared_gradients, squared_gradients_loop
from sklearn_fishdip.sparse._seq2seq import pad_examples, token_losses
from sklearn_fishdip.utils._testing import make_tiny_gpt2, make_tiny_t5

from ..estimator_fixtures import NER_X, NER_Y, RE_X, RE_Y, fast_params


def _logits(shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, requires_grad=True)


def test_restricted_positions_normalize_over_their_ids_only():
    logits = _logits((1, 3, 6))
    labels = torch.tensor([[2, 4, 1]])
    allowed_ids = torch.tensor([[[2, 5, 0], [4, 0, 0], [0, 0, 0]]])
    allowed_mask = torch.tensor(
        [[[True, True, False], [True, False, False], [False, False, False]]]
    )
    per_sample, loss = token_losses(logits, labels, allowed_ids, allowed_mask)
    log_p = torch.log_softmax(logits[0, 0, [2, 5]], dim=0)[0]
    full = torch.nn.functional.cross_entropy(logits[0, 2][None], labels[0, 2][None])
    # Position 0: two choices; position 1: one forced id, free; position 2: the whole vocabulary.
    expected = (-log_p + 0.0 + full) / 3
    assert float(per_sample[0].detach()) == pytest.approx(float(expected.detach()), rel=1e-6)
    assert float(loss.detach()) == pytest.approx(float(expected.detach()), rel=1e-6)
    loss.backward()
    assert bool(torch.isfinite(logits.grad).all())
    # A forced position sends no gradient at all.
    assert torch.count_nonzero(logits.grad[0, 1]) == 0


def test_without_allowed_ids_the_loss_is_unchanged():
    logits = _logits((2, 4, 7), seed=1)
    labels = torch.tensor([[1, 2, 3, -100], [4, 5, -100, -100]])
    plain = token_losses(logits, labels)
    none_allowed = token_losses(
        logits,
        labels,
        torch.zeros((2, 4, 2), dtype=torch.long),
        torch.zeros((2, 4, 2), dtype=torch.bool),
    )
    assert torch.equal(plain[0], none_allowed[0]) and torch.equal(plain[1], none_allowed[1])


def test_choices_stop_where_the_target_leaves_the_grammar():
    _, tokenizer = make_tiny_t5()
    grammar = AugmentedGrammar(tokenizer, ["person", "location"])
    good = tokenizer("[ John | person ] visited Paris")["input_ids"]
    choices = grammar.choices(["John", "visited", "Paris"], good)
    assert all(choices) and all(token in options for token, options in zip(good, choices))
    # "Paris" before "visited" is off the grammar: no restriction from there on.
    bad = tokenizer("John Paris visited")["input_ids"]
    choices = grammar.choices(["John", "visited", "Paris"], bad)
    assert choices[0] is not None and choices[1:] == [None] * (len(bad) - 1)


def test_allowed_ids_follow_the_target_positions_of_a_causal_batch():
    model, tokenizer = make_tiny_gpt2()
    adapter = adapter_for_model(model)
    grammar = AugmentedGrammar(tokenizer, ["person", "location"])
    tokens = ["John", "visited", "Paris"]
    sources = adapter.encode_sources(model, tokenizer, [" ".join(tokens), "Paris"])
    targets = adapter.encode_targets(
        model, tokenizer, ["[ John | person ] visited Paris", "[ Paris | location ]"]
    )
    examples = [adapter.build_example(s, t) for s, t in zip(sources, targets)]
    for example, words, target in zip(examples, [tokens, ["Paris"]], targets):
        # A causal LM's target follows its prompt directly (no lead ids).
        example["allowed"] = grammar.choices(words, target, lead_ids=())
        assert all(example["allowed"])
    batch = pad_examples(examples, tokenizer.pad_token_id or 0, adapter)
    for row, target in enumerate(targets):
        positions = (batch["labels"][row] != -100).nonzero().flatten()
        # The prompt's positions carry no restriction; each target position its own choices.
        assert not batch["allowed_mask"][row][batch["labels"][row] == -100].any()
        for position, token in zip(positions.tolist(), target):
            ids = batch["allowed_ids"][row, position][batch["allowed_mask"][row, position]]
            assert token in ids.tolist()


def test_batched_importance_equals_the_loop_under_the_grammar_loss():
    model, tokenizer = make_tiny_t5(seed=0, d_model=16, dropout_rate=0.0)
    grammar = AugmentedGrammar(tokenizer, ["person", "location", "organization"])
    adapter = adapter_for_model(model)
    texts = [" ".join(x) for x in NER_X]
    from sklearn_fishdip.augmented import encode_ner

    targets = [encode_ner(x, y) for x, y in zip(NER_X, NER_Y)]
    sources = adapter.encode_sources(model, tokenizer, texts)
    labels = adapter.encode_targets(model, tokenizer, targets)
    examples = []
    for tokens, source, target in zip(NER_X, sources, labels):
        example = adapter.build_example(source, target)
        example["allowed"] = grammar.choices(tokens, target)
        examples.append(example)
    assert all(all(options) for options in (e["allowed"] for e in examples))
    batched = squared_gradients(model, examples, batch_size=3, adapter=adapter)
    loop = squared_gradients_loop(model, examples, adapter=adapter)
    for name, scores in loop.items():
        scale = float(scores.abs().max()) or 1.0
        assert float((batched[name] - scores).abs().max()) / scale < 1e-5, name


@pytest.mark.parametrize(
    "Estimator,X,y", [(FishDipNER, NER_X, NER_Y), (FishDipRelationExtractor, RE_X, RE_Y)]
)
def test_estimators_train_on_the_grammar_loss(Estimator, X, y, tiny_t5_path, tmp_path):
    full = Estimator(**fast_params(tiny_t5_path, max_epochs=3)).fit(X, y)
    grammar = Estimator(**fast_params(tiny_t5_path, max_epochs=3, training_loss="grammar"))
    grammar.fit(X, y)
    # Forced copies cost nothing: the loss only counts the decisions, far below the full one.
    assert grammar.history_[0]["train_loss"] < full.history_[0]["train_loss"] / 2
    assert grammar.decode_errors_.wrong_reconstruction == 0
    predictions = grammar.predict(X)
    assert grammar.decode_errors_.wrong_reconstruction == 0
    grammar.save(tmp_path / "saved")
    loaded = Estimator.load(tmp_path / "saved")
    assert loaded.training_loss == "grammar" and loaded.predict(X) == predictions


def test_unknown_training_loss_is_refused(tiny_t5_path):
    with pytest.raises(ValueError, match="training_loss must be one of"):
        FishDipNER(**fast_params(tiny_t5_path, training_loss="tokens")).fit(NER_X, NER_Y)
