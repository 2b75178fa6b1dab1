"""safetensors checkpoints: the format PyTorch and Hugging Face use for weights."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Mapping

from . import _core
from ._core import Tensor


def save_safetensors(tensors: Mapping[str, Tensor], path: str | os.PathLike[str], metadata: Mapping[str, str] | None = None) -> None:
    """Writes named tensors to ``path`` atomically (a temporary file renamed into place)."""
    items = []
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"save_safetensors: value of {name!r} expected a ferrograd Tensor, got {type(t).__name__}")
        items.append((str(name), t))
    _core.save_safetensors(items, os.fspath(path), dict(metadata) if metadata else None)


def load_safetensors(path: str | os.PathLike[str]) -> "OrderedDict[str, Tensor]":
    """Reads every tensor of a safetensors file into an ordered dict (sorted by name).

    Raises FileNotFoundError for a missing file and ValueError for a truncated or corrupt one.
    """
    return OrderedDict(_core.load_safetensors(os.fspath(path)))
