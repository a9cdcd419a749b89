"""FishDipNER: named entity recognition by sparsely fine-tuned generation."""

from __future__ import annotations

import warnings

from ..._base import FITTED_DOC, PARAMETERS_DOC, BaseFishDip
from ...augmented._entities import build_verbalizer
from ...augmented._ner import decode_ner_spans, encode_ner_spans, resolve_overlaps
from ...augmented._schemes import check_scheme, spans_to_tags, tags_to_spans
from ...metrics import entity_f1_score
from ...models import DEFAULT_MODEL

__all__ = ["FishDipNER"]


class FishDipNER(BaseFishDip):
    __doc__ = f"""Named entity recognizer trained by FISH-DIP sparse fine-tuning.

    Sentences and their tags are written as augmented text
    (``[ EU | organization ] rejects ...``), a pretrained seq2seq model learns
    to generate it while only a small, changing fraction of its parameters is
    trained, and predictions are read back into tags.

    Parameters
    ----------
    {PARAMETERS_DOC}
    scheme : {{"IOB2", "IOB1", "IOBES", "BILOU"}}, default="IOB2"
        Tagging scheme of ``y`` and of predictions, read strictly.

    Attributes
    ----------
    labels_ : list of str
        Entity types seen in training; no other type is ever predicted.
    {FITTED_DOC}

    Examples
    --------
    >>> from sklearn_fishdip import FishDipNER
    >>> X = [["EU", "rejects", "German", "call"]]
    >>> y = [["B-ORG", "O", "B-MISC", "O"]]
    >>> ner = FishDipNER(max_epochs=1, verbose=0).fit(X, y)  # doctest: +SKIP
    >>> ner.predict(X)  # doctest: +SKIP
    """

    task = "ner"

    def __init__(
        self,
        model=DEFAULT_MODEL,
        model_kind="auto",
        strategy="fish-dip",
        keep_ratio=0.01,
        refresh_every=100,
        optimizer="adafactor",
        learning_rate=None,
        weight_decay=0.0,
        lr_schedule="linear",
        max_epochs=20,
        batch_size=8,
        max_source_length=256,
        max_target_length=256,
        num_beams=1,
        constrained_decoding=True,
        label_names=None,
        scheme="IOB2",
        device="auto",
        random_state=None,
        verbose=1,
    ):
        super().__init__(
            model=model,
            model_kind=model_kind,
            strategy=strategy,
            keep_ratio=keep_ratio,
            refresh_every=refresh_every,
            optimizer=optimizer,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            max_epochs=max_epochs,
            batch_size=batch_size,
            max_source_length=max_source_length,
            max_target_length=max_target_length,
            num_beams=num_beams,
            constrained_decoding=constrained_decoding,
            label_names=label_names,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.scheme = scheme

    # Task hooks used by BaseFishDip --------------------------------------

    def _check_targets(self, X, y):
        scheme = check_scheme(self.scheme)
        spans = []
        for index, (tokens, tags) in enumerate(zip(X, y)):
            if isinstance(tags, str) or not hasattr(tags, "__len__"):
                raise TypeError(f"y[{index}] must be a list of tags, got {type(tags).__name__}")
            if len(tags) != len(tokens):
                raise ValueError(f"sentence {index} has {len(tokens)} tokens but {len(tags)} tags")
            try:
                spans.append(tags_to_spans(list(tags), scheme))
            except (TypeError, ValueError) as error:
                raise type(error)(f"y[{index}]: {error}") from None
        return spans

    def _fit_vocabulary(self, targets):
        self.labels_ = sorted({label for spans in targets for _, _, label in spans})
        if not self.labels_:
            warnings.warn(
                "y holds no entity: the model can only learn to tag nothing",
                UserWarning,
                stacklevel=3,
            )
        self.verbalizer_ = build_verbalizer(self.labels_, self.label_names)

    def _natural_vocabulary(self):
        return self.verbalizer_.natural_names, ()

    def _encode(self, tokens, spans):
        return encode_ner_spans(tokens, spans, self.verbalizer_)

    @staticmethod
    def _clip_target(spans, end):
        return [(start, min(stop, end), label) for start, stop, label in spans if start < end]

    def _decode(self, text, tokens):
        return decode_ner_spans(
            text, tokens, self.labels_, self.verbalizer_, ignore_case=self.uncased_
        )

    @staticmethod
    def _shift_prediction(spans, offset):
        return [(start + offset, end + offset, label) for start, end, label in spans]

    @staticmethod
    def _merge_predictions(parts):
        return [span for part in parts for span in part]

    # Public API -----------------------------------------------------------

    def predict_spans(self, X):
        """Predict entity spans, nested ones included.

        Parameters
        ----------
        X : list of list of str
            Sentences.

        Returns
        -------
        list of list of (int, int, str)
            Per sentence, sorted ``(start, end, type)`` spans, ``end`` exclusive.
        """
        return self._predict_targets(X)

    def predict(self, X):
        """Predict one tag per token.

        Parameters
        ----------
        X : list of list of str
            Sentences.

        Returns
        -------
        list of list of str
            Tags in ``scheme``; overlapping predicted entities are resolved
            outer first.
        """
        scheme = check_scheme(self.scheme)
        return [
            spans_to_tags(resolve_overlaps(spans), len(tokens), scheme)
            for tokens, spans in zip(X, self.predict_spans(X))
        ]

    def score(self, X, y):
        """Entity-level micro F1 (seqeval, strict mode with ``scheme``).

        Parameters
        ----------
        X : list of list of str
        y : list of list of str

        Returns
        -------
        float
        """
        return entity_f1_score(y, self.predict(X), scheme=self.scheme)
