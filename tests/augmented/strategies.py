"""Hypothesis strategies for sentences, spans and relation targets."""

from hypothesis import strategies as st

from sklearn_fishdip.augmented import spans_to_tags

# Tokens mix ordinary words, the markup characters and the escape codes themselves.
token = st.one_of(
    st.sampled_from(
        ["EU", "rejects", "German", "call", "person", "works", "for", "-", "1996-08-22"]
    ),
    st.sampled_from(["[", "]", "|", "=", "[x]", "a=b", "-LSB-", "-DASH-", "--EQ-"]),
    st.text(st.characters(blacklist_categories=("Z", "C")), min_size=1, max_size=6),
)
tokens = st.lists(token, min_size=1, max_size=12)
labels = st.sampled_from(["PER", "LOC", "ORG", "MISC", "Work_For", "dateOfBirth"])


@st.composite
def flat_spans(draw, n_tokens):
    """Non-overlapping spans over ``n_tokens``."""
    spans, position = [], 0
    while position < n_tokens:
        if draw(st.booleans()):
            end = draw(st.integers(position + 1, min(n_tokens, position + 4)))
            spans.append((position, end, draw(labels)))
            position = end
        else:
            position += 1
    return spans


@st.composite
def tagged_sentences(draw, scheme="IOB2"):
    words = draw(tokens)
    spans = draw(flat_spans(len(words)))
    return words, spans_to_tags(spans, len(words), scheme)


@st.composite
def nested_spans(draw, start, end, depth=0):
    """Non-crossing (possibly nested) spans inside [start, end)."""
    spans, position = [], start
    while position < end:
        if draw(st.integers(0, 2)) == 0:
            stop = draw(st.integers(position + 1, end))
            spans.append((position, stop, draw(labels)))
            if depth < 2 and stop - position > 1 and draw(st.booleans()):
                spans.extend(draw(nested_spans(position, stop, depth + 1)))
            position = stop
        else:
            position += 1
    return list(dict.fromkeys(spans))
