import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_fishdip.augmented._aligner import align_words, aligned_span

SOURCE = "the cat saw the cat".split()


def test_repeated_words_align_to_latest_occurrence():
    assert align_words(SOURCE, ["cat"]) == [4]
    assert align_words(SOURCE, ["cat", "saw"]) == [1, 2]
    assert aligned_span(align_words(SOURCE, ["cat"]), 0, 1) == (4, 5)
    assert aligned_span(align_words(SOURCE, ["cat", "saw"]), 0, 1) == (1, 2)


def test_exact_copy():
    assert align_words(SOURCE, SOURCE) == [0, 1, 2, 3, 4]


def test_substitution_aligns():
    assert align_words(["John", "lives", "here"], ["Jon", "lives", "here"]) == [0, 1, 2]


def test_skipped_and_inserted_words():
    assert align_words(["a", "b", "c"], ["a", "c"]) == [0, 2]
    assert align_words(["a", "b"], ["a", "x", "b"]) == [0, None, 1]


def test_diagonal_wins_ties():
    # Substituting "c" for "b" costs as much as skipping "b" and substituting for "a".
    assert align_words(["a", "b"], ["c"]) == [1]


def test_ignore_case():
    assert align_words(["B", "a"], ["b"]) == [1]
    assert align_words(["B", "a"], ["b"], ignore_case=True) == [0]


def test_empty_sequences():
    assert align_words([], []) == []
    assert align_words(["a"], []) == []
    assert align_words([], ("a", "b")) == [None, None]


@pytest.mark.parametrize(
    "source, output, message",
    [
        ("the cat", ["cat"], "source must be a sequence of strings, got str"),
        (["a"], None, "output must be a sequence of strings, got NoneType"),
        (["a", 2], ["a"], "source must hold strings; item 1 is int"),
    ],
)
def test_invalid_input(source, output, message):
    with pytest.raises(TypeError, match=message):
        align_words(source, output)


def test_aligned_span():
    alignment = [0, None, 3, 4, None]
    assert aligned_span(alignment, 0, 5) == (0, 5)
    assert aligned_span(alignment, 1, 3) == (3, 4)
    assert aligned_span(alignment, 1, 2) is None
    assert aligned_span(alignment, 2, 2) is None
    assert aligned_span(alignment, 4, 5) is None


def test_aligned_span_invalid():
    with pytest.raises(ValueError, match=r"span \(2, 6\) is outside the 5 aligned output words"):
        aligned_span([0, 1, 2, 3, 4], 2, 6)
    with pytest.raises(ValueError, match=r"span \(3, 2\)"):
        aligned_span([0, 1, 2, 3, 4], 3, 2)
    with pytest.raises(TypeError, match="start must be an integer"):
        aligned_span([0], 0.0, 1)


def _levenshtein(source, output):
    previous = list(range(len(output) + 1))
    for i, word in enumerate(source, 1):
        current = [i]
        for j, other in enumerate(output, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
            )
        previous = current
    return previous[-1]


WORDS = st.lists(st.sampled_from(["a", "b", "c", "A"]), max_size=9)


@settings(max_examples=200, deadline=None)
@given(WORDS, WORDS, st.booleans())
def test_alignment_is_optimal_and_monotone(source, output, ignore_case):
    alignment = align_words(source, output, ignore_case=ignore_case)
    assert len(alignment) == len(output)
    pairs = [(i, j) for j, i in enumerate(alignment) if i is not None]
    assert all(a[0] < b[0] for a, b in zip(pairs, pairs[1:]))
    if ignore_case:
        source = [word.lower() for word in source]
        output = [word.lower() for word in output]
    substitutions = sum(source[i] != output[j] for i, j in pairs)
    cost = substitutions + (len(source) - len(pairs)) + (len(output) - len(pairs))
    assert cost == _levenshtein(source, output)


def test_long_sentences():
    source = [f"w{i % 37}" for i in range(200)]
    output = source[:50] + ["extra"] + source[60:]
    alignment = align_words(source, output)
    assert alignment[:50] == list(range(50))
    # Skipping ten source tokens and one output word costs as much as skipping
    # nine and substituting: the diagonal wins, so "extra" takes position 59.
    assert alignment[50] == 59
    assert alignment[51:] == list(range(60, 200))
