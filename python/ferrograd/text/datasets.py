"""Text datasets built in Rust: tokenized once, int64 token ids ``[N, L]`` with their labels."""

from __future__ import annotations

import os
from typing import Sequence, Union

from .. import _core
from .._core import Dataset
from .tokenizer import PathLike, Tokenizer

Column = Union[int, str]
Sentences = Sequence[tuple[Sequence[str], Sequence[str]]]


def _check_tokenizer(tokenizer: Tokenizer, op: str) -> None:
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"{op}: argument `tokenizer` expected a ferrograd.text.Tokenizer, got {type(tokenizer).__name__}")


def _check_max_length(max_length: int, op: str) -> None:
    if not isinstance(max_length, int) or max_length < 2:
        raise ValueError(f"{op}: argument `max_length` expected an int of at least 2, got {max_length!r}")


def text_classification_dataset(path: PathLike, tokenizer: Tokenizer, text: Column = "sentence", label: Column = "label",
                                sep: str | None = None, header: bool = True, max_length: int = 128,
                                limit: int | None = None, classes: Sequence[str] | None = None) -> Dataset:
    """A sequence-classification dataset from a CSV/TSV file with a text and a label column.

    Texts are tokenized in Rust (truncated to ``max_length`` tokens, special tokens included);
    labels are positions in ``classes`` (default: the sorted distinct label values; pass the
    training set's ``classes`` to its validation set). ``limit`` reads only the first rows.
    """
    op = "text_classification_dataset"
    _check_tokenizer(tokenizer, op)
    _check_max_length(max_length, op)
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"{op}: argument `limit` expected a positive int or None, got {limit!r}")
    return _core.text_classification(os.fspath(path), tokenizer._core, text, label, sep, header, max_length, limit,
                                     None if classes is None else list(classes))


def read_conll(path: PathLike) -> list[tuple[list[str], list[str]]]:
    """The sentences of a CoNLL column file as ``(words, tags)``: the first column is the word,
    the last the tag; ``-DOCSTART-`` lines are skipped."""
    return _core.read_conll(os.fspath(path))


def token_classification_dataset(sentences: Union[PathLike, Sentences], tokenizer: Tokenizer, max_length: int = 128,
                                 classes: Sequence[str] | None = None) -> Dataset:
    """A token-classification dataset: ids ``[N, L]`` and labels ``[N, L]``.

    ``sentences`` is a CoNLL file or a list of ``(words, tags)``. Each word's tag index sits on
    its first word piece; other pieces, special tokens and padding get -100 (ignored by the loss
    and by accuracy). Words cut off by ``max_length`` get no label.
    """
    op = "token_classification_dataset"
    _check_tokenizer(tokenizer, op)
    _check_max_length(max_length, op)
    if isinstance(sentences, (str, os.PathLike)):
        sentences = read_conll(sentences)
    pairs = [(list(words), list(tags)) for words, tags in sentences]
    return _core.token_classification(pairs, tokenizer._core, max_length, None if classes is None else list(classes))
