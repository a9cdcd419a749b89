"""sklearn-fishdip: low-resource sequence labeling with sparsely fine-tuned seq2seq models.

Sequence labeling tasks (NER, joint entity and relation extraction) are
written as augmented natural language (:mod:`sklearn_fishdip.augmented`) and
learned by a pretrained seq2seq model of which only a small, changing subset
of parameters is trained (:mod:`sklearn_fishdip.sparse`, FISH-DIP).
"""

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
