"""Creating parameter tensors."""

from __future__ import annotations

from typing import Sequence

from .. import _core
from .._core import Tensor


def empty_parameter(shape: Sequence[int]) -> Tensor:
    """A zero float32 leaf with requires_grad=True, to be filled by an initialiser."""
    return _core.full([int(s) for s in shape], 0.0, "float32", "cpu", True)


def buffer(shape: Sequence[int], value: float, dtype: str = "float32") -> Tensor:
    """A non-trainable tensor filled with ``value``."""
    return _core.full([int(s) for s in shape], value, dtype, "cpu", False)
