"""One encoder-only stack as a text-to-text model: the prefix LM (UniLM's seq2seq mask).

A row is ``[CLS] source [SEP] target [SEP]`` (as the tokenizer writes a
source, then the target's ids), with token type 0 on the source and 1 on the
target. Attention is bidirectional within the source and causal within the
target: a source position sees the whole source and nothing of the target; a
target position sees the whole source, the earlier target and itself. The
output layer is the masked-LM head tied to the word embeddings, read as a
next-token predictor: the source's last position predicts the first target id,
each target position the next one.

Target ids take the position ids of the source pieces they copy (see
:class:`TargetAligner`) when the adapter knows the tokenizer's markup ids, as
every adapter the library builds does. Every weight of the stack is
pretrained; only the LM head's transform may be new (sentence-transformers
checkpoints have none). Generation is a loop of
full forwards (no key/value cache), greedy or beam search, in
:mod:`._prefix_search`.
"""

from __future__ import annotations

from ._adapter import IGNORE_INDEX, ModelAdapter, _end_with, _positions
from ._alignment import TargetAligner
from ._kinds import WARM_START_MODEL_TYPES
from ._prefix_mask import attention_mask_for, prefix_attention_mask

__all__ = ["PrefixLMAdapter"]

# RoBERTa-style embeddings number positions from padding_idx + 1.
_OFFSET_POSITION_TYPES = frozenset(
    {
        "camembert",
        "data2vec-text",
        "roberta",
        "roberta-prelayernorm",
        "xlm-roberta",
        "xlm-roberta-xl",
        "xmod",
    }
)


def _start_and_end(tokenizer):
    start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    if end is None:
        raise ValueError(
            "A prefix LM needs a SEP (or EOS) token to end its targets; the tokenizer has neither."
        )
    return start, end


class PrefixLMAdapter(ModelAdapter):
    """A BERT-like masked LM over ``source + target`` with the prefix-LM mask.

    Parameters
    ----------
    token_types : bool, default=True
        Give target ids token type 1. Models with a single token type
        (RoBERTa) use 0 everywhere.
    position_offset : int, default=0
        Positions the embeddings reserve before the first id (RoBERTa's
        ``padding_idx + 1``).
    aligner : TargetAligner or None, default=None
        Given, each target id gets the position of the source piece it
        copies (:meth:`TargetAligner.positions`); None numbers the target
        after the source. Training and generation must use the same: the
        library's adapters always have one.
    """

    kind = "prefix-lm"
    shares_positions = True

    def __init__(self, token_types=True, position_offset=0, aligner=None):
        self.token_types = bool(token_types)
        self.position_offset = int(position_offset)
        if aligner is not None and not isinstance(aligner, TargetAligner):
            raise TypeError(
                f"aligner must be a TargetAligner or None, got {type(aligner).__name__}"
            )
        self.aligner = aligner

    def __repr__(self):
        return (
            f"{type(self).__name__}(token_types={self.token_types}, "
            f"position_offset={self.position_offset}, aligner={self.aligner!r})"
        )

    @classmethod
    def for_model(cls, model, tokenizer=None):
        """The adapter for ``model``, reading its token types and positions.

        With ``tokenizer``, target positions are aligned to the source.
        """
        config = model.config
        offset = 0
        if config.model_type in _OFFSET_POSITION_TYPES and config.pad_token_id is not None:
            offset = int(config.pad_token_id) + 1
        types = getattr(config, "type_vocab_size", 1) or 1
        aligner = None if tokenizer is None else TargetAligner.from_tokenizer(tokenizer)
        return cls(token_types=types >= 2, position_offset=offset, aligner=aligner)

    def for_task(self, tokenizer, *, copies_source=True, source_prefixes=()):
        """This adapter for one task: aligned when its targets copy the source.

        A target that does not copy its source in order would get one position
        throughout from the aligner; such a task numbers its target after the
        source (no aligner). A task prefix is stepped over by the aligner.

        Parameters
        ----------
        tokenizer : transformers.PreTrainedTokenizerBase
        copies_source : bool, default=True
        source_prefixes : sequence of str, default=()

        Returns
        -------
        PrefixLMAdapter
            ``self``, or a new adapter (this one is unchanged).
        """
        if self.aligner is None or (copies_source and not source_prefixes):
            return self
        aligner = None
        if copies_source:
            prefixes = [
                tokenizer(text, add_special_tokens=False)["input_ids"] for text in source_prefixes
            ]
            aligner = self.aligner.with_source_prefixes(prefixes)
        return type(self)(
            token_types=self.token_types, position_offset=self.position_offset, aligner=aligner
        )

    def check_model(self, model):
        import torch

        config = getattr(model, "config", None)
        if not (
            isinstance(model, torch.nn.Module)
            and getattr(config, "model_type", None) in WARM_START_MODEL_TYPES
            and not getattr(config, "is_encoder_decoder", False)
            and not getattr(config, "is_decoder", False)
            and callable(getattr(model, "get_output_embeddings", None))
            and model.get_output_embeddings() is not None
        ):
            raise ValueError(
                "The model must be a BERT-like encoder-only model with a masked-LM head "
                f"(e.g. BertForMaskedLM) to be used as a prefix LM; got {type(model).__name__}."
            )

    def position_limit(self, model):
        limit = _positions(model.config, "max_position_embeddings")
        return None if limit is None else max(1, limit - self.position_offset)

    def source_budget(self, model, max_source_length):
        limit = self.position_limit(model)
        if limit is None:
            return max_source_length
        return max(1, min(max_source_length, limit // 3))

    def target_budget(self, model, source_length):
        limit = self.position_limit(model)
        return None if limit is None else max(1, limit - source_length)

    # -- examples and batches -------------------------------------------

    def encode_targets(self, model, tokenizer, texts, max_length=None):
        start, end = _start_and_end(tokenizer)
        out = []
        for ids in tokenizer(list(texts), add_special_tokens=True)["input_ids"]:
            ids = list(ids)
            if ids and ids[0] == start and start != end:
                ids = ids[1:]  # the source already starts the row
            out.append(_end_with(ids, end, max_length))
        return out

    def collate(self, examples, pad_token_id):
        """Source and target in one right-padded row, labels on the target only.

        Returns ``input_ids``, ``attention_mask`` (2D), ``token_type_ids``,
        ``position_ids``, ``source_lengths`` and ``labels``, where
        ``labels[i, t]`` is the id position ``t`` predicts (the next one) when
        it belongs to the target.
        """
        import torch

        n = len(examples)
        width = max(len(ex["input_ids"]) + len(ex["labels"]) for ex in examples)
        input_ids = torch.full((n, width), pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((n, width), dtype=torch.long)
        token_type_ids = torch.zeros((n, width), dtype=torch.long)
        labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
        position_ids = torch.zeros((n, width), dtype=torch.long)
        source_lengths = torch.zeros(n, dtype=torch.long)
        for i, ex in enumerate(examples):
            source, target = list(ex["input_ids"]), list(ex["labels"])
            end = len(source) + len(target)
            input_ids[i, :end] = torch.as_tensor(source + target, dtype=torch.long)
            attention_mask[i, :end] = 1
            if self.token_types:
                token_type_ids[i, len(source) : end] = 1
            if target:
                labels[i, len(source) - 1 : end - 1] = torch.as_tensor(target, dtype=torch.long)
            source_lengths[i] = len(source)
            positions = list(range(len(source))) + self.target_positions(source, target)
            position_ids[i, :end] = torch.as_tensor(positions, dtype=torch.long)
        position_ids += self.position_offset
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "token_type_ids": token_type_ids,
            "position_ids": position_ids,
            "source_lengths": source_lengths,
            "labels": labels,
        }

    def target_positions(self, source, target):
        """The position ids of ``target``'s ids after ``source`` (before ``position_offset``).

        Those of the source pieces they copy (:meth:`TargetAligner.positions`),
        or, without an aligner, numbered after the source.
        """
        if self.aligner is None:
            return list(range(len(source), len(source) + len(target)))
        return list(self.aligner.positions(source, target))

    def logits(self, model, batch):
        """Logits of every position under the prefix-LM mask (see :func:`prefix_attention_mask`)."""
        return model(**self._stack_inputs(model, batch)).logits

    def _stack_inputs(self, model, batch):
        """The stack's keyword arguments for a batch from :meth:`collate`, under the prefix mask."""
        mask = attention_mask_for(
            model, prefix_attention_mask(batch["attention_mask"], batch["source_lengths"])
        )
        return {
            "input_ids": batch["input_ids"],
            "attention_mask": mask,
            "token_type_ids": batch["token_type_ids"],
            "position_ids": batch["position_ids"],
        }

    def selected_logits(self, model, batch):
        """The head on the labelled positions only, over the ids the loss needs (or None)."""
        from ._selected import selected_from_stack

        return selected_from_stack(model, self._stack_inputs(model, batch), batch, IGNORE_INDEX)

    def shared_source_scores(self, model, prompts, candidates, choices, **options):
        """Each source (and the ids its candidates share) run once, from a key/value cache.

        See :func:`shared_source_scores` in :mod:`._shared_source`; None
        when the model's attention does not fill a cache.
        """
        from ._shared_source import shared_source_scores

        return shared_source_scores(
            self,
            model,
            prompts,
            candidates,
            choices,
            **options,
            target_type=1 if self.token_types else 0,
            bidirectional_source=True,
        )

    # -- generation -----------------------------------------------------

    def grammar_lead_ids(self, model, grammar):
        """None: the target's ids follow the source directly, as generation continues it."""
        return ()

    def check_grammar(self, model, grammar):
        _, end = _start_and_end(grammar.tokenizer)
        if grammar.eos_token_id != end:
            raise ValueError(
                f"the grammar ends targets with id {grammar.eos_token_id} but the prefix LM "
                f"ends them with {end}"
            )

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
        from ._prefix_search import beam_search, cached_greedy_search

        _, end = _start_and_end(tokenizer)
        prompts = []
        for ids in self.encode_sources(model, tokenizer, texts):
            if len(ids) > max_source_length:
                ids = ids[: max_source_length - 1] + ids[-1:]  # keep the closing [SEP]
            prompts.append(ids)
        budgets = list(budgets)
        for i, prompt in enumerate(prompts):
            limit = self.target_budget(model, len(prompt))
            if limit is not None:
                budgets[i] = min(budgets[i], limit)
        allowed = None
        if grammar is not None:
            allowed = grammar.allowed_tokens_fn(
                sources, prefix_length=0, lead_ids=(), max_new_tokens=budgets
            )
        rows = None
        if num_beams == 1:
            rows = cached_greedy_search(
                self,
                model,
                prompts,
                allowed=allowed,
                eos_token_id=end,
                budgets=budgets,
                device=device,
            )
        if rows is None:
            rows = beam_search(
                self,
                model,
                prompts,
                allowed=allowed,
                eos_token_id=end,
                num_beams=num_beams,
                budgets=budgets,
                device=device,
            )
        if allowed is not None:
            return [allowed.render(i, row) for i, row in enumerate(rows)]
        return tokenizer.batch_decode(
            rows, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
