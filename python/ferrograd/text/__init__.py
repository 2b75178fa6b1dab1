"""Text for ferrograd (``ferrograd.text``): Hugging Face tokenizers run in Rust, text datasets for
sequence and token classification, and entity-level scores for named-entity recognition.

Datasets hold int64 token ids ``[N, L]``; batches of sequence-classification datasets are cut to
the longest unpadded sequence in the batch (dynamic padding), so short sentences cost little.
Models derive the attention mask from the padding id (``input_ids != pad_token_id``).
"""

from .datasets import read_conll, text_classification_dataset, token_classification_dataset
from .entities import EntityScores, entity_scores, extract_entities
from .tokenizer import Tokenizer

__all__ = [
    "Tokenizer",
    "text_classification_dataset",
    "token_classification_dataset",
    "read_conll",
    "entity_scores",
    "extract_entities",
    "EntityScores",
]
