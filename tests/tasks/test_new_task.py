"""A task defined outside the library is picked up without editing it.

The toy task marks keywords: its target is the sorted list of keyword
positions, written as ``[ word | keyword ]``. Registering it (by defining its
estimator) is all it takes for the registry, persistence and the command line
to know it, as the user guide's "Adding a task" describes.
"""

import pytest

from sklearn_fishdip import all_estimators
from sklearn_fishdip._base import BaseFishDip
from sklearn_fishdip._registry import estimator_for_task
from sklearn_fishdip.augmented import (
    Annotation,
    DecodeErrors,
    LabelVerbalizer,
    align_words,
    aligned_span,
    parse_augmented,
    write_augmented,
)
from sklearn_fishdip.cli import build_parser, main
from sklearn_fishdip.tasks import TaskCodec, TaskFiles
from tests.estimator_fixtures import NER_X, fast_params

TOY_Y = [[0], [0, 2], [0, 2], [0], [2], [0, 4]]


class KeywordCodec(TaskCodec):
    def check_targets(self, estimator, X, y):
        for index, (tokens, positions) in enumerate(zip(X, y)):
            if any(not 0 <= p < len(tokens) for p in positions):
                raise ValueError(f"y[{index}]: a position is outside the sentence")
        return [sorted(set(positions)) for positions in y]

    def fit_vocabulary(self, estimator, targets):
        return {"verbalizer_": LabelVerbalizer(["KEY"], {"KEY": "keyword"})}

    def natural_vocabulary(self, estimator):
        return estimator.verbalizer_.natural_names, ()

    def encode(self, estimator, words, target):
        name = estimator.verbalizer_.verbalize("KEY")
        text, _ = write_augmented(words, [Annotation(p, p + 1, name) for p in target])
        return text

    def clip_target(self, target, end):
        return [p for p in target if p < end]

    def decode(self, estimator, text, words):
        parsed = parse_augmented(text)
        alignment = align_words(words, list(parsed.words), ignore_case=estimator.uncased_)
        positions = set()
        for entity in parsed.entities:
            span = aligned_span(alignment, entity.start, entity.end)
            if span is not None:
                positions.update(range(*span))
        return sorted(positions), DecodeErrors(n_sentences=1)

    def shift_prediction(self, prediction, offset):
        return [p + offset for p in prediction]

    def merge_predictions(self, parts):
        return [p for part in parts for p in part]


class KeywordFiles(TaskFiles):
    """One sentence per line, keywords starred (``*Paris``)."""

    description = "one sentence per line, keywords starred"
    output = "writes the sentences with the predicted keywords starred."
    report = "keyword accuracy."

    def read(self, path, *, gold):
        X, y = [], []
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                words = line.split()
                X.append([word.lstrip("*") for word in words])
                y.append([i for i, word in enumerate(words) if word.startswith("*")])
        return X, y

    def write(self, out, X, predicted, gold=None):
        for tokens, positions in zip(X, predicted):
            out.write(" ".join(("*" if i in positions else "") + t for i, t in enumerate(tokens)))
            out.write("\n")

    def scores(self, estimator, y_true, y_pred):
        accuracy = sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)
        return {"accuracy": accuracy, "text": f"accuracy {accuracy:.4f}"}


@pytest.fixture
def toy_class(monkeypatch):
    """The toy estimator, registered for this test only."""
    from sklearn_fishdip import _registry

    monkeypatch.setattr(_registry, "_BY_TASK", dict(_registry._BY_TASK))

    class ToyKeywords(BaseFishDip):
        task = "toy-keywords"
        codec = KeywordCodec()
        files = KeywordFiles()

        def predict(self, X):
            return self._predict_targets(X)

        def score(self, X, y):
            return KeywordFiles().scores(self, y, self.predict(X))["accuracy"]

    return ToyKeywords


def test_a_new_task_is_registered_when_defined(toy_class):
    assert ("toy-keywords", toy_class) in all_estimators()
    assert estimator_for_task("toy-keywords") is toy_class


def test_the_toy_registration_does_not_outlive_its_test():
    import sklearn_fishdip

    # Exactly the library's own estimators, those its top level exports.
    exported = [getattr(sklearn_fishdip, name) for name in sklearn_fishdip.__all__]
    library = sorted(
        obj.task for obj in exported if isinstance(obj, type) and issubclass(obj, BaseFishDip)
    )
    assert [task for task, _ in all_estimators()] == library
    assert {"ner", "relations", "srl", "dialogue_state", "text_classification"} <= set(library)


def test_a_new_task_fits_predicts_saves_and_loads(toy_class, tiny_t5_path, tmp_path):
    estimator = toy_class(**fast_params(tiny_t5_path)).fit(NER_X, TOY_Y)
    predicted = estimator.predict(NER_X)
    assert len(predicted) == len(NER_X)
    assert all(all(0 <= p < len(x) for p in positions) for x, positions in zip(NER_X, predicted))
    assert estimator.verbalizer_.natural_names == ("keyword",)

    estimator.save(tmp_path / "toy")
    for loader in (toy_class, BaseFishDip):
        loaded = loader.load(tmp_path / "toy")
        assert type(loaded) is toy_class
        assert loaded.predict(NER_X) == predicted


def test_the_command_line_offers_a_new_task(toy_class, tiny_t5_path, tmp_path, capsys):
    parser = build_parser()
    args = parser.parse_args(["predict", "--model", "m", "--input", "f", "--task", "toy-keywords"])
    assert args.task == "toy-keywords"
    assert "toy-keywords" in parser.format_help()

    train = tmp_path / "train.txt"
    train.write_text(
        "".join(
            " ".join(("*" if i in y else "") + t for i, t in enumerate(x)) + "\n"
            for x, y in zip(NER_X, TOY_Y)
        )
    )
    model = tmp_path / "model"
    options = ["--epochs", "1", "--batch-size", "4", "--device", "cpu", "--quiet"]
    code = main(
        ["fit", "--task", "toy-keywords", "--train", str(train), "--model", tiny_t5_path]
        + options
        + ["--out", str(model)]
    )
    assert code == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--test", str(train), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith("accuracy ")
    assert main(["predict", "--model", str(model), "--input", str(train), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.replace("*", "").split() for line in lines] == NER_X
