"""Dialogue state tracking: a dialogue history in, its belief state out (MultiWOZ 2.1).

The folder holds the task's codec (``_codec``: histories and states <->
augmented text), its estimator (``_estimator``:
:class:`FishDipDialogueStateTracker`), its files (``_io``: the ConvLab-2
MultiWOZ reader, the seeded dialogue sampler and the prediction writer) and
its scores (``_metrics``: joint goal accuracy and slot accuracy).
"""

from ._codec import (
    DST_SLOT_NAMES,
    MULTIWOZ_SLOTS,
    DialogueStateCodec,
    check_dialogues,
    check_states,
    decode_state,
    dialogue_source,
    encode_state,
)
from ._estimator import FishDipDialogueStateTracker
from ._io import (
    MULTIWOZ_DOMAINS,
    MultiWOZFiles,
    dialogue_subset,
    load_multiwoz,
    sample_dialogues,
    write_states,
)
from ._metrics import joint_goal_accuracy, normalize_state, normalize_value, slot_accuracy

__all__ = [
    "DST_SLOT_NAMES",
    "MULTIWOZ_DOMAINS",
    "MULTIWOZ_SLOTS",
    "DialogueStateCodec",
    "FishDipDialogueStateTracker",
    "MultiWOZFiles",
    "check_dialogues",
    "check_states",
    "decode_state",
    "dialogue_source",
    "dialogue_subset",
    "encode_state",
    "joint_goal_accuracy",
    "load_multiwoz",
    "normalize_state",
    "normalize_value",
    "sample_dialogues",
    "slot_accuracy",
    "write_states",
]
