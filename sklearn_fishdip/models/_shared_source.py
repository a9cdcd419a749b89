"""Scoring many candidate targets after one source, sharing the source (prefix and causal LMs).

Ranking (:func:`sklearn_fishdip.generation.score_candidates`) asks how likely
each of a source's candidate targets is. Run as training runs it, every
``(source, candidate)`` pair is a full row: the source is encoded once per
candidate, and so are the target ids the candidates share (a relation
classifier's ``relationship between [ head ] and [ tail ] =`` before the
relation's name). Under the prefix-LM mask, as under a decoder-only LM's
causal one, neither depends on what follows it, so
:func:`shared_source_scores` computes them once per source, keeps their keys
and values, and feeds each candidate's own ids alone against that cache: the
work per candidate is its few distinguishing ids. The scores are those of
the full rows (same positions, token types and mask), up to floating-point
summation order.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._selected import SelectedLogits, head_parts, lm_head, select_logits

__all__ = ["shared_source_scores"]


@dataclass(frozen=True)
class _Scoring:
    """What every forward of one :func:`shared_source_scores` call needs."""

    adapter: object
    model: object
    head: object  # the LM head run on the scored rows, or None (the model's logits)
    cache_argument: str  # the keyword the stack takes its cache under
    target_type: int | None  # token type of target ids; None passes none
    bidirectional_source: bool
    device: object
    pad_token_id: int


def common_prefix_length(candidates):
    """Ids every candidate starts with, leaving each at least one of its own to predict."""
    shortest = min(len(ids) for ids in candidates)
    length = 0
    while length < shortest - 1 and all(ids[length] == candidates[0][length] for ids in candidates):
        length += 1
    return length


def _target_positions(adapter, prompt, target):
    """The position ids the adapter's ``collate`` gives ``target`` after ``prompt``.

    A prefix LM says (:meth:`PrefixLMAdapter.target_positions`); a causal LM
    numbers its rows from 0.
    """
    if hasattr(adapter, "target_positions"):
        return adapter.target_positions(prompt, target)
    return list(range(len(prompt), len(prompt) + len(target)))


def _offset(adapter):
    """Positions the model's embeddings reserve before the first id (RoBERTa's)."""
    return getattr(adapter, "position_offset", 0)


def _layers(cache):
    """Each layer's ``(keys, values)`` of a filled ``DynamicCache``."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache))  # transformers < 4.56


def _expanded_cache(config, layers, index):
    """A new cache whose row ``r`` holds row ``index[r]`` of the shared ``layers``."""
    from ._prefix_search import _new_cache

    cache = _new_cache(config)
    for layer, (keys, values) in enumerate(layers):
        cache.update(keys.index_select(0, index), values.index_select(0, index), layer)
    return cache


def _states(model, head, inputs, rows, columns):
    """What the LM head reads at ``(rows, columns)`` of one forward (logits when it is unknown)."""
    if head is None:
        return model(**inputs).logits[rows, columns]
    return model.base_model(**inputs).last_hidden_state[rows, columns]


def _log_likelihoods(head, states, labels, menus):
    """Log-likelihood of each label after its row of ``states``, as the training loss scores it.

    ``states`` are the head's inputs, or logits where ``head`` is None.
    ``menus`` None: a softmax over the whole vocabulary. Otherwise
    ``menus[j]`` holds the ids the grammar allows at row ``j`` (the label
    among them) and the softmax runs over those (:class:`SelectedLogits`,
    one row per position), so a head that splits runs its output layer on
    those ids only.
    """
    import torch

    ids = mask = None
    if menus is not None:
        width = max(len(menu) for menu in menus)
        ids = torch.zeros((len(menus), 1, width), dtype=torch.long)
        mask = torch.zeros((len(menus), 1, width), dtype=torch.bool)
        for j, menu in enumerate(menus):
            ids[j, 0, : len(menu)] = torch.as_tensor(menu, dtype=torch.long)
            mask[j, 0, : len(menu)] = True
        ids, mask = ids.to(states.device), mask.to(states.device)
    labels = labels.to(states.device)[:, None]
    parts = None if head is None else head_parts(head)
    if parts is not None:
        selected = select_logits(parts, states[:, None], labels, ids, mask)
    else:
        logits = states if head is None else head(states)
        selected = SelectedLogits.from_logits(logits[:, None], labels, ids, mask)
    return -selected.cross_entropy()


def shared_source_scores(
    adapter,
    model,
    prompts,
    candidates,
    choices=None,
    *,
    device,
    pad_token_id,
    max_pairs=64,
    target_type=None,
    bidirectional_source=False,
):
    """Summed log-likelihood of each candidate target after its source.

    Parameters
    ----------
    adapter : PrefixLMAdapter or CausalLMAdapter
        Its ``aligner`` and ``position_offset``, where it has them, place the
        target ids as its ``collate`` does.
    model : transformers.PreTrainedModel
        In eval mode on ``device``; called under the caller's inference mode.
    prompts : list of list of int
        Each source's ids (``[CLS] source [SEP]``).
    candidates : list of list of list of int
        Per source, its candidate targets' ids (each ending with EOS); every
        source has as many.
    choices : list or None, default=None
        None scores each id over the whole vocabulary. Otherwise, per source,
        per candidate, one tuple per target id: the ids the softmax of that
        position runs over (:func:`~sklearn_fishdip.generation.candidate_choices`,
        the ``"grammar"`` loss).
    device : torch.device
    pad_token_id : int
    max_pairs : int, default=64
        ``(source, candidate)`` pairs fed per forward of the candidates' ids.
    target_type : int or None, default=None
        The token type of target ids; None passes no token types (a causal
        LM's rows have none).
    bidirectional_source : bool, default=False
        The source attends to itself both ways (a prefix LM); else causally.

    Returns
    -------
    Tensor of shape (n_sources, n_candidates) or None
        float64 sums; None when the model's attention does not fill a
        key/value cache (the caller then scores full rows).
    """
    import torch

    from ._prefix_search import _cache_argument

    argument = _cache_argument(model)
    if argument is None:
        return None
    n_candidates = len(candidates[0]) if candidates else 0
    scores = torch.zeros((len(prompts), n_candidates), dtype=torch.float64)
    run = _Scoring(
        adapter=adapter,
        model=model,
        head=lm_head(model),
        cache_argument=argument,
        target_type=target_type,
        bidirectional_source=bidirectional_source,
        device=device,
        pad_token_id=pad_token_id,
    )
    for chunk, groups in source_chunks(len(prompts), n_candidates, max_pairs):
        shared = _shared_pass(run, prompts, candidates, chunk)
        if shared is None:
            return None
        layers, keys, states, labels, rows, plans = shared
        for group in groups:
            own = _own_pass(run, layers, keys, plans, group, chunk_start=chunk.start)
            if own is not None:
                states = torch.cat([states, own[0]])
                labels = torch.cat([labels, own[1]])
                rows = rows + own[2]
        menus = None
        if choices is not None:
            menus = [choices[i][0 if k is None else k][position] for i, k, position in rows]
        values = _log_likelihoods(run.head, states, labels, menus).double().cpu()
        for value, (i, k, _) in zip(values.tolist(), rows):
            if k is None:  # a shared id: every candidate of the source has it
                scores[i] += value
            else:
                scores[i, k] += value
    return scores


def _shared_pass(run, prompts, candidates, chunk):
    """Encode each source of ``chunk`` with its candidates' shared ids into a cache.

    Returns the cache's layers, which of its keys are real, the head's
    inputs and the labels of the shared rows with their ``(source,
    candidate, position)``, and per source the plan of its candidates' own
    ids; None when the model ignored the cache.
    """
    import torch

    adapter, model, device, target_type = run.adapter, run.model, run.device, run.target_type

    from ._prefix_mask import attention_mask_for, prefix_attention_mask
    from ._prefix_search import _new_cache

    plans, rows_in, labels, rows = [], [], [], []
    for r, i in enumerate(chunk):
        prompt, targets = prompts[i], candidates[i]
        shared = common_prefix_length(targets)
        positions = [_target_positions(adapter, prompt, ids) for ids in targets]
        plans.append((prompt, targets, shared, positions))
        last = len(prompt) - 1
        # The shared ids are predicted once; every candidate gets their score.
        for j in range(shared):
            rows_in.append((r, last + j))
            labels.append(targets[0][j])
            rows.append((i, None, j))
        # The row after them predicts each candidate's first own id.
        for k, ids in enumerate(targets):
            rows_in.append((r, last + shared))
            labels.append(ids[shared])
            rows.append((i, k, shared))
    n = len(plans)
    lengths = torch.tensor([len(p) + s for p, _, s, _ in plans], dtype=torch.long)
    width = int(lengths.max())
    input_ids = torch.full((n, width), run.pad_token_id, dtype=torch.long)
    token_types = torch.zeros((n, width), dtype=torch.long)
    position_ids = torch.zeros((n, width), dtype=torch.long)
    for r, (prompt, targets, shared, positions) in enumerate(plans):
        ids = list(prompt) + list(targets[0][:shared])
        input_ids[r, : len(ids)] = torch.as_tensor(ids, dtype=torch.long)
        if target_type is not None:
            token_types[r, len(prompt) : len(ids)] = target_type
        place = list(range(len(prompt))) + positions[0][:shared]
        position_ids[r, : len(ids)] = torch.as_tensor(place, dtype=torch.long)
    real = torch.arange(width)[None, :] < lengths[:, None]
    sources = torch.tensor([len(p) for p, _, _, _ in plans], dtype=torch.long)
    # A source of one id attends as the causal mask has it: to itself alone.
    mask = prefix_attention_mask(
        real.long(), sources if run.bidirectional_source else sources.clamp(max=1)
    )
    cache = _new_cache(model.config)
    inputs = {
        "input_ids": input_ids.to(device),
        "attention_mask": attention_mask_for(model, mask.to(device)),
        "position_ids": (position_ids + _offset(adapter)).to(device),
        run.cache_argument: cache,
    }
    if target_type is not None:
        inputs["token_type_ids"] = token_types.to(device)
    which = torch.tensor([r for r, _ in rows_in], dtype=torch.long)
    column = torch.tensor([c for _, c in rows_in], dtype=torch.long)
    try:
        states = _states(model, run.head, inputs, which.to(device), column.to(device))
    except TypeError:
        return None
    if cache.get_seq_length() != width:
        return None  # the attention layers ignored the cache
    return (
        _layers(cache),
        real,
        states,
        torch.tensor(labels, dtype=torch.long),
        rows,
        plans,
    )


def source_chunks(n_sources, n_candidates, max_pairs):
    """Sources in chunks of about ``max_pairs`` pairs, each with its pairs in such groups.

    Yields ``(range of sources, list of lists of (source, candidate))``: a
    source with more candidates than ``max_pairs`` is a chunk of its own,
    its pairs split over several groups.
    """
    max_pairs = max(1, max_pairs)
    per_chunk = max(1, max_pairs // max(n_candidates, 1))
    for start in range(0, n_sources, per_chunk):
        chunk = range(start, min(start + per_chunk, n_sources))
        pairs = [(i, k) for i in chunk for k in range(n_candidates)]
        yield chunk, [pairs[s : s + max_pairs] for s in range(0, len(pairs), max_pairs)]


def _own_pass(run, layers, keys, plans, group, *, chunk_start):
    """The head's inputs at each candidate's own ids after the shared cache (None if none has any).

    A candidate's own ids are those after the shared ones; all but its last
    are fed (the last, EOS, is only predicted), each predicting the next.
    """
    import torch

    from ._prefix_mask import attention_mask_for

    adapter, model, device, target_type = run.adapter, run.model, run.device, run.target_type
    fed = []
    for i, k in group:
        prompt, targets, shared, positions = plans[i - chunk_start]
        ids = targets[k]
        fed.append((i, k, ids[shared:-1], positions[k][shared:-1], ids[shared + 1 :], shared))
    length = max(len(inputs) for _, _, inputs, _, _, _ in fed)
    if length == 0:
        return None
    n = len(fed)
    input_ids = torch.full((n, length), run.pad_token_id, dtype=torch.long)
    position_ids = torch.zeros((n, length), dtype=torch.long)
    own = torch.zeros((n, length), dtype=torch.bool)
    rows_in, labels, rows = [], [], []
    for r, (i, k, inputs, places, targets, shared) in enumerate(fed):
        if not inputs:
            continue
        input_ids[r, : len(inputs)] = torch.as_tensor(inputs, dtype=torch.long)
        position_ids[r, : len(inputs)] = torch.as_tensor(places, dtype=torch.long)
        own[r, : len(inputs)] = True
        for t, label in enumerate(targets):
            rows_in.append((r, t))
            labels.append(label)
            rows.append((i, k, shared + 1 + t))
    source_rows = torch.tensor([i - chunk_start for i, _, _, _, _, _ in fed], dtype=torch.long)
    cached = keys.index_select(0, source_rows)  # (n, width): the shared keys each row sees
    causal = torch.ones((length, length), dtype=torch.bool).tril()
    allowed_own = causal[None] & own[:, None, :] & own[:, :, None]
    # A padding query attends to itself, so that no softmax row is empty.
    allowed_own = allowed_own | torch.eye(length, dtype=torch.bool)[None]
    allowed = torch.cat([cached[:, None, :].expand(n, length, -1), allowed_own], dim=2)
    cache = _expanded_cache(model.config, layers, source_rows.to(layers[0][0].device))
    inputs = {
        "input_ids": input_ids.to(device),
        "attention_mask": attention_mask_for(model, allowed[:, None].to(device)),
        "position_ids": (position_ids + _offset(adapter)).to(device),
        run.cache_argument: cache,
    }
    if target_type is not None:
        inputs["token_type_ids"] = torch.full((n, length), target_type, dtype=torch.long).to(device)
    which = torch.tensor([r for r, _ in rows_in], dtype=torch.long)
    column = torch.tensor([c for _, c in rows_in], dtype=torch.long)
    states = _states(model, run.head, inputs, which.to(device), column.to(device))
    return states, torch.tensor(labels, dtype=torch.long), rows
