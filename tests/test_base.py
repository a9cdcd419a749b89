"""scikit-learn behaviour shared by the estimators, on a tiny offline T5."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks

from sklearn_fishdip import FishDipNER, FishDipRelationExtractor
from sklearn_fishdip.metrics import ner_f1_scorer, relation_f1_scorer

from .estimator_fixtures import NER_X, NER_Y, RE_X, RE_Y, fast_params

ESTIMATORS = [FishDipNER, FishDipRelationExtractor]
DATA = {FishDipNER: (NER_X, NER_Y), FishDipRelationExtractor: (RE_X, RE_Y)}

DATA_FREE_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_sklearn_data_free_checks(Estimator, check):
    getattr(estimator_checks, check)(Estimator.__name__, Estimator())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_init_loads_nothing_and_tags_describe_text(Estimator):
    estimator = Estimator(model="/no/such/model", strategy="nonsense", keep_ratio=7)
    assert estimator.get_params()["model"] == "/no/such/model"
    tags = estimator.__sklearn_tags__()
    assert not tags.input_tags.two_d_array and tags.input_tags.string
    assert tags.target_tags.required


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda e: e.__name__)
def fitted(request, tiny_t5_path):
    Estimator = request.param
    X, y = DATA[Estimator]
    estimator = Estimator(**fast_params(tiny_t5_path))
    assert estimator.fit(X, y) is estimator
    return estimator


def test_fitted_attributes(fitted):
    assert fitted.n_parameters_ > 0
    assert 0 < fitted.n_updated_parameters_ <= fitted.n_parameters_
    assert fitted.n_always_trainable_ == 0  # a T5 checkpoint provides every parameter
    assert [row["epoch"] for row in fitted.history_] == [1, 2]
    assert all(np.isfinite(row["train_loss"]) for row in fitted.history_)
    assert fitted.mask_history_ and fitted.mask_history_[0]["step"] == 0
    assert {"attention", "feed-forward"} <= set(fitted.mask_history_[0]["fraction_by_type"])


def test_predict_before_fit_raises(tiny_t5_path):
    for Estimator in ESTIMATORS:
        with pytest.raises(NotFittedError):
            Estimator(**fast_params(tiny_t5_path)).predict(NER_X)


def test_predict_leaves_the_estimator_unchanged_and_is_consistent(fitted):
    X = DATA[type(fitted)][0]
    before = {k: v for k, v in vars(fitted).items() if k != "decode_errors_"}
    weights = {k: v.clone() for k, v in fitted.model_.state_dict().items()}
    full = fitted.predict(X)
    assert {k: v for k, v in vars(fitted).items() if k != "decode_errors_"} == before
    assert all(torch_equal(weights[k], v) for k, v in fitted.model_.state_dict().items())
    assert fitted.decode_errors_.n_sentences == len(X)
    # Batching and padding must not change a sentence's prediction.
    assert fitted.predict(X[:2]) == full[:2]
    assert fitted.predict(X[::-1]) == full[::-1]


def torch_equal(a, b):
    return bool((a == b).all())


def test_predictions_have_the_right_shape(fitted):
    X = DATA[type(fitted)][0]
    predictions = fitted.predict(X)
    assert isinstance(predictions, list) and len(predictions) == len(X)
    if isinstance(fitted, FishDipNER):
        assert all(isinstance(p, list) and len(p) == len(x) for p, x in zip(predictions, X))
        assert {t.split("-", 1)[-1] for p in predictions for t in p} <= set(fitted.labels_) | {"O"}
    else:
        for p in predictions:
            assert {e[2] for e in p["entities"]} <= set(fitted.entity_types_)
            assert {r[2] for r in p["relations"]} <= set(fitted.relation_types_)


def test_clone_of_fitted_is_unfitted_and_pickle_round_trips(fitted):
    clone_ = clone(fitted)
    assert not hasattr(clone_, "model_")
    assert clone_.get_params() == fitted.get_params()
    restored = pickle.loads(pickle.dumps(fitted))
    X = DATA[type(fitted)][0]
    assert restored.predict(X) == fitted.predict(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_random_state_same_model(Estimator, tiny_t5_path):
    X, y = DATA[Estimator]
    a = Estimator(**fast_params(tiny_t5_path, random_state=3)).fit(X, y)
    b = Estimator(**fast_params(tiny_t5_path, random_state=3)).fit(X, y)
    c = Estimator(**fast_params(tiny_t5_path, random_state=4)).fit(X, y)
    state_a, state_b, state_c = (e.model_.state_dict() for e in (a, b, c))
    assert all(torch_equal(state_a[k], state_b[k]) for k in state_a)
    assert not all(torch_equal(state_a[k], state_c[k]) for k in state_a)
    assert a.predict(X) == b.predict(X)


def test_grid_search_cross_validate_and_pipeline(tiny_t5_path):
    search = GridSearchCV(
        FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)),
        {"keep_ratio": [0.01, 0.1], "strategy": ["fish-dip", "fish"]},
        scoring=ner_f1_scorer,
        cv=KFold(2),
        error_score="raise",
    )
    search.fit(NER_X, NER_Y)
    assert len(search.cv_results_["mean_test_score"]) == 4
    assert search.best_estimator_.predict(NER_X[:1])[0].__len__() == len(NER_X[0])

    results = cross_validate(
        FishDipRelationExtractor(**fast_params(tiny_t5_path, max_epochs=1)),
        RE_X,
        RE_Y,
        cv=KFold(2),
        scoring=relation_f1_scorer,
        error_score="raise",
    )
    assert len(results["test_score"]) == 2

    lowercase = FunctionTransformer(lambda X: [[t.lower() for t in s] for s in X])
    pipeline = Pipeline(
        [("lower", lowercase), ("ner", FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)))]
    )
    pipeline.fit(NER_X, NER_Y)
    assert len(pipeline.predict(NER_X)) == len(NER_X)


def test_grid_search_with_parallel_jobs(tiny_t5_path):
    search = GridSearchCV(
        FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)),
        {"keep_ratio": [0.01, 0.1]},
        scoring=ner_f1_scorer,
        cv=KFold(2),
        n_jobs=2,
        error_score="raise",
    )
    search.fit(NER_X, NER_Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"keep_ratio": 0.0}, "keep_ratio"),
        ({"keep_ratio": 1.5}, "keep_ratio"),
        ({"refresh_every": 0}, "refresh_every"),
        ({"strategy": "magic"}, "magic"),
        ({"optimizer": "sgd"}, "optimizer must be one of"),
        ({"max_epochs": 0}, "max_epochs must be a positive integer"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"weight_decay": 0.1}, "only supported with optimizer='adamw'"),
        ({"device": "tpu"}, "device must be"),
        ({"lr_schedule": "cosine"}, "lr_schedule must be one of"),
    ],
)
def test_bad_parameters_raise_at_fit(tiny_t5_path, params, message):
    estimator = FishDipNER(**fast_params(tiny_t5_path, **params))
    with pytest.raises(ValueError, match=message):
        estimator.fit(NER_X, NER_Y)


def test_a_model_that_is_not_seq2seq_is_refused(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=50)).save_pretrained(
        tmp_path
    )
    with pytest.raises(ValueError, match="GPT2"):
        FishDipNER(model=str(tmp_path), verbose=0).fit(NER_X, NER_Y)
