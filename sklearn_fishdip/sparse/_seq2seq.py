"""Seq2seq batch plumbing: datasets of tokenized examples, padding, per-sample loss.

Every part of the engine (training, loss ranking, importance) builds batches and
per-sample losses here, so that they all agree on padding and on the loss.
"""

import torch
import torch.nn.functional as F

#: Label value ignored by the loss, as in Hugging Face models.
IGNORE_INDEX = -100


def check_seq2seq_model(model):
    """Raise a ValueError unless ``model`` is a Hugging Face encoder-decoder.

    Parameters
    ----------
    model : object
        The candidate model.
    """
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


def resolve_pad_token_id(model, pad_token_id=None):
    """Return ``pad_token_id`` or, if None, the model config's (0 if unset)."""
    if pad_token_id is not None:
        return int(pad_token_id)
    value = getattr(model.config, "pad_token_id", None)
    return 0 if value is None else int(value)


class Seq2SeqDataset(torch.utils.data.Dataset):
    """Tokenized examples; item ``i`` is ``(example, i)``.

    Parameters
    ----------
    examples : sequence of dict
        Each has ``"input_ids"`` and ``"labels"``, sequences of token ids.

    Notes
    -----
    The index travels with the example as the skorch target, so a training step
    knows which samples its per-sample losses belong to.
    """

    def __init__(self, examples):
        self.examples = examples

    def __len__(self):
        return len(self.examples)

    def __getitem__(self, i):
        return self.examples[i], i


def pad_examples(examples, pad_token_id):
    """Right-pad tokenized examples into a batch dict of tensors.

    Parameters
    ----------
    examples : sequence of dict
        Each has ``"input_ids"`` and ``"labels"``.
    pad_token_id : int
        Padding id of the inputs; labels are padded with -100.

    Returns
    -------
    batch : dict
        ``input_ids``, ``attention_mask`` and ``labels``, int64 tensors.
    """
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


class Seq2SeqCollator:
    """Collate ``(example, index)`` items into ``(batch, indices)``.

    Parameters
    ----------
    pad_token_id : int
        Padding id of the inputs.
    """

    def __init__(self, pad_token_id):
        self.pad_token_id = pad_token_id

    def __call__(self, items):
        examples, indices = zip(*items)
        return (
            pad_examples(examples, self.pad_token_id),
            torch.as_tensor(indices, dtype=torch.long),
        )


def iter_chunks(examples, batch_size, pad_token_id, device):
    """Yield padded batches of consecutive examples, on ``device``."""
    for start in range(0, len(examples), batch_size):
        batch = pad_examples(examples[start : start + batch_size], pad_token_id)
        yield {key: value.to(device) for key, value in batch.items()}


def seq2seq_logits(model, batch):
    """Teacher-forced logits of a seq2seq model for a padded batch.

    The decoder inputs are derived from the labels by the model itself, and the
    labels are not passed on, so the model does not compute a loss we discard.
    """
    decoder_input_ids = model.prepare_decoder_input_ids_from_labels(labels=batch["labels"])
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        decoder_input_ids=decoder_input_ids,
        use_cache=False,
    )
    return out.logits


def token_losses(logits, labels):
    """Per-sample mean token cross-entropy and the batch token-mean loss.

    Parameters
    ----------
    logits : Tensor of shape (batch, target_length, vocab)
    labels : Tensor of shape (batch, target_length)
        Padded with -100.

    Returns
    -------
    per_sample : Tensor of shape (batch,)
        Mean cross-entropy over each sample's non-padding target tokens, in fp32.
    batch_loss : Tensor
        Mean over all non-padding target tokens of the batch (the usual loss).
    """
    ce = F.cross_entropy(
        logits.float().transpose(1, 2), labels, ignore_index=IGNORE_INDEX, reduction="none"
    )
    counts = (labels != IGNORE_INDEX).sum(dim=1)
    per_sample = ce.sum(dim=1) / counts.clamp(min=1)
    return per_sample, ce.sum() / counts.sum().clamp(min=1)
