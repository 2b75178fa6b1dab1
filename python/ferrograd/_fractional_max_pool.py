"""Fractional max pooling (Graham, 2014), as PyTorch computes it: per (sample, channel) plane, a
random number u in [0, 1) per axis places the pooling windows at
``floor((i + u) * alpha) - floor(u * alpha)`` for ``alpha = (in - k) / (out - 1)`` (in float32),
the last window flush with the end; each output is the maximum of its ``k``-wide window. The
window starts are computed on the host; the values are gathered from the flattened planes, so
the gradient reaches the input through the gather, and the indices are each maximum's plane
position (first maximum in row-major order)."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from ._core import Tensor
from ._pool_windows import first_maximum_positions, plane_positions, window_values

IntOrSeq = Union[int, Sequence[int]]
FloatOrSeq = Union[float, Sequence[float]]


def _window_starts(samples: np.ndarray, size: int, out: int, kernel: int) -> np.ndarray:
    """Window starts [..., out] along one axis for the random numbers ``samples`` [...]."""
    starts = np.empty((*samples.shape, out), dtype=np.int64)
    if out > 1:
        alpha = np.float32(size - kernel) / np.float32(out - 1)
        i = np.arange(out - 1, dtype=np.float32)
        u = samples.astype(np.float32)[..., None]
        starts[..., :-1] = (((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64))
    starts[..., -1] = size - kernel
    return starts


def _sizes(op: str, spatial: Sequence[int], kernel: tuple[int, ...], output_size: Optional[IntOrSeq],
           output_ratio: Optional[FloatOrSeq]) -> tuple[int, ...]:
    rank = len(spatial)
    if (output_size is None) == (output_ratio is None):
        raise ValueError(f"{op}: pass exactly one of `output_size` and `output_ratio`")
    if output_size is not None:
        sizes = (output_size,) * rank if isinstance(output_size, int) else tuple(output_size)
    else:
        assert output_ratio is not None
        ratios = (output_ratio,) * rank if isinstance(output_ratio, (int, float)) else tuple(output_ratio)
        if len(ratios) != rank or not all(0 < r < 1 for r in ratios):
            raise ValueError(f"{op}: argument `output_ratio` expected {rank} ratios in (0, 1), got {output_ratio!r}")
        sizes = tuple(int(s * r) for s, r in zip(spatial, ratios))
    if len(sizes) != rank or any(not 1 <= o or o + k - 1 > s for o, k, s in zip(sizes, kernel, spatial)):
        raise ValueError(f"{op}: output size {sizes} with kernel {kernel} does not fit the input's {tuple(spatial)} "
                         f"(each output + kernel - 1 must be at most the input)")
    return tuple(int(o) for o in sizes)


def fractional_max_pool(op: str, x: Tensor, kernel: tuple[int, ...], output_size: Optional[IntOrSeq],
                        output_ratio: Optional[FloatOrSeq], return_indices: bool,
                        random_samples: Optional[Tensor]) -> Any:
    """Fractional max pooling over the trailing ``len(kernel)`` axes of [N, C, ...] (or one
    unbatched [C, ...] sample). ``random_samples`` [N, C, rank] are PyTorch's: for 2-D the first
    number places the columns and the second the rows; for 3-D they place depth, rows, columns."""
    from . import rand

    rank = len(kernel)
    unbatched = x.ndim == rank + 1
    if x.ndim not in (rank + 1, rank + 2):
        raise ValueError(f"{op}: expected an input of rank {rank + 2} (or {rank + 1} unbatched), got {list(x.shape)}")
    v = x.unsqueeze(0) if unbatched else x
    n, c, *spatial = (int(s) for s in v.shape)
    sizes = _sizes(op, spatial, kernel, output_size, output_ratio)
    if random_samples is None:
        samples = rand(n, c, rank).numpy()
    else:
        samples = random_samples.detach().numpy()
        if samples.shape != (n, c, rank):
            raise ValueError(f"{op}: argument `_random_samples` expected shape {(n, c, rank)}, got {samples.shape}")
    # PyTorch's 2-D kernel reads the column sample first; the 3-D one depth, rows, columns.
    order = [1, 0] if rank == 2 else list(range(rank))
    starts = [_window_starts(samples[..., order[a]], spatial[a], sizes[a], kernel[a]) for a in range(rank)]
    along = [starts[a][..., :, None] + np.arange(kernel[a]) for a in range(rank)]  # [N, C, out_a, k_a]
    positions = plane_positions(along, spatial)
    gathered = window_values(v, positions)
    values = gathered.amax(-1)
    if not return_indices:
        return values.squeeze(0) if unbatched else values
    indices = first_maximum_positions(gathered, positions)
    return (values.squeeze(0), indices.squeeze(0)) if unbatched else (values, indices)


def fractional_max_pool2d(x: Tensor, kernel_size: IntOrSeq, output_size: Optional[IntOrSeq] = None,
                          output_ratio: Optional[FloatOrSeq] = None, return_indices: bool = False,
                          _random_samples: Optional[Tensor] = None) -> Any:
    """Fractional max pooling over [N, C, H, W] (or [C, H, W]) with ``kernel_size`` windows to
    ``output_size`` or ``output_ratio`` of the input, as ``torch.nn.functional.fractional_max_pool2d``;
    ``_random_samples`` [N, C, 2] fixes the windows (else drawn from the global generator)."""
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    if len(k) != 2 or min(k) < 1:
        raise ValueError(f"fractional_max_pool2d: argument `kernel_size` expected an int or 2 positive ints, got {kernel_size!r}")
    return fractional_max_pool("fractional_max_pool2d", x, k, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(x: Tensor, kernel_size: IntOrSeq, output_size: Optional[IntOrSeq] = None,
                          output_ratio: Optional[FloatOrSeq] = None, return_indices: bool = False,
                          _random_samples: Optional[Tensor] = None) -> Any:
    """Fractional max pooling over [N, C, D, H, W] (or [C, D, H, W]), as
    ``torch.nn.functional.fractional_max_pool3d``; ``_random_samples`` is [N, C, 3]."""
    k = (kernel_size,) * 3 if isinstance(kernel_size, int) else tuple(kernel_size)
    if len(k) != 3 or min(k) < 1:
        raise ValueError(f"fractional_max_pool3d: argument `kernel_size` expected an int or 3 positive ints, got {kernel_size!r}")
    return fractional_max_pool("fractional_max_pool3d", x, k, output_size, output_ratio, return_indices, _random_samples)
