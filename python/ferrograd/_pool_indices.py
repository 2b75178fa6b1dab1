"""Max pooling that also returns where each maximum was (``return_indices=True``), and its
inverse ``max_unpool1d/2d/3d``, as PyTorch defines them: an index is the flat position of the
maximum in its input plane (``h * W + w``; ``d * H * W + h * W + w`` for volumes).

The pooled values are the core's max pooling (its gradient included). The indices are found
without gradient: the input padded with -inf and cut into windows by ``unfold``, the first
maximum of each window located with ``argmax``, and the plane positions cut the same way looked
up there. Unpooling scatters the values into a zero plane at their indices; its gradient gathers
at them."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Union

import numpy as np

from . import _core
from ._core import Tensor
from .autograd import no_grad
from .autograd_function import Function, FunctionCtx

IntOrSeq = Union[int, Sequence[int]]


def _tuple(name: str, value: IntOrSeq, rank: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * rank
    if isinstance(value, (tuple, list)) and len(value) == rank and all(isinstance(v, int) for v in value):
        return tuple(int(v) for v in value)
    raise ValueError(f"argument `{name}` expected an int or {rank} ints, got {value!r}")


def _pair(name: str, value: IntOrSeq) -> tuple[int, int]:
    first, second = _tuple(name, value, 2)
    return first, second


def max_pool2d_with_indices(x: Tensor, kernel_size: IntOrSeq, stride: Optional[IntOrSeq] = None,
                            padding: IntOrSeq = 0, dilation: IntOrSeq = 1,
                            ceil_mode: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool2d``'s values and the int64 plane position of each maximum."""
    k = _pair("kernel_size", kernel_size)
    s = k if stride is None else _pair("stride", stride)
    p, d = _pair("padding", padding), _pair("dilation", dilation)
    values = _core.max_pool2d(x, k, s, p, d, ceil_mode)
    single = x.ndim == 3
    images = x.unsqueeze(0) if single else x
    n, c, h, w = (int(v) for v in images.shape)
    out_h, out_w = (int(v) for v in values.shape[-2:])
    with no_grad():
        # Right and bottom padding so that unfold yields every window ceil_mode keeps.
        extra = [max(0, (o - 1) * st + dl * (kk - 1) + 1 - (size + 2 * pp))
                 for o, st, dl, kk, size, pp in zip((out_h, out_w), s, d, k, (h, w), p)]
        sides = [(p[1], p[1] + extra[1]), (p[0], p[0] + extra[0])]
        padded = _core.pad(images.detach().float(), sides, -math.inf)
        positions = Tensor.from_numpy(np.arange(h * w, dtype=np.float32).reshape(1, 1, h, w)).to(x.device)
        padded_positions = _core.pad(positions, sides, -1.0)
        rows = (padded.shape[2] - d[0] * (k[0] - 1) - 1) // s[0] + 1
        cols = (padded.shape[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1
        taps = k[0] * k[1]
        windows = _core.unfold(padded, k, s, (0, 0), d).reshape(n, c, taps, rows, cols)
        where_max = windows.argmax(2, keepdim=True)
        window_positions = _core.unfold(padded_positions, k, s, (0, 0), d).reshape(1, 1, taps, rows, cols)
        found = window_positions.expand(n, c, taps, rows, cols).gather(2, where_max).squeeze(2)
        indices = found[:, :, :out_h, :out_w].to("int64")
    return values, indices.squeeze(0) if single else indices


def max_pool1d_with_indices(x: Tensor, kernel_size: IntOrSeq, stride: Optional[IntOrSeq] = None,
                            padding: IntOrSeq = 0, dilation: IntOrSeq = 1,
                            ceil_mode: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool1d``'s values and the int64 position of each maximum along the last axis."""
    k = _tuple("kernel_size", kernel_size, 1)[0]
    s = k if stride is None else _tuple("stride", stride, 1)[0]
    rows = x.unsqueeze(-2)
    values, indices = max_pool2d_with_indices(rows, (1, k), (1, s), (0, _tuple("padding", padding, 1)[0]),
                                              (1, _tuple("dilation", dilation, 1)[0]), ceil_mode)
    return values.squeeze(-2), indices.squeeze(-2)


def _unpool(op: str, x: Tensor, indices: Tensor, kernel_size: IntOrSeq, stride: Optional[IntOrSeq],
            padding: IntOrSeq, output_size: Optional[Sequence[int]], rank: int) -> Tensor:
    k = _tuple("kernel_size", kernel_size, rank)
    s = k if stride is None else _tuple("stride", stride, rank)
    p = _tuple("padding", padding, rank)
    if tuple(indices.shape) != tuple(x.shape):
        raise ValueError(f"{op}: argument `indices` expected the input's shape {list(x.shape)}, got "
                         f"{list(indices.shape)}")
    if x.ndim not in (rank + 1, rank + 2):
        raise ValueError(f"{op}: expected a {rank + 2}-d (batched) or {rank + 1}-d input, got shape {list(x.shape)}")
    spatial_in = [int(v) for v in x.shape[-rank:]]
    default = [(i - 1) * st - 2 * pp + kk for i, st, pp, kk in zip(spatial_in, s, p, k)]
    spatial = default if output_size is None else [int(v) for v in list(output_size)[-rank:]]
    for axis, (size, usual, st) in enumerate(zip(spatial, default, s)):
        # As PyTorch: a requested size may differ from the default by less than the stride.
        if not usual - st < size < usual + st:
            raise ValueError(f"{op}: argument `output_size` expected dimension {axis} between {usual - st} and "
                             f"{usual + st} (exclusive), got {size}")
    lead = [int(v) for v in x.shape[:-rank]]
    plane = int(np.prod(spatial))
    flat_indices = indices.reshape(*lead, -1)
    if indices.numel():
        largest, smallest = int(indices.max().item()), int(indices.min().item())
        if smallest < 0 or largest >= plane:
            raise ValueError(f"{op}: argument `indices` expected positions in [0, {plane}) of the output "
                             f"{spatial}, got values from {smallest} to {largest}")
    out = _Unpool.apply(x.reshape(*lead, -1), flat_indices, plane)
    return out.reshape(*lead, *spatial)


class _Unpool(Function):
    """Values scattered into zero planes of ``plane`` entries at their indices; the backward
    gathers the output's gradient at the indices, so every value (two windows that found the same
    maximum included) receives the gradient of its position, as in PyTorch."""

    @staticmethod
    def forward(ctx: FunctionCtx, values: Tensor, indices: Tensor, plane: int) -> Tensor:
        ctx.save_for_backward(indices)
        lead = [int(v) for v in values.shape[:-1]]
        zeros = _core.full([*lead, plane], 0.0, values.dtype, values.device, False)
        return zeros.scatter(len(lead), indices, values)

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> Any:
        (indices,) = ctx.saved_tensors
        assert indices is not None
        return grads[0].gather(indices.ndim - 1, indices), None, None


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: IntOrSeq, stride: Optional[IntOrSeq] = None,
                 padding: IntOrSeq = 0, output_size: Optional[Sequence[int]] = None) -> Tensor:
    """The inverse of ``max_pool1d`` with indices: each value put back at its position, zeros
    elsewhere."""
    return _unpool("max_unpool1d", input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: IntOrSeq, stride: Optional[IntOrSeq] = None,
                 padding: IntOrSeq = 0, output_size: Optional[Sequence[int]] = None) -> Tensor:
    """The inverse of ``max_pool2d`` with indices: each value put back at its plane position,
    zeros elsewhere; the output size defaults to (in - 1) * stride - 2 * padding + kernel."""
    return _unpool("max_unpool2d", input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: IntOrSeq, stride: Optional[IntOrSeq] = None,
                 padding: IntOrSeq = 0, output_size: Optional[Sequence[int]] = None) -> Tensor:
    """The inverse of ``max_pool3d`` with indices (positions within each volume)."""
    return _unpool("max_unpool3d", input, indices, kernel_size, stride, padding, output_size, 3)
