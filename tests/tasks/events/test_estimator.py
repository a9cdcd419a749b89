"""FishDipEventExtractor on a tiny offline T5: fit, predict, persist, refuse bad input.

It also covers, for this task whose targets are event records, the
properties that tests/test_properties.py checks for the sentence taggers.
"""

import pickle

import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sklearn_fishdip import FishDipEventExtractor, all_estimators
from sklearn_fishdip.persistence import load_estimator
from sklearn_fishdip.tasks.events import check_events

from ...estimator_fixtures import fast_params, global_rng_untouched  # noqa: F401

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

X = [
    s.split() for s in ("john met mary", "paul visited paris", "anna met smith", "he visited rome")
]
Y = [
    [{"trigger": (1, 2, "Meet"), "arguments": [(0, 1, "Agent"), (2, 3, "Other")]}],
    [{"trigger": (1, 2, "Visit"), "arguments": [(0, 1, "Agent"), (2, 3, "Place")]}],
] * 2
# The tiny tokenizer knows few words: types, roles and the stage-2 mark use some of them.
NAMES = {
    "Meet": "works",
    "Visit": "lives",
    "Agent": "person",
    "Other": "date",
    "Place": "location",
    "__argument__": "organization",
}


@pytest.fixture(scope="module")
def fitted(tiny_t5_path):
    return FishDipEventExtractor(**fast_params(tiny_t5_path, label_names=NAMES)).fit(X, Y)


def test_is_registered():
    assert dict(all_estimators())["events"] is FishDipEventExtractor


def test_fitted_attributes_and_learned_schema(fitted):
    assert fitted.event_types_ == ["Meet", "Visit"]
    assert fitted.roles_ == ["Agent", "Other", "Place"]
    assert fitted.schema_ == {"Meet": ["Agent", "Other"], "Visit": ["Agent", "Place"]}


def test_answers_are_well_formed_records_within_the_schema(fitted):
    predicted = fitted.predict(X)
    assert len(predicted) == len(X)
    check_events(X, predicted, fitted.schema_)  # well formed, in the sentence, no overlaps
    for events in predicted:
        for event in events:
            assert event["trigger"][2] in fitted.event_types_
            allowed = fitted.schema_[event["trigger"][2]]
            assert all(role in allowed for _, _, role in event["arguments"])
    assert fitted.decode_errors_.n_sentences >= len(X)
    assert 0.0 <= fitted.score(X, Y) <= 1.0


def test_empty_sentence_gets_no_events(fitted):
    assert fitted.predict([[], X[0]])[0] == []


def test_given_schema_is_used_and_enforced(tiny_t5_path):
    schema = {"Meet": ["Agent", "Other"], "Visit": ["Agent", "Place", "Time"]}
    estimator = FishDipEventExtractor(schema=schema, **fast_params(tiny_t5_path, label_names=NAMES))
    estimator.fit(X, Y)
    assert estimator.schema_ == {k: sorted(v) for k, v in schema.items()}
    with pytest.raises(ValueError, match=r"y\[1\] event 0: the role 'Agent' is not allowed"):
        clone(estimator).set_params(schema={"Meet": ["Agent", "Other"], "Visit": ["Place"]}).fit(
            X, Y
        )
    bad = [[{"trigger": (1, 2, "Meet"), "arguments": [(0, 1, "Place")]}]]
    with pytest.raises(ValueError, match=r"y\[0\] event 0: the role 'Place'"):
        estimator.score(X[:1], bad)


def test_same_random_state_same_result_and_clone(fitted):
    second = clone(fitted).fit(X, Y)
    assert clone(fitted).get_params() == fitted.get_params()
    assert fitted.history_ == second.history_
    assert fitted.predict(X) == second.predict(X)


def test_grid_search(tiny_t5_path):
    params = fast_params(tiny_t5_path, label_names=NAMES, max_epochs=1)
    search = GridSearchCV(FishDipEventExtractor(**params), {"keep_ratio": [0.05, 0.1]}, cv=2)
    search.fit(X, Y)
    assert search.best_params_["keep_ratio"] in (0.05, 0.1)


def test_persistence_round_trip(fitted, tmp_path):
    fitted.save(tmp_path / "events")
    loaded = load_estimator(tmp_path / "events")
    assert type(loaded) is FishDipEventExtractor
    assert loaded.schema_ == fitted.schema_
    assert loaded.predict(X) == fitted.predict(X)
    assert pickle.loads(pickle.dumps(fitted)).predict(X) == fitted.predict(X)


@pytest.mark.parametrize(
    "bad_X, bad_y, error, message",
    [
        (X[:1], [[{"trigger": (1, 5, "Meet"), "arguments": []}]], ValueError, r"y\[0\] event 0"),
        (
            X[:2],
            [[], [{"trigger": (1, 2, "Meet"), "arguments": [(2, 7, "Agent")]}]],
            ValueError,
            r"y\[1\] event 0: the argument",
        ),
        (X[:1], [[("1", 2, "Meet")]], TypeError, r"y\[0\] event 0 must be a dict"),
        (X[:1], [], ValueError, "1 sentences"),
        (["john met mary"], [[]], TypeError, "sentence 0"),
    ],
)
def test_bad_training_data_is_refused_clearly(tiny_t5_path, bad_X, bad_y, error, message):
    with pytest.raises(error, match=message):
        FishDipEventExtractor(**fast_params(tiny_t5_path)).fit(bad_X, bad_y)


def test_bad_predict_input_is_refused_clearly(fitted):
    with pytest.raises(TypeError, match="sentence 1"):
        fitted.predict([X[0], "not tokens"])


def test_a_prefix_lm_aligns_both_stages_past_the_task_prefix(tmp_path):
    from types import SimpleNamespace

    from sklearn_fishdip.utils._testing import make_tiny_bert

    model, tokenizer = make_tiny_bert()
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    params = fast_params(str(tmp_path), model_kind="prefix-lm", label_names=NAMES)
    estimator = FishDipEventExtractor(**params).fit(X, Y)
    adapter = estimator._model_adapter()
    loaded = SimpleNamespace(
        model=estimator.model_, tokenizer=estimator.tokenizer_, adapter=adapter
    )
    staged, targets = estimator._stages(estimator._check_inputs(X[:1]), check_events(X[:1], Y[:1]))
    assert len(staged) == 2  # the trigger stage, then one argument stage
    for x, target in zip(staged, targets):
        source, text, _, _ = estimator._training_texts(loaded, x, target)
        source_ids = adapter.encode_sources(estimator.model_, estimator.tokenizer_, [source])[0]
        target_ids = adapter.encode_targets(estimator.model_, estimator.tokenizer_, [text])[0]
        positions = adapter.aligner.positions(source_ids, target_ids)
        # Each of the sentence's three words is copied at its own source position,
        # after the task prefix (not all at the start, as before the prefix was known).
        word_ids = estimator.tokenizer_.convert_tokens_to_ids(X[0])
        copied = {position for position, id_ in zip(positions, target_ids) if id_ in word_ids}
        assert len(copied) == 3 and min(copied) > 1, (source, text, positions)
    # Both stages predict well-formed events.
    check_events(X, estimator.predict(X))
