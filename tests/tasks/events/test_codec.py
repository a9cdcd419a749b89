"""The record checks and the two-stage augmented texts."""

import pytest

from sklearn_fishdip.tasks.events import check_events, event_source

TOKENS = [["Hackers", "breached", "the", "bank"]]


def events(*items):
    return [list(items)]


def test_check_events_canonicalises():
    y = events(
        {"trigger": [1, 2, "Databreach"], "arguments": [[2, 4, "Victim"], [0, 1, "Attacker"]]}
    )
    assert check_events(TOKENS, y) == [
        [{"trigger": (1, 2, "Databreach"), "arguments": [(0, 1, "Attacker"), (2, 4, "Victim")]}]
    ]


@pytest.mark.parametrize(
    "y, error, message",
    [
        ("abc", TypeError, "y must be a list"),
        ([{"trigger": (1, 2, "T")}], TypeError, r"y\[0\] must be a list of events"),
        (events({"trigger": (1, 2, "T")}), TypeError, r"y\[0\] event 0 must be a dict"),
        (events({"trigger": (1, 9, "T"), "arguments": []}), ValueError, "outside the sentence"),
        (events({"trigger": (1, 2, "T"), "arguments": [(3, 5, "R")]}), ValueError, "argument"),
        (events({"trigger": (1, 2, 3), "arguments": []}), TypeError, "string label"),
        (events({"trigger": ("1", 2, "T"), "arguments": []}), TypeError, "integer"),
        (
            events({"trigger": (1, 2, "T"), "arguments": [(0, 2, "R")]}),
            ValueError,
            "overlaps its trigger",
        ),
        (
            events({"trigger": (1, 2, "T"), "arguments": [(2, 4, "R"), (3, 4, "S")]}),
            ValueError,
            "overlap",
        ),
        (
            events(
                {"trigger": (1, 2, "T"), "arguments": []}, {"trigger": (1, 2, "U"), "arguments": []}
            ),
            ValueError,
            "second event",
        ),
    ],
)
def test_bad_records_name_the_example(y, error, message):
    with pytest.raises(error, match=message):
        check_events(TOKENS, y)


def test_schema_restricts_types_and_roles():
    y = events({"trigger": (1, 2, "T"), "arguments": [(0, 1, "R")]})
    assert check_events(TOKENS, y, {"T": ["R"]})
    with pytest.raises(ValueError, match=r"y\[0\] event 0: the role 'R' is not allowed"):
        check_events(TOKENS, y, {"T": ["S"]})
    with pytest.raises(ValueError, match="not in schema"):
        check_events(TOKENS, y, {"U": ["R"]})


def test_sources_of_both_stages():
    words = TOKENS[0]
    assert event_source(words) == "triggers : Hackers breached the bank"
    assert event_source(words, (1, 2), "databreach") == (
        "arguments : Hackers [ breached | databreach ] the bank"
    )


def _codec_estimator():
    from types import SimpleNamespace

    from sklearn_fishdip.tasks.events import EventCodec

    codec = EventCodec()
    estimator = SimpleNamespace(label_names=None, uncased_=False)
    targets = [
        {"trigger": None, "spans": [(1, 2, "Databreach")]},
        {"trigger": (1, 2, "Databreach"), "spans": [(0, 1, "Attacker"), (2, 4, "Victim")]},
    ]
    for name, value in codec.fit_vocabulary(estimator, targets).items():
        setattr(estimator, name, value)
    return codec, estimator, targets


def test_encode_and_decode_both_stages():
    codec, estimator, targets = _codec_estimator()
    words = TOKENS[0]
    assert estimator.event_types_ == ["Databreach"] and estimator.roles_ == ["Attacker", "Victim"]
    first = codec.encode(estimator, words, targets[0])
    assert first == "Hackers [ breached | databreach ] the bank"
    second = codec.encode(estimator, words, targets[1])
    assert second == (
        "[ Hackers | argument | attacker = breached ] breached "
        "[ the bank | argument | victim = breached ]"
    )
    decoded, errors = codec.decode(estimator, first, words)
    assert decoded == {"triggers": [(1, 2, "Databreach")], "arguments": []}
    assert errors.format_error == 0 and errors.label_error == 0
    decoded, errors = codec.decode(estimator, second, words)
    assert decoded == {"triggers": [], "arguments": [(0, 1, "Attacker"), (2, 4, "Victim")]}


@pytest.mark.parametrize(
    "text, flag",
    [
        ("[ Hackers | argument | thief = x ] breached the bank", "label_error"),
        ("[ Hackers | argument ] breached the bank", "format_error"),
        ("[ Hackers | nonsense ] breached [ the", "format_error"),
    ],
)
def test_bad_generated_text_is_counted_not_raised(text, flag):
    codec, estimator, _ = _codec_estimator()
    decoded, errors = codec.decode(estimator, text, TOKENS[0])
    assert decoded["arguments"] == []
    assert getattr(errors, flag) == 1
