"""scikit-learn behaviour shared by the estimators, on a tiny offline T5."""

import pickle

import numpy as np
import pytest
import torch
from seqeval.metrics import f1_score as seqeval_f1
from seqeval.scheme import IOB2
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks

from sklearn_fishdip import FishDipNER, FishDipRelationExtractor
from sklearn_fishdip.metrics import ner_f1_scorer, relation_f1_scorer
from sklearn_fishdip.sparse import EpochCheckpoint

from .estimator_fixtures import (  # global_rng_untouched: used by pytestmark
    NER_X,
    NER_Y,
    RE_X,
    RE_Y,
    fast_params,
    global_rng_untouched,  # noqa: F401
)

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

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


#: What an empty sentence gets back, per estimator: the task's empty structure.
EMPTY = {FishDipNER: [], FishDipRelationExtractor: {"entities": [], "relations": []}}


def _count_forwards(model):
    """Record every module call of ``model``; returns the list and the hook handles."""
    calls = []
    handles = [
        module.register_forward_pre_hook(lambda module, args: calls.append(module))
        for module in model.modules()
    ]
    return calls, handles


def test_empty_sentences_get_the_empty_structure_without_the_model(fitted):
    X = DATA[type(fitted)][0]
    alone = fitted.predict(X[:2])
    calls, handles = _count_forwards(fitted.model_)
    try:
        assert fitted.predict([[]]) == [EMPTY[type(fitted)]]
        assert fitted.predict([[], []]) == [EMPTY[type(fitted)]] * 2
        assert calls == []  # nothing generated for empty sentences
        assert fitted.decode_errors_.n_sentences == 0
        # Mixed with others, in any position, and the others' answers are unchanged.
        mixed = fitted.predict([[], X[0], [], X[1], []])
        assert calls
    finally:
        for handle in handles:
            handle.remove()
    empty = EMPTY[type(fitted)]
    assert mixed == [empty, alone[0], empty, alone[1], empty]
    assert fitted.decode_errors_.n_sentences == 2
    # Each empty answer is its own object: changing one changes no other.
    assert mixed[0] is not mixed[2]
    if isinstance(fitted, FishDipNER):
        assert fitted.predict_spans([[], X[0]])[0] == []


def test_empty_sentence_before_fit_is_still_not_fitted(tiny_t5_path):
    for Estimator in ESTIMATORS:
        with pytest.raises(NotFittedError):
            Estimator(**fast_params(tiny_t5_path)).predict([[]])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_leaves_empty_sentences_out_of_training(Estimator, tiny_t5_path):
    X, y = DATA[Estimator]
    empty = EMPTY[Estimator]
    with_empty = Estimator(**fast_params(tiny_t5_path)).fit(
        [[], *X[:2], [], *X[2:]], [empty, *y[:2], empty, *y[2:]]
    )
    without = Estimator(**fast_params(tiny_t5_path)).fit(X, y)
    # Nothing to learn from them: the same model as without them.
    assert _same_weights(with_empty, without)
    assert with_empty.history_ == without.history_


@pytest.mark.parametrize(
    "Estimator, target, message",
    [
        (FishDipNER, ["O"], "sentence 1 has 0 tokens but 1 tags"),
        (FishDipRelationExtractor, {"entities": [(0, 1, "Peop")]}, "of sentence 1"),
    ],
)
def test_fit_refuses_a_non_empty_target_for_an_empty_sentence(
    Estimator, target, message, tiny_t5_path
):
    X, y = DATA[Estimator]
    with pytest.raises(ValueError, match=message):
        Estimator(**fast_params(tiny_t5_path)).fit([X[0], [], *X[1:]], [y[0], target, *y[1:]])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_on_empty_sentences_only_raises(Estimator, tiny_t5_path):
    with pytest.raises(ValueError, match="all 2 sentences of X are empty"):
        Estimator(**fast_params(tiny_t5_path)).fit([[], []], [EMPTY[Estimator]] * 2)


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


def test_group_by_length_reaches_the_engine_and_stays_reproducible(tiny_t5_path, monkeypatch):
    from sklearn_fishdip import _base

    calls = []
    fit_sparse = _base.fit_sparse

    def recording(*args, **kwargs):
        calls.append(kwargs["group_by_length"])
        return fit_sparse(*args, **kwargs)

    monkeypatch.setattr(_base, "fit_sparse", recording)
    params = fast_params(tiny_t5_path, random_state=3, group_by_length=True)
    a = FishDipNER(**params).fit(NER_X, NER_Y)
    b = FishDipNER(**params).fit(NER_X, NER_Y)
    plain = FishDipNER(**{**params, "group_by_length": False}).fit(NER_X, NER_Y)
    assert calls == [True, True, False]
    assert a.get_params()["group_by_length"] is True
    state_a, state_b, state_plain = (e.model_.state_dict() for e in (a, b, plain))
    assert all(torch_equal(state_a[k], state_b[k]) for k in state_a)
    # Six sentences in batches of four: grouping pairs other sentences than shuffling.
    assert not all(torch_equal(state_a[k], state_plain[k]) for k in state_a)
    assert a.predict(NER_X) == b.predict(NER_X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fit_stopped_after_a_saved_epoch_resumes_to_the_same_model(
    Estimator, tiny_t5_path, tmp_path, monkeypatch
):
    X, y = DATA[Estimator]
    params = fast_params(tiny_t5_path, max_epochs=4, random_state=3)
    straight = Estimator(**params).fit(X, y)
    resumable = Estimator(**params, checkpoint_dir=tmp_path / "fits")

    save = EpochCheckpoint.on_epoch_end

    def save_then_ctrl_c(self, net, **kwargs):
        save(self, net, **kwargs)
        if len(net.history) == 2:
            raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(EpochCheckpoint, "on_epoch_end", save_then_ctrl_c)
        with pytest.warns(UserWarning, match="training interrupted at epoch 2 of 4"):
            resumable.fit(X, y)
    assert len(list((tmp_path / "fits").glob("fit-*.pt"))) == 1

    assert resumable.resumed_epochs_ == 0
    resumable.fit(X, y)  # the same fit again: it runs epochs 3 and 4 only
    assert (resumable.resumed_epochs_, straight.resumed_epochs_) == (2, 0)
    assert list((tmp_path / "fits").iterdir()) == []
    assert resumable.history_ == straight.history_
    assert [r["step"] for r in resumable.mask_history_] == [
        r["step"] for r in straight.mask_history_
    ]
    assert _same_weights(resumable, straight)
    assert resumable.predict(X) == straight.predict(X)


def _entity_f1(y_true, y_pred):
    # Computed with seqeval directly, apart from the library's scorers.
    return seqeval_f1(y_true, y_pred, mode="strict", scheme=IOB2)


def _relation_f1(y_true, y_pred):
    # Strict: a relation counts when its type and both entities (span and type) match.
    def triples(targets):
        return {
            (i, tuple(t["entities"][h]), tuple(t["entities"][r]), label)
            for i, t in enumerate(targets)
            for h, r, label in t["relations"]
        }

    gold, predicted = triples(y_true), triples(y_pred)
    correct = len(gold & predicted)
    return 2 * correct / (len(gold) + len(predicted)) if correct else 0.0


def _n_updated(estimator, X, y):
    # A "score" that shows, in cv_results_, which parameters reached the fitted model.
    return estimator.n_updated_parameters_


def _same_weights(a, b):
    state_a, state_b = a.model_.state_dict(), b.model_.state_dict()
    return state_a.keys() == state_b.keys() and all(
        torch_equal(state_a[k], state_b[k]) for k in state_a
    )


def _subset(items, indices):
    return [items[i] for i in indices]


GRID = {"keep_ratio": [0.01, 0.1], "strategy": ["fish-dip", "fish"]}


def test_grid_search_cross_validate_and_pipeline(tiny_t5_path):
    base = FishDipNER(**fast_params(tiny_t5_path, max_epochs=1))
    folds = list(KFold(2).split(NER_X))
    search = GridSearchCV(
        base,
        GRID,
        scoring={"f1": ner_f1_scorer, "n_updated": _n_updated},
        refit="f1",
        cv=KFold(2),
        error_score="raise",
    )
    search.fit(NER_X, NER_Y)
    results = search.cv_results_
    assert list(results["params"]) == list(ParameterGrid(GRID))

    # Each candidate on each fold, fitted and scored here without the search.
    f1 = np.empty((len(results["params"]), len(folds)))
    for i, params in enumerate(results["params"]):
        for k, (train, test) in enumerate(folds):
            fold = clone(base).set_params(**params)
            fold.fit(_subset(NER_X, train), _subset(NER_Y, train))
            f1[i, k] = _entity_f1(_subset(NER_Y, test), fold.predict(_subset(NER_X, test)))
            assert results[f"split{k}_test_f1"][i] == pytest.approx(f1[i, k])
            assert results[f"split{k}_test_n_updated"][i] == fold.n_updated_parameters_
    assert results["mean_test_f1"] == pytest.approx(f1.mean(axis=1))
    assert results["std_test_f1"] == pytest.approx(f1.std(axis=1))
    # The searched parameter reaches the model: the sparser candidate changes fewer entries.
    n_updated = np.array([results[f"split{k}_test_n_updated"] for k in range(len(folds))])
    for strategy in GRID["strategy"]:
        sparse, dense = (
            results["params"].index({"keep_ratio": r, "strategy": strategy}) for r in (0.01, 0.1)
        )
        assert np.all(0 < n_updated[:, sparse]) and np.all(
            n_updated[:, sparse] < n_updated[:, dense]
        )
    # The best candidate is the first with the highest mean F1, as computed here.
    assert search.best_index_ == int(np.argmax(f1.mean(axis=1)))
    assert search.best_params_ == results["params"][search.best_index_]
    assert search.best_score_ == pytest.approx(f1.mean(axis=1).max())
    # Refitting is fitting the best parameters on all the data.
    fresh = clone(base).set_params(**search.best_params_).fit(NER_X, NER_Y)
    assert _same_weights(search.best_estimator_, fresh)
    assert search.best_estimator_.predict(NER_X) == fresh.predict(NER_X)

    relations = FishDipRelationExtractor(**fast_params(tiny_t5_path, max_epochs=1))
    results = cross_validate(
        relations,
        RE_X,
        RE_Y,
        cv=KFold(2),
        scoring=relation_f1_scorer,
        error_score="raise",
        return_estimator=True,
        return_indices=True,
    )
    assert len(results["test_score"]) == 2
    for k, (train, test) in enumerate(KFold(2).split(RE_X)):
        assert list(results["indices"]["train"][k]) == list(train)
        fold = clone(relations).fit(_subset(RE_X, train), _subset(RE_Y, train))
        assert _same_weights(results["estimator"][k], fold)
        predicted = fold.predict(_subset(RE_X, test))
        assert results["estimator"][k].predict(_subset(RE_X, test)) == predicted
        gold = _subset(RE_Y, test)
        assert results["test_score"][k] == pytest.approx(_relation_f1(gold, predicted))

    # The pipeline's transformer applies in fit and in predict.
    def lower(X):
        return [[t.lower() for t in s] for s in X]

    pipeline = Pipeline(
        [
            ("lower", FunctionTransformer(lower)),
            ("ner", FishDipNER(**fast_params(tiny_t5_path, max_epochs=1))),
        ]
    )
    pipeline.fit(NER_X, NER_Y)
    direct = FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)).fit(lower(NER_X), NER_Y)
    assert _same_weights(pipeline.named_steps["ner"], direct)
    assert pipeline.predict(NER_X) == direct.predict(lower(NER_X))


def test_grid_search_with_parallel_jobs(tiny_t5_path):
    def search(n_jobs):
        return GridSearchCV(
            FishDipNER(**fast_params(tiny_t5_path, max_epochs=1)),
            {"keep_ratio": [0.01, 0.1]},
            scoring={"f1": ner_f1_scorer, "n_updated": _n_updated},
            refit="f1",
            cv=KFold(2),
            n_jobs=n_jobs,
            error_score="raise",
        ).fit(NER_X, NER_Y)

    parallel, sequential = search(2), search(1)
    # Same seeds, same folds, same CPU arithmetic: worker processes give the same results.
    for key, values in sequential.cv_results_.items():
        if "_time" not in key:
            assert list(parallel.cv_results_[key]) == list(values), key
    sparse, dense = sequential.cv_results_["mean_test_n_updated"]
    assert 0 < sparse < dense
    assert parallel.best_params_ == sequential.best_params_
    assert _same_weights(parallel.best_estimator_, sequential.best_estimator_)
    assert parallel.best_estimator_.predict(NER_X) == sequential.best_estimator_.predict(NER_X)


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
        ({"autocast": "fp16"}, "autocast must be one of"),
        ({"group_by_length": 1}, "group_by_length must be True or False"),
    ],
)
def test_bad_parameters_raise_at_fit(tiny_t5_path, params, message):
    estimator = FishDipNER(**fast_params(tiny_t5_path, **params))
    with pytest.raises(ValueError, match=message):
        estimator.fit(NER_X, NER_Y)


def test_a_model_that_cannot_write_text_is_refused(tmp_path):
    # GPT-2, T5 and BERT checkpoints are all usable now; an image encoder is not.
    from transformers import ViTConfig, ViTModel

    config = ViTConfig(
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        image_size=8,
        patch_size=4,
    )
    # Weights from a local seed: building a model draws from the torch RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        ViTModel(config).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="architecture ViTModel") as error:
        FishDipNER(model=str(tmp_path), verbose=0).fit(NER_X, NER_Y)
    assert "causal language model" in str(error.value) and "'bert'" in str(error.value)


@pytest.mark.parametrize("kind", ["seq2seq", "prefix-lm"])
def test_a_cut_target_is_trained_without_an_end(kind, tiny_t5_path, tiny_bert_path, monkeypatch):
    from sklearn_fishdip import _base

    staged = []
    fit_sparse = _base.fit_sparse

    def recording(model, examples, *args, **kwargs):
        staged.append([dict(example) for example in examples])
        return fit_sparse(model, examples, *args, **kwargs)

    monkeypatch.setattr(_base, "fit_sparse", recording)
    path = tiny_t5_path if kind == "seq2seq" else tiny_bert_path
    # The grammar loss on both, so a position that left the grammar would show as None.
    params = fast_params(path, model_kind=kind, training_loss="grammar", max_epochs=1)
    FishDipNER(**params).fit(NER_X, NER_Y)
    with pytest.warns(UserWarning, match="augmented targets are longer"):
        cut = FishDipNER(**{**params, "max_target_length": 6}).fit(NER_X, NER_Y)
    whole, short = staged
    n_cut = 0
    for full, kept in zip(whole, short):
        assert kept["input_ids"] == full["input_ids"]
        if len(full["labels"]) <= 6:
            assert kept["labels"] == full["labels"]
            continue
        n_cut += 1
        # The first six ids of the whole target, and not its end.
        assert kept["labels"] == full["labels"][:6]
        assert kept["labels"][-1] != full["labels"][-1]
        # Every kept position is one constrained decoding could take: no None.
        assert kept["allowed"] == full["allowed"][:6] and all(kept["allowed"])
    assert n_cut >= 1
    assert all(all(example["allowed"]) for example in whole)
    assert cut.n_updated_parameters_ > 0
