"""FishDipRelationExtractor specifics, on a tiny offline T5."""

import pytest

from sklearn_fishdip import FishDipRelationExtractor
from sklearn_fishdip.metrics import relation_precision_recall_f1
from tests.estimator_fixtures import RE_X, RE_Y, fast_params


@pytest.mark.parametrize(
    "y, error, message",
    [
        ([{"entities": [(0, 9, "Peop")]}] + RE_Y[1:], ValueError, "outside the sentence"),
        (
            [{"entities": [(0, 1, "Peop")], "relations": [(0, 5, "Kill")]}] + RE_Y[1:],
            ValueError,
            "relation 0 of sentence 0 .* out of range",
        ),
        ([[(0, 1, "Peop")]] + RE_Y[1:], TypeError, "must be a dict"),
        (RE_Y[:2], ValueError, "4 sentences but 2 targets"),
    ],
)
def test_bad_targets_are_refused_clearly(tiny_t5_path, y, error, message):
    with pytest.raises(error, match=message):
        FishDipRelationExtractor(**fast_params(tiny_t5_path)).fit(RE_X, y)


def test_vocabularies_and_label_names(tiny_t5_path):
    estimator = FishDipRelationExtractor(
        **fast_params(tiny_t5_path, label_names={"Work_For": "employed by", "Peop": "human"})
    )
    estimator.fit(RE_X, RE_Y)
    assert estimator.entity_types_ == ["Loc", "Org", "Peop"]
    assert estimator.relation_types_ == ["Live_In", "OrgBased_In", "Work_For"]
    assert estimator.relation_verbalizer_.verbalize("Work_For") == "employed by"
    assert estimator.entity_verbalizer_.verbalize("Peop") == "human"
    # score is the strict relation F1 of its own predictions.
    expected = relation_precision_recall_f1(RE_Y, estimator.predict(RE_X))[2]
    assert estimator.score(RE_X, RE_Y) == pytest.approx(expected)


def test_long_sentences_are_windowed_and_merged(tiny_t5_path):
    estimator = FishDipRelationExtractor(**fast_params(tiny_t5_path, max_source_length=8))
    long_sentence = "Mary joined Google in London and Paul met Anna in Rome".split()
    target = {
        "entities": [(0, 1, "Peop"), (2, 3, "Org"), (10, 11, "Loc")],
        "relations": [(0, 1, "Work_For"), (1, 2, "OrgBased_In")],
    }
    with pytest.warns(UserWarning, match="training sentences are longer"):
        estimator.fit(RE_X + [long_sentence], RE_Y + [target])
    with pytest.warns(UserWarning, match="consecutive windows"):
        prediction = estimator.predict([long_sentence])[0]
    n = len(prediction["entities"])
    assert all(0 <= s < e <= len(long_sentence) for s, e, _ in prediction["entities"])
    assert all(0 <= h < n and 0 <= t < n for h, t, _ in prediction["relations"])
    assert prediction["entities"] == sorted(prediction["entities"])


def test_clip_target_keeps_relations_inside_the_window():
    target = {
        "entities": [(0, 1, "Peop"), (2, 4, "Org"), (6, 7, "Loc")],
        "relations": [(0, 1, "Work_For"), (1, 2, "OrgBased_In")],
    }
    assert FishDipRelationExtractor.codec.clip_target(target, 3) == {
        "entities": [(0, 1, "Peop"), (2, 3, "Org")],
        "relations": [(0, 1, "Work_For")],
    }
