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


def _kept(size: int, before: int, after: int) -> tuple[int, int]:
    """The [start, end) range of an axis of ``size`` that negative sizes leave (they crop)."""
    return max(0, -before), size - max(0, -after)


def _source_positions(mode: str, size: int, before: int, after: int) -> np.ndarray:
    """Source index of each output position along one axis of ``size`` padded by (before, after);
    a negative size crops that side. Reflection and replication are about the input's own edges,
    wrapping about the cropped range's, as in PyTorch."""
    out = np.arange(-before, size + after)
    if mode == "reflect":
        # Mirror about the first and last element without repeating them (numpy's 'reflect').
        return (size - 1) - np.abs((size - 1) - np.abs(out))
    if mode == "replicate":
        return np.clip(out, 0, size - 1)
    start, end = _kept(size, before, after)
    return start + (out - start) % max(end - start, 1)


def _check_axis(mode: str, size: int, before: int, after: int, axis: int) -> None:
    start, end = _kept(size, before, after)
    output = size + before + after
    if mode in ("reflect", "replicate") and output < 1:
        raise ValueError(f"pad: argument `pad` ({before}, {after}) leaves axis {axis} of size {size} with {output} "
                         f"elements; mode {mode!r} needs at least 1")
    if mode == "reflect" and max(before, after) >= size:
        raise ValueError(f"pad: argument `pad` expected sizes below the axis size {size} in mode 'reflect', got "
                         f"({before}, {after}) for axis {axis}")
    if mode == "circular" and (end < start or max(before, after) > end - start):
        raise ValueError(f"pad: argument `pad` expected sizes at most the {max(end - start, 0)} elements the crop "
                         f"leaves of axis {axis} (size {size}) in mode 'circular', got ({before}, {after})")
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


def crop_negative(x: Tensor, pairs: Sequence[tuple[int, int]]) -> tuple[Tensor, list[tuple[int, int]]]:
    """``x`` with the negative sizes of ``pairs`` (starting from the last axis) cropped off, and
    the sizes left to pad (the non-negative parts)."""
    if len(pairs) > x.ndim:
        raise ValueError(f"pad: argument `pad` expected at most {2 * x.ndim} sizes for an input of {x.ndim} "
                         f"dimensions, got {2 * len(pairs)}")
    for i, (before, after) in enumerate(pairs):
        axis = x.ndim - 1 - i
        start, end = _kept(x.shape[axis], before, after)
        if end < start:
            raise ValueError(f"pad: argument `pad` ({before}, {after}) crops more than the {x.shape[axis]} elements "
                             f"of axis {axis}")
        if start or end < x.shape[axis]:
            x = x.narrow(axis, start, end - start)
    return x, [(max(before, 0), max(after, 0)) for before, after in pairs]
