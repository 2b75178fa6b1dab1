"""Spatial transformers: ``affine_grid`` and ``grid_sample`` (bilinear or nearest, with zeros,
border or reflection padding), composed from differentiable ops with PyTorch's formulas.

``grid_sample`` flattens the input's positions and ``gather``s the corners each output point
reads. The corners' positions are constants (PyTorch passes no gradient through the floor
either) while the bilinear weights are differentiable, so gradients reach the input and the grid.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import _core
from ._core import Tensor

GRID_SAMPLE_MODES = ("bilinear", "nearest")
GRID_SAMPLE_PADDING_MODES = ("zeros", "border", "reflection")
_FLOATING = ("float32", "float16", "bfloat16")


def _base_coordinates(steps: int, align_corners: bool) -> np.ndarray:
    """PyTorch's ``linspace_from_neg_one`` in float32: ``steps`` points over [-1, 1] at the corner
    pixels' centres (``align_corners``) or scaled in to their edges (otherwise)."""
    if steps <= 1:
        return np.zeros(1, dtype=np.float32)
    step = np.float32(2) / np.float32(steps - 1)
    i = np.arange(steps)
    # torch.linspace fills the first half from the start and the second half from the end.
    points = np.where(i < steps // 2, np.float32(-1) + step * i.astype(np.float32),
                      np.float32(1) - step * (steps - i - 1).astype(np.float32)).astype(np.float32)
    if not align_corners:
        points = (points * np.float32(steps - 1) / np.float32(steps)).astype(np.float32)
    return points


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool = False) -> Tensor:
    """The sampling grid ``[N, H, W, 2]`` of (x, y) points in [-1, 1] that the affine maps
    ``theta`` ``[N, 2, 3]`` send the output pixels of ``size`` ``(N, C, H, W)`` to, as
    ``torch.nn.functional.affine_grid``; differentiable with respect to ``theta``."""
    dims = [int(s) for s in size]
    if len(dims) == 5:
        raise NotImplementedError(f"affine_grid: volumetric grids (a 5-D `size`) are not supported; expected a size "
                                  f"(N, C, H, W), got {tuple(dims)}")
    if len(dims) != 4 or any(s <= 0 for s in dims):
        raise ValueError(f"affine_grid: argument `size` expected (N, C, H, W) with positive sizes, got {tuple(size)}")
    n, _, h, w = dims
    if list(theta.shape) != [n, 2, 3]:
        raise ValueError(f"affine_grid: argument `theta` expected shape [{n}, 2, 3] for size {tuple(dims)}, got "
                         f"{list(theta.shape)}")
    if theta.dtype not in _FLOATING:
        raise ValueError(f"affine_grid: argument `theta` expected a floating dtype, got {theta.dtype}")
    xs, ys = _base_coordinates(w, align_corners), _base_coordinates(h, align_corners)
    base = np.stack([np.broadcast_to(xs, (h, w)), np.broadcast_to(ys[:, None], (h, w)),
                     np.ones((h, w), dtype=np.float32)], axis=-1)
    base_grid = Tensor.from_numpy(np.ascontiguousarray(base.reshape(1, h * w, 3))).to(theta.device)
    if base_grid.dtype != theta.dtype:
        base_grid = base_grid.to(theta.dtype)
    return (base_grid @ theta.transpose(1, 2)).reshape(n, h, w, 2)


def _clip(coord: Tensor, size: int) -> Tensor:
    """Clamps to [0, size - 1], passing gradient only strictly inside, as PyTorch's
    ``clip_coordinates_set_grad``."""
    inside = (coord > 0) & (coord < size - 1)
    return _core.where_(inside, coord, coord.detach().clamp(0.0, float(size - 1)))


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """PyTorch's ``reflect_coordinates``: folds ``coord`` into [low, high] by reflecting at the
    bounds (given doubled, so half-integers stay integers)."""
    if twice_low == twice_high:
        return coord * 0.0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    shifted = coord - low
    distance = _core.where_(shifted < 0, -shifted, shifted)
    flips = (distance.detach() / span).floor()
    extra = distance.fmod(span)
    return _core.where_(flips.fmod(2.0) == 0, extra + low, (span - extra) + low)


def _source(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Pixel coordinates of normalised ones, after the padding mode's clipping or reflection."""
    pixel = (coord + 1.0) / 2.0 * float(size - 1) if align_corners else ((coord + 1.0) * float(size) - 1.0) / 2.0
    if padding_mode == "border":
        return _clip(pixel, size)
    if padding_mode == "reflection":
        bounds = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        return _clip(_reflect(pixel, *bounds), size)
    return pixel


def _corner(flat: Tensor, xs: Tensor, ys: Tensor, width: int, height: int) -> Tensor:
    """The values of ``flat`` ``[N, C, H * W]`` at integer-valued positions ``xs``, ``ys``
    ``[N, P]``, and zero at positions outside the input."""
    n, c, _ = flat.shape
    inside = (xs >= 0) & (xs <= width - 1) & (ys >= 0) & (ys <= height - 1)
    column = xs.clamp(0.0, float(width - 1)).to("int64")
    row = ys.clamp(0.0, float(height - 1)).to("int64")
    index = (row * width + column).reshape(n, 1, -1).expand(n, c, xs.shape[1])
    return flat.gather(2, index) * inside.to(flat.dtype).reshape(n, 1, -1)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool = False) -> Tensor:
    """Samples ``input`` ``[N, C, H, W]`` at the normalised (x, y) points of ``grid``
    ``[N, H_out, W_out, 2]`` (-1 and 1 are the corner pixels' centres with ``align_corners``, else
    their outer edges), giving ``[N, C, H_out, W_out]``, as ``torch.nn.functional.grid_sample``.
    ``mode`` is ``'bilinear'`` (gradients reach the input and the grid) or ``'nearest'`` (ties
    to even; the grid's gradient is zero, as PyTorch's); ``padding_mode`` is
    ``'zeros'``, ``'border'`` (the nearest edge value) or ``'reflection'``."""
    if mode not in GRID_SAMPLE_MODES:
        raise ValueError(f"grid_sample: argument `mode` expected one of {list(GRID_SAMPLE_MODES)}, got {mode!r}")
    if padding_mode not in GRID_SAMPLE_PADDING_MODES:
        raise ValueError(f"grid_sample: argument `padding_mode` expected one of {list(GRID_SAMPLE_PADDING_MODES)}, "
                         f"got {padding_mode!r}")
    if input.ndim != 4 or 0 in input.shape[2:]:
        raise ValueError(f"grid_sample: argument `input` expected shape [N, C, H, W] with H, W > 0, got "
                         f"{list(input.shape)}")
    n, c, height, width = input.shape
    if grid.ndim != 4 or grid.shape[0] != n or grid.shape[3] != 2:
        raise ValueError(f"grid_sample: argument `grid` expected shape [{n}, H_out, W_out, 2], got {list(grid.shape)}")
    if grid.dtype != input.dtype:
        raise ValueError(f"grid_sample: argument `grid` expected the input's dtype {input.dtype}, got {grid.dtype}")
    h_out, w_out = grid.shape[1], grid.shape[2]
    points = grid.reshape(n, h_out * w_out, 2)
    ix = _source(points[:, :, 0], width, padding_mode, align_corners)
    iy = _source(points[:, :, 1], height, padding_mode, align_corners)
    flat = input.reshape(n, c, height * width)
    if mode == "nearest":
        out = _corner(flat, ix.detach().round(), iy.detach().round(), width, height)
        if grid.requires_grad:
            # PyTorch gives the grid a zero gradient here, not none: a zero term linked to it
            # (a where() that never picks it, so a non-finite grid cannot reach the values).
            never = _core.full(list(points.shape), 0.0, "bool", points.device, False)
            out = out + _core.where_(never, points, 0.0).sum(2).reshape(n, 1, -1)
        return out.reshape(n, c, h_out, w_out)
    west, north = ix.detach().floor(), iy.detach().floor()
    east, south = west + 1.0, north + 1.0
    # Each corner's weight is the distance to the opposite one, as PyTorch writes them.
    west_weight, east_weight = (east - ix).reshape(n, 1, -1), (ix - west).reshape(n, 1, -1)
    north_weight, south_weight = (south - iy).reshape(n, 1, -1), (iy - north).reshape(n, 1, -1)
    out = (_corner(flat, west, north, width, height) * (west_weight * north_weight)
           + _corner(flat, east, north, width, height) * (east_weight * north_weight)
           + _corner(flat, west, south, width, height) * (west_weight * south_weight)
           + _corner(flat, east, south, width, height) * (east_weight * south_weight))
    return out.reshape(n, c, h_out, w_out)
