"""What a load hands out: the model, its tokenizer and its family's adapter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import transformers

    from ._adapter import ModelAdapter

__all__ = ["LoadedModel"]


@dataclass
class LoadedModel:
    """A freshly copied model and tokenizer, ready to be fine-tuned.

    Attributes
    ----------
    model : transformers.PreTrainedModel
        An independent copy of the base model on CPU, in float32 and in
        ``eval()`` mode (as ``from_pretrained`` returns it): training code
        must call ``model.train()``. Its config names its padding and end ids
        (and, for encoder-decoders, ``decoder_start_token_id``), so its
        adapter can train it and generate with it.
    tokenizer : transformers.PreTrainedTokenizerBase
        An independent copy of the tokenizer. Its decoding is configured not
        to glue punctuation to the previous word
        (``clean_up_tokenization_spaces=False`` and, for WordPiece, a decoder
        without cleanup), so ``[ ] | =`` come back as separate words. A causal
        LM's tokenizer without padding token pads with EOS.
    new_parameter_names : frozenset of str
        Names, as in ``model.named_parameters()``, of the parameters the
        checkpoint did not provide and that were initialized at load time
        (with ``cross_attention_init="self"`` the copied cross-attention
        parameters count as provided).
    name_or_path : str
        The name or path as the caller gave it (the alias for the default).
    revision : str or None
        The resolved commit hash when the Hub cache reports one, otherwise the
        requested revision.
    uncased : bool
        Whether the tokenizer lowercases its input; decoded text is then
        lowercase and must be compared with the input case-insensitively.
    kind : str
        The concrete kind: ``"seq2seq"``, ``"causal"``, ``"bert2bert"`` or
        ``"prefix-lm"``.
    adapter : ModelAdapter
        How this model family is trained and generates.
    """

    model: transformers.PreTrainedModel
    tokenizer: transformers.PreTrainedTokenizerBase
    new_parameter_names: frozenset[str]
    name_or_path: str
    revision: str | None
    uncased: bool
    kind: str = "seq2seq"
    adapter: ModelAdapter | None = None

    def encode_targets(self, texts, max_length=None):
        """Tokenize target texts into label ids, as the adapter does.

        Parameters
        ----------
        texts : list of str
            Target texts.
        max_length : int or None, default=None
            If given, longer label sequences keep their first ``max_length``
            ids and no EOS, as training cuts an over-long target.

        Returns
        -------
        list of list of int
            One list of label ids per text, ending with EOS unless it was cut.
        """
        return self.adapter.encode_targets(self.model, self.tokenizer, texts, max_length)

    def decode(self, sequences):
        """Decode generated or label ids into text, dropping special tokens.

        Parameters
        ----------
        sequences : list of list of int or torch.Tensor
            Token ids, one row per sequence; ``-100`` entries are ignored.

        Returns
        -------
        list of str
            Decoded texts, with words (including ``[ ] | =``) separated by
            single spaces.
        """
        rows = sequences.tolist() if hasattr(sequences, "tolist") else sequences
        rows = [[int(i) for i in row if int(i) >= 0] for row in rows]
        return self.tokenizer.batch_decode(
            rows, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
