"""Scoring many candidate targets after one source with an encoder-decoder, encoding it once.

The encoder never sees the target, so the encoder states of a source are the
same for each of its candidates: :func:`encoder_shared_scores` computes them
once per source and runs only the decoder per ``(source, candidate)`` pair,
with the encoder states repeated for the pair. The decoder rows are those
that training runs (:meth:`ModelAdapter.logits`), so the scores are the full
rows' up to floating-point summation order.
"""

from __future__ import annotations

__all__ = ["encoder_shared_scores"]


def _padded(rows, fill):
    """Right-pad lists of ids with ``fill`` into a tensor, and its 0/1 mask."""
    import torch

    width = max(len(row) for row in rows)
    ids = torch.full((len(rows), width), fill, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):
        ids[r, : len(row)] = torch.as_tensor(row, dtype=torch.long)
        mask[r, : len(row)] = 1
    return ids, mask


def encoder_shared_scores(
    model, prompts, candidates, choices=None, *, device, pad_token_id, max_pairs=64, ignore_index
):
    """Summed log-likelihood of each candidate target after its source.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        An encoder-decoder in eval mode on ``device``, called under the
        caller's inference mode.
    prompts : list of list of int
        Each source's encoder ids.
    candidates : list of list of list of int
        Per source, its candidate targets' label ids (each ending with EOS).
    choices : list or None, default=None
        None scores each id over the whole vocabulary; otherwise, per source,
        per candidate, one tuple per target id: the ids the softmax of that
        position runs over (the ``"grammar"`` loss).
    device : torch.device
    pad_token_id : int
    max_pairs : int, default=64
        ``(source, candidate)`` pairs per decoder forward.
    ignore_index : int
        The label that pads the decoder's labels (the engine's -100).

    Returns
    -------
    Tensor of shape (n_sources, n_candidates) or None
        float64 sums; None when the model has no separate encoder.
    """
    import torch
    from transformers.modeling_outputs import BaseModelOutput

    from ._shared_source import _log_likelihoods, source_chunks

    encoder = model.get_encoder() if callable(getattr(model, "get_encoder", None)) else None
    if encoder is None:
        return None
    n_candidates = len(candidates[0]) if candidates else 0
    scores = torch.zeros((len(prompts), n_candidates), dtype=torch.float64)
    for chunk, groups in source_chunks(len(prompts), n_candidates, max_pairs):
        input_ids, source_mask = _padded([prompts[i] for i in chunk], pad_token_id)
        source_mask = source_mask.to(device)
        states = encoder(
            input_ids=input_ids.to(device), attention_mask=source_mask
        ).last_hidden_state
        for group in groups:
            index = torch.tensor([i - chunk.start for i, _ in group], device=states.device)
            labels, _ = _padded([candidates[i][k] for i, k in group], ignore_index)
            out = model(
                encoder_outputs=BaseModelOutput(last_hidden_state=states.index_select(0, index)),
                attention_mask=source_mask.index_select(0, index),
                decoder_input_ids=model.prepare_decoder_input_ids_from_labels(
                    labels=labels.to(device)
                ),
                use_cache=False,
            )
            real = labels != ignore_index
            rows = [(i, k, t) for r, (i, k) in enumerate(group) for t in range(int(real[r].sum()))]
            menus = None
            if choices is not None:
                menus = [choices[i][k][t] for i, k, t in rows]
            values = _log_likelihoods(None, out.logits[real.to(device)], labels[real], menus)
            for value, (i, k, _) in zip(values.double().cpu().tolist(), rows):
                scores[i, k] += value
    return scores
