"""
==============================================
Writing and reading augmented natural language
==============================================

Sequence labeling becomes text generation: the sentence is copied with its
entities bracketed and typed. This example writes CoNLL-style NER and
CoNLL04-style relations as augmented text, reads a few imperfect
"generations" back, and plots how the decoder's error counts behave as
generated text gets noisier.
"""

# %%
# NER as augmented text
# ---------------------
from sklearn_fishdip.augmented import decode_ner, encode_ner

tokens = "EU rejects German call to boycott British lamb .".split()
tags = ["B-ORG", "O", "B-MISC", "O", "O", "O", "B-MISC", "O", "O"]
text = encode_ner(tokens, tags)
print(text)

# %%
# Decoding maps the generated words back onto the source tokens. A generation
# with a misspelt word, an unknown type and a stray bracket still decodes; the
# problems are counted, not raised.
labels = ["PER", "LOC", "ORG", "MISC"]
generated = (
    "[ EU | organization ] rejects [ Germany | miscellaneous ] ] call to "
    "[ boycott | verb ] British lamb ."
)
predicted, errors = decode_ner(generated, tokens, labels)
print(predicted)
print(errors)

# %%
# Relations on the head entity
# ----------------------------
from sklearn_fishdip.augmented import decode_relations, encode_relations

words = "Smith works at Acme in Boston".split()
target = {
    "entities": [(0, 1, "Peop"), (3, 4, "Org"), (5, 6, "Loc")],
    "relations": [(0, 1, "Work_For"), (1, 2, "OrgBased_In")],
}
text = encode_relations(words, target)
print(text)
decoded, _ = decode_relations(
    text, words, ["Peop", "Org", "Loc", "Other"], ["Work_For", "OrgBased_In", "Live_In"]
)
print(decoded == target)

# %%
# How robust is decoding?
# -----------------------
# We corrupt the gold text of a few sentences by deleting random characters
# and count the sentences flagged with each error kind.
import random

import matplotlib.pyplot as plt

from sklearn_fishdip.augmented import DecodeErrors

sentences = [
    (
        "Peter Blackburn met EU officials in Brussels".split(),
        ["B-PER", "I-PER", "O", "B-ORG", "O", "O", "B-LOC"],
    ),
    (tokens, tags),
    ("The Reuters report came from London".split(), ["O", "B-ORG", "O", "O", "O", "B-LOC"]),
]
rng = random.Random(0)
rates = [0.0, 0.02, 0.05, 0.1, 0.2]
counts = {kind: [] for kind in ("wrong_reconstruction", "format_error", "label_error")}
for rate in rates:
    total = DecodeErrors()
    for words_, tags_ in sentences * 20:
        gold = encode_ner(words_, tags_)
        noisy = "".join(ch for ch in gold if rng.random() >= rate)
        total = total + decode_ner(noisy, words_, labels)[1]
    for kind in counts:
        counts[kind].append(total.rates()[kind])

fig, ax = plt.subplots(figsize=(6, 3.5))
for kind, values in counts.items():
    ax.plot(rates, values, marker="o", label=kind)
ax.set_xlabel("fraction of characters deleted")
ax.set_ylabel("fraction of sentences flagged")
ax.legend()
fig.tight_layout()
plt.show()
