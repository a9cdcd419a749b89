"""Greedy and beam search for a prefix LM.

:func:`beam_search` runs one full forward per step over every live
hypothesis (its source, then the ids generated so far), reads the
log-probabilities at its last position, keeps only the ids the grammar
allows, and extends the hypotheses. A hypothesis ends with EOS or when its
source's budget is spent. Beams are ranked, as in ``transformers``' beam
search with ``length_penalty=1``, by their summed log-probability divided by
their length.

:func:`cached_greedy_search` gives the same ids as ``beam_search`` with one
beam, with a key/value cache: source rows never attend to the target, so
their keys and values are computed once, and each step feeds one id per
unfinished sentence (a finished one leaves the batch); under a grammar, a
BERT-like head scores only the allowed ids. It returns None when the
model's attention does not fill a cache (the caller then uses
:func:`beam_search`).
"""

from __future__ import annotations

import inspect

__all__ = ["beam_search", "cached_greedy_search"]


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


def _cache_argument(model):
    """The keyword the model's stack takes its cache under, or None."""
    try:
        names = inspect.signature(model.base_model.forward).parameters
    except (TypeError, ValueError):
        return None
    for name in ("cache", "past_key_values"):
        if name in names:
            return name
    return None


def _new_cache(config):
    from transformers import DynamicCache

    try:
        return DynamicCache(config=config)
    except TypeError:  # older transformers take no config
        return DynamicCache()


def _lm_head(model):
    """The module mapping the stack's hidden states to logits, where the family names it."""
    for name in ("cls", "lm_head"):  # BERT-like, RoBERTa-like masked LMs
        head = getattr(model, name, None)
        if head is not None and callable(head):
            return head
    return None


def _next_id(values, eos_token_id, choices=None):
    """The id one-beam search appends, and whether the hypothesis ends.

    ``values`` scores the ids ``choices`` (the allowed ids, sorted), or every
    id when ``choices`` is None. As :func:`beam_search` with ``num_beams=1``:
    of the two best ids, an EOS among them ends the hypothesis with it;
    otherwise the best is appended.
    """
    import torch

    positions = torch.topk(values, min(2, values.numel())).indices.tolist()
    picked = positions if choices is None else [choices[p] for p in positions]
    if eos_token_id in picked:
        return eos_token_id, True
    return picked[0], False


def _head_parts(model):
    """The transform, output weight and bias of a BERT-like masked-LM head, or None.

    Such a head scores a hidden state as ``decoder(transform(hidden))``. With
    its parts apart, a step scores only the ids the grammar allows (a few
    hundred of BERT's 30,522) instead of the whole vocabulary: the output
    matrix is the largest weight a step reads, and a step of a small batch
    costs about what reading its weights costs.
    """
    import torch

    predictions = getattr(getattr(model, "cls", None), "predictions", None)
    transform = getattr(predictions, "transform", None)
    decoder = getattr(predictions, "decoder", None)
    if not callable(transform) or not isinstance(decoder, torch.nn.Linear):
        return None
    return transform, decoder.weight, decoder.bias


def _allowed_scores(parts, hidden, menus):
    """Each row's allowed ids, sorted, and their logits: ``(ids, tensor)`` per row.

    Greedy search only ranks a row's allowed ids, so logits serve as well as
    log-probabilities (they differ by a constant per row).
    """
    import torch

    transform, weight, bias = parts
    union = sorted(set().union(*menus))
    ids = torch.tensor(union, dtype=torch.long, device=weight.device)
    logits = torch.nn.functional.linear(
        transform(hidden), weight[ids], None if bias is None else bias[ids]
    )
    logits = logits.float().cpu()
    column = {token: c for c, token in enumerate(union)}
    scored = []
    for row, menu in enumerate(menus):
        choices = sorted(set(menu))
        scored.append((choices, logits[row, [column[token] for token in choices]]))
    return scored


def cached_greedy_search(adapter, model, prompts, *, allowed=None, eos_token_id, budgets, device):
    """One-beam search with a key/value cache; the arguments of :func:`beam_search`.

    Returns
    -------
    list of list of int or None
        The ids :func:`beam_search` gives with ``num_beams=1``, or None when
        the model does not fill a key/value cache.
    """
    import torch

    from ._prefix_mask import attention_mask_for, prefix_attention_mask

    argument = _cache_argument(model)
    n = len(prompts)
    if argument is None or n == 0:
        return None if argument is None else []
    pad = model.config.pad_token_id
    pad = 0 if pad is None else int(pad)
    lengths = torch.tensor([len(p) for p in prompts], dtype=torch.long)
    width = int(lengths.max())
    input_ids = torch.full((n, width), pad, dtype=torch.long)
    for i, prompt in enumerate(prompts):
        input_ids[i, : len(prompt)] = torch.as_tensor(prompt, dtype=torch.long)
    real = torch.arange(width)[None, :] < lengths[:, None]
    source_mask = prefix_attention_mask(real.long(), lengths)
    positions = torch.arange(width)[None, :].expand(n, width) + adapter.position_offset
    cache = _new_cache(model.config)
    inputs = {
        "input_ids": input_ids.to(device),
        "attention_mask": attention_mask_for(model, source_mask.to(device)),
        "token_type_ids": torch.zeros_like(input_ids).to(device),
        "position_ids": positions.to(device),
        argument: cache,
    }
    rows = torch.arange(n)
    head = _lm_head(model)
    live = [budgets[i] > 0 for i in range(n)]
    # With a grammar and a BERT-like head, each step scores only the allowed ids.
    parts = _head_parts(model) if allowed is not None and head is not None else None
    scored = log_probs = None
    try:
        if head is None:
            last = model(**inputs).logits[rows, lengths - 1]
        else:
            # Only each source's last row predicts: the head runs on those rows alone.
            hidden = model.base_model(**inputs).last_hidden_state[rows, lengths - 1]
            if parts is None:
                last = head(hidden)
            else:
                menus = [allowed(i, ()) if live[i] else () for i in range(n)]
                scored = _allowed_scores(parts, hidden, menus)
    except TypeError:
        return None
    if cache.get_seq_length() != width:
        return None  # the attention layers ignored the cache
    if scored is None:
        log_probs = torch.log_softmax(last.float(), dim=-1).cpu()
    # Keys every later step may attend to: real source ids, then one generated id per step.
    keys = real.clone()
    generated = [() for _ in range(n)]
    # The sources the cache holds, in its row order. A finished row leaves the
    # cache (and the batch) at once: outputs of a batch differ in length (a
    # belief state of one domain or of three), and the cache's keys and
    # values are copied and attended to row by row at every step. A cache
    # that cannot drop rows keeps them, fed padding.
    rows_held = list(range(n))
    can_drop = hasattr(cache, "batch_select_indices")
    token_type = 1 if adapter.token_types else 0
    # Each row's aligned positions, resumed step by step rather than recomputed.
    walks = [None if adapter.aligner is None else adapter.aligner.walk(p) for p in prompts]
    for _ in range(max(budgets, default=0)):
        held = len(rows_held)
        next_ids = torch.full((held, 1), pad, dtype=torch.long)
        next_positions = torch.zeros((held, 1), dtype=torch.long)
        for row, i in enumerate(rows_held):
            if not live[i]:
                continue
            if scored is not None:
                choices, values = scored[row]
            elif allowed is not None:
                choices = sorted(set(allowed(i, generated[i])))
                values = log_probs[row][choices]
            else:
                choices, values = None, log_probs[row]
            token, ended = _next_id(values, eos_token_id, choices)
            generated[i] = generated[i] + (token,)
            if ended or len(generated[i]) >= budgets[i]:
                live[i] = False
                continue
            next_ids[row, 0] = token
            if walks[i] is not None:
                position = walks[i].positions(generated[i])[-1]
            else:
                position = len(prompts[i]) + len(generated[i]) - 1
            next_positions[row, 0] = position + adapter.position_offset
        kept = [row for row, i in enumerate(rows_held) if live[i]]
        if not kept:
            break
        if can_drop and len(kept) < held:
            index = torch.tensor(kept, dtype=torch.long)
            cache.batch_select_indices(index.to(device))
            keys, next_ids, next_positions = keys[index], next_ids[index], next_positions[index]
            rows_held = [rows_held[row] for row in kept]
        # A held row that is live was live at every earlier step: every
        # generated key is its own (a finished row kept is never read).
        keys = torch.cat([keys, torch.ones((len(rows_held), 1), dtype=torch.bool)], dim=1)
        step_mask = keys[:, None, None, :]
        step = {
            "input_ids": next_ids.to(device),
            "attention_mask": attention_mask_for(model, step_mask.to(device)),
            "token_type_ids": torch.full((len(rows_held), 1), token_type, dtype=torch.long).to(
                device
            ),
            "position_ids": next_positions.to(device),
            argument: cache,
        }
        if scored is not None:
            hidden = model.base_model(**step).last_hidden_state[:, -1]
            menus = [allowed(i, generated[i]) if live[i] else () for i in rows_held]
            scored = _allowed_scores(parts, hidden, menus)
        else:
            log_probs = torch.log_softmax(model(**step).logits[:, -1].float(), dim=-1).cpu()
    return [list(ids) for ids in generated]
