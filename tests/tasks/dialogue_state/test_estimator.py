"""FishDipDialogueStateTracker: the shared estimator properties on a tiny T5."""

import pickle
import warnings

import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils import estimator_checks

from sklearn_fishdip import FishDipDialogueStateTracker, all_estimators
from sklearn_fishdip.generation import BeliefGrammar, generate_augmented
from sklearn_fishdip.persistence import load_estimator
from sklearn_fishdip.tasks.dialogue_state import dialogue_source
from sklearn_fishdip.utils._testing import make_tiny_bert, make_tiny_gpt2

from ...estimator_fixtures import fast_params, global_rng_untouched  # noqa: F401
from ...test_base import DATA_FREE_CHECKS

pytestmark = pytest.mark.usefixtures("global_rng_untouched")

X = [
    [("user", "john visited paris")],
    [("user", "mary met anna"), ("system", "he said"), ("user", "the bank")],
    [("user", "paul joined google")],
    [("user", "anna visited rome"), ("system", "today"), ("user", "with smith")],
]
Y = [
    {("hotel", "area"): "paris"},
    {("taxi", "leaveat"): "monday"},
    {("hotel", "area"): "london"},
    {("hotel", "area"): "rome", ("hotel", "name"): "acme"},
]


@pytest.fixture(scope="module")
def fitted(tiny_t5_path):
    return FishDipDialogueStateTracker(**fast_params(tiny_t5_path)).fit(X, Y)


def test_is_registered():
    assert dict(all_estimators())["dialogue_state"] is FishDipDialogueStateTracker


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_sklearn_data_free_checks(check):
    getattr(estimator_checks, check)("FishDipDialogueStateTracker", FishDipDialogueStateTracker())


def test_fit_predict_score(fitted):
    assert fitted.domain_slots_["hotel"][0] == "area"
    assert fitted.training_loss_ == "full"
    predicted = fitted.predict(X)
    assert len(predicted) == len(X)
    for state in predicted:
        assert all(slot in fitted.domain_slots_[domain] for domain, slot in state)
    # constrained decoding: even the barely trained tiny model writes states that parse
    assert fitted.decode_errors_.n_sentences == len(X)
    assert fitted.decode_errors_.format_error == fitted.decode_errors_.label_error == 0
    assert 0.0 <= fitted.score(X, Y) <= 1.0


def test_training_texts_keep_the_most_recent_turns(tiny_t5_path):
    estimator = FishDipDialogueStateTracker(**fast_params(tiny_t5_path, max_source_length=12))
    with pytest.warns(UserWarning, match="training histories .* oldest turns were left out"):
        estimator.fit(X, Y)
    from sklearn_fishdip.models import load_model

    loaded = load_model(tiny_t5_path, "auto")
    source, target, _, truncated = estimator._training_texts(loaded, tuple(X[1]), Y[1])
    assert truncated and source.endswith("[User]: the bank ;"), source
    assert not source.startswith("[User]: mary")
    assert target.startswith("[belief] taxi arrive by not given")
    with pytest.warns(UserWarning, match="oldest turns were left out"):
        estimator.predict(X[1:2])


def test_same_random_state_same_result_and_clone(tiny_t5_path, fitted):
    second = clone(fitted).fit(X, Y)
    assert clone(fitted).get_params() == fitted.get_params()
    assert fitted.history_ == second.history_
    assert fitted.predict(X) == second.predict(X)


def test_grid_search(tiny_t5_path):
    search = GridSearchCV(
        FishDipDialogueStateTracker(**fast_params(tiny_t5_path, max_epochs=1)),
        {"keep_ratio": [0.05, 0.1]},
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, Y)
    assert set(search.best_params_) == {"keep_ratio"}


def test_persistence_round_trip(fitted, tmp_path):
    fitted.save(tmp_path / "dst")
    loaded = load_estimator(tmp_path / "dst")
    assert type(loaded) is FishDipDialogueStateTracker
    assert loaded.domain_slots_ == fitted.domain_slots_
    assert loaded.predict(X) == fitted.predict(X)
    assert isinstance(loaded.grammar_, BeliefGrammar)  # rebuilt for decoding
    assert pickle.loads(pickle.dumps(fitted)).predict(X) == fitted.predict(X)


@pytest.mark.parametrize(
    "bad_X, bad_y, error, message",
    [
        (
            [[("user", "hi")], [("bot", "hi")]],
            [{}, {}],
            ValueError,
            r"X\[1\]: turn 0 has the unknown",
        ),
        ([[("user", "hi")], []], [{}, {}], ValueError, r"X\[1\] is an empty history"),
        ([[("user", "hi")]], [{"area": "x"}], ValueError, r"y\[0\]: the key 'area'"),
        ([[("user", "hi")]], [{("hotel", "area"): 1}], TypeError, r"y\[0\]: the value"),
    ],
)
def test_bad_training_data_is_refused_clearly(tiny_t5_path, bad_X, bad_y, error, message):
    with pytest.raises(error, match=message):
        FishDipDialogueStateTracker(**fast_params(tiny_t5_path)).fit(bad_X, bad_y)


def test_bad_predict_input_is_refused_clearly(fitted):
    with pytest.raises(TypeError, match=r"X\[0\]: turn 0 must be"):
        fitted.predict([["hello"]])


# --------------------------------------------------------------------------- #
# Constrained decoding with the belief grammar
# --------------------------------------------------------------------------- #


def test_fit_stores_the_seen_values_and_the_belief_grammar(fitted):
    assert fitted.slot_values_ == {
        "hotel": {"area": ["london", "paris", "rome"], "name": ["acme"]},
        "taxi": {"leaveat": ["monday"]},
    }
    assert isinstance(fitted.grammar_, BeliefGrammar)
    assert fitted.grammar_.values[fitted.grammar_.value_index(1, 0)] == ["london", "paris", "rome"]


def test_unconstrained_decoding_generates_freely(tiny_t5_path, fitted):
    free = clone(fitted).set_params(constrained_decoding=False).fit(X, Y)
    predicted = free.predict(X)
    sources = [dialogue_source(history).split() for history in X]
    texts = generate_augmented(
        free.model_,
        free.tokenizer_,
        sources,
        source_texts=[" ".join(words) for words in sources],
        grammar=None,
        max_new_tokens=free.max_target_length,
    )
    assert predicted == [free.codec.decode(free, text)[0] for text in texts]
    # the barely trained tiny model writes unreadable text: counted, never raised
    assert free.decode_errors_.format_error > 0


# The tiny byte-level BPE spells a 10-slot hotel state in hundreds of ids: cut, no matter.
@pytest.mark.filterwarnings("ignore:.* augmented targets are longer")
@pytest.mark.parametrize("family", ["gpt2", "prefix-lm"])
def test_every_model_family_writes_states_that_parse(family, tmp_path):
    build = make_tiny_gpt2 if family == "gpt2" else make_tiny_bert
    model, tokenizer = build(
        **{"n_positions" if family == "gpt2" else "max_position_embeddings": 512}
    )[:2]
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    kind = "auto" if family == "gpt2" else "prefix-lm"
    estimator = FishDipDialogueStateTracker(
        **fast_params(str(tmp_path), model_kind=kind, max_epochs=1, max_target_length=200)
    ).fit(X, Y)
    # The prefix LM's default loss is the belief grammar's.
    assert estimator.training_loss_ == ("grammar" if family == "prefix-lm" else "full")
    predicted = estimator.predict(X)
    assert estimator.decode_errors_.format_error == estimator.decode_errors_.label_error == 0
    for state in predicted:
        assert all(slot in estimator.domain_slots_[domain] for domain, slot in state)
