"""How one model family is trained and generates: the adapter interface.

The sparse engine, generation and the estimators never look at a model's
architecture; they ask its :class:`ModelAdapter`:

* :meth:`~ModelAdapter.encode_sources` / :meth:`~ModelAdapter.encode_targets`
  tokenize texts, and :meth:`~ModelAdapter.build_example` makes a training
  example (a dict of ``"input_ids"``, the source, and ``"labels"``, the target);
* :meth:`~ModelAdapter.collate` pads examples into a batch and
  :meth:`~ModelAdapter.logits` runs the model teacher-forced, so that
  ``token_losses(adapter.logits(model, batch), batch["labels"])`` is the loss;
* :meth:`~ModelAdapter.generate` writes outputs for a batch of sources,
  constrained by a grammar or free;
* :meth:`~ModelAdapter.source_budget` and :meth:`~ModelAdapter.target_budget`
  say how many ids fit the model's positions.

:class:`ModelAdapter` itself is the encoder-decoder family (T5, BART, a
BERT2BERT ``EncoderDecoderModel``); :class:`CausalLMAdapter` and
:class:`PrefixLMAdapter` override the steps that differ.
"""

from __future__ import annotations

import copy

__all__ = ["IGNORE_INDEX", "ModelAdapter"]

#: Label value ignored by the loss, as in Hugging Face models.
IGNORE_INDEX = -100


def _positions(config, *names):
    """The first of ``names`` that ``config`` sets to a positive int, else None."""
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


class ModelAdapter:
    """The encoder-decoder family, and the interface every family implements.

    An adapter holds no model and no tokenizer: every step takes them as
    arguments, so one adapter serves any model of its family and pickles as a
    few fields.

    Attributes
    ----------
    kind : str
        The model kind (:data:`~sklearn_fishdip.models.MODEL_KINDS`).
    shares_positions : bool
        Whether source and target take positions of one sequence (decoder-only
        and prefix LMs) rather than of separate encoder and decoder.
    """

    kind = "seq2seq"
    shares_positions = False

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self), tuple(sorted(vars(self).items()))))

    def for_task(self, tokenizer, *, copies_source=True, source_prefixes=()):
        """This adapter, set up for one task's targets.

        Families whose target positions do not depend on the source (every
        one but the prefix LM) return ``self``.

        Parameters
        ----------
        tokenizer : transformers.PreTrainedTokenizerBase
            The model's tokenizer.
        copies_source : bool, default=True
            Whether the task's targets copy the source in order (tagging) or
            not (a dialogue state, a class name).
        source_prefixes : sequence of str, default=()
            Task prefixes its sources start with, which targets never copy.

        Returns
        -------
        ModelAdapter
        """
        return self

    # -- the model ------------------------------------------------------

    def check_model(self, model):
        """Raise a ValueError unless ``model`` belongs to this family.

        Parameters
        ----------
        model : object
            The candidate model.
        """
        import torch

        config = getattr(model, "config", None)
        if not (
            isinstance(model, torch.nn.Module)
            and callable(getattr(model, "get_encoder", None))
            and getattr(config, "is_encoder_decoder", False)
        ):
            raise ValueError(
                "The model must be a Hugging Face seq2seq (encoder-decoder) model with "
                "`get_encoder()` and `config.is_encoder_decoder=True`, such as T5, BART "
                f"or an EncoderDecoderModel; got {type(model).__name__}."
            )

    def position_limit(self, model):
        """Most positions of the source sequence; None when unbounded (T5).

        Parameters
        ----------
        model : transformers.PreTrainedModel

        Returns
        -------
        int or None
        """
        config = getattr(model.config, "encoder", model.config)
        return _positions(config, "max_position_embeddings", "n_positions")

    def _decoder_limit(self, model):
        config = getattr(model.config, "decoder", model.config)
        return _positions(config, "max_position_embeddings", "n_positions")

    def source_budget(self, model, max_source_length):
        """Most source ids (special ids included) one window may hold.

        Parameters
        ----------
        model : transformers.PreTrainedModel
        max_source_length : int
            The estimator's limit.

        Returns
        -------
        int
        """
        limit = self.position_limit(model)
        return max_source_length if limit is None else min(max_source_length, limit)

    def target_budget(self, model, source_length):
        """Most target ids that fit the model after ``source_length`` source ids.

        Parameters
        ----------
        model : transformers.PreTrainedModel
        source_length : int
            Ids of the source (its prompt, for a decoder-only model).

        Returns
        -------
        int or None
            None when the model's positions do not bound the target.
        """
        # The decoder reads its start token and all target ids but the last, so
        # a target may have as many ids as the decoder has positions.
        return self._decoder_limit(model)

    # -- examples and batches -------------------------------------------

    def encode_sources(self, model, tokenizer, texts):
        """Tokenize source texts into model inputs.

        Parameters
        ----------
        model : transformers.PreTrainedModel
        tokenizer : transformers.PreTrainedTokenizerBase
        texts : list of str
            Escaped source sentences.

        Returns
        -------
        list of list of int
        """
        return [list(ids) for ids in tokenizer(list(texts), add_special_tokens=True)["input_ids"]]

    def encode_targets(self, model, tokenizer, texts, max_length=None):
        """Tokenize target texts into label ids that end with EOS.

        The ids do not start with the decoder start token, which the model
        prepends itself when shifting labels (BERT tokenizers add ``[CLS]``,
        the BERT2BERT decoder start).

        Parameters
        ----------
        model : transformers.PreTrainedModel
        tokenizer : transformers.PreTrainedTokenizerBase
        texts : list of str
            Target texts.
        max_length : int or None, default=None
            If given, longer label sequences keep their first ``max_length``
            ids and no EOS, as training cuts an over-long target.

        Returns
        -------
        list of list of int
        """
        start = model.config.decoder_start_token_id
        eos = model.config.eos_token_id
        encoded = tokenizer(list(texts), add_special_tokens=True)["input_ids"]
        out = []
        for ids in encoded:
            ids = list(ids)
            if ids and ids[0] == start and start != eos:
                ids = ids[1:]
            out.append(_end_with(ids, eos, max_length))
        return out

    def build_example(self, source_ids, target_ids):
        """One training example: ``{"input_ids": source, "labels": target}``.

        Parameters
        ----------
        source_ids, target_ids : list of int
            From :meth:`encode_sources` and :meth:`encode_targets`.

        Returns
        -------
        dict
        """
        return {"input_ids": list(source_ids), "labels": list(target_ids)}

    def collate(self, examples, pad_token_id):
        """Right-pad examples into a batch dict of int64 tensors.

        Parameters
        ----------
        examples : sequence of dict
            From :meth:`build_example`.
        pad_token_id : int
            Padding id of the inputs; labels are padded with -100.

        Returns
        -------
        dict
            ``input_ids``, ``attention_mask`` and ``labels``.
        """
        import torch

        n = len(examples)
        src_len = max(len(ex["input_ids"]) for ex in examples)
        tgt_len = max(len(ex["labels"]) for ex in examples)
        input_ids = torch.full((n, src_len), pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((n, src_len), dtype=torch.long)
        labels = torch.full((n, tgt_len), IGNORE_INDEX, dtype=torch.long)
        for i, ex in enumerate(examples):
            src = torch.as_tensor(ex["input_ids"], dtype=torch.long)
            tgt = torch.as_tensor(ex["labels"], dtype=torch.long)
            input_ids[i, : len(src)] = src
            attention_mask[i, : len(src)] = 1
            labels[i, : len(tgt)] = tgt
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}

    def logits(self, model, batch):
        """Teacher-forced logits aligned with ``batch["labels"]``.

        The model derives the decoder inputs from the labels; they are not
        passed on, so it computes no loss that would be discarded.

        Parameters
        ----------
        model : transformers.PreTrainedModel
        batch : dict
            From :meth:`collate`, on the model's device.

        Returns
        -------
        Tensor of shape (batch, target_length, vocab)
        """
        decoder_input_ids = model.prepare_decoder_input_ids_from_labels(labels=batch["labels"])
        out = model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            decoder_input_ids=decoder_input_ids,
            use_cache=False,
        )
        return out.logits

    def selected_logits(self, model, batch):
        """Only the logits training's loss reads, or None.

        A :class:`~sklearn_fishdip.models.SelectedLogits`; None (the
        default) makes training run :meth:`logits`.
        """
        return None

    def shared_source_scores(
        self, model, prompts, candidates, choices, *, device, pad_token_id, max_pairs
    ):
        """Candidate scores, each source computed once; None to score full rows.

        Encoder-decoders encode each source once and run the decoder per
        candidate (:func:`._encoder_sharing.encoder_shared_scores`, whose
        parameters these are); prefix and causal LMs feed only each
        candidate's own ids. Returns a (n_sources, n_candidates) tensor.
        """
        from ._encoder_sharing import encoder_shared_scores

        return encoder_shared_scores(
            model,
            prompts,
            candidates,
            choices,
            device=device,
            pad_token_id=pad_token_id,
            max_pairs=max_pairs,
            ignore_index=IGNORE_INDEX,
        )

    # -- generation -----------------------------------------------------

    def generation_config(self, model, num_beams):
        """A copy of the model's generation config for copying outputs.

        Settings that fight copying are switched off: sampling,
        ``no_repeat_ngram_size`` (BART checkpoints set 3, which would forbid
        repeating ``| person ]``), and minimum lengths.
        """
        config = copy.deepcopy(model.generation_config)
        config.num_beams = num_beams
        config.num_return_sequences = 1
        config.do_sample = False
        config.no_repeat_ngram_size = 0
        config.min_length = 0
        config.min_new_tokens = None
        for sampling in ("temperature", "top_p", "top_k"):
            # Unused without sampling; cleared so generate does not warn.
            setattr(config, sampling, None)
        return config

    def grammar_lead_ids(self, model, grammar):
        """Special ids the grammar lets stand before the text of this family's labels.

        An encoder-decoder's labels hold the ids the tokenizer puts before a
        target (BART's ``<s>``) unless that id is the decoder start, which the
        model prepends itself (BERT2BERT's ``[CLS]``).
        """
        start = model.config.decoder_start_token_id
        if start is None:
            start = model.generation_config.decoder_start_token_id
        lead = tuple(grammar.lead_ids)
        return lead[1:] if lead and lead[0] == start else lead

    def check_grammar(self, model, grammar):
        """Raise a ValueError if ``grammar`` ends targets with an id the model does not."""
        eos = model.generation_config.eos_token_id
        eos = set(eos) if isinstance(eos, list | tuple) else {eos}
        if grammar.eos_token_id not in eos:
            raise ValueError(
                f"the grammar ends targets with id {grammar.eos_token_id} but the model's "
                f"generation config stops at {sorted(e for e in eos if e is not None)}"
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
        """Generate one output text per source, constrained by ``grammar`` or free.

        The model is already in eval mode on ``device``, under inference mode.

        Parameters
        ----------
        model : transformers.PreTrainedModel
        tokenizer : transformers.PreTrainedTokenizerBase
        sources : list of list of str
            Source tokens, not escaped (the grammar copies them).
        texts : list of str
            The model inputs: escaped sources joined by spaces.
        grammar : AugmentedGrammar or None, default=None
            Constrains generation and renders outputs with the source words.
        num_beams : int, default=1
            Beam width; 1 is greedy search.
        budgets : list of int
            Most ids generated per source; cut further to the positions left.
        max_source_length : int
            Inputs are truncated to this many ids.
        device : torch.device

        Returns
        -------
        list of str
        """
        config = self.generation_config(model, num_beams)
        lead = ()
        if grammar is not None:
            # The grammar decides where EOS goes.
            config.forced_eos_token_id = None
            # Mirror how targets are encoded (see grammar_lead_ids).
            lead = self.grammar_lead_ids(model, grammar)
        encoded = tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=max_source_length
        )
        limit = self.target_budget(model, encoded["input_ids"].shape[1])
        if limit is not None:
            budgets = [min(budget, limit) for budget in budgets]
        config.max_new_tokens = max(budgets)
        config.max_length = None
        kwargs = {}
        allowed = None
        if grammar is not None:
            allowed = grammar.allowed_tokens_fn(
                sources, prefix_length=1, lead_ids=lead, max_new_tokens=budgets
            )
            kwargs["prefix_allowed_tokens_fn"] = allowed
        generated = model.generate(
            input_ids=encoded["input_ids"].to(device),
            attention_mask=encoded["attention_mask"].to(device),
            generation_config=config,
            **kwargs,
        )
        # After the decoder start, at most each row's own budget.
        rows = [row[: 1 + budget] for row, budget in zip(generated.tolist(), budgets)]
        return _finish(tokenizer, allowed, rows)


def _end_with(ids, eos, max_length):
    """``ids`` ending with ``eos``; a longer one keeps its first ``max_length`` ids, no end."""
    # No end after an unfinished structure, as training cuts (BaseFishDip._examples).
    if eos is not None and (not ids or ids[-1] != eos):
        ids = ids + [eos]
    if max_length is not None and len(ids) > max_length:
        ids = ids[:max_length]
    return ids


def _finish(tokenizer, allowed, rows):
    """Render rows with the grammar's hook, or decode them freely."""
    if allowed is not None:
        return [allowed.render(i, row) for i, row in enumerate(rows)]
    return tokenizer.batch_decode(
        rows, skip_special_tokens=True, clean_up_tokenization_spaces=False
    )
