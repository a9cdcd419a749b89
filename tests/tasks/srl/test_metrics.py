"""SRL scores: hand-made cases of the CoNLL-2005 scorer's rules (srl-eval.pl)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sklearn_fishdip.tasks.srl import load_propbank_srl, srl_f1_score, srl_precision_recall_f1

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"benchmark data not found at {DATA}")

# "The people who turned it in were , all of them , its supporters": ARG1 has a C-ARG1 piece.
GOLD = [(0, 2, "ARG0"), (2, 3, "R-ARG0"), (3, 4, "V"), (4, 5, "ARG1"), (8, 11, "C-ARG1")]


def _prf(scores):
    return scores["precision"], scores["recall"], scores["f1"]


def _counts(scores):
    return scores["correct"], scores["predicted"], scores["support"]


def test_exact_match():
    scores = srl_precision_recall_f1([GOLD], [list(GOLD)])
    assert _prf(scores) == (1.0, 1.0, 1.0)
    # ARG0, R-ARG0 and the two-piece ARG1: three arguments; V is not one.
    assert _counts(scores) == (3, 3, 3)
    assert scores["perfect_props"] == 1.0
    assert set(scores["per_label"]) == {"ARG0", "R-ARG0", "ARG1"}
    assert _counts(scores["per_label"]["ARG1"]) == (1, 1, 1)


def test_wrong_boundary():
    pred = [(0, 1, "ARG0"), (2, 3, "R-ARG0"), (4, 5, "ARG1"), (8, 11, "C-ARG1")]
    scores = srl_precision_recall_f1([GOLD], [pred])
    assert _counts(scores) == (2, 3, 3)
    assert _counts(scores["per_label"]["ARG0"]) == (0, 1, 1)
    assert scores["perfect_props"] == 0.0


def test_wrong_label():
    pred = [(0, 2, "ARG1"), (2, 3, "R-ARG0"), (4, 5, "ARG1"), (8, 11, "C-ARG1")]
    scores = srl_precision_recall_f1([GOLD], [pred])
    assert _counts(scores) == (2, 3, 3)
    assert _counts(scores["per_label"]["ARG0"]) == (0, 0, 1)
    assert _counts(scores["per_label"]["ARG1"]) == (1, 2, 1)
    assert scores["per_label"]["ARG1"]["precision"] == 0.5


def test_a_missing_continuation_piece_makes_the_whole_argument_wrong():
    # ARG1's first piece is right but its C-ARG1 piece is missing: one excess, one missed.
    pred = [(0, 2, "ARG0"), (2, 3, "R-ARG0"), (4, 5, "ARG1")]
    scores = srl_precision_recall_f1([GOLD], [pred])
    assert _counts(scores) == (2, 3, 3)
    assert _counts(scores["per_label"]["ARG1"]) == (0, 1, 1)
    # So is a continuation piece the gold argument lacks, or a piece with a wrong boundary.
    for extra in ([(12, 13, "C-ARG1")], [(9, 11, "C-ARG1")]):
        pred = [span for span in GOLD if span[2] != "C-ARG1"] + extra
        assert _counts(srl_precision_recall_f1([GOLD], [pred])["per_label"]["ARG1"]) == (0, 1, 1)


def test_continuation_pieces_join_the_closest_argument_before_them():
    gold = [(0, 1, "ARG1"), (2, 3, "ARG1"), (4, 5, "C-ARG1")]
    # The C-ARG1 piece belongs to the ARG1 at 2, not the one at 0, in any input order.
    right = [(4, 5, "C-ARG1"), (0, 1, "ARG1"), (2, 3, "ARG1")]
    assert _counts(srl_precision_recall_f1([gold], [right])) == (2, 2, 2)
    # A C-ARG1 with no ARG1 before it is scored as a plain ARG1.
    scores = srl_precision_recall_f1([[(0, 1, "ARG1")]], [[(0, 1, "C-ARG1")]])
    assert _counts(scores) == (1, 1, 1) and set(scores["per_label"]) == {"ARG1"}


def test_reference_arguments_have_their_own_label():
    pred = [(0, 2, "ARG0"), (2, 3, "ARG0"), (4, 5, "ARG1"), (8, 11, "C-ARG1")]
    scores = srl_precision_recall_f1([GOLD], [pred])
    assert _counts(scores) == (2, 3, 3)
    assert _counts(scores["per_label"]["R-ARG0"]) == (0, 0, 1)
    assert _counts(scores["per_label"]["ARG0"]) == (1, 2, 1)
    # A C-R-ARG0 piece joins the R-ARG0 argument, not ARG0.
    gold = [(0, 1, "ARG0"), (2, 3, "R-ARG0"), (4, 5, "C-R-ARG0")]
    scores = srl_precision_recall_f1([gold], [gold])
    assert _counts(scores["per_label"]["R-ARG0"]) == (1, 1, 1)


def test_v_is_excluded():
    without_v = [span for span in GOLD if span[2] != "V"]
    # Missing, extra, wrong and C-V verb spans change nothing.
    for pred in (
        without_v,
        [*without_v, (6, 7, "V")],
        [*GOLD, (5, 6, "C-V")],
        [*without_v, (7, 8, "C-V")],
    ):
        scores = srl_precision_recall_f1([GOLD], [pred])
        assert _prf(scores) == (1.0, 1.0, 1.0) and scores["perfect_props"] == 1.0
        assert "V" not in scores["per_label"] and "C-V" not in scores["per_label"]
    # A span labelled V where gold has an argument is not a prediction of it.
    pred = [(0, 2, "V"), (2, 3, "R-ARG0"), (4, 5, "ARG1"), (8, 11, "C-ARG1")]
    assert _counts(srl_precision_recall_f1([GOLD], [pred])) == (2, 2, 3)


def test_empty_predictions():
    scores = srl_precision_recall_f1([GOLD, [(1, 2, "ARG0")]], [[], []])
    assert _prf(scores) == (0.0, 0.0, 0.0)
    assert _counts(scores) == (0, 0, 4)
    assert scores["perfect_props"] == 0.0
    # Nothing on either side: all zero, and the proposition is perfect.
    scores = srl_precision_recall_f1([[(3, 4, "V")]], [[]])
    assert _prf(scores) == (0.0, 0.0, 0.0) and scores["perfect_props"] == 1.0
    assert scores["per_label"] == {}
    assert srl_precision_recall_f1([], [])["f1"] == 0.0


def test_micro_average_over_examples_and_duplicates_count_once():
    y_true = [[(0, 1, "ARG0"), (2, 3, "ARG1")], [(0, 2, "ARG2")]]
    y_pred = [[(0, 1, "ARG0"), (0, 1, "ARG0")], [(0, 2, "ARG2"), (2, 3, "ARGM-TMP")]]
    scores = srl_precision_recall_f1(y_true, y_pred)
    assert _counts(scores) == (2, 3, 3)
    assert scores["precision"] == scores["recall"] == scores["f1"] == pytest.approx(2 / 3)
    assert scores["perfect_props"] == 0.0
    assert list(scores["per_label"]) == ["ARG0", "ARG1", "ARG2", "ARGM-TMP"]
    assert srl_f1_score(y_true, y_pred) == scores["f1"]
    # Tuples, lists and numpy integers are all accepted.
    assert srl_f1_score((([np.int64(0), 1, "ARG0"],),), [[(0, np.int32(1), "ARG0")]]) == 1.0


@pytest.mark.parametrize(
    "y_true, y_pred, error, message",
    [
        ([[]], [[], []], ValueError, "different lengths"),
        ([[(0, 1, "ARG0")]], [[(1, 1, "ARG0")]], ValueError, r"y_pred\[0\] span 0 .*start < end"),
        ([[], [(0, 1)]], [[], []], TypeError, r"y_true\[1\] span 0 must be a \(start, end"),
        ([[(0, 1, "")]], [[]], ValueError, r"y_true\[0\] span 0 .*non-empty label"),
        ([[(0.0, 1, "A")]], [[]], ValueError, r"y_true\[0\] span 0 .*integer offsets"),
        ([["ARG0"]], [[]], TypeError, r"y_true\[0\] span 0 must be"),
        (["ARG0"], [[]], TypeError, r"y_true\[0\] must be a list of"),
        ("ARG0", [[]], TypeError, "y_true must be a list"),
    ],
)
def test_malformed_input_names_the_example(y_true, y_pred, error, message):
    with pytest.raises(error, match=message):
        srl_precision_recall_f1(y_true, y_pred)


@pytest.mark.integration
@needs_data
def test_real_dev_gold_scores_one_and_counts_scorer_arguments():
    _, y = load_propbank_srl(DATA / "propbank_ewt_srl" / "ewt.dev.gold_conll")
    scores = srl_precision_recall_f1(y, y)
    assert _prf(scores) == (1.0, 1.0, 1.0) and scores["perfect_props"] == 1.0
    # 9,582 spans, less 20 C-V and the C- pieces that join their argument: measured.
    assert scores["support"] == 9_478
    assert not any(label.startswith("C-") or label == "V" for label in scores["per_label"])
    # Dropping every C- piece loses exactly the 84 discontinuous arguments (measured).
    cut = [[span for span in spans if not span[2].startswith("C-")] for spans in y]
    assert srl_precision_recall_f1(y, cut)["correct"] == 9_478 - 84
