"""Greedy and beam search for a prefix LM, one full forward per step (no cache).

Each step runs the model over every live hypothesis (its source, then the ids
generated so far), reads the log-probabilities at its last position, keeps
only the ids the grammar allows, and extends the hypotheses. A hypothesis
ends with EOS or when its source's budget is spent. Beams are ranked, as in
``transformers``' beam search with ``length_penalty=1``, by their summed
log-probability divided by their length.
"""

from __future__ import annotations

__all__ = ["beam_search"]


def _step_log_probs(adapter, model, prompts, hypotheses, device):
    """Log-probabilities of the next id of each ``(source index, ids)`` hypothesis."""
    import torch

    examples = [{"input_ids": prompts[i], "labels": list(ids)} for i, ids in hypotheses]
    pad = model.config.pad_token_id
    batch = adapter.collate(examples, 0 if pad is None else int(pad))
    batch = {key: value.to(device) for key, value in batch.items()}
    logits = adapter.logits(model, batch)
    last = batch["attention_mask"].sum(1) - 1
    rows = torch.arange(len(examples), device=logits.device)
    return torch.log_softmax(logits[rows, last].float(), dim=-1).cpu()


def _candidates(log_probs, ids, score, allowed, k):
    """The ``k`` best allowed extensions of one hypothesis: ``(score, ids)`` pairs."""
    import torch

    if allowed is not None:
        choices = torch.as_tensor(sorted(set(allowed)), dtype=torch.long)
        values = log_probs[choices]
    else:
        choices, values = None, log_probs
    top = torch.topk(values, min(k, values.numel()))
    out = []
    for value, position in zip(top.values.tolist(), top.indices.tolist()):
        token = int(choices[position]) if choices is not None else int(position)
        out.append((score + value, ids + (token,)))
    return out


def beam_search(
    adapter, model, prompts, *, allowed=None, eos_token_id, num_beams=1, budgets, device
):
    """Generate one id sequence per prompt with a prefix LM.

    Parameters
    ----------
    adapter : PrefixLMAdapter
        Builds the batches and runs the model.
    model : transformers.PreTrainedModel
        In eval mode on ``device``; called under the caller's inference mode.
    prompts : list of list of int
        Each source's ids (``[CLS] source [SEP]``).
    allowed : callable or None, default=None
        ``allowed(i, ids) -> list of int``: the ids that may follow the
        generated ``ids`` of source ``i`` (the grammar's hook, built with
        ``prefix_length=0``); None allows every id.
    eos_token_id : int
        Id that ends a hypothesis.
    num_beams : int, default=1
        Beam width; 1 is greedy search.
    budgets : list of int
        Most ids generated per source.
    device : torch.device

    Returns
    -------
    list of list of int
        The best finished hypothesis of each source (with its EOS), or its
        best unfinished one when none finished within the budget.
    """
    n = len(prompts)
    beams = [[(0.0, ())] for _ in range(n)]
    finished = [[] for _ in range(n)]
    live = [True] * n
    for step in range(max(budgets, default=0)):
        for i in range(n):
            if live[i] and (step >= budgets[i] or len(finished[i]) >= num_beams or not beams[i]):
                live[i] = False
        hypotheses = [(i, ids) for i in range(n) if live[i] for _, ids in beams[i]]
        if not hypotheses:
            break
        log_probs = _step_log_probs(adapter, model, prompts, hypotheses, device)
        row = 0
        for i in range(n):
            if not live[i]:
                continue
            candidates = []
            for score, ids in beams[i]:
                menu = allowed(i, ids) if allowed is not None else None
                candidates.extend(_candidates(log_probs[row], ids, score, menu, 2 * num_beams))
                row += 1
            # Stable on ties: earlier beams and lower ids first, as topk gives them.
            candidates.sort(key=lambda c: -c[0])
            kept = []
            for score, ids in candidates[: 2 * num_beams]:
                if ids[-1] == eos_token_id:
                    if len(finished[i]) < num_beams:
                        finished[i].append((score / len(ids), ids))
                elif len(kept) < num_beams:
                    kept.append((score, ids))
            beams[i] = kept
    out = []
    for i in range(n):
        pool = finished[i] or [(score / max(1, len(ids)), ids) for score, ids in beams[i]]
        best = max(pool, key=lambda c: c[0]) if pool else (0.0, ())
        out.append(list(best[1]))
    return out
