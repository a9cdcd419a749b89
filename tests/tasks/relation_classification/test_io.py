"""Relation classification data: the SemEval-2010 and FewRel readers and the episode sampler."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from sklearn_fishdip.tasks.relation_classification import (
    FEWREL_SPLIT,
    load_fewrel,
    load_semeval2010,
    sample_episodes,
)

from ...estimator_fixtures import global_rng_untouched  # noqa: F401 (used by a mark below)

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"benchmark data not found at {DATA}")


def _write_crlf(path, text):
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    return path


def test_semeval_reads_crlf_blocks_and_splits_punctuation_at_markers(tmp_path):
    text = (
        '1\t"The system has an arrayed <e1>configuration</e1>, of antenna <e2>elements</e2>."\n'
        "Component-Whole(e2,e1)\n"
        "Comment: Not a collection: there is structure here, organisation.\n"
        "\n"
        "2\t\"'<e1>Staff</e1>' of a<e2>bird-watching club</e2>'s shop.\"\n"
        "Other\n"
        "Comment:\n"
        "\n"
    )
    X, y = load_semeval2010(_write_crlf(tmp_path / "TRAIN_FILE.TXT", text))
    assert y == ["Component-Whole(e2,e1)", "Other"]
    first, second = X
    assert (
        first["tokens"] == "The system has an arrayed configuration , of antenna elements .".split()
    )
    assert first["head"] == (5, 6) and first["tail"] == (9, 10)
    # Markers end tokens even glued to quotes and words; "'s" after a marker is "'", "s".
    assert second["tokens"] == "' Staff ' of a bird-watching club ' s shop .".split()
    assert second["tokens"][slice(*second["head"])] == ["Staff"]
    assert second["tokens"][slice(*second["tail"])] == ["bird-watching", "club"]
    assert all("\r" not in token and "<" not in token for x in X for token in x["tokens"])


def test_semeval_reads_lf_files_and_a_last_block_without_blank_line(tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text('7\t"A <e1>b</e1> c <e2>d</e2>"\nMessage-Topic(e1,e2)\nComment:')
    X, y = load_semeval2010(path)
    assert X == [{"tokens": ["A", "b", "c", "d"], "head": (1, 2), "tail": (3, 4)}]
    assert y == ["Message-Topic(e1,e2)"]


GOOD_BLOCK = '1\t"A <e1>b</e1> c <e2>d</e2>."\nOther\nComment:\n\n'


@pytest.mark.parametrize(
    "second_block, message",
    [
        ('2\t"A <e1>b</e1> c <e2>d</e2>."\nOther\n\n', r":5: expected a block of 3 lines"),
        ("2\tA <e1>b</e1> c <e2>d</e2>.\nOther\nComment:\n", r":5: expected '<id><TAB>"),
        ('2\t"A <e1>b</e1> c d."\nOther\nComment:\n', r":5: sentence 2: no <e2> entity"),
        ('2\t"A <e1>b c <e2>d</e2>."\nOther\nComment:\n', r":5: sentence 2: <e2> opens inside"),
        (
            '2\t"A <e1></e1> c <e2>d</e2>."\nOther\nComment:\n',
            r":5: sentence 2: <e1>...</e1> holds",
        ),
        (
            '2\t"A <e1>b</e1> <e3>c</e3> <e2>d</e2>."\nOther\nComment:\n',
            r":5: sentence 2: unknown marker '<e3>'",
        ),
        (
            '2\t"A <e1>b</e1> c <e2>d</e2>."\nCause-Effect\nComment:\n',
            r":6: sentence 2: unknown label",
        ),
        (
            '2\t"A <e1>b</e1> c <e2>d</e2>."\nOther\nNote: x\n',
            r":7: sentence 2: expected the 'Comment:'",
        ),
        (
            '1\t"A <e1>b</e1> c <e2>d</e2>."\nOther\nComment:\n',
            r":5: sentence 1 repeats an id \(first on line 1\)",
        ),
    ],
)
def test_semeval_malformed_block_names_file_and_line(tmp_path, second_block, message):
    path = _write_crlf(tmp_path / "bad.txt", GOOD_BLOCK + second_block)
    with pytest.raises(ValueError, match=r"bad\.txt" + message):
        load_semeval2010(path)


def test_semeval_empty_or_missing_file_is_a_value_error(tmp_path):
    (tmp_path / "empty.txt").write_text("\r\n\r\n")
    with pytest.raises(ValueError, match="no example found"):
        load_semeval2010(tmp_path / "empty.txt")
    with pytest.raises(ValueError, match="cannot read the file"):
        load_semeval2010(tmp_path / "missing.txt")


FEWREL = {
    "P26": [
        {
            "tokens": ["Ann", "married", "Bob", "Lee", "."],
            "h": ["ann", "Q1", [[0]]],
            "t": ["bob lee", "Q2", [[2, 3]]],
        },
        # Non-contiguous indices cover the gap; the whitespace token is dropped.
        {
            "tokens": ["Cy", "\u00a0", "wed", "Di", "Ed", "Fox"],
            "h": ["cy", "Q3", [[0]]],
            "t": ["di fox", "Q4", [[3, 5], [3]]],
        },
    ],
    "P40": [
        {
            "tokens": ["Gus", "is", "Ann", "'s", "son"],
            "h": ["ann", "Q1", [[2]]],
            "t": ["gus", "Q5", [[0]]],
        },
    ],
}


def test_fewrel_reads_spans_and_relation_ids(tmp_path):
    path = tmp_path / "val.json"
    path.write_text(json.dumps(FEWREL))
    X, y = load_fewrel(path)
    assert y == ["P26", "P26", "P40"]
    assert X[0] == {"tokens": ["Ann", "married", "Bob", "Lee", "."], "head": (0, 1), "tail": (2, 4)}
    assert X[1] == {"tokens": ["Cy", "wed", "Di", "Ed", "Fox"], "head": (0, 1), "tail": (2, 5)}
    assert X[2]["head"] == (2, 3) and X[2]["tail"] == (0, 1)


def test_fewrel_relation_names_from_pid2name_file_or_mapping(tmp_path):
    path = tmp_path / "val.json"
    path.write_text(json.dumps(FEWREL))
    names = tmp_path / "pid2name.json"
    names.write_text(
        json.dumps(
            {
                "P26": ["spouse", "the subject has the object as their spouse"],
                "P40": ["child", "subject has object as child"],
            }
        )
    )
    assert load_fewrel(path, relation_names=names)[1] == ["spouse", "spouse", "child"]
    assert load_fewrel(path, relation_names={"P26": "spouse", "P40": "child"})[1][-1] == "child"
    with pytest.raises(ValueError, match="relation 'P40' has no name in relation_names"):
        load_fewrel(path, relation_names={"P26": "spouse"})


@pytest.mark.parametrize(
    "instance, message",
    [
        ({"tokens": ["a"], "h": ["a", "Q", [[0]]]}, "has no 't'"),
        (
            {"tokens": ["a", "b"], "h": ["a", "Q", [[0]]], "t": ["b", "Q", [[2]]]},
            "'t' has token index 2, outside the 2 tokens",
        ),
        (
            {"tokens": ["a", "b"], "h": ["a", "Q", [[]]], "t": ["b", "Q", [[1]]]},
            "'h' has an empty list",
        ),
        (
            {"tokens": ["a", " "], "h": ["a", "Q", [[0]]], "t": [" ", "Q", [[1]]]},
            "'t' covers only whitespace tokens",
        ),
        (
            {"tokens": ["a", "b c"], "h": ["a", "Q", [[0]]], "t": ["b", "Q", [[1]]]},
            "token 1 is 'b c'",
        ),
    ],
)
def test_fewrel_malformed_instance_names_relation_and_index(tmp_path, instance, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"P26": FEWREL["P26"], "P40": [FEWREL["P40"][0], instance]}))
    with pytest.raises(ValueError, match=f"relation 'P40', instance 1: {message}"):
        load_fewrel(path)


def test_fewrel_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"P26": [\n  {"tokens": ]\n}')
    with pytest.raises(ValueError, match=r"bad\.json:2: not valid JSON"):
        load_fewrel(path)
    path.write_text("[]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        load_fewrel(path)


def _toy(n_relations=5, per_relation=6):
    X = [
        {"tokens": [f"w{i}"], "head": (0, 1), "tail": (0, 1)}
        for i in range(n_relations * per_relation)
    ]
    y = [f"R{i % n_relations}" for i in range(len(X))]
    return X, y


@pytest.mark.usefixtures("global_rng_untouched")
@pytest.mark.parametrize("random_state", [0, None])
def test_episodes_have_the_right_sizes_and_no_overlap(random_state):
    X, y = _toy()
    episodes = sample_episodes(X, y, 3, 2, 4, 20, random_state=random_state)
    assert len(episodes) == 20
    for X_support, y_support, X_query, y_query in episodes:
        assert len(X_support) == len(y_support) == 3 * 2
        assert len(X_query) == len(y_query) == 3 * 4
        assert set(Counter(y_support).values()) == {2} and set(Counter(y_query).values()) == {4}
        assert set(y_support) == set(y_query) and len(set(y_support)) == 3
        support_ids = {id(x) for x in X_support}
        assert len(support_ids) == 6 and support_ids.isdisjoint(id(x) for x in X_query)
        # Each item keeps its own label.
        for x, label in zip(X_support + X_query, y_support + y_query):
            assert y[X.index(x)] == label


def test_episodes_are_reproducible_and_vary_with_the_seed():
    X, y = _toy()
    first = sample_episodes(X, y, 3, 1, 2, 10, random_state=7)
    assert sample_episodes(X, y, 3, 1, 2, 10, random_state=7) == first
    assert sample_episodes(X, y, 3, 1, 2, 10, random_state=np.random.RandomState(7)) == first
    assert sample_episodes(X, y, 3, 1, 2, 10, random_state=8) != first
    # The order of the examples' labels does not change which relations are drawn.
    order = list(range(len(X)))[::-1]
    reordered = sample_episodes(
        [X[i] for i in order], [y[i] for i in order], 3, 1, 2, 10, random_state=7
    )
    assert [e[1] for e in reordered] == [e[1] for e in first]


def test_episodes_draw_only_the_given_relations():
    X, y = _toy()
    episodes = sample_episodes(X, y, 2, 1, 1, 30, relations=("R1", "R3"), random_state=0)
    assert {label for episode in episodes for label in episode[1] + episode[3]} == {"R1", "R3"}


@pytest.mark.parametrize(
    "arguments, options, error, message",
    [
        ((6, 1, 1, 1), {}, ValueError, "n_way=6 but there are only 5 relations"),
        ((2, 1, 1, 1), {"relations": ["R1"]}, ValueError, "n_way=2 but there are only 1"),
        (
            (2, 4, 3, 1),
            {},
            ValueError,
            "relation 'R0' has 6 examples but an episode needs "
            r"k_shot \+ n_query = 7",
        ),
        (
            (1, 1, 1, 1),
            {"relations": ["R1", "R9"]},
            ValueError,
            "relation 'R9' of relations has no example",
        ),
        ((1, 1, 1, 1), {"relations": ["R1", "R1"]}, ValueError, "relations repeats 'R1'"),
        ((0, 1, 1, 1), {}, ValueError, "n_way must be at least 1, got 0"),
        ((1, 1, 0, 1), {}, ValueError, "n_query must be at least 1"),
        ((1, 1.5, 1, 1), {}, TypeError, "k_shot must be an integer"),
    ],
)
def test_episode_errors(arguments, options, error, message):
    X, y = _toy()
    with pytest.raises(error, match=message):
        sample_episodes(X, y, *arguments, **options)


def test_episode_sampler_names_a_short_relation():
    X, y = _toy()
    X, y = X + [{"tokens": ["x"], "head": (0, 1), "tail": (0, 1)}], y + ["rare"]
    with pytest.raises(ValueError, match="relation 'rare' has 1 examples"):
        sample_episodes(X, y, 2, 1, 1, 1)
    assert len(sample_episodes(X, y, 2, 1, 1, 1, relations=["R0", "R1"])) == 1
    with pytest.raises(ValueError, match="different lengths"):
        sample_episodes(X, y[:-1], 2, 1, 1, 1)


@pytest.mark.integration
@needs_data
@pytest.mark.parametrize("name, count", [("TRAIN_FILE.TXT", 8000), ("TEST_FILE_FULL.TXT", 2717)])
def test_semeval_real_files(name, count):
    X, y = load_semeval2010(DATA / "semeval2010_task8" / name)
    assert len(X) == len(y) == count
    assert len(set(y)) == 19
    for x in X:
        tokens = x["tokens"]
        assert 0 <= x["head"][0] < x["head"][1] <= x["tail"][0] < x["tail"][1] <= len(tokens)
        assert all(token and token.split() == [token] for token in tokens)
    if name == "TRAIN_FILE.TXT":
        assert Counter(y)["Other"] == 1410
        assert X[0]["tokens"][slice(*X[0]["head"])] == ["configuration"]
        assert y[0] == "Component-Whole(e2,e1)"


@pytest.mark.integration
@needs_data
def test_fewrel_val_wiki_and_the_fixed_split():
    X, y = load_fewrel(DATA / "fewrel" / "val_wiki.json")
    counts = Counter(y)
    assert len(counts) == 16 and set(counts.values()) == {700} and len(X) == 11200
    relations = sorted(counts)
    assert FEWREL_SPLIT.train == tuple(relations[:10])
    assert FEWREL_SPLIT.episode == tuple(relations[10:])
    assert set(FEWREL_SPLIT.train).isdisjoint(FEWREL_SPLIT.episode)
    for x in X:
        for start, end in (x["head"], x["tail"]):
            assert 0 <= start < end <= len(x["tokens"])
    raw = json.loads((DATA / "fewrel" / "val_wiki.json").read_text())
    surfaces = [item["h"][0] for items in raw.values() for item in items]
    assert all(
        "".join(x["tokens"][slice(*x["head"])]).lower() == surface.replace(" ", "").lower()
        for x, surface in zip(X, surfaces)
    )
    names = load_fewrel(
        DATA / "fewrel" / "val_wiki.json", relation_names=DATA / "fewrel" / "pid2name.json"
    )[1]
    assert "spouse" in names and len(set(names)) == 16
    episodes = sample_episodes(X, y, 5, 1, 2, 3, relations=FEWREL_SPLIT.episode, random_state=0)
    assert all(set(episode[1]) <= set(FEWREL_SPLIT.episode) for episode in episodes)
