"""Ranking candidate outputs by their likelihood under a model (NLL ranking).

Instead of generating an output and parsing it, a task whose answer is one of
a known set (a relation name, a class label) writes the target text of every
candidate and asks the model how likely each is after the source. The answer
is then always well formed, and the candidates' likelihoods normalized over
the set are exact probabilities. Any model family works: the examples are
built, padded and run by its adapter (:mod:`sklearn_fishdip.models`) and
scored with the engine's own loss (:func:`~sklearn_fishdip.sparse.token_losses`),
so ranking scores what training optimized. The adapter computes each source
once for all of its candidates (:meth:`ModelAdapter.shared_source_scores`:
a key/value cache on prefix and causal LMs, one encoder pass on
encoder-decoders), which gives the full rows' scores in a fraction of the
time.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from ..models import IGNORE_INDEX, ModelAdapter, adapter_for_model
from ..sparse._seq2seq import iter_chunks, resolve_pad_token_id, token_losses
from ._inference import inference_on

__all__ = ["candidate_choices", "score_candidates"]

# A shared-source pair feeds only a candidate's own ids (a few, against a
# cached source), so a forward holds several pairs for each full row's memory.
_SHARED_PAIRS_PER_ROW = 4


def candidate_choices(candidate_ids):
    """The ids each candidate target chooses among, position by position.

    At position ``k`` of a candidate, the choices are the ``k``-th ids of all
    candidates that agree with it on their first ``k`` ids: what a decoder
    restricted to the candidates could write there. A position shared by
    every remaining candidate has one choice (it costs nothing under the
    restricted loss of :func:`~sklearn_fishdip.sparse.token_losses`), and the
    restricted likelihoods of prefix-free candidates (each ends with EOS) sum
    to one.

    Parameters
    ----------
    candidate_ids : sequence of sequence of int
        The encoded candidate targets of one source.

    Returns
    -------
    list of list of tuple of int
        Per candidate, one sorted tuple of ids per target id.
    """
    candidate_ids = [tuple(ids) for ids in candidate_ids]
    # Next ids after each prefix, over all candidates: a trie flattened to a dict.
    following: dict[tuple, set] = {}
    for ids in candidate_ids:
        for k, token in enumerate(ids):
            following.setdefault(ids[:k], set()).add(token)
    return [[tuple(sorted(following[ids[:k]])) for k in range(len(ids))] for ids in candidate_ids]


def _per_source_candidates(candidate_targets, n_sources):
    """One list of candidate texts per source, all of one length, checked."""
    if isinstance(candidate_targets, str) or not isinstance(candidate_targets, Sequence):
        raise TypeError(
            "candidate_targets must be a list of strings or a list of lists of strings, got "
            f"{type(candidate_targets).__name__}"
        )
    candidate_targets = list(candidate_targets)
    if candidate_targets and all(isinstance(text, str) for text in candidate_targets):
        # One candidate set shared by every source (a text classifier's labels):
        # one list object, so that it is encoded once.
        return [candidate_targets] * n_sources, len(candidate_targets)
    if len(candidate_targets) != n_sources:
        raise ValueError(
            f"candidate_targets has {len(candidate_targets)} lists for {n_sources} sources"
        )
    width = None
    for index, texts in enumerate(candidate_targets):
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(
                f"candidate_targets[{index}] must be a list of strings, got {type(texts).__name__}"
            )
        if not texts or not all(isinstance(text, str) for text in texts):
            raise ValueError(f"candidate_targets[{index}] must be a non-empty list of strings")
        if width is not None and len(texts) != width:
            raise ValueError(
                f"candidate_targets[{index}] has {len(texts)} candidates, "
                f"candidate_targets[0] has {width}: every source needs as many"
            )
        width = len(texts)
    return [list(texts) for texts in candidate_targets], width or 0


def score_candidates(
    model,
    tokenizer,
    adapter,
    sources,
    candidate_targets,
    *,
    batch_size=16,
    device=None,
    restrict=False,
):
    """Log-likelihood of every candidate target after each source, batched.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        An encoder-decoder, a decoder-only causal LM or a prefix LM. It runs
        in eval mode without gradients; its train/eval mode and device are
        restored afterwards.
    tokenizer : transformers.PreTrainedTokenizerBase
        Its tokenizer.
    adapter : ModelAdapter or None
        The model's family (None reads it from the model); sources and
        targets are encoded, padded and run by it exactly as in training.
    sources : sequence of str
        The model inputs (already escaped and formatted).
    candidate_targets : sequence of str, or sequence of sequence of str
        The candidate target texts: one list shared by every source, or one
        list per source (a relation classifier's targets repeat the source's
        entities), each with the same number of candidates.
    batch_size : int, default=16
        (source, candidate) pairs per forward pass of full rows. Where the
        adapter computes each source once, a pair is only the candidate's
        own ids, and four times as many are fed per forward. Sources are
        taken longest first (less padding); the rows of the result follow
        ``sources``.
    device : str, torch.device or None, default=None
        Where to run; ``None`` is the model's device.
    restrict : bool, default=False
        Normalize each target position over the candidates' choices there
        (:func:`candidate_choices`) rather than over the whole vocabulary:
        the score of the ``"grammar"`` training loss. The exponentiated
        restricted scores of one source then sum to one.

    Returns
    -------
    ndarray of shape (n_sources, n_candidates)
        Summed log-likelihoods (the negated summed token NLL, EOS included)
        in float64; a softmax over a row gives the candidates' probabilities.

    Raises
    ------
    TypeError, ValueError
        If the candidate lists are malformed or of different lengths, or
        ``batch_size`` is not a positive integer.
    """
    if isinstance(sources, str) or not isinstance(sources, Sequence):
        raise TypeError(f"sources must be a list of strings, got {type(sources).__name__}")
    sources = list(sources)
    if not all(isinstance(source, str) for source in sources):
        raise TypeError("sources must be a list of strings")
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    candidates, n_candidates = _per_source_candidates(candidate_targets, len(sources))
    if not sources:
        return np.zeros((0, n_candidates))
    adapter = adapter_for_model(model, tokenizer) if adapter is None else adapter
    if not isinstance(adapter, ModelAdapter):
        raise TypeError(f"adapter must be a ModelAdapter or None, got {type(adapter).__name__}")

    source_ids = adapter.encode_sources(model, tokenizer, sources)
    # Longest first, as generation batches: sources of similar lengths share a
    # forward and pad little; a source's scores do not depend on its companions.
    order = sorted(range(len(source_ids)), key=lambda i: -len(source_ids[i]))
    source_ids = [source_ids[i] for i in order]
    candidates = [candidates[i] for i in order]
    per_source, encoded = [], {}
    for texts in candidates:
        # Shared candidate sets are encoded (and their choices computed) once.
        key = id(texts)
        if key not in encoded:
            target_ids = [list(ids) for ids in adapter.encode_targets(model, tokenizer, texts)]
            encoded[key] = (target_ids, candidate_choices(target_ids) if restrict else None)
        per_source.append(encoded[key])

    pad_token_id = resolve_pad_token_id(model, tokenizer.pad_token_id)
    with inference_on(model, device) as device:
        shared = adapter.shared_source_scores(
            model,
            source_ids,
            [target_ids for target_ids, _ in per_source],
            [choices for _, choices in per_source] if restrict else None,
            device=device,
            pad_token_id=pad_token_id,
            max_pairs=_SHARED_PAIRS_PER_ROW * batch_size,
        )
        if shared is None:
            shared = _full_row_scores(
                model, adapter, source_ids, per_source, batch_size, pad_token_id, device
            ).reshape(len(sources), n_candidates)
        scores = np.empty((len(sources), n_candidates))
        scores[order] = np.asarray(shared)
        return scores


def _full_row_scores(model, adapter, source_ids, per_source, batch_size, pad_token_id, device):
    """Scores of one full ``(source, candidate)`` row each, as training runs them."""
    import torch

    examples = []
    for ids, (target_ids, choices) in zip(source_ids, per_source):
        for k, target in enumerate(target_ids):
            example = adapter.build_example(ids, target)
            if choices is not None:
                example["allowed"] = choices[k]
            examples.append(example)
    scores = []
    for batch in iter_chunks(examples, batch_size, pad_token_id, device, adapter):
        labels = batch["labels"]
        per_sample, _ = token_losses(
            adapter.logits(model, batch),
            labels,
            batch.get("allowed_ids"),
            batch.get("allowed_mask"),
        )
        # token_losses averages per sample; the ranking needs the sum.
        counts = (labels != IGNORE_INDEX).sum(dim=1)
        scores.append(-(per_sample * counts).double().cpu())
    return torch.cat(scores).numpy()
