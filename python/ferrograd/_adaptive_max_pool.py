"""Adaptive max pooling composed from core ops: PyTorch's windows (rows ``floor(i H / oh)`` to
``ceil((i + 1) H / oh)``, likewise across), as one ``max_pool2d`` when the sizes divide, else as
per-row then per-column maxima of slices (a rectangle's maximum is the maximum of its rows'
maxima). Gradients go to each window's first maximum; ``return_indices`` finds its position by
gathering the windows (``_pool_windows``)."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Union

from . import _core
from ._core import Tensor
from ._pool_windows import adaptive_windows, first_maximum_positions, plane_positions, window_values
from .autograd import no_grad

OutputSize = Union[int, Sequence[Optional[int]]]


def _window_maxima(x: Tensor, dim: int, out: int) -> Tensor:
    size = x.shape[dim]
    parts = []
    for i in range(out):
        start, end = (i * size) // out, math.ceil((i + 1) * size / out)
        parts.append(x.narrow(dim, start, end - start).max(dim, keepdim=True).values)
    return _core.cat(parts, dim)


def adaptive_max_indices(x: Tensor, sizes: Sequence[int]) -> Tensor:
    """The plane position of each adaptive window's first maximum (``return_indices``), for
    [N, C, *spatial] and one output size per spatial axis."""
    spatial = [int(s) for s in x.shape[2:]]
    positions = plane_positions([adaptive_windows(n, o) for n, o in zip(spatial, sizes)], spatial)
    with no_grad():
        return first_maximum_positions(window_values(x, positions[None, None]), positions[None, None])


def adaptive_max_pool2d(x: Tensor, output_size: OutputSize, return_indices: bool = False) -> Any:
    """Max pooling of ``[N, C, H, W]`` (or ``[C, H, W]``) to ``output_size`` ``(oh, ow)`` (an int
    for both; None keeps that side's size); with ``return_indices`` also each maximum's plane
    position ``h * W + w``."""
    if x.ndim == 3:
        out = adaptive_max_pool2d(x.unsqueeze(0), output_size, return_indices)
        return tuple(o.squeeze(0) for o in out) if return_indices else out.squeeze(0)
    if x.ndim != 4:
        raise ValueError(f"adaptive_max_pool2d: expected a [N, C, H, W] or [C, H, W] input, got shape {list(x.shape)}")
    sizes = [output_size, output_size] if isinstance(output_size, int) else list(output_size)
    if len(sizes) != 2:
        raise ValueError(f"adaptive_max_pool2d: argument `output_size` expected an int or two, got {output_size!r}")
    oh, ow = (x.shape[2 + k] if s is None else s for k, s in enumerate(sizes))
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_max_pool2d: argument `output_size` expected sizes >= 1, got {(oh, ow)}")
    h, w = x.shape[2], x.shape[3]
    if h % oh == 0 and w % ow == 0:
        window = (h // oh, w // ow)
        values = _core.max_pool2d(x, window, window, (0, 0), (1, 1), False)
    else:
        values = _window_maxima(_window_maxima(x, 2, oh), 3, ow)
    return (values, adaptive_max_indices(x, (oh, ow))) if return_indices else values
