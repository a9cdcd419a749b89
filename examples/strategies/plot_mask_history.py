"""
=============================================
Where FISH-DIP's mask sits and how it moves
=============================================

FISH-DIP trains 1% of the pretrained parameters and chooses them again every
``refresh_every`` optimizer steps, from the squared gradients of the training
sentences the model currently gets most wrong. Every selection is recorded in
``mask_history_``: the step, how many entries were selected, the overlap with
the previous mask, and the selected fraction of each module type and of each
layer. This example trains briefly with frequent refreshes and plots those
records.
"""

# %%
# Fit with a refresh every 4 steps
# --------------------------------
from sklearn_fishdip import FishDipNER
from sklearn_fishdip.datasets import get_data_home, load_conll, low_resource_subset

X_all, y_all = load_conll(get_data_home() / "conll2003" / "train.txt")
X, y = low_resource_subset(X_all, y_all, 32 / len(X_all), random_state=0)

ner = FishDipNER(refresh_every=4, max_epochs=6, random_state=0, verbose=0)
ner.fit(X, y)
history = ner.mask_history_
for record in history:
    overlap = "-" if record["overlap"] is None else f"{record['overlap']:.2f}"
    print(
        f"step {record['step']:>2}: {record['n_selected']:,} selected "
        f"(+{record['n_exempt']:,} new parameters outside the budget), "
        f"overlap with the previous mask {overlap}, {record['seconds']:.1f} s, "
        f"from sentences {record['samples']}"
    )

# %%
# Which layers hold the selection
# -------------------------------
# The fraction of each layer's pretrained entries that the mask trains, per
# selection (blocks in network order: the encoder's embeddings and layers,
# then the decoder's; "decoder" also holds the new LM-head transform, trained
# outside the budget). An even spread would be 1% everywhere; the squared
# gradients favour the last layer of each stack.
import matplotlib.pyplot as plt
import numpy as np

blocks = list(history[0]["fraction_by_block"])
steps = [record["step"] for record in history]
grid = np.array([[record["fraction_by_block"][b] for record in history] for b in blocks])

fig, ax = plt.subplots(figsize=(6, 5))
image = ax.imshow(100 * grid, aspect="auto", cmap="viridis")
ax.set_yticks(range(len(blocks)), blocks)
ax.set_xticks(range(len(steps)), steps)
ax.set_xlabel("selected at optimizer step")
ax.set_title("% of each block's entries selected")
fig.colorbar(image, ax=ax)
fig.tight_layout()

# %%
# Module types and the overlap between consecutive masks
# ------------------------------------------------------
# Left: the trained fraction of attention, feed-forward, embedding and norm
# entries. These fractions include the parameters trained outside the budget:
# the decoder's new LM-head transform is all of "other" here, hence 100%.
# Right: how much of each new mask the previous one already held; a low
# overlap means the refresh really moves the trained subset.
types = list(history[0]["fraction_by_type"])
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
for kind in types:
    left.plot(steps, [100 * r["fraction_by_type"][kind] for r in history], "o-", label=kind)
left.set_xlabel("step")
left.set_ylabel("% of the type's entries")
left.set_yscale("symlog", linthresh=0.1)
left.legend(fontsize="small")
right.plot(steps[1:], [r["overlap"] for r in history[1:]], "o-")
right.set_ylim(0, 1)
right.set_xlabel("step")
right.set_ylabel("overlap with previous mask")
fig.tight_layout()
