import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_fishdip.augmented._parser import parse_augmented
from sklearn_fishdip.augmented._writer import Annotation, write_augmented

CONLL = "EU rejects German call to boycott British lamb .".split()


def test_conll_example():
    annotations = [
        Annotation(0, 1, "organization"),
        Annotation(2, 3, "miscellaneous"),
        Annotation(6, 7, "miscellaneous"),
    ]
    text, dropped = write_augmented(CONLL, annotations)
    assert text == (
        "[ EU | organization ] rejects [ German | miscellaneous ] call to boycott "
        "[ British | miscellaneous ] lamb ."
    )
    assert dropped == []


def test_nested_spans_in_any_order():
    words = ["Bank", "of", "China"]
    expected = "[ Bank of [ China | location ] | organization ]"
    inner, outer = Annotation(2, 3, "location"), Annotation(0, 3, "organization")
    assert write_augmented(words, [inner, outer]) == (expected, [])
    assert write_augmented(words, [outer, inner]) == (expected, [])


def test_joint_er_example():
    words = "Smith at Acme in Boston".split()
    annotations = [
        Annotation(0, 1, "person", (("works for", "Acme"), ("lives in", "Boston"))),
        Annotation(2, 3, "organization", [["organization based in", "Boston"]]),
        Annotation(4, 5, "location"),
    ]
    text, dropped = write_augmented(words, annotations)
    assert text == (
        "[ Smith | person | works for = Acme | lives in = Boston ] at "
        "[ Acme | organization | organization based in = Boston ] in [ Boston | location ]"
    )
    assert dropped == []
    assert annotations[1].relations == (("organization based in", "Boston"),)


def test_identical_spans_nest_in_input_order():
    text, dropped = write_augmented(["China"], [Annotation(0, 1, "a"), Annotation(0, 1, "b")])
    assert text == "[ [ China | b ] | a ]"
    assert dropped == []


def test_shared_boundaries():
    words = "a b c d".split()
    annotations = [
        Annotation(0, 4, "all"),
        Annotation(0, 2, "left"),
        Annotation(2, 4, "right"),
        Annotation(3, 4, "last"),
    ]
    text, _ = write_augmented(words, annotations)
    assert text == "[ [ a b | left ] [ c [ d | last ] | right ] | all ]"


def test_empty_label_writes_only_relations():
    words = "the book was done".split()
    text, _ = write_augmented(words, [Annotation(0, 2, "")])
    assert text == "[ the book ] was done"
    text, _ = write_augmented(words, [Annotation(0, 2, "", (("refers to", "novel"),))])
    assert text == "[ the book | refers to = novel ] was done"


def test_tag_whitespace_is_collapsed():
    text, _ = write_augmented(["x"], [Annotation(0, 1, "  a \t b ", (("r  s", " t "),))])
    assert text == "[ x | a b | r s = t ]"


def test_no_words():
    assert write_augmented([], []) == ("", [])
    assert write_augmented(("a", "b"), iter([])) == ("a b", [])


def test_crossing_spans_are_reported():
    words = "a b c d".split()
    first, crossing = Annotation(0, 2, "x"), Annotation(1, 3, "y")
    text, dropped = write_augmented(words, [first, crossing])
    assert text == "[ a b | x ] c d"
    assert dropped == [crossing]
    # The span placed first is the one sorted first, not the one given first.
    text, dropped = write_augmented(words, [crossing, first])
    assert text == "[ a b | x ] c d"
    assert dropped == [crossing]


def test_dropped_keep_input_order():
    words = "a b c d e".split()
    outer = Annotation(1, 3, "keep")
    late, early = Annotation(2, 5, "late"), Annotation(0, 2, "early")
    text, dropped = write_augmented(words, [late, outer, early])
    # Sorted first, (0, 2) is placed; (1, 3) crosses it; (2, 5) is then placed.
    assert dropped == [outer]
    assert text == "[ a b | early ] [ c d e | late ]"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"start": 2, "end": 2, "label": "x"}, ValueError, r"span \(2, 2\) is invalid"),
        ({"start": -1, "end": 2, "label": "x"}, ValueError, r"span \(-1, 2\) is invalid"),
        ({"start": 1.0, "end": 2, "label": "x"}, TypeError, "start must be an integer"),
        ({"start": 0, "end": True, "label": "x"}, TypeError, "end must be an integer"),
        ({"start": 0, "end": 1, "label": None}, TypeError, "label must be a string"),
        ({"start": 0, "end": 1, "label": "a|b"}, ValueError, r"label must not contain .*'a\|b'"),
        ({"start": 0, "end": 1, "label": "  "}, ValueError, "label must not be empty or blank"),
        (
            {"start": 0, "end": 1, "label": "x", "relations": (("r", "t=u"),)},
            ValueError,
            "relation tail must not contain",
        ),
        (
            {"start": 0, "end": 1, "label": "x", "relations": (("[r", "t"),)},
            ValueError,
            "relation text must not contain",
        ),
        (
            {"start": 0, "end": 1, "label": "x", "relations": (("r", ""),)},
            ValueError,
            "relation tail must not be empty",
        ),
        (
            {"start": 0, "end": 1, "label": "x", "relations": (("r",),)},
            ValueError,
            r"must be a \(relation, tail\) pair, got \('r',\)",
        ),
        (
            {"start": 0, "end": 1, "label": "x", "relations": ("rt",)},
            TypeError,
            r"must be a \(relation, tail\) pair, got str",
        ),
        (
            {"start": 0, "end": 1, "label": "x", "relations": "rt"},
            TypeError,
            "relations must be a sequence of",
        ),
    ],
)
def test_invalid_annotation(kwargs, error, message):
    with pytest.raises(error, match=message):
        Annotation(**kwargs)


def test_invalid_writer_input():
    with pytest.raises(ValueError, match=r"span \(1, 3\) ends after the last of 2 words"):
        write_augmented(["a", "b"], [Annotation(1, 3, "x")])
    with pytest.raises(TypeError, match="words must be a sequence of strings, got str"):
        write_augmented("a b", [])
    with pytest.raises(TypeError, match="word 1 is int: 7"):
        write_augmented(["a", 7], [])
    with pytest.raises(TypeError, match="annotations must be Annotation instances, got tuple"):
        write_augmented(["a"], [(0, 1, "x")])
    with pytest.raises(TypeError, match="annotations must be an iterable of Annotation"):
        write_augmented(["a"], Annotation(0, 1, "x"))


def test_annotation_is_frozen_and_hashable():
    annotation = Annotation(0, 1, "x", [("r", "t")])
    with pytest.raises(AttributeError):
        annotation.start = 3
    assert hash(annotation) == hash(Annotation(0, 1, "x", (("r", "t"),)))


# Round trip: words and tag texts without special characters.
WORD = st.text(alphabet="abcXY19-.'", min_size=1, max_size=5)
TEXT = st.lists(WORD, min_size=1, max_size=3).map(" ".join)
LABEL = st.one_of(st.just(""), TEXT, TEXT.map(lambda text: f"  {text}\t"))


def _crosses(a, b):
    return a[0] < b[0] < a[1] < b[1] or b[0] < a[0] < b[1] < a[1]


@st.composite
def sentences(draw):
    words = draw(st.lists(WORD, max_size=10))
    annotations = []
    if words:
        spans = draw(
            st.lists(
                st.tuples(st.integers(0, len(words) - 1), st.integers(1, len(words))).filter(
                    lambda span: span[0] < span[1]
                ),
                max_size=6,
            )
        )
        placed = []
        for span in spans:
            # Keep a set of pairwise non-crossing spans; duplicates are allowed.
            if not any(_crosses(span, other) for other in placed):
                placed.append(span)
        for start, end in placed:
            relations = draw(st.lists(st.tuples(TEXT, TEXT), max_size=2))
            annotations.append(Annotation(start, end, draw(LABEL), tuple(relations)))
    return words, annotations


@settings(max_examples=150, deadline=None)
@given(sentences())
def test_round_trip_through_parser(sentence):
    words, annotations = sentence
    text, dropped = write_augmented(words, annotations)
    assert dropped == []
    assert "  " not in text and text == text.strip()
    parsed = parse_augmented(text)
    assert parsed.words == tuple(words)
    assert not parsed.unbalanced

    def normalized(text):
        return " ".join(text.split())

    expected = []
    for annotation in annotations:
        tags = ((normalized(annotation.label),),) if annotation.label else ()
        tags += tuple((normalized(rel), normalized(tail)) for rel, tail in annotation.relations)
        expected.append(
            (
                annotation.start,
                annotation.end,
                tuple(words[annotation.start : annotation.end]),
                tags,
            )
        )
    found = [(entity.start, entity.end, entity.words, entity.tags) for entity in parsed.entities]
    assert sorted(found) == sorted(expected)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(1, n)).filter(lambda s: s[0] < s[1]),
                max_size=6,
            ),
        )
    )
)
def test_every_dropped_span_crosses_a_written_one(case):
    n_words, spans = case
    words = [f"w{i}" for i in range(n_words)]
    annotations = [Annotation(start, end, f"t{k}") for k, (start, end) in enumerate(spans)]
    text, dropped = write_augmented(words, annotations)
    kept = [annotation for annotation in annotations if annotation not in dropped]
    assert len(kept) + len(dropped) == len(annotations)
    kept_spans = [(a.start, a.end) for a in kept]
    assert not any(_crosses(a, b) for a in kept_spans for b in kept_spans)
    assert all(any(_crosses((d.start, d.end), span) for span in kept_spans) for d in dropped)
    parsed = parse_augmented(text)
    assert sorted((e.start, e.end, e.tags[0][0]) for e in parsed.entities) == sorted(
        (a.start, a.end, a.label) for a in kept
    )
