"""Nearest-neighbour resizing by whole factors, as a broadcast copy (its gradient sums each block)."""

from __future__ import annotations

from typing import Optional, Sequence, Union

from ._core import Tensor


def interpolate(x: Tensor, size: Optional[Union[int, Sequence[int]]] = None,
                scale_factor: Optional[Union[float, Sequence[float]]] = None, mode: str = "nearest") -> Tensor:
    """Resizes the positions of an [N, C, ...] input (1 to 3 spatial axes) by ``mode='nearest'``,
    to ``size`` or by ``scale_factor``; each output size must be a whole multiple of the input's."""
    if mode != "nearest":
        raise ValueError(f"interpolate: argument `mode` expected 'nearest', got {mode!r}")
    spatial = list(x.shape[2:])
    if not 1 <= len(spatial) <= 3:
        raise ValueError(f"interpolate: expected an input of shape [N, C, ...] with 1 to 3 spatial axes, got {list(x.shape)}")
    if size is not None and scale_factor is None:
        sizes = [size] * len(spatial) if isinstance(size, int) else list(size)
        if len(sizes) != len(spatial) or any(d == 0 or s <= 0 or s % d for s, d in zip(sizes, spatial)):
            raise ValueError(f"interpolate: argument `size` expected whole multiples of {spatial}, got {size!r}")
        factors = [s // d for s, d in zip(sizes, spatial)]
    elif scale_factor is not None and size is None:
        raw = ([float(scale_factor)] * len(spatial) if isinstance(scale_factor, (int, float))
               else [float(f) for f in scale_factor])
        if len(raw) != len(spatial) or any(f != int(f) or f < 1 for f in raw):
            raise ValueError(f"interpolate: argument `scale_factor` expected whole factors >= 1, got {scale_factor!r}")
        factors = [int(f) for f in raw]
    else:
        raise ValueError("interpolate: expected exactly one of the arguments `size` and `scale_factor`")
    lead = list(x.shape[:2])
    interleaved = lead + [v for d in spatial for v in (d, 1)]
    expanded = lead + [v for d, f in zip(spatial, factors) for v in (d, f)]
    return x.reshape(*interleaved).expand(*expanded).reshape(*lead, *[d * f for d, f in zip(spatial, factors)])
