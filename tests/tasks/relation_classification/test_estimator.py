"""FishDipRelationClassifier on tiny offline models: fit, rank, persist, refuse bad input.

It also covers, for this task whose inputs are not token lists, the
properties that tests/test_properties.py checks for the sentence taggers:
any tokens (markup, Unicode) give one well-formed answer per example that does
not depend on the rest of the batch, and refused input raises a clear error
naming the example.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils import estimator_checks

from sklearn_fishdip import FishDipRelationClassifier, all_estimators
from sklearn_fishdip.metrics import semeval2010_scorer
from sklearn_fishdip.persistence import load_estimator
from sklearn_fishdip.utils._testing import make_tiny_bert, make_tiny_gpt2

from ...estimator_fixtures import fast_params, global_rng_untouched  # noqa: F401
from ...test_base import DATA_FREE_CHECKS

pytestmark = pytest.mark.usefixtures("global_rng_untouched")


def _example(sentence, head, tail):
    return {"tokens": sentence.split(), "head": head, "tail": tail}


# The relation follows from the verb: trivially separable.
X = [
    _example("John joined Google", (0, 1), (2, 3)),
    _example("Mary lives in Paris", (0, 1), (3, 4)),
    _example("Paul met Anna", (0, 1), (2, 3)),
    _example("Anna joined Acme today", (0, 1), (2, 3)),
    _example("Smith lives in Rome", (0, 1), (3, 4)),
    _example("she met John yesterday", (0, 1), (2, 3)),
]
Y = ["Work_For", "Live_In", "Met", "Work_For", "Live_In", "Met"]
LEARNS = dict(max_epochs=40, keep_ratio=0.2, learning_rate=0.1, batch_size=3)


@pytest.fixture(scope="module")
def fitted(tiny_t5_path):
    return FishDipRelationClassifier(**fast_params(tiny_t5_path, **LEARNS)).fit(X, Y)


def test_is_registered_and_a_classifier():
    assert dict(all_estimators())["relation_classification"] is FishDipRelationClassifier
    estimator = FishDipRelationClassifier()
    assert estimator.__sklearn_tags__().estimator_type == "classifier"
    assert estimator.__sklearn_tags__().input_tags.dict


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_sklearn_data_free_checks(check):
    getattr(estimator_checks, check)("FishDipRelationClassifier", FishDipRelationClassifier())


def test_learns_a_separable_problem(fitted):
    assert list(fitted.classes_) == ["Live_In", "Met", "Work_For"]
    assert fitted.relation_verbalizer_.natural_names == ("lives in", "met", "works for")
    assert fitted.training_loss_ == "full"
    assert fitted.score(X, Y) == 1.0
    assert list(fitted.predict(X)) == Y


def test_probabilities_are_normalized_over_the_known_relations(fitted):
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba > 0).all()
    np.testing.assert_array_equal(fitted.classes_[proba.argmax(axis=1)], fitted.predict(X))
    np.testing.assert_allclose(np.exp(fitted.predict_log_proba(X)), proba, rtol=1e-10)
    # More than two classes: the decision function is the log-probabilities, as for
    # scikit-learn's multiclass classifiers, and ranks the classes as predict does.
    decision = fitted.decision_function(X)
    np.testing.assert_allclose(decision, np.log(proba), rtol=1e-6)
    np.testing.assert_array_equal(fitted.classes_[decision.argmax(axis=1)], fitted.predict(X))


def test_predict_leaves_the_estimator_unchanged(fitted):
    before = {k: v for k, v in vars(fitted).items() if k not in ("model_", "tokenizer_")}
    fitted.predict(X)
    after = {k: v for k, v in vars(fitted).items() if k not in ("model_", "tokenizer_")}
    assert before.keys() == after.keys()


@pytest.mark.parametrize(
    "bad, error, message",
    [
        ({0: ["John", "joined"]}, TypeError, r"X\[0\] must be a dict"),
        ({2: _example("Paul met Anna", (0, 1), (2, 9))}, ValueError, r"X\[2\]\['tail'\]"),
        ({3: _example("Anna joined Acme today", (0, 2), (1, 3))}, ValueError, r"X\[3\]: .*overlap"),
        ({1: {"tokens": ["a"], "head": (0, 1)}}, ValueError, r"X\[1\] has no 'tail'"),
        (
            {4: _example("x y", (0, 1), (1, 2)) | {"tokens": ["x", 3]}},
            TypeError,
            r"X\[4\]: token 1",
        ),
    ],
)
def test_bad_examples_name_their_index_in_fit_and_predict(
    fitted, tiny_t5_path, bad, error, message
):
    X_bad = list(X)
    for index, value in bad.items():
        X_bad[index] = value
    with pytest.raises(error, match=message):
        FishDipRelationClassifier(**fast_params(tiny_t5_path)).fit(X_bad, Y)
    for method in (fitted.predict, fitted.predict_proba):
        with pytest.raises(error, match=message):
            method(X_bad)


def test_bad_labels_and_unknown_relations_at_score_time(fitted, tiny_t5_path):
    with pytest.raises(ValueError, match=r"y\[1\] is 3"):
        FishDipRelationClassifier(**fast_params(tiny_t5_path)).fit(X, ["Met", 3] + Y[2:])
    with pytest.raises(ValueError, match="6 sentences but 2 targets"):
        FishDipRelationClassifier(**fast_params(tiny_t5_path)).fit(X, Y[:2])
    with pytest.raises(ValueError, match=r"y\[2\] is 'Kill', a relation not seen in fit"):
        fitted.score(X, Y[:2] + ["Kill"] + Y[3:])
    with pytest.raises(TypeError, match="X must be a list of dicts"):
        fitted.predict("John joined Google")
    with pytest.raises(ValueError, match="X is empty"):
        fitted.predict([])


def test_clone_params_pickle_and_persistence(fitted, tmp_path):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "model_")
    proba = fitted.predict_proba(X)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(fitted)).predict_proba(X), proba)
    fitted.save(tmp_path / "model")
    loaded = load_estimator(tmp_path / "model")
    assert type(loaded) is FishDipRelationClassifier
    assert list(loaded.classes_) == list(fitted.classes_)
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=1e-6, atol=1e-7)
    assert list(loaded.predict(X)) == list(fitted.predict(X))


def test_same_random_state_same_result(tiny_t5_path):
    params = fast_params(tiny_t5_path, random_state=3)
    first = FishDipRelationClassifier(**params).fit(X, Y).predict_proba(X)
    second = FishDipRelationClassifier(**params).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_grid_search_and_cross_validation(tiny_t5_path):
    scores = cross_val_score(FishDipRelationClassifier(**fast_params(tiny_t5_path)), X, Y, cv=2)
    assert scores.shape == (2,) and ((0 <= scores) & (scores <= 1)).all()
    # The SemEval scorer, on SemEval labels named with words the tiny model knows.
    labels = ["Member-Collection(e1,e2)", "Member-Collection(e2,e1)", "Other"]
    y = [labels[Y.index(label) % 3] for label in Y]
    names = dict(zip(labels, ["works for", "lives in", "met"]))
    search = GridSearchCV(
        FishDipRelationClassifier(**fast_params(tiny_t5_path, label_names=names)),
        {"max_epochs": [1, 2]},
        scoring=semeval2010_scorer,
        cv=2,
    ).fit(X, y)
    assert search.best_params_["max_epochs"] in (1, 2)
    assert set(search.predict(X)) <= set(labels)


def test_grammar_loss_restricts_training_and_ranking_to_the_relations(tiny_t5_path):
    estimator = FishDipRelationClassifier(**fast_params(tiny_t5_path, training_loss="grammar"))
    estimator.fit(X, Y)
    assert estimator.training_loss_ == "grammar"
    # Restricted to the relations' choices, the likelihoods already sum to one.
    scores = estimator._candidate_scores(X)
    np.testing.assert_allclose(np.exp(scores).sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(estimator.predict_proba(X), np.exp(scores), rtol=1e-5)


def test_long_sentences_are_cut_around_the_entities(tiny_t5_path):
    filler = "the city of the river ".split() * 8
    long = {"tokens": filler + ["John", "joined", "Google"] + filler, "head": (40, 41)}
    long["tail"] = (42, 43)
    estimator = FishDipRelationClassifier(**fast_params(tiny_t5_path, max_source_length=24))
    with pytest.warns(UserWarning, match="1 of 7 training sentences .* were truncated"):
        estimator.fit(X + [long], Y + ["Work_For"])
    x, cut = estimator._fit_source(
        estimator.model_, estimator.tokenizer_, _adapter(estimator), long
    )
    assert cut and x["tokens"][x["head"][0]] == "John" and x["tokens"][x["tail"][0]] == "Google"
    assert estimator.predict_proba([long]).shape == (1, 3)


def _adapter(estimator):
    from sklearn_fishdip.models import adapter_for_model

    return adapter_for_model(estimator.model_, estimator.tokenizer_)


@pytest.mark.parametrize("family", ["gpt2", "prefix-lm"])
def test_every_model_family(family, tmp_path):
    # Byte-level pieces: the GPT-2 needs more positions than the query and target take.
    build = (lambda: make_tiny_gpt2(n_positions=256)) if family == "gpt2" else make_tiny_bert
    model, tokenizer = build()[:2]
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    kind = "auto" if family == "gpt2" else "prefix-lm"
    X_short = [
        _example("John joined Acme", (0, 1), (2, 3)),
        _example("Mary met Anna", (0, 1), (2, 3)),
    ]
    estimator = FishDipRelationClassifier(
        **fast_params(str(tmp_path), model_kind=kind, max_epochs=1)
    ).fit(X_short, ["Work_For", "Met"])
    assert estimator.training_loss_ == ("grammar" if family == "prefix-lm" else "full")
    proba = estimator.predict_proba(X_short)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_an_example_that_cannot_fit_the_positions_is_refused_clearly(tmp_path):
    model, tokenizer = make_tiny_gpt2(n_positions=64)[:2]
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    estimator = FishDipRelationClassifier(**fast_params(str(tmp_path)))
    with pytest.raises(ValueError, match="head 'John' and tail 'Acme' needs .* positions leave"):
        estimator.fit([_example("John joined Acme", (0, 1), (2, 3))], ["Work_For"])


# --------------------------------------------------------------------------- #
# Properties on arbitrary tokens (what tests/test_properties.py checks for taggers)
# --------------------------------------------------------------------------- #

TOKENS = ["John", "met", "[", "]", "|", "=", "\\", "a=b", "[x]", "-LSB-", "😀", "e\u0301", "ß"]
token = st.one_of(
    st.sampled_from(TOKENS),
    st.text(min_size=1, max_size=6).filter(lambda text: text.split() == [text]),
)


@st.composite
def examples(draw):
    tokens = draw(st.lists(token, min_size=2, max_size=12))
    cut = draw(st.integers(1, len(tokens) - 1))
    head = (draw(st.integers(0, cut - 1)), cut)
    tail = (cut, draw(st.integers(cut + 1, len(tokens))))
    if draw(st.booleans()):
        head, tail = tail, head
    return {"tokens": tokens, "head": head, "tail": tail}


PROPERTY_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@PROPERTY_SETTINGS
@given(batch=st.lists(examples(), min_size=1, max_size=3))
def test_any_tokens_give_one_well_formed_answer_per_example(fitted, batch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = fitted.predict_proba(batch)
    assert proba.shape == (len(batch), 3) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = fitted.predict(batch)
    assert set(predicted) <= set(fitted.classes_)
    # An example's answer does not depend on the rest of the batch.
    np.testing.assert_allclose(fitted.predict_proba(batch[-1:]), proba[-1:], rtol=1e-4, atol=1e-6)


@PROPERTY_SETTINGS
@given(
    batch=st.lists(examples(), min_size=1, max_size=3),
    bad=st.sampled_from(["", "a b", "\t", None, 3, b"x"]),
    data=st.data(),
)
def test_a_refused_token_names_its_example_and_position(fitted, batch, bad, data):
    index = data.draw(st.integers(0, len(batch) - 1))
    position = data.draw(st.integers(0, len(batch[index]["tokens"]) - 1))
    batch[index] = {**batch[index], "tokens": list(batch[index]["tokens"])}
    batch[index]["tokens"][position] = bad
    expected = ValueError if isinstance(bad, str) else TypeError
    with pytest.raises(expected) as raised:
        fitted.predict(batch)
    assert re.search(rf"X\[{index}\]: token {position} ", str(raised.value)), raised.value
