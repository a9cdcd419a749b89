"""SRL data: the PropBank gold_conll reader and the BIO tag conversions."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_fishdip.tasks.srl import load_propbank_srl, srl_spans_to_tags, srl_tags_to_spans

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
SRL_DATA = DATA / "propbank_ewt_srl"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"benchmark data not found at {DATA}")

DOC = "google/ewt/answers/00/example.xml"

# The real files' layout: document, sentence and token numbers, word, POS, parse bit,
# predicate lemma, roleset, then one bracket column per predicate (tab-separated).
# Sentence 0 has two predicates, "turned" (a verb: a continuation ARG1, a reference
# ARG0 and a C-V particle) and "supporters" (a noun); sentence 1 has none.
SENTENCE_0 = [
    ["The", "DT", "(TOP(S(NP(NP*", "-", "-", "(ARG0*", "*"],
    ["people", "NNS", "*)", "-", "-", "*)", "*"],
    ["who", "WP", "(SBAR(WHNP*)", "-", "-", "(R-ARG0*)", "*"],
    ["turned", "VBD", "(S(VP*", "turn", "turn.02", "(V*)", "*"],
    ["it", "PRP", "(NP*)", "-", "-", "(ARG1*)", "*"],
    ["in", "RP", "(PRT*)))))", "-", "-", "(C-V*)", "*"],
    ["were", "VBD", "(VP*", "-", "-", "*", "*"],
    ["its", "PRP$", "(NP*", "-", "-", "*", "(ARG1*)"],
    ["supporters", "NNS", "*", "supporter", "support.01", "*", "(V*)"],
    [",", ",", "*", "-", "-", "*", "*"],
    ["apparently", "RB", "*", "-", "-", "*", "*"],
    ["all", "DT", "(NP*)", "-", "-", "(C-ARG1*", "*"],
    ["of", "IN", "(PP*", "-", "-", "*", "*"],
    ["them", "PRP", "(NP*))))", "-", "-", "*)", "*"],
    [".", ".", "*))", "-", "-", "*", "*"],
]
SENTENCE_1 = [["Thanks", "NNS", "(TOP(NP*)", "-", "-"], ["!", ".", "*)", "-", "-"]]
TOKENS_0 = [row[0] for row in SENTENCE_0]
TURNED = [(0, 2, "ARG0"), (2, 3, "R-ARG0"), (4, 5, "ARG1"), (5, 6, "C-V"), (11, 14, "C-ARG1")]
SUPPORTERS = [(7, 8, "ARG1")]


def _lines(sentence, number, separator="\t"):
    return [
        separator.join([DOC, str(number), str(position), *row])
        for position, row in enumerate(sentence)
    ]


def _write(tmp_path, lines, name="ewt.dev.gold_conll"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _standard_lines():
    return [*_lines(SENTENCE_0, 0), "", *_lines(SENTENCE_1, 1), ""]


def test_one_example_per_predicate_with_its_arguments(tmp_path):
    X, y = load_propbank_srl(_write(tmp_path, _standard_lines()))
    assert X == [(TOKENS_0, 3), (TOKENS_0, 8)]
    # V is left out; C-, R- and C-V spans keep their labels.
    assert y == [TURNED, SUPPORTERS]
    # Each example owns its tokens: changing one leaves the other alone.
    X[0][0][0] = "A"
    assert X[1][0][0] == "The"


def test_verbs_only_keeps_the_vb_predicates(tmp_path):
    X, y = load_propbank_srl(_write(tmp_path, _standard_lines()), verbs_only=True)
    assert X == [(TOKENS_0, 3)] and y == [TURNED]


def test_document_markers_spaces_and_a_missing_last_blank_line(tmp_path):
    # CoNLL-2012 files wrap documents in #begin/#end lines and align columns with spaces.
    lines = [
        f"#begin document ({DOC}); part 000",
        *_lines(SENTENCE_0, 0, separator="   "),
        "#end document",
        f"#begin document ({DOC}); part 001",
        *_lines(SENTENCE_1, 0),
        "",
        *_lines(SENTENCE_0, 1),
    ]
    path = tmp_path / "noblank.gold_conll"
    path.write_text("\n".join(lines), encoding="utf-8")
    X, y = load_propbank_srl(path)
    assert X == [(TOKENS_0, 3), (TOKENS_0, 8)] * 2
    assert y == [TURNED, SUPPORTERS] * 2


def _replace_cell(row, column, cell):
    sentence = [list(line) for line in SENTENCE_0]
    sentence[row][column] = cell
    return sentence


# (sentence, line number of the error in the file, expected message)
MALFORMED = {
    "unclosed": (_replace_cell(13, 5, "*"), 12, r"'C-ARG1' is never closed"),
    "nested": (_replace_cell(1, 5, "(ARG1*"), 2, r"'ARG1' opens inside 'ARG0'.*cannot nest"),
    "nested in one cell": (_replace_cell(4, 5, "(ARG1(ARG2*))"), 5, r"opens inside 'ARG1'"),
    "close without open": (_replace_cell(6, 5, "*)"), 7, r"closes an argument that is not open"),
    "two closes": (_replace_cell(1, 5, "*))"), 2, r"closes an argument that is not open"),
    "wrong close label": (_replace_cell(1, 5, "*ARG1)"), 2, r"closes 'ARG1' but 'ARG0' is open"),
    "bad cell": (_replace_cell(6, 5, "ARG1"), 7, r"malformed cell 'ARG1'"),
    "missing column": (
        [*SENTENCE_0[:9], SENTENCE_0[9][:-1], *SENTENCE_0[10:]],
        10,
        r"9 columns, but the sentence's first line \(1\) has 10",
    ),
    "too few columns": ([row[:3] for row in SENTENCE_0], 1, r"at least 8 columns.* got 6"),
    "extra predicate row": (
        _replace_cell(6, 4, "be.01"),
        1,
        r"3 predicate rows .* but 2 argument columns",
    ),
    "no V": (_replace_cell(8, 6, "*"), 9, r"'support.01', has 0 'V' spans"),
    "two Vs": (_replace_cell(9, 6, "(V*)"), 9, r"has 2 'V' spans"),
}


@pytest.mark.parametrize("sentence, line, message", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("verbs_only", [False, True])
def test_malformed_input_names_file_line_and_problem(tmp_path, sentence, line, message, verbs_only):
    path = _write(tmp_path, [*_lines(sentence, 0), ""])
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}:{line}: .*{message}"):
        load_propbank_srl(path, verbs_only=verbs_only)


def test_empty_and_missing_files_are_value_errors(tmp_path):
    empty = _write(tmp_path, ["", "#begin document (x); part 000", "#end document"])
    with pytest.raises(ValueError, match="holds no sentence"):
        load_propbank_srl(empty)
    with pytest.raises(ValueError, match="cannot read the file"):
        load_propbank_srl(tmp_path / "absent.gold_conll")


def test_spans_to_tags_and_back():
    tags = srl_spans_to_tags(len(TOKENS_0), TURNED)
    assert tags[:6] == ["B-ARG0", "I-ARG0", "B-R-ARG0", "O", "B-ARG1", "B-C-V"]
    assert tags[11:] == ["B-C-ARG1", "I-C-ARG1", "I-C-ARG1", "O"]
    assert srl_tags_to_spans(tags) == TURNED
    # Adjacent spans of one label stay apart; spans may come in any order.
    spans = [(2, 3, "ARG1"), (0, 2, "ARG1")]
    assert srl_spans_to_tags(3, spans) == ["B-ARG1", "I-ARG1", "B-ARG1"]
    assert srl_tags_to_spans(["B-ARG1", "I-ARG1", "B-ARG1"]) == sorted(spans)
    assert srl_spans_to_tags(2, []) == ["O", "O"] and srl_tags_to_spans([]) == []


def test_tags_to_spans_reads_a_stray_inside_tag_as_a_start():
    tags = ["I-ARG0", "I-ARG0", "I-ARG1", "O", "I-ARG2", "B-ARG2", "I-ARG2"]
    assert srl_tags_to_spans(tags) == [
        (0, 2, "ARG0"),
        (2, 3, "ARG1"),
        (4, 5, "ARG2"),
        (5, 7, "ARG2"),
    ]


@pytest.mark.parametrize(
    "n_tokens, spans, message",
    [
        (3, [(0, 2, "ARG0"), (1, 3, "ARG1")], r"overlaps \(0, 2, 'ARG0'\) at token 1"),
        (3, [(2, 4, "ARG0")], "outside the sentence of 3 tokens"),
        (3, [(1, 1, "ARG0")], "empty or outside"),
        (3, [(0, 1, "")], "non-empty label"),
        (3, [(0, 1)], r"span 0 must be a \(start, end, label\) triple"),
    ],
)
def test_spans_to_tags_errors(n_tokens, spans, message):
    with pytest.raises(ValueError, match=message):
        srl_spans_to_tags(n_tokens, spans)


@pytest.mark.parametrize("tags", [["O", "ARG0"], ["B-"], ["O", "E-ARG0"], [None]])
def test_tags_to_spans_errors(tags):
    with pytest.raises(ValueError, match=f"tag {len(tags) - 1} is "):
        srl_tags_to_spans(tags)


@st.composite
def _spans(draw):
    # Non-overlapping spans: cut points over the sentence, each piece labelled or left out.
    n_tokens = draw(st.integers(0, 12))
    cuts = sorted(draw(st.sets(st.integers(0, n_tokens), max_size=n_tokens)) | {0, n_tokens})
    labels = st.none() | st.sampled_from(["ARG0", "ARG1", "C-ARG1", "R-ARG0", "V"])
    spans = []
    for start, end in zip(cuts, cuts[1:]):
        label = draw(labels)
        if label is not None:
            spans.append((start, end, label))
    return n_tokens, spans


@given(_spans())
@settings(max_examples=200, deadline=None)
def test_bio_round_trip(case):
    n_tokens, spans = case
    tags = srl_spans_to_tags(n_tokens, spans[::-1])
    assert len(tags) == n_tokens
    assert srl_tags_to_spans(tags) == spans


# Real data: counts measured on the staged files (train as in the data README).
REAL = {
    # split: (sentences, tokens, predicates, arguments, verbal predicates)
    "train": (12_519, 204_128, 40_413, 81_379, 31_122),
    "dev": (1_967, 24_886, 4_961, 9_582, 3_796),
    "test": (2_057, 24_937, 4_795, 9_337, 3_652),
}


@functools.cache
def _load(split, verbs_only=False):
    return load_propbank_srl(SRL_DATA / f"ewt.{split}.gold_conll", verbs_only=verbs_only)


@pytest.mark.integration
@needs_data
@pytest.mark.parametrize("split", REAL)
def test_real_counts_and_spans_inside_their_sentence(split):
    n_sentences, n_tokens, n_predicates, n_arguments, n_verbal = REAL[split]
    text = (SRL_DATA / f"ewt.{split}.gold_conll").read_text(encoding="utf-8")
    blocks = [block for block in text.split("\n\n") if block.strip()]
    assert len(blocks) == n_sentences
    assert sum(len(block.strip().splitlines()) for block in blocks) == n_tokens
    X, y = _load(split)
    assert len(X) == len(y) == n_predicates
    # README "arguments": every bracket but V, C- and R- pieces (and C-V) included.
    assert sum(map(len, y)) == n_arguments
    for (tokens, predicate), spans in zip(X, y):
        assert 0 <= predicate < len(tokens)
        assert all(0 <= start < end <= len(tokens) for start, end, _ in spans)
        assert not any(label == "V" for _, _, label in spans)
    assert len(_load(split, verbs_only=True)[0]) == n_verbal


@pytest.mark.integration
@needs_data
def test_real_dev_first_example_and_bio_round_trip():
    X, y = _load("dev")
    assert X[0] == (["From", "the", "AP", "comes", "this", "story", ":"], 3)
    assert y[0] == [(0, 3, "ARG2"), (4, 6, "ARG1")]
    for (tokens, _), spans in zip(X, y):
        assert srl_tags_to_spans(srl_spans_to_tags(len(tokens), spans)) == spans
