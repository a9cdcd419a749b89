import pytest
import torch

from sklearn_fishdip.sparse import (
    MODULE_TYPES,
    ParameterIndex,
    ParameterMask,
    module_type,
    network_block,
)
from sklearn_fishdip.sparse._masks import budget_size, describe_selection, top_k_indices


def test_index_counts_tied_weights_once(t5):
    model, _ = t5
    index = ParameterIndex(model, new_parameter_names=["lm_head.weight"])
    assert "lm_head.weight" not in index.names
    assert index.aliases["lm_head.weight"] == "shared.weight"
    assert index.aliases["decoder.embed_tokens.weight"] == "shared.weight"
    assert index.new == {"shared.weight"}
    assert index.numel() == sum(p.numel() for p in model.parameters())


def test_index_rejects_unknown_new_names(t5):
    with pytest.raises(ValueError, match="Unknown new parameter names"):
        ParameterIndex(t5[0], new_parameter_names=["nope.weight"])


def test_top_k_is_exact_and_breaks_ties_by_position():
    scores = {"a": torch.ones(2, 3), "b": torch.tensor([5.0, 1.0, 1.0])}
    selected = top_k_indices(scores, 3)
    assert selected["b"].tolist() == [0]
    assert selected["a"].tolist() == [0, 1]
    assert selected["a"].dtype == torch.int32
    assert sum(len(v) for v in top_k_indices(scores, 9).values()) == 9


def test_budget_size_at_least_one():
    assert budget_size(0.01, 50) == 1
    assert budget_size(0.01, 1000) == 10
    assert budget_size(1.0, 7) == 7


@pytest.mark.parametrize(
    "name, kind",
    [
        ("encoder.block.0.layer.0.SelfAttention.q.weight", "attention"),
        ("decoder.block.0.layer.1.EncDecAttention.o.weight", "attention"),
        ("encoder.block.0.layer.1.DenseReluDense.wi.weight", "feed-forward"),
        ("encoder.block.0.layer.0.layer_norm.weight", "norms"),
        ("shared.weight", "embeddings"),
        ("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", "embeddings"),
        ("model.decoder.layers.0.self_attn_layer_norm.weight", "norms"),
        ("model.decoder.layers.0.encoder_attn.k_proj.weight", "attention"),
        ("model.encoder.layers.0.fc1.weight", "feed-forward"),
        ("encoder.encoder.layer.0.attention.output.dense.weight", "attention"),
        ("encoder.encoder.layer.0.output.dense.weight", "feed-forward"),
        ("encoder.encoder.layer.0.intermediate.dense.bias", "feed-forward"),
        ("encoder.embeddings.LayerNorm.weight", "norms"),
        ("decoder.cls.predictions.bias", "embeddings"),
        ("encoder.pooler.dense.weight", "other"),
    ],
)
def test_module_type(name, kind):
    assert module_type(name) == kind


@pytest.mark.parametrize(
    "name, block",
    [
        ("encoder.block.3.layer.0.SelfAttention.q.weight", "encoder.3"),
        ("decoder.block.0.layer.1.EncDecAttention.o.weight", "decoder.0"),
        ("encoder.final_layer_norm.weight", "encoder"),
        ("shared.weight", "shared"),
        ("lm_head.weight", "shared"),
        ("model.decoder.layers.11.fc1.weight", "decoder.11"),
        ("model.encoder.embed_positions.weight", "encoder"),
        ("encoder.encoder.layer.2.output.dense.weight", "encoder.2"),
        ("decoder.bert.encoder.layer.4.crossattention.self.key.bias", "decoder.4"),
        ("decoder.bert.embeddings.word_embeddings.weight", "decoder"),
        ("decoder.cls.predictions.bias", "decoder"),
    ],
)
def test_network_block(name, block):
    assert network_block(name) == block


def test_mask_counts_overlap_and_diagnostics(t5):
    model, _ = t5
    index = ParameterIndex(model)
    q = "encoder.block.0.layer.0.SelfAttention.q.weight"
    norm = "encoder.final_layer_norm.weight"
    first = ParameterMask(sparse={q: torch.tensor([0, 1, 2, 3], dtype=torch.int32)})
    second = ParameterMask(dense=[norm], sparse={q: torch.tensor([2, 3, 4, 5], dtype=torch.int32)})
    assert first.state(q) == "sparse" and first.state(norm) == "frozen"
    assert second.n_selected(index) == 4 + 16
    assert second.overlap(first, index) == pytest.approx(2 / 20)
    assert first.bool_mask(q, index.params[q]).sum() == 4
    record = describe_selection(index, second, first, step=3, seconds=0.5, samples=[1])
    assert record["step"] == 3 and record["samples"] == [1]
    assert record["n_selected"] == 20 and record["n_exempt"] == 0
    assert record["overlap"] == pytest.approx(0.1)
    assert record["fraction_by_type"]["norms"] == pytest.approx(1 / 7)  # 7 norms of 16
    assert set(record["fraction_by_type"]) <= set(MODULE_TYPES)
    by_block = record["fraction_by_block"]
    blocks = {network_block(n) for n in index.names}
    assert set(by_block) == blocks
    layer0 = [n for n in index.names if network_block(n) == "encoder.0"]
    assert by_block["encoder.0"] == pytest.approx(4 / index.numel(layer0))
    assert by_block["encoder"] == pytest.approx(
        16 / index.numel([n for n in index.names if network_block(n) == "encoder"])
    )
    assert all(v == 0 for b, v in by_block.items() if b not in ("encoder", "encoder.0"))
    assert describe_selection(index, first, None, step=0, seconds=0.0)["overlap"] is None


def test_exempt_parameters_are_outside_the_budget(t5):
    model, _ = t5
    index = ParameterIndex(model)
    norm = "encoder.final_layer_norm.weight"
    mask = ParameterMask(dense=[norm], budget_exempt=[norm])
    assert mask.n_selected(index) == 0
    assert mask.count(index) == 16


def test_kth_largest_is_exact_on_large_inputs():
    from sklearn_fishdip.sparse._masks import kth_largest

    generator = torch.Generator().manual_seed(0)
    for values in (
        torch.randn(3_000_000, generator=generator).square(),
        # Heavy ties and a block structure, as concatenated per-parameter scores have.
        torch.cat([torch.zeros(2_000_000), torch.rand(500_000, generator=generator)]),
    ):
        for k in (1, 30_000, 250_000):
            expected = torch.topk(values, k).values.min()
            assert kth_largest(values, k) == expected
