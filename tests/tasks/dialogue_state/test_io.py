import io
import json

import pytest

from sklearn_fishdip.datasets import dialogue_subset, load_multiwoz, sample_dialogues
from sklearn_fishdip.tasks.dialogue_state import write_states

from ._data import DIALOGUES, STATES, write_multiwoz


def test_one_example_per_user_turn_with_the_next_system_state(tmp_path):
    X, y, ids = load_multiwoz(write_multiwoz(tmp_path / "val.json"), return_ids=True)
    assert X == [
        (("user", "I need a cheap hotel ."),),
        (
            ("user", "I need a cheap hotel ."),
            ("system", "Which area ?"),
            ("user", "The north , for 2 people ."),
        ),
        (("user", "A taxi at 10:15 please"),),
    ]
    # semi and book slots; "booked", "not mentioned" and the hospital/police domains left out
    assert y == STATES
    assert ids == [("D1.json", 0), ("D1.json", 2), ("D2.json", 0)]


def test_seeded_sample_of_dialogues(tmp_path):
    path = write_multiwoz(tmp_path / "val.json")
    X, y = load_multiwoz(path, n_dialogues=1, random_state=0)
    assert (X, y) == load_multiwoz(path, n_dialogues=1, random_state=0)
    assert len(X) in (1, 2)
    ids = [f"d{i}" for i in range(100)]
    sample = sample_dialogues(ids, 42, random_state=1)
    assert len(set(sample)) == 42 and sample == sorted(sample, key=ids.index)
    assert sample == sample_dialogues(ids, 42, random_state=1)
    assert sample != sample_dialogues(ids, 42, random_state=2)
    with pytest.raises(ValueError, match="between 1 and"):
        sample_dialogues(ids, 101)


def test_dialogue_subset_keeps_whole_dialogues_as_n_dialogues_does(tmp_path):
    dialogues = {
        f"D{i}.json": DIALOGUES["D1.json"] if i % 2 else DIALOGUES["D2.json"] for i in range(10)
    }
    path = write_multiwoz(tmp_path / "val.json", dialogues)
    X, y = load_multiwoz(path)
    for seed in (0, 1, 2):
        X_kept, y_kept = dialogue_subset(X, y, 4, random_state=seed)
        # the same dialogues, whole and in file order, as load_multiwoz's own sample
        assert (X_kept, y_kept) == load_multiwoz(path, n_dialogues=4, random_state=seed)
        assert sum(len(history) == 1 for history in X_kept) == 4
    assert dialogue_subset(X, y, 4, random_state=1) != dialogue_subset(X, y, 4, random_state=2)


def test_dialogue_subset_refuses_what_is_not_a_list_of_dialogues(tmp_path):
    X, y = load_multiwoz(write_multiwoz(tmp_path / "val.json"))
    with pytest.raises(ValueError, match=r"X\[0\] does not start a dialogue"):
        dialogue_subset(X[1:], y[1:], 1)
    with pytest.raises(ValueError, match="different lengths"):
        dialogue_subset(X, y[:2], 1)
    with pytest.raises(ValueError, match="between 1 and the 2 dialogues"):
        dialogue_subset(X, y, 3)


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("[1, 2]", "expected a JSON object"),
        ("{not json", "not a JSON file"),
        (json.dumps({"X1": {"goal": {}}}), "dialogue 'X1': no 'log'"),
        (json.dumps({"X1": {"log": [{"text": "hi"}, {"metadata": {}}]}}), "dialogue 'X1', turn 1"),
        (
            json.dumps(
                {
                    "X1": {
                        "log": [
                            {"text": "a"},
                            {"text": "b", "metadata": {"hotel": {"semi": {"area": 3}}}},
                        ]
                    }
                }
            ),
            "turn 1: metadata['hotel']['semi']['area'] is not a string",
        ),
    ],
)
def test_bad_files_name_the_file_dialogue_and_turn(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=str(path)) as info:
        load_multiwoz(path)
    assert fragment in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        load_multiwoz(tmp_path / "nope.json")


def test_write_states_as_json():
    out = io.StringIO()
    write_states(out, [(("user", "hi"),)], [{("hotel", "area"): "north"}], [{}])
    assert json.loads(out.getvalue()) == [
        {"index": 0, "user": "hi", "predicted": {"hotel-area": "north"}, "gold": {}}
    ]


def test_fixture_has_two_dialogues():
    assert len(DIALOGUES) == 2
