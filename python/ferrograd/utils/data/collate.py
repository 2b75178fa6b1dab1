"""``default_collate``: a list of samples into one batch, as PyTorch's loader builds it."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ... import _core
from ..._core import Tensor


def default_collate(samples: Sequence[Any]) -> Any:
    """Stacks a list of samples into a batch along a new first axis: tensors with ``stack``;
    numpy arrays and numbers into a tensor (float64 narrowed to float32, Python ints to int64,
    bools to bool); strings into a list; tuples and lists position by position (a list; a named
    tuple keeps its type); dicts key by key."""
    if len(samples) == 0:
        raise ValueError("default_collate: argument `samples` expected at least one sample, got none")
    first = samples[0]
    if isinstance(first, Tensor):
        return _core.stack(list(samples), 0)
    if isinstance(first, (np.ndarray, np.generic, bool, int, float)):
        from ... import tensor

        return tensor(np.stack([np.asarray(s) for s in samples]))
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: every sample in a batch must have the same number of fields, got "
                             f"{sorted({len(s) for s in samples})}")
        fields = [default_collate(list(column)) for column in zip(*samples)]
        if isinstance(first, tuple) and hasattr(first, "_fields"):
            return type(first)(*fields)
        return fields
    raise TypeError(f"default_collate: samples expected tensors, numpy arrays, numbers, strings, or tuples, lists and "
                    f"dicts of them, got {type(first).__name__}")
