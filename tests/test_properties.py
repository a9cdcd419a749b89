"""Properties of every registered task estimator on arbitrary input.

For any batch of sentences (empty ones, a few thousand words, any Unicode,
the augmented format's own markup and escape codes as tokens or inside them)
``predict`` returns one well-formed answer per sentence, or, for input that
:func:`~sklearn_fishdip.utils._validation.check_tokens` refuses (a token that
is not a string, is empty or holds whitespace), raises a ``TypeError`` or
``ValueError`` that names the sentence and the token; never another exception.

The estimators come from :func:`sklearn_fishdip.all_estimators`, so a new task
is covered as soon as it registers; it only needs training sentences in
:data:`TRAINING_DATA`, an answer check in :data:`ANSWER_CHECKS` and its empty
answer in :data:`EMPTY_ANSWERS`. Each is fitted once per module on two tiny
offline models: a T5 (relative positions, no length limit) and a BERT2BERT
warm start whose BERT has 64 positions, run with the estimators' default
source and target lengths (256): a long sentence must be windowed and each
window's target bounded by the positions the model has, as the offline
default's 512-position MiniLM needs.

Hypothesis runs a fixed, small set of examples (``derandomize``) so the file
takes seconds; ``FISHDIP_PROPERTY_EXAMPLES=500`` explores more, at random.
"""

import os
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sklearn_fishdip import all_estimators
from sklearn_fishdip.utils._testing import make_tiny_bert2bert

from .estimator_fixtures import (  # global_rng_untouched: used by pytestmark
    NER_X,
    NER_Y,
    RE_X,
    RE_Y,
    fast_params,
    global_rng_untouched,  # noqa: F401
)

# Long sentences are tagged in windows, with a warning that says so: expected here.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*consecutive windows:UserWarning"),
    pytest.mark.usefixtures("global_rng_untouched"),
]

#: Training sentences and targets of each task (a new task adds its own).
TRAINING_DATA = {"ner": (NER_X, NER_Y), "relations": (RE_X, RE_Y)}

_EXPLORE = int(os.environ.get("FISHDIP_PROPERTY_EXAMPLES", "0"))
PROPERTY_SETTINGS = settings(
    max_examples=_EXPLORE or 6,
    deadline=None,
    derandomize=not _EXPLORE,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------
# Answer checks, per task: one answer of the right shape for its sentence
# ---------------------------------------------------------------------------


def _check_ner_answer(estimator, tokens, tags):
    assert isinstance(tags, list) and len(tags) == len(tokens)
    for tag in tags:
        assert tag == "O" or (tag[:2] in {"B-", "I-"} and tag[2:] in estimator.labels_), tag


def _check_relations_answer(estimator, tokens, answer):
    assert isinstance(answer, dict) and set(answer) == {"entities", "relations"}
    entities, relations = answer["entities"], answer["relations"]
    for start, end, label in entities:
        assert 0 <= start < end <= len(tokens) and label in estimator.entity_types_
    assert len(set(entities)) == len(entities)
    for head, tail, label in relations:
        assert 0 <= head < len(entities) and 0 <= tail < len(entities) and head != tail
        assert label in estimator.relation_types_
    assert len(set(relations)) == len(relations)


#: What a well-formed answer is, per task, beyond being a valid target.
ANSWER_CHECKS = {"ner": _check_ner_answer, "relations": _check_relations_answer}

#: The answer to an empty sentence: the task's empty structure.
EMPTY_ANSWERS = {"ner": [], "relations": {"entities": [], "relations": []}}

#: Tasks whose inputs are not token lists, with the test module covering their properties.
OTHER_INPUTS = {
    "dialogue_state": "tests/tasks/dialogue_state/test_estimator.py",
    "events": "tests/tasks/events/test_estimator.py",
    "relation_classification": "tests/tasks/relation_classification/test_estimator.py",
    "srl": "tests/tasks/srl/test_estimator.py",
    "text_classification": "tests/tasks/text_classification/test_estimator.py",
    "text_regression": "tests/tasks/text_classification/test_estimator.py",
}
TASKS = [task for task, _ in all_estimators() if task not in OTHER_INPUTS]


def test_every_registered_task_has_property_data_and_a_check():
    # A new task fails here, not silently, until the properties cover it.
    assert set(OTHER_INPUTS) <= {task for task, _ in all_estimators()}
    assert sorted(TRAINING_DATA) == sorted(TASKS)
    assert sorted(ANSWER_CHECKS) == sorted(TASKS)
    assert sorted(EMPTY_ANSWERS) == sorted(TASKS)


# ---------------------------------------------------------------------------
# Fitted estimators: every task on each tiny model, once per module
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_bert_path(tmp_path_factory):
    """An encoder-only BERT with 64 positions: the estimators warm-start it as BERT2BERT."""
    model, tokenizer, _ = make_tiny_bert2bert(seed=0, hidden_size=16)
    assert model.config.encoder.max_position_embeddings == 64
    path = tmp_path_factory.mktemp("tiny_bert_64_positions")
    model.encoder.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


MODELS = {
    # T5's relative positions have no limit; the tests' short lengths.
    "t5": lambda paths: fast_params(paths["t5"]),
    # 64 positions but the estimators' default lengths: windows and targets must fit the model.
    "bert2bert-64": lambda paths: fast_params(
        paths["bert2bert-64"], max_source_length=256, max_target_length=256
    ),
}


@pytest.fixture(
    scope="module",
    params=[(task, model) for task in TASKS for model in MODELS],
    ids=lambda param: "-".join(param),
)
def fitted(request, tiny_t5_path, tiny_bert_path):
    task, model = request.param
    Estimator = dict(all_estimators())[task]
    X, y = TRAINING_DATA[task]
    params = MODELS[model]({"t5": tiny_t5_path, "bert2bert-64": tiny_bert_path})
    return task, Estimator(**params).fit(X, y)


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

# Words the tiny tokenizer knows, the format's markup and escape codes, and Unicode that
# tokenizers treat specially: combining marks, emoji sequences, right-to-left scripts,
# zero-width and bidi controls, NUL, soft hyphen, ligatures, astral and private-use planes.
WORDS = ["John", "visited", "Paris", "Google", "in", "New", "York", "the", "person"]
MARKUP = ["[", "]", "|", "=", "\\", "\\\\", "[]", "][", "[[", "||", "==", "\\[", "a\\b", "]\\"]
MARKUP += ["[x]", "a=b", "a|b", "[John|person]", "-LSB-", "-RSB-", "-DASH-", "--EQ-", "-"]
UNICODE = ["e\u0301", "\u0301", "\u0301\u0301a", "😀", "👩‍👩‍👧", "🇫🇷", "שלום", "مرحبا", "\u200b"]
UNICODE += ["\u200d", "\ufeff", "\u202e", "\u200f", "a\u200bb", "\x00", "\x7f", "\u00ad", "ﬁ"]
UNICODE += ["İ", "ß", "Ω", "𝔘𝔫𝔦", "\U0010fffd", "\ue000", "日本語", "नमस्ते", "a\u0308\u0304"]


def _has_space(text):
    # What str.split() splits on: the whitespace check_tokens refuses inside a token.
    return any(char.isspace() for char in text)


valid_token = st.one_of(
    st.sampled_from(WORDS + MARKUP + UNICODE),
    st.text(min_size=1, max_size=8).filter(lambda text: not _has_space(text)),
    # Markup inside a word.
    st.builds(
        lambda left, mark, right: left + mark + right,
        st.sampled_from(["", *WORDS, *UNICODE]),
        st.sampled_from(["[", "]", "|", "=", "\\"]),
        st.sampled_from(["", *WORDS, *UNICODE]),
    ),
)


@st.composite
def sentences(draw, min_length=0, max_length=12):
    """A sentence; a long one repeats a drawn pattern of tokens."""
    pattern = draw(st.lists(valid_token, min_size=1, max_size=12))
    length = draw(st.integers(min_length, max_length))
    return [pattern[i % len(pattern)] for i in range(length)]


@st.composite
def batches(draw):
    """One to four sentences of 0 to a dozen tokens, one in three with one of up to 3,000."""
    X = draw(st.lists(sentences(), max_size=3))
    if not X or draw(st.integers(0, 2)) == 0:
        X.insert(draw(st.integers(0, len(X))), draw(sentences(13, 3000)))
    return X


# The sentence the issue reports: generation ran past the model's positions.
LONG = [WORDS[i % len(WORDS)] for i in range(2000)]
LONG_MARKUP = [(MARKUP + UNICODE)[i % len(MARKUP + UNICODE)] for i in range(300)]


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(X=batches(), probe=st.integers(0, 3))
@example(X=[LONG, [], ["John"]], probe=1)
@example(X=[[], LONG_MARKUP], probe=0)
@example(X=[[]], probe=0)
def test_predict_gives_one_well_formed_answer_per_sentence(fitted, X, probe):
    task, estimator = fitted
    answers = estimator.predict(X)
    assert isinstance(answers, list) and len(answers) == len(X)
    # Every answer is a valid target for its sentence, as the task checks y in fit ...
    estimator.codec.check_targets(estimator, X, answers)
    for tokens, answer in zip(X, answers):
        # ... and holds only what the model was trained to predict.
        ANSWER_CHECKS[task](estimator, tokens, answer)
    # Constrained decoding copies every word, whatever its characters.
    assert estimator.decode_errors_.wrong_reconstruction == 0, estimator.decode_errors_
    # An empty sentence gets the task's empty structure ...
    empty = EMPTY_ANSWERS[task]
    assert all(answer == empty for tokens, answer in zip(X, answers) if not tokens)
    # ... and a sentence's answer does not depend on the rest of the batch.
    probe %= len(X)
    if len(X[probe]) <= 50:
        assert estimator.predict([X[probe]]) == [answers[probe]]


def _invalid_token():
    return st.one_of(
        st.sampled_from(["", " ", "a b", "\t", "\n", "x\u00a0y", "\u3000", "\u2028", "\x1c"]),
        st.text(min_size=1, max_size=6).filter(_has_space),
        st.sampled_from([None, 3, 1.5, b"bytes", ["John"], ("a",), True]),
    )


@st.composite
def batches_with_a_bad_token(draw):
    """A batch in which one token of one sentence is refused; the rest is valid."""
    X = draw(st.lists(st.lists(valid_token, max_size=6), min_size=1, max_size=4))
    sentence = draw(st.integers(0, len(X) - 1))
    position = draw(st.integers(0, len(X[sentence])))
    X[sentence].insert(position, draw(_invalid_token()))
    return X, sentence, position


@PROPERTY_SETTINGS
@given(case=batches_with_a_bad_token())
def test_a_refused_token_raises_a_clear_error_naming_it(fitted, case):
    _, estimator = fitted
    X, sentence, position = case
    bad = X[sentence][position]
    # Refused tokens before the planted one would be named first: there are none.
    expected = TypeError if not isinstance(bad, str) else ValueError
    with pytest.raises(expected) as raised:
        estimator.predict(X)
    message = str(raised.value)
    assert re.search(rf"\btoken {position} of sentence {sentence}\b", message), message


@pytest.mark.parametrize(
    "X, error",
    [
        ([], ValueError),
        ("John visited Paris", TypeError),
        (["John", "visited"], TypeError),
        ([["John"], "visited"], TypeError),
        (None, TypeError),
        (42, TypeError),
        ([["John"], None], TypeError),
        ([{"John": 1}], TypeError),
    ],
)
def test_malformed_batches_raise_a_type_or_value_error(fitted, X, error):
    _, estimator = fitted
    with pytest.raises(error):
        estimator.predict(X)
