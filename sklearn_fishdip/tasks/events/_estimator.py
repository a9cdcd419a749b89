"""FishDipEventExtractor: triggers, then each trigger's arguments, by one sparsely tuned model."""

from __future__ import annotations

from collections.abc import Mapping

from ..._base import BaseFishDip
from ..._docstrings import FITTED_DOC, PARAMETERS_DOC
from ...augmented._entities import escape_tokens
from ...models import DEFAULT_MODEL
from ...utils._validation import CheckedTokens, check_token_lists
from ._codec import EventCodec, check_events, event_source
from ._io import EventJSONLFiles
from ._metrics import event_f1_score

__all__ = ["FishDipEventExtractor"]


class StageTokens(CheckedTokens):
    """A checked sentence for one stage: ``trigger`` is None (stage 1) or the
    ``(start, end, type)`` whose arguments stage 2 writes."""

    __slots__ = ("trigger",)


def _stage(tokens, trigger=None):
    staged = StageTokens(tokens)
    staged.trigger = trigger
    return staged


def _check_schema(schema):
    if schema is None:
        return None
    if not isinstance(schema, Mapping):
        raise TypeError(f"schema must be a dict trigger type -> roles, got {type(schema).__name__}")
    checked = {}
    for kind, roles in schema.items():
        if not isinstance(kind, str) or isinstance(roles, str):
            raise TypeError(f"schema[{kind!r}] must map a type name to a list of role names")
        checked[kind] = sorted(set(roles))
    return checked


class FishDipEventExtractor(BaseFishDip):
    __doc__ = f"""Event extractor (triggers and arguments) trained by FISH-DIP sparse fine-tuning.

    Two stages in one model, as in TANL: stage 1 reads the sentence and
    brackets its triggers with their types; stage 2 runs once per trigger,
    reads the sentence with that trigger bracketed and typed, and brackets
    its arguments with their roles. Both are trained together, told apart by
    a task prefix; at predict time stage 2 runs for every predicted trigger,
    and only the roles the schema allows for the trigger's type are kept.

    Parameters
    ----------
    schema : dict or None, default=None
        Trigger type -> allowed argument roles. None learns it from ``y`` in
        ``fit`` (each type allows the roles seen with it).
    {PARAMETERS_DOC}

    Attributes
    ----------
    event_types_ : list of str
        Trigger types seen in training.
    roles_ : list of str
        Argument roles seen in training.
    schema_ : dict
        Trigger type -> sorted allowed roles, used at predict time.
    {FITTED_DOC}

    Notes
    -----
    ``y`` holds, per sentence, a list of events; an event is a dict
    ``{{"trigger": (start, end, type), "arguments": [(start, end, role), ...]}}``
    (token positions, ``end`` exclusive). ``predict`` answers in the same
    form. Arguments of one trigger do not overlap each other or the trigger.

    Examples
    --------
    >>> from sklearn_fishdip import FishDipEventExtractor
    >>> X = [["Hackers", "breached", "the", "bank"]]
    >>> y = [[{{"trigger": (1, 2, "Databreach"),
    ...        "arguments": [(0, 1, "Attacker"), (2, 4, "Victim")]}}]]
    >>> model = FishDipEventExtractor(max_epochs=1, verbose=0).fit(X, y)  # doctest: +SKIP
    >>> model.predict(X)  # doctest: +SKIP
    """

    task = "events"
    codec = EventCodec()
    files = EventJSONLFiles()

    def __init__(
        self,
        schema=None,
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
        super().__init__(
            model=model,
            model_kind=model_kind,
            strategy=strategy,
            keep_ratio=keep_ratio,
            refresh_every=refresh_every,
            optimizer=optimizer,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            max_epochs=max_epochs,
            batch_size=batch_size,
            max_source_length=max_source_length,
            max_target_length=max_target_length,
            num_beams=num_beams,
            constrained_decoding=constrained_decoding,
            training_loss=training_loss,
            label_names=label_names,
            device=device,
            random_state=random_state,
            verbose=verbose,
            checkpoint_dir=checkpoint_dir,
            autocast=autocast,
            group_by_length=group_by_length,
        )
        self.schema = schema

    # The steps of the shared fit and predict ------------------------------

    def _check_inputs(self, X):
        if isinstance(X, list) and X and all(isinstance(x, StageTokens) for x in X):
            return X
        return [_stage(tokens) for tokens in check_token_lists(X)]

    def _trigger_words(self, x):
        return self.type_verbalizer_.verbalize(x.trigger[2])

    def _source_text(self, x, words, start, end):
        if x.trigger is None:
            return event_source(words[start:end])
        trigger = (x.trigger[0] - start, x.trigger[1] - start)
        return event_source(words[start:end], trigger, self._trigger_words(x))

    def _input_windows(self, tokenizer, x, words, model, adapter):
        if x.trigger is None:
            return self._windows(tokenizer, words, model, adapter)
        start, end, _ = x.trigger
        bracketed = list(words)
        bracketed[start] = "[ " + bracketed[start]
        bracketed[end - 1] = bracketed[end - 1] + " | " + self._trigger_words(x) + " ]"
        # The trigger's words stay together in the window that holds its start.
        return [self._window_around(tokenizer, bracketed, start, end, model, adapter)]

    def _training_texts(self, loaded, x, target):
        words = escape_tokens(x)
        start, end = self._input_windows(loaded.tokenizer, x, words, loaded.model, loaded.adapter)[
            0
        ]
        truncated = (start, end) != (0, len(words))
        spans = [
            (max(s, start) - start, min(e, end) - start, label)
            for s, e, label in target["spans"]
            if e > start and s < end
        ]
        trigger = target["trigger"]
        if trigger is not None:
            trigger = (trigger[0] - start, trigger[1] - start, trigger[2])
        text = self.codec.encode(self, words[start:end], {"trigger": trigger, "spans": spans})
        return self._source_text(x, words, start, end), text, x[start:end], truncated

    def _stages(self, X, events):
        staged_X, targets = [], []
        for tokens, sentence in zip(X, events):
            if not tokens:
                continue
            staged_X.append(_stage(tokens))
            targets.append({"trigger": None, "spans": [e["trigger"] for e in sentence]})
            for event in sentence:
                staged_X.append(_stage(tokens, event["trigger"]))
                targets.append({"trigger": event["trigger"], "spans": event["arguments"]})
        return staged_X, targets

    # Public API -----------------------------------------------------------

    def fit(self, X, y):
        """Fine-tune the model on both stages.

        Parameters
        ----------
        X : list of list of str
            Sentences as token lists.
        y : list of list of dict
            Per sentence, its events ``{"trigger": (start, end, type),
            "arguments": [(start, end, role), ...]}`` (``end`` exclusive).

        Returns
        -------
        self : object

        Raises
        ------
        TypeError, ValueError
            Naming the example (``y[i] ...``) for a malformed event, and for
            a type or role outside ``schema`` when one is given.
        """
        schema = _check_schema(self.schema)
        X = check_token_lists(X)
        events = check_events(X, y, schema)
        if schema is None:
            learned = {}
            for sentence in events:
                for event in sentence:
                    roles = learned.setdefault(event["trigger"][2], set())
                    roles.update(role for _, _, role in event["arguments"])
            schema = {kind: sorted(roles) for kind, roles in sorted(learned.items())}
        staged_X, targets = self._stages(X, events)
        if not staged_X:
            raise ValueError(f"all {len(X)} sentences of X are empty: there is nothing to train on")
        super().fit(staged_X, targets)
        self.schema_ = schema
        return self

    def predict(self, X):
        """Predict the events of each sentence.

        Parameters
        ----------
        X : list of list of str

        Returns
        -------
        list of list of dict
            Per sentence, events ``{"trigger": (start, end, type),
            "arguments": [(start, end, role), ...]}``, sorted by trigger.
            Roles are only those ``schema_`` allows for the trigger type.
        """
        X = self._check_inputs(X)
        found = self._predict_targets(X)
        errors = self.decode_errors_
        triggers = []
        for prediction in found:
            kept = []
            # Outer triggers first on overlap, so no two events share words.
            for s, e, t in sorted(prediction["triggers"], key=lambda p: (p[0] - p[1], p[0], p[2])):
                if all(e <= o[0] or s >= o[1] for o in kept):
                    kept.append((s, e, t))
            triggers.append(sorted(kept))
        staged = [_stage(x, trigger) for x, found in zip(X, triggers) for trigger in found]
        arguments = self._predict_targets(staged) if staged else []
        if staged:
            errors = errors + self.decode_errors_
        self.decode_errors_ = errors
        cursor, results = 0, []
        for found in triggers:
            events = []
            for trigger in found:
                allowed = set(self.schema_.get(trigger[2], ()))
                spans = []
                for s, e, role in sorted(
                    arguments[cursor]["arguments"], key=lambda p: (p[0] - p[1], p[0], p[2])
                ):
                    if role not in allowed or (s < trigger[1] and trigger[0] < e):
                        continue
                    if all(e <= o[0] or s >= o[1] for o in spans):
                        spans.append((s, e, role))
                events.append({"trigger": trigger, "arguments": sorted(spans)})
                cursor += 1
            results.append(events)
        return results

    def score(self, X, y):
        """Argument classification F1 (:func:`~sklearn_fishdip.metrics.event_f1_score`).

        Every gold argument counts (see :mod:`sklearn_fishdip.tasks.events._metrics`).
        Gold events are checked against ``schema_``: an unknown type or role
        is a ``ValueError`` naming the example.
        """
        X = check_token_lists(X)
        gold = check_events(X, y, getattr(self, "schema_", None))
        return event_f1_score(gold, self.predict(X))
