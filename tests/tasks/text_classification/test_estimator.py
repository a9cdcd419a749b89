"""FishDipTextClassifier and FishDipTextRegressor on tiny offline models.

Their inputs are texts and pairs rather than token lists, so this module also
covers the properties tests/test_properties.py checks for the taggers: one
well-formed answer per item, independent of the batch, and refused input
named by its index.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import make_scorer, matthews_corrcoef
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks

from sklearn_fishdip import FishDipTextClassifier, FishDipTextRegressor, all_estimators
from sklearn_fishdip.persistence import load_estimator
from sklearn_fishdip.utils._testing import make_tiny_bert, make_tiny_gpt2

from ...estimator_fixtures import fast_params, global_rng_untouched  # noqa: F401
from ...test_base import DATA_FREE_CHECKS

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

# The class follows from the verb: trivially separable.
X = [
    "John visited Paris",
    "Mary visited London",
    "Paul met Anna",
    "Smith met John",
    "Anna visited Rome",
    "they met Mary",
]
Y = [1, 1, 0, 0, 1, 0]
NAMES = {"0": "met", "1": "visited"}
PAIRS = [
    ("John visited", "Paris"),
    ("Paul met", "Anna"),
    ("Mary visited", "Rome"),
    ("he met", "it"),
]
LEARNS = dict(max_epochs=40, keep_ratio=0.2, learning_rate=0.1, batch_size=3, label_names=NAMES)


@pytest.fixture(scope="module")
def fitted(tiny_t5_path):
    return FishDipTextClassifier(**fast_params(tiny_t5_path, **LEARNS)).fit(X, Y)


@pytest.fixture(scope="module")
def gpt2_path(tmp_path_factory):
    # Byte-level pieces write numbers: the regressor's targets.
    model, tokenizer = make_tiny_gpt2(n_positions=256)[:2]
    path = tmp_path_factory.mktemp("tiny_gpt2_256")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def test_registered_as_classifier_and_regressor():
    registry = dict(all_estimators())
    assert registry["text_classification"] is FishDipTextClassifier
    assert registry["text_regression"] is FishDipTextRegressor
    assert FishDipTextClassifier().__sklearn_tags__().estimator_type == "classifier"
    assert FishDipTextRegressor().__sklearn_tags__().estimator_type == "regressor"


@pytest.mark.parametrize("cls", [FishDipTextClassifier, FishDipTextRegressor])
@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_sklearn_data_free_checks(cls, check):
    getattr(estimator_checks, check)(cls.__name__, cls())


def test_learns_a_separable_problem(fitted):
    assert fitted.classes_.tolist() == [0, 1]
    assert fitted.label_verbalizer_.natural_names == ("met", "visited")
    assert fitted.pairs_ is False
    assert list(fitted.predict(X)) == Y
    assert fitted.score(X, Y) == 1.0


def test_probabilities_are_exact_over_the_classes(fitted):
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2) and (proba > 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(axis=1)], fitted.predict(X))
    np.testing.assert_allclose(np.exp(fitted.predict_log_proba(X)), proba, rtol=1e-10)
    decision = fitted.decision_function(X)
    np.testing.assert_allclose(decision, np.log(proba[:, 1] / proba[:, 0]), rtol=1e-6)
    # An item's answer does not depend on the rest of the batch.
    np.testing.assert_allclose(fitted.predict_proba(X[-1:]), proba[-1:], rtol=1e-4, atol=1e-6)


def test_bad_inputs_in_fit_predict_and_score(fitted, tiny_t5_path):
    estimator = FishDipTextClassifier(**fast_params(tiny_t5_path))
    with pytest.raises(ValueError, match=r"X\[2\] is an empty text"):
        estimator.fit(X[:2] + [" "] + X[3:], Y)
    with pytest.raises(ValueError, match=r"X\[1\] is a pair, but .* single texts"):
        estimator.fit([X[0], ("a", "b")], [0, 1])
    with pytest.raises(ValueError, match=r"y holds a single class \(1\)"):
        estimator.fit(X[:2], Y[:2])
    with pytest.raises(ValueError, match="6 sentences but 2 targets"):
        estimator.fit(X, Y[:2])
    assert not hasattr(estimator, "pairs_")
    with pytest.raises(ValueError, match=r"X\[0\] is a pair, but the estimator takes single"):
        fitted.predict([("John visited", "Paris")])
    with pytest.raises(ValueError, match=r"X\[1\] is an empty text"):
        fitted.predict_proba(["John", ""])
    with pytest.raises(TypeError, match="X must be a list"):
        fitted.predict("John visited Paris")
    with pytest.raises(ValueError, match=r"y\[2\] is 7, a label not seen in fit"):
        fitted.score(X, Y[:2] + [7] + Y[3:])


def test_pairs_in_fit_texts_refused_in_predict(tiny_t5_path):
    estimator = FishDipTextClassifier(**fast_params(tiny_t5_path, label_names=NAMES))
    estimator.fit(PAIRS, [1, 0, 1, 0])
    assert estimator.pairs_ is True
    assert estimator.predict_proba(PAIRS).shape == (4, 2)
    with pytest.raises(ValueError, match=r"X\[0\] is a single text, but the estimator takes"):
        estimator.predict(["John visited Paris"])


def test_clone_pickle_and_persistence(fitted, tmp_path):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not hasattr(copy, "model_")
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(fitted)).predict_proba(X), proba)
    fitted.save(tmp_path / "model")
    loaded = load_estimator(tmp_path / "model")
    assert type(loaded) is FishDipTextClassifier
    assert list(loaded.classes_) == [0, 1] and loaded.pairs_ is False
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=1e-6, atol=1e-7)
    assert list(loaded.predict(X)) == Y


def test_same_random_state_same_result(tiny_t5_path):
    params = fast_params(tiny_t5_path, random_state=3, label_names=NAMES)
    first = FishDipTextClassifier(**params).fit(X, Y).predict_proba(X)
    second = FishDipTextClassifier(**params).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_pipeline_grid_search_and_cross_validation(tiny_t5_path):
    estimator = FishDipTextClassifier(**fast_params(tiny_t5_path, label_names=NAMES))
    scores = cross_val_score(estimator, X, Y, cv=2, scoring="matthews_corrcoef")
    assert scores.shape == (2,) and ((-1 <= scores) & (scores <= 1)).all()
    scores = cross_val_score(estimator, X, Y, cv=2, scoring=make_scorer(matthews_corrcoef))
    assert scores.shape == (2,)
    assert cross_val_score(estimator, X, Y, cv=2, scoring="f1").shape == (2,)
    lower = FunctionTransformer(lambda texts: [text.lower() for text in texts])
    pipeline = make_pipeline(lower, estimator)
    search = GridSearchCV(pipeline, {"fishdiptextclassifier__max_epochs": [1, 2]}, cv=2)
    search.fit(X, Y)
    assert set(search.predict(X)) <= {0, 1}


def test_long_texts_are_cut_at_the_end(tiny_t5_path):
    long = "the city of the river " * 10 + "visited"
    estimator = FishDipTextClassifier(
        **fast_params(tiny_t5_path, max_source_length=12, label_names=NAMES)
    )
    with pytest.warns(UserWarning, match="1 of 7 training sentences .* were truncated"):
        estimator.fit(X + [long], Y + [1])
    assert estimator.predict_proba([long, (long.split()[0])]).shape == (2, 2)


@pytest.mark.parametrize("family", ["gpt2", "prefix-lm"])
def test_every_model_family(family, gpt2_path, tmp_path):
    if family == "gpt2":
        path, kind = gpt2_path, "auto"
    else:
        model, tokenizer = make_tiny_bert()[:2]
        model.save_pretrained(tmp_path)
        tokenizer.save_pretrained(tmp_path)
        path, kind = str(tmp_path), "prefix-lm"
    estimator = FishDipTextClassifier(**fast_params(path, model_kind=kind, max_epochs=1))
    estimator.fit(PAIRS, ["visited", "met", "visited", "met"])
    assert estimator.training_loss_ == ("grammar" if family == "prefix-lm" else "full")
    proba = estimator.predict_proba(PAIRS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    if family == "prefix-lm":
        # Restricted to the labels' choices, the likelihoods already sum to one.
        np.testing.assert_allclose(np.exp(estimator._candidate_scores(PAIRS)).sum(1), 1, rtol=1e-5)


def test_regressor_fits_and_predicts_an_expectation(gpt2_path, tmp_path):
    y = [4.9, 0.1, 3.75, 1.0]
    regressor = FishDipTextRegressor(**fast_params(gpt2_path)).fit(PAIRS, y)
    assert regressor.values_.tolist() == [round(0.2 * k, 1) for k in range(26)]
    distribution = regressor.predict_distribution(PAIRS)
    assert distribution.shape == (4, 26)
    np.testing.assert_allclose(distribution.sum(axis=1), 1.0)
    predicted = regressor.predict(PAIRS)
    np.testing.assert_allclose(predicted, distribution @ regressor.values_)
    assert ((0 <= predicted) & (predicted <= 5)).all()
    assert np.isfinite(regressor.score(PAIRS, y))
    regressor.save(tmp_path / "model")
    loaded = load_estimator(tmp_path / "model")
    np.testing.assert_allclose(loaded.predict(PAIRS), predicted, rtol=1e-6)
    with pytest.raises(ValueError, match=r"y\[1\] is 'high': a target must be a finite number"):
        FishDipTextRegressor(**fast_params(gpt2_path)).fit(PAIRS, [1.0, "high", 2.0, 3.0])
    with pytest.raises(ValueError, match="resolution must be a positive number"):
        FishDipTextRegressor(**fast_params(gpt2_path), resolution=0).fit(PAIRS, y)


def test_regressor_expectation_on_a_hand_computed_case(monkeypatch):
    regressor = FishDipTextRegressor()
    regressor.values_ = np.array([1.0, 2.0, 3.0])
    scores = np.log([[0.2, 0.3, 0.5], [1.0, 1.0, 2.0]]) - 7.0  # unnormalized log-likelihoods
    monkeypatch.setattr(regressor, "_candidate_scores", lambda X: scores)
    # 0.2 * 1 + 0.3 * 2 + 0.5 * 3 = 2.3; (1 + 2 + 2 * 3) / 4 = 2.25
    np.testing.assert_allclose(regressor.predict(["a", "b"]), [2.3, 2.25])


def test_any_text_gives_one_answer(fitted):
    texts = ["[ ] | = \\", "😀 e\u0301 ß", "a=b [x] -LSB-", "visited " * 30]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = fitted.predict_proba(texts)
    assert proba.shape == (4, 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
