import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_fishdip.augmented import (
    SCHEMES,
    LabelVerbalizer,
    decode_ner,
    decode_ner_spans,
    encode_ner,
    encode_ner_spans,
    resolve_overlaps,
)
from sklearn_fishdip.exceptions import CrossingSpansWarning
from tests.augmented.strategies import nested_spans, tagged_sentences, tokens

CONLL = ["PER", "LOC", "ORG", "MISC"]
SENTENCE = "EU rejects German call to boycott British lamb .".split()
TAGS = ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]
TEXT = (
    "[ EU | organization ] rejects [ German | miscellaneous ] call to boycott "
    "[ British | miscellaneous ] lamb ."
)


def test_conll_example_matches_the_format():
    assert encode_ner(SENTENCE, TAGS) == TEXT
    tags, errors = decode_ner(TEXT, SENTENCE, CONLL)
    assert tags == TAGS
    assert not errors.any and errors.n_sentences == 1


def test_other_schemes_in_and_out():
    bilou = ["U-ORG", "O", "U-MISC", "O", "O", "O", "U-MISC", "O", "O"]
    assert encode_ner(SENTENCE, bilou, scheme="BILOU") == TEXT
    assert decode_ner(TEXT, SENTENCE, CONLL, scheme="BILOU")[0] == bilou
    assert decode_ner(TEXT, SENTENCE, CONLL, scheme="IOB1")[0][0] == "I-ORG"


def test_label_names_override_the_defaults():
    text = encode_ner(["Ann", "ran"], ["B-PER", "O"], {"PER": "human being"})
    assert text == "[ Ann | human being ] ran"
    assert decode_ner(text, ["Ann", "ran"], CONLL, {"PER": "human being"})[0] == ["B-PER", "O"]
    # The default name is no longer understood once overridden.
    tags, errors = decode_ner("[ Ann | person ] ran", ["Ann", "ran"], CONLL, {"PER": "human being"})
    assert tags == ["O", "O"] and errors.label_error == 1


def test_markup_characters_in_tokens_are_escaped_and_mapped_back():
    words = ["a", "[", "b", "|", "c", "=", "]"]
    tags = ["O", "B-PER", "I-PER", "O", "B-LOC", "I-LOC", "I-LOC"]
    text = encode_ner(words, tags)
    assert text == "a [ -LSB- b | person ] -VBAR- [ c -EQ- -RSB- | location ]"
    assert decode_ner(text, words, CONLL) == (tags, decode_ner(text, words, CONLL)[1])
    assert not decode_ner(text, words, CONLL)[1].any


def test_uncased_generation_needs_ignore_case():
    generated = TEXT.lower()
    tags, errors = decode_ner(generated, SENTENCE, CONLL, ignore_case=True)
    assert tags == TAGS and not errors.any
    tags, errors = decode_ner(generated, SENTENCE, CONLL)
    assert errors.wrong_reconstruction == 1


@pytest.mark.parametrize(
    "generated, expected, flags",
    [
        # unknown type: dropped, label error
        ("[ EU | fruit ] rejects German call", ["O"] * 4, {"label_error": 1}),
        # untyped bracket: format error
        ("[ EU ] rejects German call", ["O"] * 4, {"format_error": 1}),
        # '=' inside the type: format error
        ("[ EU | organization = x ] rejects German call", ["O"] * 4, {"format_error": 1}),
        # an extra tag: format error but the entity stays
        (
            "[ EU | organization | extra ] rejects German call",
            ["B-ORG", "O", "O", "O"],
            {"format_error": 1},
        ),
        # unbalanced brackets
        (
            "[ EU | organization ] ] rejects German call",
            ["B-ORG", "O", "O", "O"],
            {"format_error": 1, "wrong_reconstruction": 1},
        ),
        # a misspelt word still aligns (substitution), reconstruction is wrong
        (
            "[ EU | organization ] rejects [ Germany | miscellaneous ] call",
            ["B-ORG", "O", "B-MISC", "O"],
            {"wrong_reconstruction": 1},
        ),
        # nothing parseable at all
        ("", ["O"] * 4, {"wrong_reconstruction": 1}),
    ],
)
def test_bad_generations_are_counted_not_raised(generated, expected, flags):
    tags, errors = decode_ner(generated, ["EU", "rejects", "German", "call"], CONLL)
    assert tags == expected
    counts = errors.as_dict()
    for kind in ("wrong_reconstruction", "format_error", "label_error", "entity_error"):
        assert counts[kind] == flags.get(kind, 0), kind


def test_labels_outside_the_declared_set_never_appear():
    verbalizer = LabelVerbalizer(["PER", "LOC", "DATE"])
    tags, errors = decode_ner("[ May | date ] came", ["May", "came"], ["PER", "LOC"], verbalizer)
    assert tags == ["O", "O"] and errors.label_error == 1


def test_nested_spans_round_trip_and_overlaps_resolve_outer_first():
    words = "Bank of China opened".split()
    spans = [(0, 3, "ORG"), (2, 3, "LOC")]
    text = encode_ner_spans(words, spans)
    assert text == "[ Bank of [ China | location ] | organization ] opened"
    assert decode_ner_spans(text, words, CONLL)[0] == spans
    assert decode_ner(text, words, CONLL)[0] == ["B-ORG", "I-ORG", "I-ORG", "O"]
    assert resolve_overlaps([(2, 3, "LOC"), (0, 3, "ORG"), (3, 5, "PER"), (4, 6, "MISC")]) == [
        (0, 3, "ORG"),
        (3, 5, "PER"),
    ]


def test_crossing_spans_are_reported():
    with pytest.warns(CrossingSpansWarning, match=r"\(1, 3, 'location'\)"):
        text = encode_ner_spans("a b c d".split(), [(0, 2, "PER"), (1, 3, "LOC")])
    assert text == "[ a b | person ] c d"


@pytest.mark.parametrize(
    "tokens, tags, error, message",
    [
        (["a", "b"], ["O"], ValueError, "got 1 tags for 2 tokens"),
        (["a", "b c"], ["O", "O"], ValueError, "contain no whitespace"),
        (["a", ""], ["O", "O"], ValueError, "non-empty"),
        (["a", 3], ["O", "O"], TypeError, "token 1 must be a string"),
        ("a b", ["O", "O", "O"], TypeError, "must be a list of strings"),
        (["a"], ["B-PER|x"], ValueError, "must not contain|special"),
        (["a", "b"], ["O", "I-PER"], ValueError, "cannot follow 'O'"),
    ],
)
def test_bad_input_is_refused_clearly(tokens, tags, error, message):
    with pytest.raises(error, match=message):
        encode_ner(tokens, tags)


def test_decode_refuses_non_text():
    with pytest.raises(TypeError, match="text must be a string"):
        decode_ner(None, ["a"], CONLL)


@pytest.mark.parametrize("scheme", SCHEMES)
@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_decode_inverts_encode(scheme, data):
    words, tags = data.draw(tagged_sentences(scheme))
    text = encode_ner(words, tags, scheme=scheme)
    decoded, errors = decode_ner(
        text, words, ["PER", "LOC", "ORG", "MISC", "Work_For", "dateOfBirth"], scheme=scheme
    )
    assert decoded == tags
    assert not errors.any


@given(data=st.data())
@settings(max_examples=60, deadline=None)
def test_decode_inverts_encode_for_nested_spans(data):
    words = data.draw(tokens)
    spans = sorted(data.draw(nested_spans(0, len(words))))
    # Two brackets of one span and one type are one entity.
    text = encode_ner_spans(words, spans)
    decoded, errors = decode_ner_spans(
        text, words, ["PER", "LOC", "ORG", "MISC", "Work_For", "dateOfBirth"]
    )
    assert decoded == spans
    assert not errors.any


@given(
    text=st.text(st.sampled_from(list("[]|= abEU")), max_size=40) | st.text(max_size=40),
    words=tokens,
)
@settings(max_examples=150, deadline=None)
def test_decoding_never_raises_on_any_text(text, words):
    tags, errors = decode_ner(text, words, CONLL)
    assert len(tags) == len(words)
    assert errors.n_sentences == 1
