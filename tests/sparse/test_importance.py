import pytest
import torch

from sklearn_fishdip.sparse import per_sample_losses, squared_gradients, squared_gradients_loop
from sklearn_fishdip.sparse._seq2seq import pad_examples, seq2seq_logits, token_losses
from sklearn_fishdip.utils._testing import make_tiny_bart, make_tiny_bert2bert, make_tiny_t5

from .conftest import tokenize


def _assert_close(batched, loop):
    assert set(batched) == set(loop)
    scale = max(float(v.abs().max()) for v in loop.values())
    assert scale > 0
    for name, expected in loop.items():
        diff = float((batched[name] - expected).abs().max())
        # 1e-5 relative to the parameter's own scale; key biases have zero
        # true gradient, so their round-off is judged against the model's.
        assert diff <= 1e-5 * float(expected.abs().max()) + 1e-9 * scale, name
    assert max(float((batched[n] - loop[n]).abs().max()) for n in loop) / scale <= 1e-5


@pytest.mark.parametrize("builder", [make_tiny_t5, make_tiny_bert2bert], ids=["t5", "bert2bert"])
def test_batched_equals_loop(builder):
    model, tokenizer, *_ = builder()
    examples = tokenize(tokenizer, 5)
    batched = squared_gradients(model, examples, batch_size=3)
    loop = squared_gradients_loop(model, examples)
    assert batched.fallback == ()  # every parameter has a batched rule
    assert batched.n_samples == 5
    _assert_close(batched, loop)


def test_batched_equals_loop_bart():
    _, tokenizer = make_tiny_t5()
    model = make_tiny_bart(tokenizer)
    examples = tokenize(tokenizer, 4)
    batched = squared_gradients(model, examples, batch_size=4)
    assert batched.fallback == ()
    _assert_close(batched, squared_gradients_loop(model, examples))


def test_tied_embedding_counted_once(t5):
    model, tokenizer = t5
    scores = squared_gradients(model, tokenize(tokenizer, 2))
    assert "shared.weight" in scores and "lm_head.weight" not in scores
    assert sum(s.numel() for s in scores.values()) == sum(p.numel() for p in model.parameters())


def test_batched_is_not_square_of_batch_gradient(t5):
    model, tokenizer = t5
    examples = tokenize(tokenizer, 4)
    scores = squared_gradients(model, examples, batch_size=4)
    model.eval()
    batch = pad_examples(examples, 0)
    losses, _ = token_losses(seq2seq_logits(model, batch), batch["labels"])
    grad = torch.autograd.grad(losses.sum(), model.shared.weight)[0]
    assert not torch.allclose(scores["shared.weight"], grad.square(), rtol=1e-3)


def test_uncovered_parameter_falls_back_exactly(t5):
    model, tokenizer = t5
    # A parameter used by a plain multiplication has no batched rule.
    model.register_parameter("extra_scale", torch.nn.Parameter(torch.full((16,), 1.5)))
    model.encoder.final_layer_norm.register_forward_hook(lambda m, i, out: out * model.extra_scale)
    examples = tokenize(tokenizer, 4)
    batched = squared_gradients(model, examples, batch_size=4)
    assert batched.fallback == ("extra_scale",)
    _assert_close(batched, squared_gradients_loop(model, examples))


def test_mode_and_grads_restored(t5):
    model, tokenizer = t5
    model.train()
    squared_gradients(model, tokenize(tokenizer, 3))
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    model.eval()
    per_sample_losses(model, tokenize(tokenizer, 3))
    assert not model.training


def test_per_sample_losses_match_single_samples(bert2bert):
    model, tokenizer, _ = bert2bert
    examples = tokenize(tokenizer, 5)
    losses = per_sample_losses(model, examples, batch_size=2)
    assert losses.shape == (5,) and not losses.requires_grad
    model.eval()
    with torch.no_grad():
        for i, example in enumerate(examples):
            batch = pad_examples([example], 0)
            single = token_losses(seq2seq_logits(model, batch), batch["labels"])[0]
            assert float(single[0]) == pytest.approx(float(losses[i]), rel=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (CI has none)")
def test_batched_equals_loop_on_cuda():
    model, tokenizer = make_tiny_t5()
    model.to("cuda")
    examples = tokenize(tokenizer, 5)
    batched = squared_gradients(model, examples, batch_size=3)
    assert all(v.device.type == "cuda" for v in batched.values())
    _assert_close(batched, squared_gradients_loop(model, examples))


def _tiny_prefix_lm():
    from transformers import BertForMaskedLM

    from sklearn_fishdip.utils._testing import make_tiny_bert

    encoder, tokenizer = make_tiny_bert()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = BertForMaskedLM(encoder.config)
    return model, tokenizer


def _family_examples(model, tokenizer, adapter):
    from .conftest import SOURCES, TARGETS

    sources = adapter.encode_sources(model, tokenizer, SOURCES)
    targets = adapter.encode_targets(model, tokenizer, TARGETS)
    return [adapter.build_example(s, t) for s, t in zip(sources, targets)]


@pytest.mark.parametrize("family", ["gpt2", "llama", "prefix-lm"])
def test_batched_equals_loop_for_decoder_only_and_prefix_lms(family):
    from sklearn_fishdip.models import adapter_for_model
    from sklearn_fishdip.utils._testing import make_tiny_gpt2, make_tiny_llama

    builder = {"gpt2": make_tiny_gpt2, "llama": make_tiny_llama, "prefix-lm": _tiny_prefix_lm}
    model, tokenizer = builder[family]()
    adapter = adapter_for_model(model)
    examples = _family_examples(model, tokenizer, adapter)
    batched = squared_gradients(model, examples, batch_size=3, adapter=adapter)
    # GPT-2's Conv1D (addmm) and Llama's RMSNorm module have batched rules.
    assert batched.fallback == ()
    _assert_close(batched, squared_gradients_loop(model, examples, adapter=adapter))
    losses = per_sample_losses(model, examples, batch_size=2, adapter=adapter)
    assert losses.shape == (5,) and bool(torch.isfinite(losses).all())
