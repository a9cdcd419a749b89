import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_fishdip.augmented._parser import ParsedEntity, ParsedText, parse_augmented


def entities(text):
    return [(e.words, e.tags, e.start, e.end) for e in parse_augmented(text).entities]


def test_conll_example():
    parsed = parse_augmented(
        "[ EU | organization ] rejects [ German | miscellaneous ] call to boycott "
        "[ British | miscellaneous ] lamb ."
    )
    assert parsed == ParsedText(
        words=tuple("EU rejects German call to boycott British lamb .".split()),
        entities=(
            ParsedEntity(("EU",), (("organization",),), 0, 1),
            ParsedEntity(("German",), (("miscellaneous",),), 2, 3),
            ParsedEntity(("British",), (("miscellaneous",),), 6, 7),
        ),
        unbalanced=False,
    )


def test_nested_entities_close_inner_first():
    parsed = parse_augmented("[ Bank of [ China | location ] | organization ] opened")
    assert parsed.words == ("Bank", "of", "China", "opened")
    assert entities("[ Bank of [ China | location ] | organization ] opened") == [
        (("China",), (("location",),), 2, 3),
        (("Bank", "of", "China"), (("organization",),), 0, 3),
    ]
    assert parsed.entities[1].name == "Bank of China"


def test_joint_er_example():
    parsed = parse_augmented(
        "[ Smith | person | works for = Acme | lives in = Boston ] at "
        "[ Acme | organization | organization based in = Boston ] in [ Boston | location ]"
    )
    assert parsed.words == ("Smith", "at", "Acme", "in", "Boston")
    smith, acme, boston = parsed.entities
    assert smith.tags == (("person",), ("works for", "Acme"), ("lives in", "Boston"))
    assert (smith.start, smith.end) == (0, 1)
    assert acme.tags == (("organization",), ("organization based in", "Boston"))
    assert (acme.start, acme.end) == (2, 3)
    assert boston.tags == (("location",),)


def test_spacing_does_not_matter():
    assert parse_augmented("[Smith|person|works  for=Acme]  left\n") == parse_augmented(
        "[ Smith | person | works for = Acme ] left"
    )


def test_untyped_entity():
    parsed = parse_augmented("a literal [ d ] here")
    assert parsed.words == ("a", "literal", "d", "here")
    assert entities("a literal [ d ] here") == [(("d",), (), 2, 3)]


def test_empty_brackets():
    assert entities("a [ ] b") == [((), (), 1, 1)]
    assert parse_augmented("a [ ] b").words == ("a", "b")


def test_stray_close_is_a_word():
    parsed = parse_augmented("a ] b")
    assert parsed.words == ("a", "]", "b")
    assert parsed.entities == ()
    assert parsed.unbalanced
    parsed = parse_augmented("[ a | t ] ] b")
    assert parsed.words == ("a", "]", "b")
    assert entities("[ a | t ] ] b") == [(("a",), (("t",),), 0, 1)]


def test_unclosed_bracket_never_emits():
    parsed = parse_augmented("[ a | person b c")
    assert parsed.words == ("a",)
    assert parsed.entities == ()
    assert parsed.unbalanced
    # Before its "|", the unclosed entity's words still reach the sentence.
    assert parse_augmented("x [ a b").words == ("x", "a", "b")


def test_unclosed_bracket_swallows_nested_entities():
    parsed = parse_augmented("[ a | t [ b | u ] c [ d ] e")
    assert parsed.words == ("a",)
    # Nested entities close, but none of their words reach the sentence.
    assert entities("[ a | t [ b | u ] c [ d ] e") == [
        (("b",), (("u",),), 1, 1),
        (("d",), (), 1, 1),
    ]


def test_entity_inside_tags_of_closed_entity():
    assert entities("[ a | t [ b | u ] ] c") == [
        (("b",), (("u",),), 1, 1),
        (("a",), (("t b",),), 0, 1),
    ]


def test_separators_outside_brackets_are_words():
    parsed = parse_augmented("a | b = c")
    assert parsed.words == ("a", "|", "b", "=", "c")
    assert parsed.entities == ()
    assert not parsed.unbalanced


def test_relation_sign_in_name_is_a_word():
    parsed = parse_augmented("[ a = b | t ] c")
    assert parsed.words == ("a", "=", "b", "c")
    assert entities("[ a = b | t ] c") == [(("a", "=", "b"), (("t",),), 0, 3)]


@pytest.mark.parametrize(
    "text, tags",
    [
        ("[ a | | t | ]", (("t",),)),
        ("[ a | ]", ()),
        ("[ a | = x ]", (("", "x"),)),
        ("[ a | r = ]", (("r", ""),)),
        ("[ a | t = u | r = s = v ]", (("t", "u"), ("r", "s", "v"))),
        ("[ a |  works \t for   = the  Acme  ]", (("works for", "the Acme"),)),
    ],
)
def test_tag_splitting(text, tags):
    assert parse_augmented(text).entities[0].tags == tags


def test_empty_text():
    assert parse_augmented("") == ParsedText((), (), False)
    assert parse_augmented(" \n\t") == ParsedText((), (), False)


def test_non_string_rejected():
    with pytest.raises(TypeError, match="text must be a string, got bytes"):
        parse_augmented(b"[ a | b ]")


def _is_subsequence(part, whole):
    remaining = iter(whole)
    return all(any(word == other for other in remaining) for word in part)


def _check_invariants(text):
    parsed = parse_augmented(text)
    assert parsed.unbalanced == (text.count("[") != text.count("]"))
    assert len(parsed.entities) <= text.count("]")
    for word in parsed.words:
        assert word and "[" not in word and word == word.strip()
    for entity in parsed.entities:
        assert 0 <= entity.start <= entity.end <= len(parsed.words)
        # Words that reached the sentence inside an entity belong to its name.
        assert _is_subsequence(parsed.words[entity.start : entity.end], entity.words)
        for tag in entity.tags:
            assert all(part == " ".join(part.split()) for part in tag)
            assert not any(char in part for part in tag for char in "[]|=")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="[]|= \nab", max_size=40))
def test_never_raises_on_markup_heavy_text(text):
    _check_invariants(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_never_raises_on_arbitrary_text(text):
    _check_invariants(text)
