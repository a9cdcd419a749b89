"""FishDipRelationExtractor: joint entity and relation extraction by sparse fine-tuning."""

from __future__ import annotations

from ..._base import FITTED_DOC, PARAMETERS_DOC, BaseFishDip
from ...augmented._entities import escape_tokens
from ...augmented._relations import _read, _split_label_names, _write, canonical_target
from ...metrics import relation_f1_score
from ...models import DEFAULT_MODEL
from ...utils._validation import check_relation_target

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

    # Task hooks used by BaseFishDip --------------------------------------

    def _check_targets(self, X, y):
        targets = []
        for index, (tokens, target) in enumerate(zip(X, y)):
            entities, relations = check_relation_target(target, len(tokens), index=index)
            targets.append(canonical_target({"entities": entities, "relations": relations}))
        return targets

    def _fit_vocabulary(self, targets):
        self.entity_types_ = sorted({e[2] for t in targets for e in t["entities"]})
        self.relation_types_ = sorted({r[2] for t in targets for r in t["relations"]})
        self.entity_verbalizer_, self.relation_verbalizer_ = _split_label_names(
            self.label_names, self.entity_types_, self.relation_types_
        )

    def _natural_vocabulary(self):
        return self.entity_verbalizer_.natural_names, self.relation_verbalizer_.natural_names

    def _encode(self, tokens, target):
        return _write(
            escape_tokens(tokens), target, self.entity_verbalizer_, self.relation_verbalizer_
        )

    @staticmethod
    def _clip_target(target, end):
        kept = [i for i, (start, _, _) in enumerate(target["entities"]) if start < end]
        new_index = {old: new for new, old in enumerate(kept)}
        entities = [
            (start, min(stop, end), label)
            for start, stop, label in (target["entities"][i] for i in kept)
        ]
        relations = [
            (new_index[head], new_index[tail], label)
            for head, tail, label in target["relations"]
            if head in new_index and tail in new_index
        ]
        return canonical_target({"entities": entities, "relations": relations})

    def _decode(self, text, tokens):
        return _read(
            text,
            escape_tokens(tokens),
            self.entity_verbalizer_,
            self.relation_verbalizer_,
            ignore_case=self.uncased_,
        )

    @staticmethod
    def _shift_prediction(target, offset):
        return {
            "entities": [(s + offset, e + offset, t) for s, e, t in target["entities"]],
            "relations": list(target["relations"]),
        }

    @staticmethod
    def _merge_predictions(parts):
        entities, relations = [], []
        for part in parts:
            offset = len(entities)
            entities.extend(part["entities"])
            relations.extend((h + offset, t + offset, r) for h, t, r in part["relations"])
        return canonical_target({"entities": entities, "relations": relations})

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
