"""Non-constant padding modes of ``pad`` (``'reflect'``, ``'replicate'``, ``'circular'``),
composed from differentiable ops.

Along each padded axis the padded output picks source positions with ``index_select``, so the
gradient is ``index_select``'s scatter-add: positions read more than once (the reflected,
replicated or wrapped ones) sum their gradients, as PyTorch's padding backward does.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._core import Tensor
from ._resampling import _positions

PADDING_MODES = ("constant", "reflect", "replicate", "circular")
# Number of padded (last) axes -> input ranks PyTorch accepts for the non-constant modes.
_RANKS = {1: (2, 3), 2: (3, 4), 3: (4, 5)}


def _source_positions(mode: str, size: int, before: int, after: int) -> np.ndarray:
    """Source index of each output position along one axis of ``size`` padded by (before, after)."""
    out = np.arange(-before, size + after)
    if mode == "reflect":
        # Mirror about the first and last element without repeating them (numpy's 'reflect').
        return (size - 1) - np.abs((size - 1) - np.abs(out))
    if mode == "replicate":
        return np.clip(out, 0, size - 1)
    return out % size


def _check_axis(mode: str, size: int, before: int, after: int, axis: int) -> None:
    if min(before, after) < 0:
        raise ValueError(f"pad: argument `pad` expected non-negative sizes in mode {mode!r}, got "
                         f"({before}, {after}) for axis {axis}")
    if mode == "reflect" and max(before, after) >= size:
        raise ValueError(f"pad: argument `pad` expected sizes below the axis size {size} in mode 'reflect', got "
                         f"({before}, {after}) for axis {axis}")
    if mode == "circular" and max(before, after) > size:
        raise ValueError(f"pad: argument `pad` expected sizes at most the axis size {size} in mode 'circular', got "
                         f"({before}, {after}) for axis {axis}")
    if mode == "replicate" and size == 0 and before + after > 0:
        raise ValueError(f"pad: argument `input` expected a non-empty axis {axis} to pad in mode 'replicate', got "
                         "size 0")


def pad_by_mode(x: Tensor, pairs: Sequence[tuple[int, int]], mode: str) -> Tensor:
    """``x`` padded in ``mode`` ('reflect', 'replicate' or 'circular') by (before, after) ``pairs``
    that start from the last axis."""
    allowed = _RANKS.get(len(pairs))
    if allowed is None:
        raise ValueError(f"pad: argument `pad` expected 2, 4 or 6 sizes in mode {mode!r}, got {2 * len(pairs)}")
    if x.ndim not in allowed:
        raise ValueError(f"pad: argument `input` expected {allowed[0]} or {allowed[1]} dimensions for "
                         f"{2 * len(pairs)} pad sizes in mode {mode!r}, got {x.ndim}")
    for i, (before, after) in enumerate(pairs):
        _check_axis(mode, x.shape[x.ndim - 1 - i], before, after, x.ndim - 1 - i)
    out = x
    for i, (before, after) in enumerate(pairs):
        if before or after:
            axis = x.ndim - 1 - i
            out = out.index_select(axis, _positions(_source_positions(mode, x.shape[axis], before, after), x))
    return out
