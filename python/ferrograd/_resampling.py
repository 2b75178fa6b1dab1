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


def pixel_shuffle(x: Tensor, upscale_factor: int) -> Tensor:
    """``[N, C r^2, H, W]`` to ``[N, C, H r, W r]``: each group of ``r^2`` channels becomes an
    ``r x r`` block of pixels, as ``torch.nn.functional.pixel_shuffle``."""
    r = upscale_factor
    if x.ndim != 4 or r < 1 or x.shape[1] % (r * r):
        raise ValueError(f"pixel_shuffle: expected a [N, C * {r}^2, H, W] input and a factor >= 1, got shape "
                         f"{list(x.shape)} and {r}")
    n, c, h, w = x.shape
    return x.reshape(n, c // (r * r), r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)


def pixel_unshuffle(x: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`: ``[N, C, H r, W r]`` to ``[N, C r^2, H, W]``."""
    r = downscale_factor
    if x.ndim != 4 or r < 1 or x.shape[2] % r or x.shape[3] % r:
        raise ValueError(f"pixel_unshuffle: expected a [N, C, H, W] input with H and W divisible by the factor "
                         f"{r}, got shape {list(x.shape)}")
    n, c, h, w = x.shape
    return x.reshape(n, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h // r, w // r)
