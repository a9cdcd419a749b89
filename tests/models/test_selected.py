"""Training's loss from the selected logits (SelectedLogits) equals it from the full logits.

The prefix and causal LMs run their LM head only on the labelled positions,
over the ids the batch needs; the loss, the per-sample losses and every
parameter's gradient must be those of the full logits.
"""

import pytest
import torch
from transformers import BertForMaskedLM

from sklearn_fishdip.models import PrefixLMAdapter, SelectedLogits, _selected, adapter_for_model
from sklearn_fishdip.sparse._seq2seq import pad_examples, selected_token_losses, token_losses
from sklearn_fishdip.utils._testing import make_tiny_bert, make_tiny_gpt2, make_tiny_llama

from ..estimator_fixtures import global_rng_untouched  # noqa: F401  (used by pytestmark)

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

SOURCES = ["John joined Google in Paris", "Mary met Anna", "they said it"]
TARGETS = ["[ John | person ] joined", "[ Mary | person ] met [ Anna ]", "it"]


def _model(family):
    if family == "prefix-lm":
        encoder, tokenizer = make_tiny_bert(hidden_size=16, num_layers=2)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(5)
            model = BertForMaskedLM(encoder.config)
        model.config.eos_token_id = tokenizer.eos_token_id
        adapter = PrefixLMAdapter.for_model(model, tokenizer)
    else:
        model, tokenizer = (make_tiny_gpt2 if family == "gpt2" else make_tiny_llama)()[:2]
        adapter = adapter_for_model(model, tokenizer)
    model.train()  # dropout off below: the two passes must see the same network
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    return model, tokenizer, adapter


def _batch(model, tokenizer, adapter, restriction):
    sources = adapter.encode_sources(model, tokenizer, SOURCES)
    targets = adapter.encode_targets(model, tokenizer, TARGETS)
    examples = []
    for r, (source, target) in enumerate(zip(sources, targets)):
        example = adapter.build_example(source, target)
        if restriction != "none":
            # Each id with two other choices; "mixed": every third position
            # unrestricted, and one forced (a single choice, which costs 0).
            allowed = [(token, (token + 1) % 50, (token + 7) % 50) for token in target]
            if restriction == "mixed":
                allowed = [None if k % 3 == r % 3 else ids for k, ids in enumerate(allowed)]
                allowed[-1] = (target[-1],)
            example["allowed"] = allowed
        examples.append(example)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    return pad_examples(examples, pad, adapter)


def _loss_and_grads(model, compute):
    model.zero_grad(set_to_none=True)
    per_sample, loss = compute()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return per_sample.detach(), loss.detach(), grads


@pytest.mark.parametrize("family", ["prefix-lm", "gpt2", "llama"])
@pytest.mark.parametrize("restriction", ["all", "mixed", "none"])
@pytest.mark.parametrize("normalizer", [None, 40])
def test_selected_logits_give_the_full_loss_and_gradients(family, restriction, normalizer):
    model, tokenizer, adapter = _model(family)
    batch = _batch(model, tokenizer, adapter, restriction)
    allowed = (batch.get("allowed_ids"), batch.get("allowed_mask"))
    full = _loss_and_grads(
        model,
        lambda: token_losses(
            adapter.logits(model, batch), batch["labels"], *allowed, normalizer=normalizer
        ),
    )
    selected = adapter.selected_logits(model, batch)
    assert isinstance(selected, SelectedLogits)
    # Only the labelled positions were scored.
    assert selected.gold.shape[0] == int((batch["labels"] != -100).sum())
    fast = _loss_and_grads(
        model,
        lambda: selected_token_losses(adapter.selected_logits(model, batch), normalizer=normalizer),
    )
    torch.testing.assert_close(fast[0], full[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fast[1], full[1], rtol=1e-5, atol=1e-6)
    assert fast[2].keys() == full[2].keys()
    for name, grad in full[2].items():
        torch.testing.assert_close(fast[2][name], grad, rtol=1e-4, atol=1e-6, msg=name)
    if restriction == "all":
        assert not bool(selected.full_logsumexp.any())  # no row over the vocabulary


def test_a_head_that_rescales_its_logits_is_not_split(monkeypatch):
    model, tokenizer, adapter = _model("gpt2")
    batch = _batch(model, tokenizer, adapter, "all")
    monkeypatch.setattr(model.config, "final_logit_softcapping", 30.0, raising=False)
    assert _selected.split_head(model) is None
    assert adapter.selected_logits(model, batch) is None


def test_head_parts_of_linear_and_bert_heads_rebuild_the_logits():
    model, _, _ = _model("prefix-lm")
    transform, weight, bias = _selected.head_parts(model.cls)
    hidden = torch.randn(4, model.config.hidden_size, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(transform(hidden) @ weight.T + bias, model.cls(hidden))
    gpt2, _, _ = _model("gpt2")
    transform, weight, bias = _selected.head_parts(gpt2.lm_head)
    torch.testing.assert_close(transform(hidden) @ weight.T + bias, gpt2.lm_head(hidden))
    assert _selected.head_parts(torch.nn.Identity()) is None
