"""``Tokenizer``: a ``tokenizer.json`` (WordPiece, BPE, Unigram) encoded in Rust."""

from __future__ import annotations

import os
from typing import Sequence, Union

import numpy as np

from .. import _core
from .._core import Tensor

PathLike = Union[str, "os.PathLike[str]"]


class Tokenizer:
    """A Hugging Face fast tokenizer loaded from ``tokenizer.json``, running in Rust.

    Calling it encodes a batch the way ``transformers`` tokenizers do::

        tok = Tokenizer.from_pretrained(model_dir)
        batch = tok(["a first sentence", "another"], max_length=128)
        batch["input_ids"], batch["attention_mask"]   # int64 Tensors [2, L]
    """

    def __init__(self, core: _core.Tokenizer) -> None:
        self._core = core

    @classmethod
    def from_file(cls, path: PathLike) -> "Tokenizer":
        """Loads a ``tokenizer.json`` file (FileNotFoundError if missing, ValueError if not one)."""
        return cls(_core.Tokenizer.from_file(os.fspath(path)))

    @classmethod
    def from_pretrained(cls, folder: PathLike) -> "Tokenizer":
        """Loads ``folder/tokenizer.json`` (a Hugging Face model folder)."""
        path = os.path.join(os.fspath(folder), "tokenizer.json")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Tokenizer.from_pretrained: argument `folder` has no tokenizer.json: {path}")
        return cls.from_file(path)

    @property
    def vocab_size(self) -> int:
        """Number of tokens, added tokens included."""
        return int(self._core.vocab_size)

    @property
    def pad_token_id(self) -> int:
        """The id that fills padding positions."""
        return int(self._core.pad_token_id)

    def __call__(self, texts: Union[str, Sequence[str]], text_pair: Union[str, Sequence[str], None] = None,
                 max_length: int | None = None, padding: str = "longest", truncation: bool = True,
                 add_special_tokens: bool = True, return_tensors: str = "fg") -> dict[str, Union[Tensor, np.ndarray]]:
        """Encodes a text or a batch of texts (optionally pairs).

        ``padding`` is ``"longest"`` (to the longest row) or ``"max_length"``; with ``truncation``
        rows longer than ``max_length`` tokens (special tokens included) are cut. Returns
        ``input_ids``, ``attention_mask``, ``token_type_ids`` and ``word_ids`` (-1 for special
        tokens and padding) as int64 ``[B, L]`` Tensors (``return_tensors="fg"``) or numpy arrays
        (``"np"``).
        """
        if return_tensors not in ("fg", "np"):
            raise ValueError(f"Tokenizer: argument `return_tensors` expected 'fg' or 'np', got {return_tensors!r}")
        batch = [texts] if isinstance(texts, str) else list(texts)
        pairs = None if text_pair is None else ([text_pair] if isinstance(text_pair, str) else list(text_pair))
        for name, values in (("texts", batch), ("text_pair", pairs or [])):
            bad = [type(v).__name__ for v in values if not isinstance(v, str)]
            if bad:
                raise TypeError(f"Tokenizer: argument `{name}` expected strings, got {bad[0]}")
        if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
            raise ValueError(f"Tokenizer: argument `max_length` expected a positive int or None, got {max_length!r}")
        encoded = self._core.encode(batch, pairs, max_length if truncation or padding == "max_length" else None,
                                    padding, add_special_tokens)
        if not truncation and max_length is not None:
            longest = int(encoded["attention_mask"].sum(axis=1).max(initial=0))
            if longest > max_length:
                raise ValueError(f"Tokenizer: a text encodes to {longest} tokens, more than max_length={max_length}, "
                                 f"and truncation=False")
        return self._convert(encoded, return_tensors)

    def encode_words(self, sentences: Sequence[Sequence[str]], max_length: int | None = None, padding: str = "longest",
                     return_tensors: str = "fg") -> dict[str, Union[Tensor, np.ndarray]]:
        """Encodes sentences already split into words; ``word_ids`` give each token's word."""
        encoded = self._core.encode_words([list(s) for s in sentences], max_length, padding, True)
        return self._convert(encoded, return_tensors)

    def decode(self, ids: Union[Sequence[int], np.ndarray, Tensor], skip_special_tokens: bool = True) -> str:
        """The text of a sequence of ids."""
        values = ids.numpy() if isinstance(ids, Tensor) else np.asarray(ids)
        return str(self._core.decode([int(i) for i in values.reshape(-1)], skip_special_tokens))

    def convert_tokens_to_ids(self, token: str) -> int | None:
        """The id of ``token`` (None if unknown)."""
        return self._core.token_to_id(token)

    def convert_ids_to_tokens(self, id: int) -> str | None:
        """The token of ``id`` (None if out of range)."""
        return self._core.id_to_token(int(id))

    @staticmethod
    def _convert(encoded: dict[str, np.ndarray], return_tensors: str) -> dict[str, Union[Tensor, np.ndarray]]:
        if return_tensors == "np":
            return dict(encoded)
        return {k: Tensor.from_numpy(v, False) for k, v in encoded.items()}

    def __repr__(self) -> str:
        return f"Tokenizer(vocab_size={self.vocab_size}, pad_token_id={self.pad_token_id})"
