"""FishDipSRL on tiny offline models: fit, predict, persist, refuse bad input.

It also covers, for this task whose inputs are not token lists, the
properties that tests/test_properties.py checks for the sentence taggers: one
well-formed answer per example, none covering its predicate, and refused
input raising a clear error naming the example.
"""

import pickle
import warnings

import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks

from sklearn_fishdip import FishDipSRL, all_estimators
from sklearn_fishdip.persistence import load_estimator
from sklearn_fishdip.tasks.srl import srl_spans_to_tags

from ...estimator_fixtures import fast_params, global_rng_untouched  # noqa: F401
from ...test_base import DATA_FREE_CHECKS

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

# The verb is always the second word, its doer the first and its object the third.
X = [
    (sentence.split(), 1)
    for sentence in (
        "John visited Paris",
        "Mary met Anna",
        "Paul joined Google",
        "Anna visited Rome",
        "Smith founded Acme",
        "they met John",
    )
]
Y = [[(0, 1, "ARG0"), (2, 3, "ARG1")]] * len(X)
# The tiny tokenizer knows few words: the labels are named with some of them.
NAMES = {"ARG0": "person", "ARG1": "location", "ARGM-TMP": "date"}
LEARNS = dict(max_epochs=30, keep_ratio=0.2, learning_rate=0.1, batch_size=3, label_names=NAMES)


@pytest.fixture(scope="module")
def fitted(tiny_bert_path):
    # The prefix LM: its aligned target positions must step over the source's
    # predicate brackets, or the copy stalls at the predicate.
    params = fast_params(tiny_bert_path, model_kind="prefix-lm", **LEARNS)
    return FishDipSRL(**params).fit(X, Y)


def test_is_registered():
    assert dict(all_estimators())["srl"] is FishDipSRL


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_sklearn_data_free_checks(check):
    getattr(estimator_checks, check)("FishDipSRL", FishDipSRL())


def test_learns_a_trivial_problem_with_a_prefix_lm(fitted):
    assert fitted.labels_ == ["ARG0", "ARG1"]
    assert fitted.training_loss_ == "grammar"
    assert fitted.target_form_ == "spans"
    assert fitted.predict(X) == Y
    assert fitted.score(X, Y) == 1.0


def test_learns_a_trivial_problem_with_t5(tiny_t5_path):
    params = fast_params(tiny_t5_path, **{**LEARNS, "max_epochs": 40})
    estimator = FishDipSRL(**params).fit(X, Y)
    assert estimator.training_loss_ == "full"
    assert estimator.score(X, Y) == 1.0


def test_answers_are_arguments_that_never_cover_the_predicate(tiny_t5_path):
    estimator = FishDipSRL(**fast_params(tiny_t5_path, label_names=NAMES)).fit(X, Y)
    for (tokens, predicate), spans in zip(X, estimator.predict_spans(X)):
        srl_spans_to_tags(len(tokens), spans)  # well formed, no overlap
        assert all(not start <= predicate < end for start, end, _ in spans)
        assert {label for _, _, label in spans} <= set(estimator.labels_)


def test_tags_in_tags_out(tiny_t5_path):
    tags = [srl_spans_to_tags(len(tokens), spans) for (tokens, _), spans in zip(X, Y)]
    estimator = FishDipSRL(**fast_params(tiny_t5_path, label_names=NAMES)).fit(X, tags)
    assert estimator.target_form_ == "tags"
    predicted = estimator.predict(X)
    assert [len(p) for p in predicted] == [len(tokens) for tokens, _ in X]
    assert all(set(p) <= {"O", "B-ARG0", "I-ARG0", "B-ARG1", "I-ARG1"} for p in predicted)
    assert 0.0 <= estimator.score(X, tags) <= 1.0


def test_same_random_state_same_result_and_clone(tiny_t5_path):
    params = fast_params(tiny_t5_path, label_names=NAMES)
    first = FishDipSRL(**params).fit(X, Y)
    second = clone(first).fit(X, Y)
    assert clone(first).get_params() == first.get_params()
    assert first.history_ == second.history_
    assert first.predict(X) == second.predict(X)


def test_persistence_round_trip(tiny_t5_path, tmp_path):
    estimator = FishDipSRL(**fast_params(tiny_t5_path, label_names=NAMES)).fit(X, Y)
    estimator.save(tmp_path / "srl")
    loaded = load_estimator(tmp_path / "srl")
    assert type(loaded) is FishDipSRL
    assert loaded.target_form_ == "spans" and loaded.labels_ == estimator.labels_
    assert loaded.predict(X) == estimator.predict(X)
    assert pickle.loads(pickle.dumps(estimator)).predict(X) == estimator.predict(X)


def test_a_long_sentence_keeps_the_window_of_its_predicate(tiny_t5_path):
    words = "he met john in paris and she met anna in rome today".split()
    long_X = [(words, 9)]  # the predicate "in" near the end
    long_Y = [[(8, 9, "ARG0"), (10, 11, "ARG1")]]
    params = fast_params(tiny_t5_path, label_names=NAMES, max_source_length=8)
    with pytest.warns(UserWarning, match="truncated"):
        estimator = FishDipSRL(**params).fit(long_X, long_Y)
    with pytest.warns(UserWarning, match="only the window around each one's predicate"):
        spans = estimator.predict_spans(long_X)[0]
    window = estimator._input_windows(
        estimator.tokenizer_, FishDipSRL()._check_inputs(long_X)[0], words, estimator.model_, None
    )
    ((start, end),) = window
    assert start <= 9 < end and (start, end) != (0, len(words))
    assert all(start <= s and e <= end for s, e, _ in spans)


@pytest.mark.parametrize(
    "bad_X, bad_y, error, message",
    [
        ([(["John", "ran"], 2)], [[]], ValueError, r"X\[0\]: the predicate index 2 is outside"),
        (
            [X[0], (["John", "ran", "home"], 1)],
            [Y[0], [(0, 2, "ARG0")]],
            ValueError,
            r"y\[1\]: the argument span \(0, 2, 'ARG0'\) covers the predicate 'ran'",
        ),
        ([X[0]], [[(0, 1, "ARG0"), (0, 3, "ARG1")]], ValueError, r"y\[0\]: .*"),
        ([X[0]], [Y[0], Y[0]], ValueError, "1 sentences but 2 targets"),
    ],
)
def test_bad_training_data_is_refused_clearly(tiny_t5_path, bad_X, bad_y, error, message):
    with pytest.raises(error, match=message):
        FishDipSRL(**fast_params(tiny_t5_path, label_names=NAMES)).fit(bad_X, bad_y)


def test_bad_predict_input_is_refused_clearly(fitted):
    with pytest.raises(ValueError, match=r"X\[1\]: the predicate index 5 is outside"):
        fitted.predict([X[0], (["a", "b"], 5)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fitted.predict([]) == []
