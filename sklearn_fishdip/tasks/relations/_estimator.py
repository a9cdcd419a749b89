"""FishDipRelationExtractor: joint entity and relation extraction by sparse fine-tuning."""

from __future__ import annotations

from ..._base import BaseFishDip
from ..._docstrings import FITTED_DOC, PARAMETERS_DOC
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
