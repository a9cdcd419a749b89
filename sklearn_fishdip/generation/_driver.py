"""Generating augmented text with a model, constrained by the grammar or free."""

from __future__ import annotations

from collections.abc import Sequence

from tqdm.auto import tqdm

from ..augmented._entities import escape_tokens
from ..models import ModelAdapter, adapter_for_model
from ..utils._validation import check_tokens
from ._grammar import AugmentedGrammar
from ._inference import inference_on
from ._tokens import _check_positive

__all__ = ["generate_augmented"]


def generate_augmented(
    model,
    tokenizer,
    sources,
    *,
    grammar=None,
    num_beams=1,
    max_new_tokens=None,
    batch_size=16,
    device=None,
    max_source_length=512,
    input_prefix="",
    adapter=None,
    source_texts=None,
    progress=False,
):
    """Generate augmented text for source sentences, constrained or free.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        An encoder-decoder (T5, BART, BERT2BERT ``EncoderDecoderModel``), a
        decoder-only causal LM or a prefix LM (a BERT-like masked LM). It is
        put in eval mode for generation and its train/eval mode is restored
        afterwards.
    tokenizer : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    sources : sequence of sequence of str
        Source sentences as tokens, not escaped; they are escaped and joined
        by spaces to form the model input.
    grammar : AugmentedGrammar or None, default=None
        When given, generation follows it (every output copies its source and
        parses with known types) and the output is rendered with the original
        source words (:meth:`AugmentedGrammar.render`). ``None`` generates
        freely and decodes with the tokenizer.
    num_beams : int, default=1
        Beam width; 1 is greedy search.
    max_new_tokens : int or None, default=None
        Most ids generated per sentence. ``None`` gives each sentence twice
        its own source length in ids plus 20, so a sentence's output does not
        depend on which sentences share its batch. Budgets are cut to the
        positions the model has left after the source. With a grammar, outputs
        are steered to finish within the budget; without one they are cut
        at it.
    batch_size : int, default=16
        Sentences per ``generate`` call. Batches are formed in order of
        input length (longest first), so a batch pads little and ends
        together; the outputs come back in the order of ``sources``.
    device : str, torch.device or None, default=None
        Device to generate on; the model is moved there and back. ``None``
        uses the model's device.
    max_source_length : int, default=512
        Model inputs are truncated to this many ids (the grammar still copies
        the whole source).
    input_prefix : str, default=""
        Text put before every input (a multitask prefix such as
        ``"conll04 : "``).
    adapter : ModelAdapter or None, default=None
        How the model family generates (:mod:`sklearn_fishdip.models`); None
        reads it from the model (:func:`~sklearn_fishdip.models.adapter_for_model`).
    source_texts : sequence of str or None, default=None
        The model inputs, one per sentence, when they are not the sentence's
        escaped tokens joined by spaces: semantic role labeling brackets the
        predicate in the input (``The cat [ sat ] on the mat``) while the
        output copies the plain tokens. ``input_prefix`` is put before each.
        ``None`` builds them from ``sources``.
    progress : bool, default=False
        Show a progress bar over the batches when there is more than one.

    Returns
    -------
    list of str
        One augmented text per source sentence.

    Raises
    ------
    TypeError, ValueError
        If a sentence is not a list of non-empty tokens without whitespace, a
        numeric parameter is out of range, or ``grammar`` ends targets with an
        id the model does not treat as EOS.

    Notes
    -----
    Generation settings that fight copying are switched off for the call:
    sampling, ``no_repeat_ngram_size`` (BART checkpoints set 3, which would
    forbid repeating ``| person ]``), and minimum lengths. A causal LM
    continues its left-padded prompts (source and separator); a prefix LM
    generates with its own greedy or beam search.
    """

    sources = [check_tokens(source, index=i) for i, source in enumerate(_as_list(sources))]
    _check_positive(num_beams, "num_beams")
    _check_positive(batch_size, "batch_size")
    _check_positive(max_source_length, "max_source_length")
    if max_new_tokens is not None:
        _check_positive(max_new_tokens, "max_new_tokens")
    if not isinstance(input_prefix, str):
        raise TypeError(f"input_prefix must be a string, got {type(input_prefix).__name__}")
    if grammar is not None and not isinstance(grammar, AugmentedGrammar):
        raise TypeError(
            f"grammar must be an AugmentedGrammar or None, got {type(grammar).__name__}"
        )

    adapter = adapter_for_model(model, tokenizer) if adapter is None else adapter
    if not isinstance(adapter, ModelAdapter):
        raise TypeError(f"adapter must be a ModelAdapter or None, got {type(adapter).__name__}")
    adapter.check_model(model)
    if grammar is not None:
        adapter.check_grammar(model, grammar)

    if source_texts is None:
        texts = [input_prefix + " ".join(escape_tokens(source)) for source in sources]
    else:
        if isinstance(source_texts, str) or not isinstance(source_texts, Sequence):
            raise TypeError(
                f"source_texts must be a list of strings, got {type(source_texts).__name__}"
            )
        if len(source_texts) != len(sources) or not all(
            isinstance(text, str) for text in source_texts
        ):
            raise ValueError(
                f"source_texts must hold one string per sentence ({len(sources)}), "
                f"got {len(source_texts)} items"
            )
        texts = [input_prefix + text for text in source_texts]
    if not texts:
        return []
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    if max_new_tokens is None:
        budgets = [2 * n + 20 for n in lengths]
    else:
        budgets = [max_new_tokens] * len(texts)
    # Longest first: similar lengths share a batch (less padding, rows that
    # finish together), and a batch too large for memory fails at once. A
    # sentence's output does not depend on its batch (see max_new_tokens).
    order = sorted(range(len(texts)), key=lambda i: -lengths[i])
    batches = [order[begin : begin + batch_size] for begin in range(0, len(order), batch_size)]
    if progress and len(batches) > 1:
        batches = tqdm(batches, desc="generating", unit="batch", leave=False)
    outputs = [None] * len(texts)
    with inference_on(model, device) as device:
        for rows in batches:
            generated = adapter.generate(
                model,
                tokenizer,
                [sources[i] for i in rows],
                [texts[i] for i in rows],
                grammar=grammar,
                num_beams=num_beams,
                budgets=[budgets[i] for i in rows],
                max_source_length=max_source_length,
                device=device,
            )
            for i, text in zip(rows, generated):
                outputs[i] = text
    return [" ".join(text.split()) for text in outputs]


def _as_list(sources):
    if isinstance(sources, str) or not isinstance(sources, Sequence):
        raise TypeError(f"sources must be a list of token lists, got {type(sources).__name__}")
    return list(sources)
