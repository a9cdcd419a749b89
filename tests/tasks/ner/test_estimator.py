"""FishDipNER specifics, on a tiny offline T5."""

import warnings

import pytest

from sklearn_fishdip import FishDipNER
from sklearn_fishdip.metrics import entity_precision_recall_f1
from tests.estimator_fixtures import NER_X, NER_Y, fast_params


@pytest.mark.parametrize(
    "X, y, error, message",
    [
        ([], [], ValueError, "X is empty"),
        (NER_X, NER_Y[:-1], ValueError, "6 sentences but 5 targets"),
        ([["John", 3]], [["B-PER", "O"]], TypeError, "token 1 of sentence 0 must be a string"),
        (["John visited Paris"], [["B-PER", "O", "B-LOC"]], TypeError, "must be a list of strings"),
        ([["John", "ran"]], [["B-PER"]], ValueError, "sentence 0 has 2 tokens but 1 tags"),
        ([["John", "ran"]], [["B-PER", "X-LOC"]], ValueError, r"y\[0\]: malformed tag 'X-LOC'"),
        ([["John", "ran"]], [["O", "I-PER"]], ValueError, r"y\[0\]: tag 'I-PER' at position 1"),
        ([["John"]], ["B-PER"], TypeError, r"y\[0\] must be a list of tags"),
    ],
)
def test_bad_training_data_is_refused_clearly(tiny_t5_path, X, y, error, message):
    with pytest.raises(error, match=message):
        FishDipNER(**fast_params(tiny_t5_path)).fit(X, y)


def test_bad_scheme_is_refused(tiny_t5_path):
    with pytest.raises(ValueError, match="unknown tagging scheme"):
        FishDipNER(**fast_params(tiny_t5_path, scheme="XYZ")).fit(NER_X, NER_Y)


def test_other_schemes_in_and_out(tiny_t5_path):
    bilou = [
        [
            t.replace("B-", "U-") if i + 1 == len(s) or not s[i + 1].startswith("I-") else t
            for i, t in enumerate(s)
        ]
        for s in NER_Y
    ]
    bilou[4] = ["O", "O", "B-LOC", "L-LOC"]
    estimator = FishDipNER(**fast_params(tiny_t5_path, scheme="BILOU")).fit(NER_X, bilou)
    allowed = {"O"} | {f"{p}-{t}" for p in "BILU" for t in estimator.labels_}
    predicted = estimator.predict(NER_X)
    assert all(set(tags) <= allowed for tags in predicted)
    # score is seqeval's strict F1 in the estimator's scheme, not IOB2's.
    assert (
        estimator.score(NER_X, bilou)
        == entity_precision_recall_f1(bilou, predicted, scheme="BILOU")[2]
    )


def test_fish_with_adamw_weight_decay_stays_inside_the_budget(tiny_t5_path):
    estimator = FishDipNER(
        **fast_params(
            tiny_t5_path,
            strategy="fish",
            optimizer="adamw",
            weight_decay=0.1,
            keep_ratio=0.02,
            learning_rate=1e-2,
            max_epochs=3,
        )
    )
    estimator.fit(NER_X, NER_Y)
    budget = int(0.02 * (estimator.n_parameters_ - estimator.n_always_trainable_))
    assert 0 < estimator.n_updated_parameters_ <= budget + estimator.n_always_trainable_


def test_full_strategy_updates_everything(tiny_t5_path):
    estimator = FishDipNER(**fast_params(tiny_t5_path, strategy="full")).fit(NER_X, NER_Y)
    assert estimator.n_updated_parameters_ > 0.9 * estimator.n_parameters_


def test_long_sentences_are_windowed_with_a_warning(tiny_t5_path):
    long_sentence = ("John visited Paris and Mary visited London " * 6).split()
    long_tags = ["B-PER", "O", "B-LOC", "O", "B-PER", "O", "B-LOC"] * 6
    estimator = FishDipNER(**fast_params(tiny_t5_path, max_source_length=16))
    with pytest.warns(UserWarning, match="1 of 7 training sentences are longer"):
        estimator.fit(NER_X + [long_sentence], NER_Y + [long_tags])
    with pytest.warns(UserWarning, match="1 of 2 sentences are longer .* consecutive windows"):
        tags = estimator.predict([NER_X[0], long_sentence])
    assert len(tags[1]) == len(long_sentence)
    with pytest.warns(UserWarning, match="consecutive windows"):
        spans = estimator.predict_spans([long_sentence])[0]
    assert all(0 <= s < e <= len(long_sentence) for s, e, _ in spans)


def test_label_names_and_unseen_labels(tiny_t5_path):
    estimator = FishDipNER(**fast_params(tiny_t5_path, label_names={"PER": "human"}))
    estimator.fit(NER_X, NER_Y)
    assert estimator.verbalizer_.verbalize("PER") == "human"
    assert estimator.labels_ == ["LOC", "ORG", "PER"]
    with pytest.raises(ValueError, match="must not contain"):
        FishDipNER(**fast_params(tiny_t5_path, label_names={"PER": "a|b"})).fit(NER_X, NER_Y)


def test_free_generation_never_crashes_predict(tiny_t5_path):
    estimator = FishDipNER(**fast_params(tiny_t5_path, constrained_decoding=False))
    estimator.fit(NER_X, NER_Y)
    tags = estimator.predict(NER_X)
    assert [len(t) for t in tags] == [len(x) for x in NER_X]
    assert estimator.decode_errors_.n_sentences == len(NER_X)


def test_verbose_zero_is_silent(tiny_t5_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FishDipNER(**fast_params(tiny_t5_path)).fit(NER_X, NER_Y).predict(NER_X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_shows_progress_over_training_and_long_predictions(tiny_t5_path, capsys):
    estimator = FishDipNER(**fast_params(tiny_t5_path, verbose=1, batch_size=2))
    estimator.fit(NER_X, NER_Y)
    training = capsys.readouterr()
    assert "it/s" in training.err or "s/it" in training.err
    estimator.predict(NER_X * 6)  # 36 sentences: more than one generation batch
    assert "generating" in capsys.readouterr().err
