import pytest
from hypothesis import given
from hypothesis import strategies as st

from sklearn_fishdip.augmented import SCHEMES, check_scheme, spans_to_tags, tags_to_spans

from .strategies import flat_spans


@pytest.mark.parametrize(
    "scheme, tags",
    [
        ("IOB2", ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]),
        ("IOB1", ["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]),
        ("IOBES", ["B-PER", "E-PER", "O", "S-LOC", "S-LOC"]),
        ("BILOU", ["B-PER", "L-PER", "O", "U-LOC", "U-LOC"]),
    ],
)
def test_each_scheme_reads_the_same_spans(scheme, tags):
    spans = [(0, 2, "PER"), (3, 4, "LOC"), (4, 5, "LOC")]
    assert tags_to_spans(tags, scheme) == spans
    assert spans_to_tags(spans, 5, scheme) == tags


def test_long_entities_and_types_with_dashes():
    assert tags_to_spans(["B-ARGM-TMP", "I-ARGM-TMP", "I-ARGM-TMP"]) == [(0, 3, "ARGM-TMP")]
    assert tags_to_spans(["B-X", "I-X", "I-X", "E-X"], "IOBES") == [(0, 4, "X")]


@pytest.mark.parametrize(
    "tags, scheme, message",
    [
        (["O", "I-PER"], "IOB2", "'I-PER' at position 1 cannot follow 'O'"),
        (["I-PER"], "IOB2", "cannot follow 'the sentence start'"),
        (["B-PER", "I-LOC"], "IOB2", "cannot follow 'B-PER'"),
        (["O", "B-PER"], "IOB1", "may only separate two entities of the same type"),
        (["B-PER", "O"], "IOBES", "cannot follow 'B-PER'"),
        (["B-PER"], "BILOU", "never closed"),
        (["L-PER"], "BILOU", "cannot follow"),
        (["U-PER"], "IOB2", "malformed tag 'U-PER'"),
        (["PER"], "IOB2", "malformed tag 'PER'"),
        (["B-"], "IOB2", "malformed tag 'B-'"),
        (["b-PER"], "IOB2", "malformed tag"),
    ],
)
def test_tags_that_break_the_scheme_are_refused(tags, scheme, message):
    with pytest.raises(ValueError, match=message):
        tags_to_spans(tags, scheme)


def test_non_string_tags_and_bad_schemes():
    with pytest.raises(TypeError, match="position 1 must be a string"):
        tags_to_spans(["O", 3])
    with pytest.raises(TypeError, match="sequence of strings"):
        tags_to_spans("B-PER")
    with pytest.raises(ValueError, match="unknown tagging scheme 'IOE9'"):
        check_scheme("IOE9")
    with pytest.raises(TypeError):
        check_scheme(None)
    assert check_scheme("bio") == "IOB2"
    assert check_scheme("bioes") == "IOBES"


@pytest.mark.parametrize(
    "spans, message",
    [
        ([(1, 1, "PER")], "empty or outside"),
        ([(0, 9, "PER")], "outside"),
        ([(0, 2, "PER"), (1, 3, "LOC")], "overlaps"),
    ],
)
def test_bad_spans_are_refused(spans, message):
    with pytest.raises(ValueError, match=message):
        spans_to_tags(spans, 4)


@given(
    st.integers(0, 15).flatmap(lambda n: st.tuples(st.just(n), flat_spans(n))),
    st.sampled_from(SCHEMES),
)
def test_spans_and_tags_round_trip_in_every_scheme(case, scheme):
    n_tokens, spans = case
    tags = spans_to_tags(spans, n_tokens, scheme)
    assert len(tags) == n_tokens
    assert tags_to_spans(tags, scheme) == spans
