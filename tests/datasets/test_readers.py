import json

import pytest

from sklearn_fishdip.datasets import load_conll, load_spert

CONLL_TEXT = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
-DOCSTART- -X- -X- O
Blackburn NNP B-NP B-PER
"""


def test_load_conll_reads_sentences_and_skips_docstart(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(CONLL_TEXT)
    X, y = load_conll(path)
    assert X == [["EU", "rejects", "German"], ["Peter"], ["Blackburn"]]
    assert y == [["B-ORG", "O", "B-MISC"], ["B-PER"], ["B-PER"]]


@pytest.mark.parametrize(
    "text, message",
    [
        ("EU B-ORG\nrejects\n", r"bad\.txt:2: expected a token and a tag"),
        ("EU B-ORG\nrejects PER\n", r"bad\.txt:2: malformed tag 'PER'"),
    ],
)
def test_load_conll_names_the_bad_line(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_conll(path)


def test_unreadable_files_name_the_path(tmp_path):
    with pytest.raises(ValueError, match=r"missing\.txt: cannot read"):
        load_conll(tmp_path / "missing.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="not utf-8 text"):
        load_conll(binary)
    with pytest.raises(ValueError, match=r"missing\.json: cannot read"):
        load_spert(tmp_path / "missing.json")


def test_load_spert_turns_bilou_tags_into_spans(tmp_path):
    data = [
        {
            "tokens": ["John", "Smith", "works", "for", "Acme", "Corp", "."],
            "tags": ["B-Peop", "L-Peop", "O", "O", "B-Org", "L-Org", "O"],
            "relations": [{"head": 0, "tail": 1, "type": "Work_For"}],
            "orig_id": 7,
        },
        {"tokens": ["Rain", "."], "tags": ["O", "O"], "relations": []},
        {
            "tokens": ["Paris", "is", "big"],
            "entities": [{"type": "Loc", "start": 0, "end": 1}],
            "relations": [],
        },
    ]
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    X, y = load_spert(path)
    assert X[0] == data[0]["tokens"]
    assert y[0] == {"entities": [(0, 2, "Peop"), (4, 6, "Org")], "relations": [(0, 1, "Work_For")]}
    assert y[1] == {"entities": [], "relations": []}
    assert y[2] == {"entities": [(0, 1, "Loc")], "relations": []}


@pytest.mark.parametrize(
    "content, message",
    [
        ('[{"tokens": ["a"], "tags": ["O"]},\n {"tokens": ', r"data\.json:2: not valid JSON"),
        ('{"tokens": []}', "expected a JSON list"),
        ('[{"tags": ["O"]}]', "sentence 0: expected an object with 'tokens'"),
        ('[{"tokens": ["a"], "tags": ["O", "O"], "relations": []}]', "sentence 0"),
        (
            '[{"tokens": ["a", "b"], "tags": ["U-Peop", "O"], '
            '"relations": [{"head": 0, "tail": 4, "type": "Kill"}]}]',
            "sentence 0: relation 0",
        ),
        ('[{"tokens": ["a"], "tags": ["B-Peop"]}]', "sentence 0: .*never closed"),
        ('[{"tokens": ["a"], "relations": []}]', "neither 'entities' nor 'tags'"),
        (
            '[{"tokens": ["a", "b"], "tags": ["U-Peop", "U-Org"], "relations": [{"head": 0}]}]',
            "missing key 'tail'",
        ),
    ],
)
def test_load_spert_names_the_problem(tmp_path, content, message):
    path = tmp_path / "data.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_spert(path)
