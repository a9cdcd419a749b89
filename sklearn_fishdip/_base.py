"""The shared base of the estimators: data in, augmented text, sparse training, generation out.

A task estimator (NER, joint relation extraction) says how its targets are
validated, written as augmented text, read back and scored; everything else
(loading the model, tokenizing, the sparse fine-tuning engine, constrained
generation) lives here; long sentences are cut into windows by
``_windows.SourceWindowsMixin``.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import ProgressBar

from ._params import check_params
from ._registry import register_estimator
from ._windows import SourceWindowsMixin
from .augmented._entities import escape_tokens
from .augmented._report import DecodeErrors
from .generation import generate_augmented, grammar_for_model
from .models import DEFAULT_MODEL, adapter_for_model, base_model, load_model
from .persistence import PersistenceMixin, count_changed_parameters
from .sparse import (
    DEFAULT_LEARNING_RATES,
    fit_sparse,
    resolve_device,
)
from .utils._threads import torch_threads_share
from .utils._validation import check_same_length, check_token_lists

__all__ = ["BaseFishDip"]


class BaseFishDip(SourceWindowsMixin, PersistenceMixin, BaseEstimator):
    """Base class of the FISH-DIP estimators; not for direct use.

    A task estimator sets the class attributes ``task`` (its name on the
    command line and in the registry), ``codec`` (a
    :class:`~sklearn_fishdip.tasks.TaskCodec`: its targets <-> augmented
    text) and ``files`` (a :class:`~sklearn_fishdip.tasks.TaskFiles` for the
    command line), and defines ``predict`` and ``score``.
    """

    # Set by each task estimator (files may stay None: no command-line file format).
    codec = None
    files = None

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
        training_loss="auto",
        label_names=None,
        device="auto",
        random_state=None,
        verbose=1,
        checkpoint_dir=None,
        autocast="auto",
        group_by_length=False,
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
        self.training_loss = training_loss
        self.label_names = label_names
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.autocast = autocast
        self.group_by_length = group_by_length

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
        return check_params(self)

    def _resolve_device(self):
        if self.device == "auto":
            return resolve_device("auto")
        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} but CUDA is not available")
        return self.device

    # ------------------------------------------------------------------ #
    # fit
    # ------------------------------------------------------------------ #

    def fit(self, X, y):
        """Fine-tune the model on sentences and their targets.

        Parameters
        ----------
        X : list of list of str
            Sentences as token lists. An empty sentence is accepted (its
            target must be empty) and left out of training: ``predict``
            answers it with the empty structure without the model, so it
            holds nothing to learn.
        y : list
            One target per sentence (see the estimator's description).

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            If a target does not fit its sentence, or every sentence is empty.
        """
        X = self._check_inputs(X)
        check_same_length(X, y)
        targets = self.codec.check_targets(self, X, y)
        X, targets = _without_empty_sentences(X, targets)
        strategy = self._check_params()
        device = self._resolve_device()
        # The vocabulary is fitted state of the estimator, public like any other.
        for name, value in self.codec.fit_vocabulary(self, targets).items():
            setattr(self, name, value)

        loaded = load_model(self.model, self.model_kind)
        # Every step of fit sees the adapter as this task's targets need it.
        loaded = replace(loaded, adapter=self._task_adapter(loaded.adapter, loaded.tokenizer))
        tokenizer, adapter = loaded.tokenizer, loaded.adapter
        # Built before training, so a tokenizer that cannot write the format fails fast.
        grammar = grammar_for_model(loaded, self.codec.natural_vocabulary(self))
        texts = [self._training_texts(loaded, x, target) for x, target in zip(X, targets)]
        sources, target_texts, kept, truncated = (list(column) for column in zip(*texts))
        n_truncated = sum(truncated)
        if n_truncated:
            warnings.warn(self._truncation_message(n_truncated, len(X)), UserWarning, stacklevel=2)
        examples = self._examples(loaded, sources, target_texts)
        training_loss = self.training_loss
        if training_loss == "auto":
            training_loss = "grammar" if loaded.kind == "prefix-lm" else "full"
        if training_loss == "grammar":
            self._add_grammar_choices(loaded, grammar, examples, kept)

        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        learning_rate = self.learning_rate or DEFAULT_LEARNING_RATES[self.optimizer]
        # In a Dask or joblib worker, torch trains on this task's share of the cores.
        with torch_threads_share():
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
                adapter=adapter,
                callbacks=[("progress_bar", ProgressBar())] if self.verbose else (),
                verbose=0,
                checkpoint_dir=self.checkpoint_dir,
                autocast=self.autocast,
                group_by_length=self.group_by_length,
            )
        callbacks = dict(net.callbacks_)
        update = callbacks["sparse_update"]
        index = update.context_.index
        self.resumed_epochs_ = net.resumed_epochs_
        if self.verbose and self.resumed_epochs_:
            print(
                f"Resumed from {callbacks['checkpoint'].path_} after epoch "
                f"{self.resumed_epochs_} of {self.max_epochs}."
            )
        # The engine put back off-mask entries a Ctrl-C may have left moved.
        interrupted_at = update.interrupted_epoch_
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
        # Against the cached pristine base: no second load, no copy.
        self.n_updated_parameters_ = count_changed_parameters(
            model, base_model(self.model, self.model_kind)
        )
        self.grammar_ = grammar
        self.training_loss_ = training_loss
        self.decode_errors_ = DecodeErrors()
        if interrupted_at is not None:
            warnings.warn(
                f"training interrupted at epoch {interrupted_at} of {self.max_epochs}; "
                "the estimator keeps the weights reached so far",
                UserWarning,
                stacklevel=2,
            )
        return self

    def _task_adapter(self, adapter, tokenizer):
        """``adapter`` set up for this task's targets (:meth:`ModelAdapter.for_task`)."""
        return adapter.for_task(
            tokenizer,
            copies_source=self.codec.copies_source,
            source_prefixes=self.codec.source_prefixes,
        )

    def _model_adapter(self):
        """The fitted model's adapter, as :meth:`fit` trained it."""
        return self._task_adapter(adapter_for_model(self.model_, self.tokenizer_), self.tokenizer_)

    # Steps of fit that a task whose inputs are not plain sentences overrides.
    def _check_inputs(self, X):
        """``X`` checked, in the form :meth:`_training_texts` takes (token lists here)."""
        return check_token_lists(X)

    def _training_texts(self, loaded, x, target):
        """``(source, target text, kept, truncated)`` of one training example (``kept``: the
        tokens the source holds); a long sentence is cut to its first window, with its target."""
        words = escape_tokens(x)
        end = self._windows(loaded.tokenizer, words, loaded.model, loaded.adapter)[0][1]
        truncated = end < len(words)
        if truncated:
            words, target = words[:end], self.codec.clip_target(target, end)
        source = self._source_text(x, words, 0, end)
        return source, self.codec.encode(self, words, target), x[:end], truncated

    def _truncation_message(self, n_truncated, n_examples):
        """The warning for training examples :meth:`_training_texts` cut to fit."""
        return (
            f"{n_truncated} of {n_examples} training sentences are longer than "
            f"max_source_length={self.max_source_length} subword tokens and were truncated "
            "(with their targets) for training"
        )

    def _source_text(self, x, words, start, end):
        """Model input of the escaped ``words[start:end]`` of ``x``; SRL brackets more."""
        return " ".join(words[start:end])

    def _input_windows(self, tokenizer, x, words, model, adapter):
        """The ``(start, end)`` windows of ``x`` that :meth:`_generate` tags."""
        return self._windows(tokenizer, words, model, adapter)

    def _add_grammar_choices(self, loaded, grammar, examples, kept):
        """Give each example the choices decoding has along its target ("grammar" loss)."""
        lead = loaded.adapter.grammar_lead_ids(loaded.model, grammar)
        for example, tokens in zip(examples, kept):
            example["allowed"] = grammar.choices(tokens, example["labels"], lead_ids=lead)

    def _examples(self, loaded, sources, target_texts):
        """Training examples built by the model's adapter; over-long targets cut, without an end."""
        model, tokenizer, adapter = loaded.model, loaded.tokenizer, loaded.adapter
        input_ids = adapter.encode_sources(model, tokenizer, sources)
        labels = adapter.encode_targets(model, tokenizer, target_texts)
        # Where source and target share the positions, the target gets what is left.
        limits = [adapter.target_budget(model, len(ids)) for ids in input_ids]
        limits = [
            self.max_target_length if limit is None else min(limit, self.max_target_length)
            for limit in limits
        ]
        n_long = sum(len(ids) > limit for ids, limit in zip(labels, limits))
        if n_long:
            warnings.warn(
                f"{n_long} of {len(sources)} augmented targets are longer than "
                f"max_target_length={self.max_target_length} subword tokens (or the positions "
                "the model has left after the source) and were cut, without an end",
                UserWarning,
                stacklevel=3,
            )
            # A cut target keeps its first ids and no end. An end after an
            # unfinished structure would teach the model to stop where
            # constrained decoding never lets it; under the grammar loss it
            # also leaves the grammar, so its loss would run over the whole
            # vocabulary and, through a head tied to the embeddings, move
            # every word's embedding row.
            labels = [ids[:limit] for ids, limit in zip(labels, limits)]
        return [adapter.build_example(s, t) for s, t in zip(input_ids, labels)]

    # ------------------------------------------------------------------ #
    # predict
    # ------------------------------------------------------------------ #

    def _generate(self, X, escaped):
        """Generate augmented text for every window of every sentence.

        ``X`` holds checked, non-empty sentences and ``escaped`` their escaped
        words (the estimator's edge did both once). Returns per sentence its
        windows as (start, end), and one generated text per window, in order.
        """
        windows, flat, sources = [], [], []
        adapter = self._model_adapter()
        for tokens, words in zip(X, escaped):
            spans = self._input_windows(self.tokenizer_, tokens, words, self.model_, adapter)
            windows.append(spans)
            # Slices of a checked sentence: generation need not check them again.
            flat.extend(tokens.window(start, end) for start, end in spans)
            sources.extend(self._source_text(tokens, words, start, end) for start, end in spans)
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
        # In a Dask or joblib worker, torch generates on this task's share of the cores.
        with torch_threads_share():
            texts = generate_augmented(
                self.model_,
                self.tokenizer_,
                flat,
                source_texts=sources,
                grammar=grammar,
                num_beams=self.num_beams,
                batch_size=max(self.batch_size, 16),
                device=device,
                max_source_length=self.max_source_length,
                adapter=adapter,
                progress=bool(self.verbose),
            )
        return windows, texts

    def _empty_prediction(self):
        """The prediction of a sentence without tokens: the merge of no window.

        A task whose empty structure is not the merge of nothing overrides this.
        """
        return self.codec.merge_predictions([])

    def _predict_targets(self, X):
        check_is_fitted(self)
        X = self._check_inputs(X)
        # An empty sentence has nothing to generate from (and tokenizers refuse an
        # empty word list): its answer is the task's empty structure, built without
        # the model. The others are generated together, and answers keep X's order.
        predictions = [None if tokens else self._empty_prediction() for tokens in X]
        nonempty = [index for index, tokens in enumerate(X) if tokens]
        errors = DecodeErrors()
        if nonempty:
            sentences = [X[index] for index in nonempty]
            escaped = [escape_tokens(tokens) for tokens in sentences]
            windows, texts = self._generate(sentences, escaped)
            cursor = 0
            for index, words, spans in zip(nonempty, escaped, windows):
                parts = []
                for start, end in spans:
                    prediction, sentence_errors = self.codec.decode(
                        self, texts[cursor], words[start:end]
                    )
                    parts.append(self.codec.shift_prediction(prediction, start))
                    errors = errors + sentence_errors
                    cursor += 1
                predictions[index] = self.codec.merge_predictions(parts)
        # The one attribute predict updates: a report on the last call's generations
        # (empty sentences generate nothing and are not counted).
        self.decode_errors_ = errors
        return predictions


def _without_empty_sentences(X, targets):
    """Leave out the sentences without tokens (their targets are empty, and checked).

    Raises a ``ValueError`` when no sentence is left to train on.
    """
    kept = [index for index, tokens in enumerate(X) if tokens]
    if not kept:
        raise ValueError(f"all {len(X)} sentences of X are empty: there is nothing to train on")
    return [X[index] for index in kept], [targets[index] for index in kept]
