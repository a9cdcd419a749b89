import pytest

from sklearn_fishdip.tasks.dialogue_state import (
    MULTIWOZ_SLOTS,
    check_dialogues,
    check_states,
    decode_state,
    dialogue_source,
    encode_state,
)


def test_source_names_the_speakers_in_order():
    history = check_dialogues([[("user", "I need  a hotel"), ("sys", "Where ?"), ("USR", "North")]])
    assert (
        dialogue_source(history[0]) == "[User]: I need a hotel ; [Agent]: Where ? ; [User]: North ;"
    )


def test_target_lists_every_slot_of_present_domains_sorted_with_natural_names():
    text = encode_state({("train", "leaveat"): "10:15", ("hotel", "pricerange"): "cheap"})
    assert text.startswith("[belief] hotel area not given , hotel book day not given")
    assert text.endswith("train leave at 10:15 [belief]")
    entries = text[len("[belief] ") : -len(" [belief]")].split(" , ")
    assert len(entries) == len(MULTIWOZ_SLOTS["hotel"]) + len(MULTIWOZ_SLOTS["train"])
    assert "hotel price range cheap" in entries
    assert "taxi" not in text
    assert encode_state({}) == "[belief] [belief]"


def test_round_trip_and_label_names():
    state = {("hotel", "book day"): "friday", ("taxi", "arriveby"): "12:00"}
    assert decode_state(encode_state(state))[0] == state
    names = {"hotel": "lodging"}
    text = encode_state(state, label_names=names)
    assert "lodging book day friday" in text
    assert decode_state(text, label_names=names)[0] == state


def test_decoding_drops_unknown_pairs_and_counts_errors():
    state, errors = decode_state(
        "[belief] hotel area north , police name x , hotel colour red , "
        "hotel stars not given [belief]"
    )
    assert state == {("hotel", "area"): "north"}
    assert errors.label_error == 1 and errors.format_error == 0
    state, errors = decode_state("hotel area guest-house")
    assert state == {("hotel", "area"): "guest house"}
    assert errors.format_error == 1
    for garbage in ["", "[belief]", ",,,", "[belief] [belief] [belief]"]:
        assert decode_state(garbage)[0] == {}


@pytest.mark.parametrize(
    "X, error, message",
    [
        ([[("user", "hi"), "oops"]], TypeError, r"X\[0\]: turn 1 must be a \(speaker, text\)"),
        (
            [[("user", "hi")], [("robot", "hi")]],
            ValueError,
            r"X\[1\]: turn 0 has the unknown speaker",
        ),
        ([[("user", "hi")], []], ValueError, r"X\[1\] is an empty history"),
        ([[("user", 3)]], TypeError, r"X\[0\]: turn 0's text must be a string"),
        ("hello", TypeError, "X must be a list"),
    ],
)
def test_bad_histories_are_refused_naming_the_example(X, error, message):
    with pytest.raises(error, match=message):
        check_dialogues(X)


@pytest.mark.parametrize(
    "y, error, message",
    [
        (
            [{}, {"hotel-area": "north"}],
            ValueError,
            r"y\[1\]: the key 'hotel-area' is not a \(domain",
        ),
        ([{("hotel", "area"): 3}], TypeError, r"y\[0\]: the value of \('hotel', 'area'\)"),
        ([["hotel"]], TypeError, r"y\[0\] must be a dict"),
    ],
)
def test_bad_states_are_refused_naming_the_example(y, error, message):
    with pytest.raises(error, match=message):
        check_states(y)


def test_decoding_undoes_a_punctuation_splitting_tokenizer():
    text = "[ belief ] taxi leave at 10 : 15 , attraction name christ ' s college [ Belief ]"
    state, errors = decode_state(text)
    assert state == {("taxi", "leaveat"): "10:15", ("attraction", "name"): "christ's college"}
    assert errors.format_error == 0
