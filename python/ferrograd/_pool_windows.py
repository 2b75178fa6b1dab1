"""Pooling windows given as explicit source positions (fractional and adaptive max pooling): the
flat plane position of every window element, and each window's first maximum."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._core import Tensor


def plane_positions(along: Sequence[np.ndarray], spatial: Sequence[int]) -> np.ndarray:
    """Flat positions (row-major in a plane of shape ``spatial``) of every window element, shaped
    ``[*lead, *outs, *ks]``: ``along[a]`` ``[*lead, out_a, k_a]`` holds axis ``a``'s source index
    of element ``j`` of window ``i`` (``lead`` broadcasts; a short window may repeat its last
    index, which leaves its first maximum where it was)."""
    rank = len(spatial)
    strides = np.cumprod([1, *spatial[::-1]])[::-1][1:]
    lead = np.broadcast_shapes(*(a.shape[:-2] for a in along))
    flat = np.zeros(lead + tuple(a.shape[-2] for a in along) + tuple(a.shape[-1] for a in along), dtype=np.int64)
    for a, idx in enumerate(along):
        shape = list(idx.shape[:-2]) + [1] * (2 * rank)
        shape[len(idx.shape) - 2 + a], shape[len(idx.shape) - 2 + rank + a] = idx.shape[-2], idx.shape[-1]
        flat = flat + idx.reshape(shape) * int(strides[a])
    return flat


def window_values(x: Tensor, positions: np.ndarray) -> Tensor:
    """The elements of ``x`` [N, C, *spatial] at ``positions`` [N or 1, C or 1, *outs, *ks], as
    [N, C, *outs, window] (differentiable through the gather)."""
    n, c = int(x.shape[0]), int(x.shape[1])
    rank = (positions.ndim - 2) // 2
    outs = positions.shape[2: 2 + rank]
    full = np.broadcast_to(positions, (n, c) + positions.shape[2:])
    index = Tensor.from_numpy(np.ascontiguousarray(full).reshape(n, c, -1)).to(x.device)
    return x.reshape(n, c, -1).gather(2, index).reshape(n, c, *outs, -1)


def first_maximum_positions(values: Tensor, positions: np.ndarray) -> Tensor:
    """The plane position of each window's first maximum, from ``window_values``' output."""
    n, c = int(values.shape[0]), int(values.shape[1])
    rank = (positions.ndim - 2) // 2
    full = np.broadcast_to(positions, (n, c) + positions.shape[2:]).reshape(n, c, *positions.shape[2: 2 + rank], -1)
    best = values.detach().argmax(-1).numpy()
    return Tensor.from_numpy(np.take_along_axis(full, best[..., None], -1)[..., 0].copy()).to(values.device)


def adaptive_windows(size: int, out: int) -> np.ndarray:
    """PyTorch's adaptive windows along one axis, rows ``floor(i size / out)`` to
    ``ceil((i + 1) size / out)``, as [out, longest] source indices (short ones repeat their last)."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(1, out + 1)) * size) // out)
    longest = int((ends - starts).max())
    return np.minimum(starts[:, None] + np.arange(longest), ends[:, None] - 1)
