import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sklearn_fishdip.augmented import (
    ambiguous_relations,
    canonical_target,
    decode_relations,
    encode_relations,
)
from sklearn_fishdip.exceptions import CrossingSpansWarning
from tests.augmented.strategies import nested_spans, tokens

ENTITY_TYPES = ["Peop", "Org", "Loc", "Other"]
RELATION_TYPES = ["Work_For", "Kill", "OrgBased_In", "Live_In", "Located_In"]
WORDS = "Smith works at Acme in Boston".split()
TARGET = {
    "entities": [(0, 1, "Peop"), (3, 4, "Org"), (5, 6, "Loc")],
    "relations": [(0, 1, "Work_For"), (0, 2, "Live_In"), (1, 2, "OrgBased_In")],
}
TEXT = (
    "[ Smith | person | works for = Acme | lives in = Boston ] works at "
    "[ Acme | organization | organization based in = Boston ] in [ Boston | location ]"
)


def decode(text, words=WORDS, **kwargs):
    return decode_relations(text, words, ENTITY_TYPES, RELATION_TYPES, **kwargs)


def test_joint_example_matches_the_format():
    assert encode_relations(WORDS, TARGET) == TEXT
    target, errors = decode(TEXT)
    assert target == TARGET
    assert not errors.any


def test_targets_come_back_in_canonical_order():
    shuffled = {
        "entities": [(5, 6, "Loc"), (0, 1, "Peop"), (3, 4, "Org")],
        "relations": [(2, 0, "OrgBased_In"), (1, 0, "Live_In"), (1, 2, "Work_For")],
    }
    assert canonical_target(shuffled) == TARGET
    assert decode(encode_relations(WORDS, shuffled))[0] == TARGET


def test_tail_resolution_prefers_the_nearest_mention_and_avoids_repeats():
    words = "Acme said Smith of Acme left Acme".split()
    text = (
        "[ Acme | organization ] said [ Smith | person | works for = Acme | works for = Acme ]"
        " of [ Acme | organization ] left [ Acme | organization ]"
    )
    target, errors = decode(text, words)
    # gaps from Smith (2, 3): Acme@4 -> 1, Acme@0 -> 1 (tie: order of appearance), Acme@6 -> 3
    assert target["relations"] == [(1, 0, "Work_For"), (1, 2, "Work_For")]
    assert not errors.any


@pytest.mark.parametrize(
    "generated, flags, n_relations",
    [
        (
            "[ Smith | person | works for = Nobody ] works at [ Acme | organization ] in Boston",
            {"entity_error": 1},
            0,
        ),
        (
            "[ Smith | person | eats = Acme ] works at [ Acme | organization ] in Boston",
            {"label_error": 1},
            0,
        ),
        (
            "[ Smith | person | works for ] works at [ Acme | organization ] in Boston",
            {"format_error": 1},
            0,
        ),
        (
            "[ Smith | person | works for = Acme = x ] works at [ Acme | organization ] in Boston",
            {"format_error": 1},
            0,
        ),
        (
            "[ Smith | robot | works for = Acme ] works at [ Acme | organization ] in Boston",
            {"label_error": 1},
            0,
        ),
        # the unclosed bracket never becomes an entity, so the tail is not found either
        (
            "[ Smith | person | works for = Acme ] works at [ Acme | organization in Boston",
            {"format_error": 1, "entity_error": 1},
            0,
        ),
    ],
)
def test_bad_generations_are_counted_not_raised(generated, flags, n_relations):
    target, errors = decode(generated)
    assert len(target["relations"]) == n_relations
    for kind in ("format_error", "label_error", "entity_error"):
        assert getattr(errors, kind) == flags.get(kind, 0), kind


def test_relation_to_itself_is_never_decoded():
    target, errors = decode("[ Smith | person | kills = Smith ] works at Acme in Boston")
    assert target["relations"] == [] and errors.entity_error == 1


def test_case_insensitive_mode_for_uncased_models():
    target, errors = decode(TEXT.lower(), ignore_case=True)
    assert target == TARGET and not errors.any


def test_ambiguous_tails_are_found():
    words = "Kennedy met Oswald , who shot Kennedy".split()
    target = {
        "entities": [(0, 1, "Peop"), (2, 3, "Peop"), (6, 7, "Peop")],
        "relations": [(1, 2, "Kill")],
    }  # the far mention is the gold tail
    assert ambiguous_relations(words, target) == [(1, 2, "Kill")]
    assert ambiguous_relations(WORDS, TARGET) == []
    decoded, _ = decode(encode_relations(words, target), words)
    assert decoded["relations"] == [(1, 0, "Kill")]


def test_crossing_entities_are_reported():
    target = {"entities": [(0, 2, "Peop"), (1, 3, "Org")], "relations": [(0, 1, "Work_For")]}
    with pytest.warns(CrossingSpansWarning, match="cannot be written"):
        encode_relations("a b c d".split(), target)


@pytest.mark.parametrize(
    "target, error, message",
    [
        ({"entities": [(0, 9, "Peop")]}, ValueError, "outside the sentence"),
        ({"entities": [(1, 1, "Peop")]}, ValueError, "empty"),
        ({"entities": [(0, 1, "Peop")], "relations": [(0, 3, "Kill")]}, ValueError, "out of range"),
        ({"entities": [(0, 1, "Peop")], "relations": [(0, 0, "Kill")]}, ValueError, "itself"),
        ({"entities": [(0, 1, "Peop"), (0, 1, "Peop")]}, ValueError, "listed twice"),
        ({"entities": [(0, "1", "Peop")]}, TypeError, "integer start and end"),
        ({"entities": [(0, 1)]}, TypeError, "triple"),
        ({"entities": [], " relations": []}, ValueError, "unknown keys"),
        ([(0, 1, "Peop")], TypeError, "must be a dict"),
    ],
)
def test_bad_targets_are_refused_clearly(target, error, message):
    with pytest.raises(error, match=message):
        encode_relations(WORDS, target)


@st.composite
def relation_targets(draw):
    words = draw(tokens)
    spans = draw(nested_spans(0, len(words)))
    entities = sorted(
        {(s, e, {"PER": "Peop", "LOC": "Loc", "ORG": "Org"}.get(t, "Other")) for s, e, t in spans}
    )
    pairs = [(h, t) for h in range(len(entities)) for t in range(len(entities)) if h != t]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=4)) if pairs else []
    relations = sorted({(h, t, draw(st.sampled_from(RELATION_TYPES))) for h, t in chosen})
    return words, {"entities": entities, "relations": relations}


@given(relation_targets())
@settings(max_examples=100, deadline=None)
def test_decode_inverts_encode_when_tails_are_unambiguous(case):
    words, target = case
    entities = target["entities"]
    text_of = [" ".join(words[s:e]) for s, e, _ in entities]
    # A tail is unambiguous when no other entity (the head aside) has its words.
    for head, tail, _ in target["relations"]:
        assume(sum(1 for i, t in enumerate(text_of) if t == text_of[tail] and i != head) == 1)
    decoded, errors = decode(encode_relations(words, target), words)
    assert decoded == target
    assert not errors.any
    assert ambiguous_relations(words, target) == []


@given(text=st.text(st.sampled_from(list("[]|= abSmithAcme")), max_size=50) | st.text(max_size=40))
@settings(max_examples=150, deadline=None)
def test_decoding_never_raises_on_any_text(text):
    target, errors = decode(text)
    for head, tail, _ in target["relations"]:
        assert 0 <= head < len(target["entities"]) and 0 <= tail < len(target["entities"])
