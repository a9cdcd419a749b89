"""The estimators on every model family: fit, predict, score, strategies, persistence."""

import pickle
import warnings

import pytest
from sklearn.model_selection import GridSearchCV

from sklearn_fishdip import FishDipNER, FishDipRelationExtractor
from sklearn_fishdip.metrics import entity_f1_score, relation_f1_score

from ..estimator_fixtures import NER_X, NER_Y, RE_X, RE_Y, fast_params

TASKS = {"ner": (FishDipNER, NER_X, NER_Y), "relations": (FishDipRelationExtractor, RE_X, RE_Y)}
FAMILIES = ["gpt2", "llama", "prefix-lm"]
# Far more words than the tiny models' 64 positions hold.
LONG = (["John", "visited", "Paris", "with", "Mary", "."] * 50)[:290]


def _params(family_paths, family, **overrides):
    path, kind = family_paths[family]
    return fast_params(path, model_kind=kind, **overrides)


def _check_prediction(task, prediction, tokens):
    if task == "ner":
        assert len(prediction) == len(tokens)
    else:
        for start, end, _ in prediction["entities"]:
            assert 0 <= start < end <= len(tokens)


# Relation targets in byte-level ids outgrow the tiny models' positions: cut, with a warning.
@pytest.mark.filterwarnings("ignore:.*augmented targets are longer:UserWarning")
@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("family", FAMILIES)
def test_fit_predict_score_save_load_pickle(family, task, family_paths, tmp_path):
    Estimator, X, y = TASKS[task]
    estimator = Estimator(**_params(family_paths, family, num_beams=2)).fit(X, y)
    assert estimator.n_updated_parameters_ > 0
    assert len(estimator.history_) == 2 and estimator.mask_history_
    predictions = estimator.predict(X)
    for prediction, tokens in zip(predictions, X):
        _check_prediction(task, prediction, tokens)
    # Constrained outputs always copy their sentence: nothing to count as a decode error.
    errors = estimator.decode_errors_
    assert errors.n_sentences == len(X)
    assert errors.wrong_reconstruction == 0 and errors.format_error == 0
    # score is the task's metric on the predictions just checked.
    metric = entity_f1_score if task == "ner" else relation_f1_score
    assert estimator.score(X, y) == pytest.approx(metric(y, predictions))

    estimator.save(tmp_path / "saved")
    loaded = Estimator.load(tmp_path / "saved")
    assert type(loaded.model_) is type(estimator.model_)
    assert loaded.predict(X) == predictions
    assert pickle.loads(pickle.dumps(estimator)).predict(X) == predictions

    # A sentence longer than the model's positions is tagged in windows.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        (long_prediction,) = estimator.predict([LONG])
    _check_prediction(task, long_prediction, LONG)


@pytest.mark.parametrize("strategy", ["fish-dip", "fish", "dps", "bitfit", "random", "full"])
@pytest.mark.parametrize("family", FAMILIES)
def test_every_strategy_trains(family, strategy, family_paths):
    params = _params(family_paths, family, strategy=strategy, max_epochs=1)
    if family == "llama" and strategy == "bitfit":
        with pytest.raises(ValueError, match="bias"):
            FishDipNER(**params).fit(NER_X, NER_Y)  # Llama has no biases
        return
    estimator = FishDipNER(**params).fit(NER_X, NER_Y)
    assert estimator.mask_history_[0]["strategy"] == strategy
    assert estimator.n_updated_parameters_ > 0
    if strategy in ("fish-dip", "fish", "random"):
        # The sparse budget is kept: few entries besides the new head parameters change.
        budget = estimator.keep_ratio * estimator.n_parameters_
        assert estimator.n_updated_parameters_ <= budget + estimator.n_always_trainable_ + 1
    predictions = estimator.predict(NER_X)
    assert [len(p) for p in predictions] == [len(x) for x in NER_X]


def test_same_random_state_same_model(family_paths):
    first = FishDipNER(**_params(family_paths, "gpt2", max_epochs=1)).fit(NER_X, NER_Y)
    second = FishDipNER(**_params(family_paths, "gpt2", max_epochs=1)).fit(NER_X, NER_Y)
    assert first.history_ == second.history_
    assert first.predict(NER_X) == second.predict(NER_X)


def test_model_kind_is_grid_searchable(bert_path):
    grid = GridSearchCV(
        FishDipNER(**fast_params(bert_path, max_epochs=1)),
        {"model_kind": ["bert2bert", "prefix-lm"]},
        cv=2,
        error_score="raise",
    )
    grid.fit(NER_X, NER_Y)
    assert list(grid.cv_results_["param_model_kind"]) == ["bert2bert", "prefix-lm"]
    best = grid.best_estimator_
    expected = {"bert2bert": "EncoderDecoderModel", "prefix-lm": "BertForMaskedLM"}
    assert type(best.model_).__name__ == expected[best.model_kind]


def test_a_kind_that_does_not_fit_the_checkpoint_is_refused(gpt2_path):
    with pytest.raises(ValueError, match="model_kind='prefix-lm'"):
        FishDipNER(**fast_params(gpt2_path, model_kind="prefix-lm")).fit(NER_X, NER_Y)


# Which tasks' targets copy their source in order (aligned on a prefix LM), and the
# task prefixes their sources start with.
COPYING = {
    "ner": (True, ()),
    "relations": (True, ()),
    "srl": (True, ()),
    "events": (True, ("triggers :", "arguments :")),
    "dialogue_state": (False, ()),
    "relation_classification": (False, ()),
    "text_classification": (False, ()),
    "text_regression": (False, ()),
}


@pytest.mark.parametrize("task", sorted(COPYING))
def test_a_prefix_lm_aligns_only_targets_that_copy_the_source(task, bert_path):
    from sklearn_fishdip import all_estimators
    from sklearn_fishdip.models import load_model

    loaded = load_model(bert_path, "prefix-lm")
    adapter = dict(all_estimators())[task]()._task_adapter(loaded.adapter, loaded.tokenizer)
    copies, prefixes = COPYING[task]
    if not copies:
        assert adapter.aligner is None
        return
    expected = tuple(
        tuple(loaded.tokenizer(text, add_special_tokens=False)["input_ids"]) for text in prefixes
    )
    assert set(adapter.aligner.source_prefixes) == set(expected)


def test_fit_and_predict_use_the_task_adapter(bert_path, monkeypatch):
    # A class name is no copy of the text: fit trains the prefix LM with target
    # positions numbered after the source, and predict scores with the same adapter.
    import sklearn_fishdip._base as base
    from sklearn_fishdip import FishDipTextClassifier

    used = []
    real = base.fit_sparse

    def spy(*args, **kwargs):
        used.append(kwargs["adapter"])
        return real(*args, **kwargs)

    monkeypatch.setattr(base, "fit_sparse", spy)
    X, y = ["john met mary", "paul visited paris"] * 2, [0, 1] * 2
    params = fast_params(
        bert_path, model_kind="prefix-lm", label_names={"0": "met", "1": "visited"}
    )
    estimator = FishDipTextClassifier(**params).fit(X, y)
    assert len(used) == 1 and used[0].aligner is None
    assert estimator._model_adapter() == used[0]
    assert estimator.predict_proba(X).shape == (4, 2)


@pytest.mark.parametrize("family", ["prefix-lm", "gpt2"])
def test_training_reads_the_selected_logits_with_the_same_losses(family, family_paths, monkeypatch):
    # The prefix and causal LMs train from the logits their loss reads (the
    # labelled positions, the allowed ids); the epochs' losses are those of
    # the full logits.
    from sklearn_fishdip.models import CausalLMAdapter, PrefixLMAdapter

    adapter_class = PrefixLMAdapter if family == "prefix-lm" else CausalLMAdapter
    calls = []
    selected_logits = adapter_class.selected_logits

    def spy(self, model, batch):
        selected = selected_logits(self, model, batch)
        calls.append(selected is not None)
        return selected

    params = _params(family_paths, family, max_epochs=2, random_state=3)
    monkeypatch.setattr(adapter_class, "selected_logits", spy)
    fast = FishDipNER(**params).fit(NER_X, NER_Y)
    assert calls and all(calls)
    monkeypatch.setattr(adapter_class, "selected_logits", lambda self, model, batch: None)
    full = FishDipNER(**params).fit(NER_X, NER_Y)
    fast_losses = [row["train_loss"] for row in fast.history_]
    full_losses = [row["train_loss"] for row in full.history_]
    assert fast_losses == pytest.approx(full_losses, rel=1e-4)
