"""
=====================================
Semantic role labeling from 24 verbs
=====================================

Fit :class:`~sklearn_fishdip.FishDipSRL` on 24 predicates of the PropBank
English Web Treebank data with FISH-DIP (1% of the pretrained parameters),
then label the arguments of unseen predicates and print the argument F1 as
the CoNLL-2005 scorer counts it. One example per predicate, as in TANL: the
model reads the sentence with its predicate bracketed and writes it back with
the arguments bracketed and typed. The model is the offline default (MiniLM
used as a prefix LM), which needs no download.

A few CPU minutes are far from a real training run: the point is the API and
what the predictions look like, not the score.
"""

# %%
# Data
# ----
# ``load_propbank_srl`` gives one ``(tokens, predicate_index)`` example per
# predicate and its argument spans. ``verbs_only`` keeps the verbal
# predicates (CoNLL-2005-like). Short sentences keep the run quick.
from sklearn_fishdip.datasets import get_data_home, load_propbank_srl, low_resource_subset

data = get_data_home() / "propbank_ewt_srl"
X_all, y_all = load_propbank_srl(data / "ewt.dev.gold_conll", verbs_only=True)
short = [i for i, (tokens, _) in enumerate(X_all) if 5 <= len(tokens) <= 12]
X_all, y_all = [X_all[i] for i in short], [y_all[i] for i in short]
X_train, y_train = low_resource_subset(X_all, y_all, 24 / len(X_all), random_state=0)
X_test, y_test = load_propbank_srl(data / "ewt.test.gold_conll", verbs_only=True)
short = [i for i, (tokens, _) in enumerate(X_test) if 5 <= len(tokens) <= 12][:12]
X_test, y_test = [X_test[i] for i in short], [y_test[i] for i in short]
tokens, predicate = X_train[0]
print(len(X_train), "training predicates, for example:")
print(" ".join(tokens), "| predicate:", tokens[predicate])
print([(" ".join(tokens[s:e]), label) for s, e, label in y_train[0]])

# %%
# Fit
# ---
# PropBank labels are written as words the pretrained model knows:
# ``ARG0`` -> "first argument", ``ARGM-TMP`` -> "time" (``label_names``
# changes them).
from sklearn_fishdip import FishDipSRL

srl = FishDipSRL(keep_ratio=0.01, refresh_every=10, max_epochs=4, random_state=0, verbose=0)
srl.fit(X_train, y_train)
print(dict(zip(srl.labels_, srl.verbalizer_.natural_names)))
print(f"fit in {srl.timings_['train_s'] + srl.timings_['select_s']:.0f} s")
print("training loss per epoch:", [round(h["train_loss"], 2) for h in srl.history_])

# %%
# Predict and score
# -----------------
# ``predict`` returns argument spans (BIO tags when ``fit`` got tags); the
# score is the micro argument F1.
from sklearn_fishdip.metrics import srl_precision_recall_f1

y_pred = srl.predict(X_test)
for (tokens, predicate), gold, pred in list(zip(X_test, y_test, y_pred))[:3]:
    print(" ".join(tokens), "| predicate:", tokens[predicate])
    print("  gold:", [(" ".join(tokens[s:e]), label) for s, e, label in gold])
    print("  pred:", [(" ".join(tokens[s:e]), label) for s, e, label in pred])
scores = srl_precision_recall_f1(y_test, y_pred)
print(f"argument F1 on {len(X_test)} test predicates: {scores['f1']:.3f}")
