"""Resizing: ``interpolate`` (nearest, nearest-exact, linear / bilinear / trilinear, bicubic,
area) and pixel (un)shuffling, composed from differentiable ops.

Nearest resizing by whole factors is a broadcast copy (its gradient sums each block); other
sizes pick source positions with ``index_select``. The linear modes are separable: along each
spatial axis, from the last to the first as PyTorch's kernels nest them, the two neighbouring
source slices are taken with ``index_select`` and mixed with PyTorch's weights, computed in
float32 from PyTorch's source-coordinate formulas, so results match its to float32 rounding.
Bicubic resizing is separable the same way, with four border-clamped source slices per axis
weighted by PyTorch's cubic convolution (A = -0.75).
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from ._core import Tensor

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
_CORNER_MODES = (*_LINEAR_MODES, "bicubic")
INTERPOLATION_MODES = ("nearest", "nearest-exact", "area", *_CORNER_MODES)
_CUBIC_A = np.float32(-0.75)


def _output_sizes(spatial: list[int], size: Optional[Union[int, Sequence[int]]],
                  scale_factor: Optional[Union[float, Sequence[float]]]) -> tuple[list[int], list[Optional[float]]]:
    """Output sizes, and the scale factors given (None where the size was given)."""
    if size is not None and scale_factor is None:
        sizes = [size] * len(spatial) if isinstance(size, int) else [int(s) for s in size]
        if len(sizes) != len(spatial) or any(s <= 0 for s in sizes):
            raise ValueError(f"interpolate: argument `size` expected {len(spatial)} positive sizes, got {size!r}")
        return sizes, [None] * len(spatial)
    if scale_factor is not None and size is None:
        factors = ([float(scale_factor)] * len(spatial) if isinstance(scale_factor, (int, float))
                   else [float(f) for f in scale_factor])
        if len(factors) != len(spatial) or any(f <= 0 for f in factors):
            raise ValueError(f"interpolate: argument `scale_factor` expected {len(spatial)} positive factors, got "
                             f"{scale_factor!r}")
        sizes = [int(np.floor(d * f)) for d, f in zip(spatial, factors)]
        if any(s <= 0 for s in sizes):
            raise ValueError(f"interpolate: `scale_factor` {scale_factor!r} gives an empty output for {spatial}")
        return sizes, list(factors)
    raise ValueError("interpolate: expected exactly one of the arguments `size` and `scale_factor`")


def _scale(n_in: int, n_out: int, factor: Optional[float]) -> np.float32:
    """PyTorch's source-per-output scale: 1 / scale_factor when one was given, else in / out."""
    return np.float32(1.0 / factor) if factor is not None else np.float32(n_in) / np.float32(n_out)


def _positions(values: np.ndarray, like: Tensor) -> Tensor:
    return Tensor.from_numpy(np.ascontiguousarray(values, dtype=np.int64)).to(like.device)


def _along(values: np.ndarray, axis: int, like: Tensor) -> Tensor:
    """A float32 vector laid along ``axis`` of ``like`` (size 1 elsewhere), for broadcasting."""
    shape = [1] * like.ndim
    shape[axis] = len(values)
    return Tensor.from_numpy(np.ascontiguousarray(values, dtype=np.float32).reshape(shape)).to(like.device)


def _nearest_along(x: Tensor, axis: int, n_out: int, factor: Optional[float], exact: bool) -> Tensor:
    n_in = x.shape[axis]
    if not exact and n_out in (n_in, 2 * n_in):
        # PyTorch's 'nearest' maps these sizes exactly, whatever the scale factor given.
        return x if n_out == n_in else x.index_select(axis, _positions(np.arange(n_out) // 2, x))
    scale = _scale(n_in, n_out, factor)
    dst = np.arange(n_out, dtype=np.float32)
    src = np.floor((dst + np.float32(0.5)) * scale if exact else dst * scale).astype(np.int64)
    return x.index_select(axis, _positions(np.minimum(src, n_in - 1), x))


def _linear_along(x: Tensor, axis: int, n_out: int, factor: Optional[float], align_corners: bool) -> Tensor:
    n_in = x.shape[axis]
    dst = np.arange(n_out, dtype=np.float32)
    if align_corners:
        ratio = np.float32(n_in - 1) / np.float32(n_out - 1) if n_out > 1 else np.float32(0)
        src = dst * ratio
    else:
        src = np.maximum((dst + np.float32(0.5)) * _scale(n_in, n_out, factor) - np.float32(0.5), np.float32(0))
    low = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    high = np.minimum(low + 1, n_in - 1)
    upper_weight = (src - low.astype(np.float32)).astype(np.float32)
    lower_weight = (np.float32(1) - upper_weight).astype(np.float32)
    return (x.index_select(axis, _positions(low, x)) * _along(lower_weight, axis, x)
            + x.index_select(axis, _positions(high, x)) * _along(upper_weight, axis, x))


def _cubic_weights(t: np.ndarray) -> list[np.ndarray]:
    """PyTorch's ``get_cubic_upsample_coefficients``: the weights of the four taps at offsets
    -1, 0, 1, 2 from the floor, for fractional parts ``t`` (float32)."""
    a = _CUBIC_A

    def near(x: np.ndarray) -> np.ndarray:  # |x| <= 1
        return ((a + np.float32(2)) * x - (a + np.float32(3))) * x * x + np.float32(1)

    def far(x: np.ndarray) -> np.ndarray:  # 1 < |x| < 2
        return ((a * x - np.float32(5) * a) * x + np.float32(8) * a) * x - np.float32(4) * a

    rest = np.float32(1) - t
    return [far(t + np.float32(1)), near(t), near(rest), far(rest + np.float32(1))]


def _cubic_along(x: Tensor, axis: int, n_out: int, factor: Optional[float], align_corners: bool) -> Tensor:
    n_in = x.shape[axis]
    dst = np.arange(n_out, dtype=np.float32)
    if align_corners:
        src = dst * (np.float32(n_in - 1) / np.float32(n_out - 1) if n_out > 1 else np.float32(0))
    else:
        # Unlike the linear modes, cubic source positions are not clamped at 0.
        src = (dst + np.float32(0.5)) * _scale(n_in, n_out, factor) - np.float32(0.5)
    # PyTorch's guard_index_and_lambda: the floor is at most the last index, the fraction in [0, 1].
    floor = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    t = np.clip(src - floor.astype(np.float32), np.float32(0), np.float32(1)).astype(np.float32)
    taps = [x.index_select(axis, _positions(np.clip(floor + offset, 0, n_in - 1), x)) * _along(weight, axis, x)
            for offset, weight in zip(range(-1, 3), _cubic_weights(t))]
    return taps[0] + taps[1] + taps[2] + taps[3]


def _whole_factors(spatial: list[int], sizes: list[int]) -> Optional[list[int]]:
    if all(s % d == 0 for s, d in zip(sizes, spatial)):
        return [s // d for s, d in zip(sizes, spatial)]
    return None


def interpolate(x: Tensor, size: Optional[Union[int, Sequence[int]]] = None,
                scale_factor: Optional[Union[float, Sequence[float]]] = None, mode: str = "nearest",
                align_corners: Optional[bool] = None) -> Tensor:
    """Resizes the positions of an [N, C, ...] input (1 to 3 spatial axes) to ``size`` or by
    ``scale_factor``, as ``torch.nn.functional.interpolate``: ``mode`` is ``'nearest'``,
    ``'nearest-exact'``, ``'linear'`` (1 axis), ``'bilinear'`` (2), ``'trilinear'`` (3),
    ``'bicubic'`` (2; cubic convolution with A = -0.75, so values may overshoot the input's range)
    or ``'area'`` (adaptive average pooling). ``align_corners`` (linear and bicubic modes only)
    maps the corner pixels' centres onto each other."""
    if mode not in INTERPOLATION_MODES:
        raise ValueError(f"interpolate: argument `mode` expected one of {list(INTERPOLATION_MODES)}, got {mode!r}")
    spatial = list(x.shape[2:])
    if not 1 <= len(spatial) <= 3:
        raise ValueError(f"interpolate: expected an input of shape [N, C, ...] with 1 to 3 spatial axes, got "
                         f"{list(x.shape)}")
    if 0 in spatial:
        raise ValueError(f"interpolate: argument `input` expected spatial sizes greater than 0, got an input of "
                         f"shape {list(x.shape)}")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != len(spatial):
        raise ValueError(f"interpolate: mode {mode!r} expects {_LINEAR_MODES[mode]} spatial axes, got an input of "
                         f"shape {list(x.shape)}")
    if mode == "bicubic" and len(spatial) != 2:
        raise ValueError(f"interpolate: mode 'bicubic' expects 2 spatial axes, got an input of shape {list(x.shape)}")
    if align_corners is not None and mode not in _CORNER_MODES:
        raise ValueError(f"interpolate: argument `align_corners` applies only to the linear modes and 'bicubic', got "
                         f"mode {mode!r}")
    sizes, factors = _output_sizes(spatial, size, scale_factor)
    if mode == "area":
        from .functional import adaptive_avg_pool2d

        if len(spatial) != 2:
            raise ValueError(f"interpolate: mode 'area' expects 2 spatial axes, got an input of shape {list(x.shape)}")
        return adaptive_avg_pool2d(x, (sizes[0], sizes[1]))
    whole = _whole_factors(spatial, sizes)
    if mode == "nearest" and whole is not None and all(f is None or f == w for f, w in zip(factors, whole)):
        lead = list(x.shape[:2])
        interleaved = lead + [v for d in spatial for v in (d, 1)]
        expanded = lead + [v for d, f in zip(spatial, whole) for v in (d, f)]
        return x.reshape(*interleaved).expand(*expanded).reshape(*lead, *sizes)
    out = x
    for axis in reversed(range(2, x.ndim)):
        n_out, factor = sizes[axis - 2], factors[axis - 2]
        if mode in _LINEAR_MODES:
            out = _linear_along(out, axis, n_out, factor, bool(align_corners))
        elif mode == "bicubic":
            out = _cubic_along(out, axis, n_out, factor, bool(align_corners))
        else:
            out = _nearest_along(out, axis, n_out, factor, mode == "nearest-exact")
    return out


def pixel_shuffle(x: Tensor, upscale_factor: int) -> Tensor:
    """``[*, C r^2, H, W]`` to ``[*, C, H r, W r]``: each group of ``r^2`` channels becomes an
    ``r x r`` block of pixels, as ``torch.nn.functional.pixel_shuffle`` (any leading axes)."""
    r = upscale_factor
    if x.ndim < 3 or r < 1 or x.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected a [*, C * {r}^2, H, W] input and a factor >= 1, got shape "
                         f"{list(x.shape)} and {r}")
    *lead, c, h, w = x.shape
    out = x.reshape(-1, c // (r * r), r, r, h, w).permute(0, 1, 4, 2, 5, 3)
    return out.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(x: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`: ``[*, C, H r, W r]`` to ``[*, C r^2, H, W]``."""
    r = downscale_factor
    if x.ndim < 3 or r < 1 or x.shape[-2] % r or x.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: expected a [*, C, H, W] input with H and W divisible by the factor "
                         f"{r}, got shape {list(x.shape)}")
    *lead, c, h, w = x.shape
    out = x.reshape(-1, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4)
    return out.reshape(*lead, c * r * r, h // r, w // r)
