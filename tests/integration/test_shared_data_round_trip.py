"""Round trips over the real benchmark data in ../shared/data (present in CI)."""

from pathlib import Path

import pytest

from sklearn_fishdip.augmented import (
    ambiguous_relations,
    decode_ner,
    decode_relations,
    encode_ner,
    encode_relations,
)
from sklearn_fishdip.datasets import load_conll, load_spert

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not DATA.is_dir(), reason=f"benchmark data not found at {DATA}"),
]


def test_conll2003_train_round_trips_exactly():
    X, y = load_conll(DATA / "conll2003" / "train.txt")
    assert len(X) == 14041
    labels = ["PER", "LOC", "ORG", "MISC"]
    failures = []
    for index, (tokens, tags) in enumerate(zip(X, y)):
        decoded, errors = decode_ner(encode_ner(tokens, tags), tokens, labels)
        if decoded != tags or errors.any:
            failures.append(index)
    assert failures == []


def test_conll04_train_round_trips_except_ambiguous_tails():
    X, y = load_spert(DATA / "conll04" / "train.json")
    assert len(X) == 922
    assert sum(len(target["relations"]) for target in y) == 1283
    entity_types = ["Loc", "Org", "Peop", "Other"]
    relation_types = ["Work_For", "Kill", "OrgBased_In", "Live_In", "Located_In"]
    n_ambiguous, n_repeated_tail_text, mismatches = 0, 0, []
    for index, (tokens, target) in enumerate(zip(X, y)):
        names = [" ".join(tokens[start:end]) for start, end, _ in target["entities"]]
        n_repeated_tail_text += sum(
            names.count(names[tail]) > 1 for _, tail, _ in target["relations"]
        )
        decoded, errors = decode_relations(
            encode_relations(tokens, target), tokens, entity_types, relation_types
        )
        lost = ambiguous_relations(tokens, target)
        n_ambiguous += len(lost)
        expected_relations = [r for r in target["relations"] if r not in lost]
        if decoded["entities"] != target["entities"] or not set(expected_relations) <= set(
            decoded["relations"]
        ):
            mismatches.append(index)
        if not lost and (decoded != target or errors.any):
            mismatches.append(index)
    assert mismatches == []
    # 50 tails name more than one entity; nearest-mention resolution still recovers
    # all but the 2 whose gold tail is not the nearest mention.
    print(
        f"CoNLL04 train: {n_repeated_tail_text} of 1283 relations have a tail text naming several "
        f"entities; {n_ambiguous} cannot be recovered by nearest-mention resolution"
    )
    assert n_repeated_tail_text == 50
    assert n_ambiguous == 2
