"""Decoder-only causal language models (GPT-2, Llama, Qwen2, SmolLM) as text-to-text models.

The prompt is the escaped source (as the tokenizer encodes it, BOS included
where it adds one) followed by a fixed separator; the target follows and ends
with EOS. The loss covers the target only: every prompt position is labelled
-100. Training batches are right-padded; generation left-pads the prompts so
that every row continues from the same column, which is then the grammar's
``prefix_length``.
"""

from __future__ import annotations

from ._adapter import IGNORE_INDEX, ModelAdapter, _end_with, _positions

__all__ = ["CausalLMAdapter", "PROMPT_SEPARATOR"]

#: Text between the source and the target of a causal LM. Tokenizers that
#: cannot represent it (a word-level vocabulary drops the newline) get the EOS
#: id instead, so the end of the source is always marked.
PROMPT_SEPARATOR = "\n"


def _eos_id(model, tokenizer=None):
    eos = tokenizer.eos_token_id if tokenizer is not None else None
    if eos is None:
        eos = getattr(model.config, "eos_token_id", None)
    if isinstance(eos, list | tuple):
        eos = eos[0] if eos else None
    if eos is None:
        raise ValueError(
            "A causal LM needs an end-of-sequence token to end its targets; neither the "
            "tokenizer nor the model config defines one."
        )
    return int(eos)


class CausalLMAdapter(ModelAdapter):
    """Decoder-only language models that continue their prompt.

    Source and target share the model's positions: a window's source may take
    a third of them, so its target (a copy of the source with markup) has the
    rest.
    """

    kind = "causal"
    shares_positions = True

    def check_model(self, model):
        import torch

        config = getattr(model, "config", None)
        if not (
            isinstance(model, torch.nn.Module)
            and config is not None
            and not getattr(config, "is_encoder_decoder", False)
            and callable(getattr(model, "get_output_embeddings", None))
            and model.get_output_embeddings() is not None
        ):
            raise ValueError(
                "The model must be a Hugging Face decoder-only language model with an LM head "
                f"(AutoModelForCausalLM: GPT-2, Llama, Qwen2, ...); got {type(model).__name__}."
            )

    def position_limit(self, model):
        return _positions(model.config, "n_positions", "max_position_embeddings")

    def source_budget(self, model, max_source_length):
        limit = self.position_limit(model)
        if limit is None:
            return max_source_length
        return max(1, min(max_source_length, limit // 3))

    def target_budget(self, model, source_length):
        limit = self.position_limit(model)
        return None if limit is None else max(1, limit - source_length)

    # -- examples and batches -------------------------------------------

    def separator_ids(self, model, tokenizer):
        """Ids of :data:`PROMPT_SEPARATOR`, or ``[eos]`` where it has none."""
        ids = list(tokenizer(PROMPT_SEPARATOR, add_special_tokens=False)["input_ids"])
        unk = getattr(tokenizer, "unk_token_id", None)
        if not ids or (unk is not None and unk in ids and unk != tokenizer.eos_token_id):
            ids = [_eos_id(model, tokenizer)]
        return ids

    def encode_sources(self, model, tokenizer, texts):
        separator = self.separator_ids(model, tokenizer)
        encoded = tokenizer(list(texts), add_special_tokens=True)["input_ids"]
        return [list(ids) + separator for ids in encoded]

    def encode_targets(self, model, tokenizer, texts, max_length=None):
        # No special ids before the text: it continues the prompt.
        eos = _eos_id(model, tokenizer)
        encoded = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [_end_with(list(ids), eos, max_length) for ids in encoded]

    def collate(self, examples, pad_token_id):
        """Prompt and target in one right-padded row, labels on the target only.

        ``labels[i, t]`` is the id that position ``t`` predicts (the next one)
        where that id belongs to the target, else -100, so the logits of every
        position align with the labels without shifting.
        """
        import torch

        n = len(examples)
        width = max(len(ex["input_ids"]) + len(ex["labels"]) for ex in examples)
        input_ids = torch.full((n, width), pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((n, width), dtype=torch.long)
        labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
        for i, ex in enumerate(examples):
            prompt, target = list(ex["input_ids"]), list(ex["labels"])
            row = torch.as_tensor(prompt + target, dtype=torch.long)
            input_ids[i, : len(row)] = row
            attention_mask[i, : len(row)] = 1
            labels[i, len(prompt) - 1 : len(row) - 1] = torch.as_tensor(target, dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}

    def logits(self, model, batch):
        out = model(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False
        )
        return out.logits

    def selected_logits(self, model, batch):
        """The head on the labelled positions only, over the ids the loss needs (or None)."""
        from ._selected import selected_from_stack

        inputs = {
            "input_ids": batch["input_ids"],
            "attention_mask": batch["attention_mask"],
            "use_cache": False,
        }
        return selected_from_stack(model, inputs, batch, IGNORE_INDEX)

    def shared_source_scores(self, model, prompts, candidates, choices, **options):
        """Each prompt (and the ids its candidates share) run once, from a key/value cache.

        See :func:`shared_source_scores` in :mod:`._shared_source`; None
        when the model does not fill a cache.
        """
        from ._shared_source import shared_source_scores

        return shared_source_scores(
            self,
            model,
            prompts,
            candidates,
            choices,
            **options,
        )

    # -- generation -----------------------------------------------------

    def grammar_lead_ids(self, model, grammar):
        """None: the target's ids follow the source directly, as generation continues it."""
        return ()

    def check_grammar(self, model, grammar):
        eos = model.generation_config.eos_token_id
        if eos is None:
            return  # generate() gets the adapter's EOS
        super().check_grammar(model, grammar)

    def generate(
        self,
        model,
        tokenizer,
        sources,
        texts,
        *,
        grammar=None,
        num_beams=1,
        budgets,
        max_source_length,
        device,
    ):
        import torch

        eos = _eos_id(model, tokenizer)
        separator = self.separator_ids(model, tokenizer)
        prompts = self.encode_sources(model, tokenizer, texts)
        keep = max(len(separator), max_source_length)
        # An over-long prompt keeps its separator, so the model still starts a target.
        prompts = [p if len(p) <= keep else p[: keep - len(separator)] + separator for p in prompts]
        width = max(map(len, prompts))
        pad = model.config.pad_token_id
        if pad is None:
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
        input_ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, prompt in enumerate(prompts):
            # Left padding: every row's continuation starts at column `width`.
            input_ids[i, width - len(prompt) :] = torch.as_tensor(prompt, dtype=torch.long)
            attention_mask[i, width - len(prompt) :] = 1
        limit = self.target_budget(model, width)
        if limit is not None:
            budgets = [min(budget, limit) for budget in budgets]
        config = self.generation_config(model, num_beams)
        config.pad_token_id = pad
        if config.eos_token_id is None:
            config.eos_token_id = eos
        config.bos_token_id = None
        config.max_new_tokens = max(budgets)
        config.max_length = None
        kwargs = {}
        allowed = None
        if grammar is not None:
            config.forced_eos_token_id = None
            allowed = grammar.allowed_tokens_fn(
                sources, prefix_length=width, lead_ids=(), max_new_tokens=budgets
            )
            kwargs["prefix_allowed_tokens_fn"] = allowed
        generated = model.generate(
            input_ids=input_ids.to(device),
            attention_mask=attention_mask.to(device),
            generation_config=config,
            **kwargs,
        )
        rows = [row[: width + budget] for row, budget in zip(generated.tolist(), budgets)]
        if allowed is not None:
            return [allowed.render(i, row) for i, row in enumerate(rows)]
        return tokenizer.batch_decode(
            [row[width:] for row in rows],
            skip_special_tokens=True,
            clean_up_tokenization_spaces=False,
        )
