"""FishDipRelationExtractor: joint entity and relation extraction by sparse fine-tuning."""

from __future__ import annotations

from ..._base import BaseFishDip
from ..._docstrings import FITTED_DOC, PARAMETERS_DOC
from ...models import DEFAULT_MODEL
from ._codec import RelationsCodec
from ._io import CoNLL04Files
from ._metrics import relation_f1_score

__all__ = ["FishDipRelationExtractor"]


class FishDipRelationExtractor(BaseFishDip):
    __doc__ = f"""Joint entity and relation extractor trained by FISH-DIP sparse fine-tuning.

    Targets are ``{{"entities": [(start, end, type), ...], "relations":
    [(head, tail, type), ...]}}`` with ``end`` exclusive and ``head``/``tail``
    indexing ``entities``. They are written as augmented text with relations
    on the head entity
    (``[ Smith | person | works for = Acme ] joined [ Acme | organization ]``).

    Parameters
    ----------
    {PARAMETERS_DOC}

    Attributes
    ----------
    entity_types_ : list of str
        Entity types seen in training.
    relation_types_ : list of str
        Relation types seen in training.
    {FITTED_DOC}
    """

    task = "relations"
    codec = RelationsCodec()
    files = CoNLL04Files()

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
            training_loss=training_loss,
            label_names=label_names,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )

    # Public API -----------------------------------------------------------

    def predict(self, X):
        """Predict entities and relations.

        Parameters
        ----------
        X : list of list of str
            Sentences.

        Returns
        -------
        list of dict
            ``{"entities": [...], "relations": [...]}`` per sentence, in
            canonical order; only types seen in training appear.
        """
        return self._predict_targets(X)

    def score(self, X, y):
        """Strict relation micro F1 (relation type and both entities' spans and types).

        Parameters
        ----------
        X : list of list of str
        y : list of dict

        Returns
        -------
        float
        """
        return relation_f1_score(y, self.predict(X))
