"""The CASIE reader on tiny CASIE-shaped documents written in tmp_path."""

import json

import pytest

from sklearn_fishdip.datasets import load_casie
from sklearn_fishdip.tasks.events import split_sentences, tokenize

CONTENT = "Hackers breached the bank. The bank paid a ransom.\nCVE-2016-7989 was found."


def _offsets(text, word, start=0):
    begin = CONTENT.index(word, start)
    return {"startOffset": begin, "endOffset": begin + len(word), "text": text or word}


def _document():
    events = [
        {  # kept with both arguments
            "nugget": _offsets(None, "breached"), "subtype": "Databreach", "realis": "Actual",
            "argument": [
                {**_offsets(None, "Hackers"), "role": {"type": "Attacker"}, "type": "Person"},
                {**_offsets(None, "the bank"), "role": {"type": "Victim"}, "type": "Org"},
                # in another sentence: dropped
                {**_offsets(None, "a ransom"), "role": {"type": "Price"}, "type": "Money"},
            ],
        },
        {  # a mismatching text (kept, counted); its argument overlaps the trigger (dropped)
            "nugget": _offsets("PAID", "paid"), "subtype": "Ransom", "realis": "Actual",
            "argument": [{**_offsets(None, "paid a"), "role": {"type": "Payer"}, "type": "Org"}],
        },
        {  # the trigger crosses the sentences: dropped
            "nugget": {"startOffset": 20, "endOffset": 35, "text": CONTENT[20:35]},
            "subtype": "Ransom", "realis": "Actual", "argument": [],
        },
    ]  # fmt: skip
    return {"content": CONTENT, "cyberevent": {"hopper": [{"events": events}]}}


@pytest.fixture
def casie(tmp_path):
    (tmp_path / "annotation").mkdir()
    (tmp_path / "annotation" / "7.json").write_text(json.dumps(_document()))
    empty = {"content": "Nothing happened.", "cyberevent": {}}
    (tmp_path / "annotation" / "8.json").write_text(json.dumps(empty))
    split = {"train": [8, 7], "dev": [], "test": []}
    (tmp_path / "split_ids.json").write_text(json.dumps(split))
    return tmp_path


def test_sentences_and_tokens():
    assert [CONTENT[s:e] for s, e in split_sentences(CONTENT)] == [
        "Hackers breached the bank.",
        "The bank paid a ransom.",
        "CVE-2016-7989 was found.",
    ]
    assert [t for t, _, _ in tokenize(CONTENT, CONTENT.index("CVE"))] == [
        "CVE-2016-7989",
        "was",
        "found",
        ".",
    ]


def test_load_casie_keeps_in_sentence_events_and_reports_drops(casie):
    X, y, report = load_casie(casie, "train", return_report=True)
    assert X[0] == ["Hackers", "breached", "the", "bank", "."]
    assert X[-1] == ["Nothing", "happened", "."]  # document 8 comes after 7
    assert y[0] == [
        {"trigger": (1, 2, "Databreach"), "arguments": [(0, 1, "Attacker"), (2, 4, "Victim")]}
    ]
    assert y[1] == [{"trigger": (2, 3, "Ransom"), "arguments": []}]
    assert y[2] == [] and y[3] == []
    assert report.n_documents == 2 and report.n_sentences == 4
    assert report.n_events == 2 and report.n_arguments == 2
    assert report.dropped == {
        "argument_outside_sentence": 1,
        "argument_overlaps_trigger": 1,
        "trigger_crosses_sentences": 1,
    }
    assert report.text_mismatch == 1
    assert load_casie(casie) == (X, y)


def test_unknown_split_is_refused(casie):
    with pytest.raises(ValueError, match="split must be one of"):
        load_casie(casie, "validation")
