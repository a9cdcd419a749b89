"""FishDipNER: named entity recognition by sparsely fine-tuned generation."""

from __future__ import annotations

from ..._base import BaseFishDip
from ..._docstrings import FITTED_DOC, PARAMETERS_DOC
from ...augmented._schemes import check_scheme, spans_to_tags
from ...models import DEFAULT_MODEL
from ._codec import NERCodec, resolve_overlaps
from ._io import CoNLLFiles
from ._metrics import entity_f1_score

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
    codec = NERCodec()
    files = CoNLLFiles()

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
        training_loss="auto",
        label_names=None,
        scheme="IOB2",
        device="auto",
        random_state=None,
        verbose=1,
        checkpoint_dir=None,
        autocast="auto",
        group_by_length=False,
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
            training_loss=training_loss,
            label_names=label_names,
            device=device,
            random_state=random_state,
            verbose=verbose,
            checkpoint_dir=checkpoint_dir,
            autocast=autocast,
            group_by_length=group_by_length,
        )
        self.scheme = scheme

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
