"""1-D convolution and pooling over [N, C, L] inputs (or one [C, L] sample), run as their 2-D forms on
[N, C, 1, L]."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from . import _core
from ._conv_padding import pad_end, string_padding
from ._core import Tensor
from ._pool_indices import max_pool1d_with_indices
from ._unbatched import accepts_unbatched

IntOrSingle = Union[int, Sequence[int]]


def _single(name: str, v: IntOrSingle) -> int:
    if isinstance(v, int):
        return v
    if len(v) == 1 and isinstance(v[0], int):
        return v[0]
    raise ValueError(f"argument `{name}` expected an int or a 1-tuple, got {v!r}")


def _as_rows(x: Tensor, op: str) -> Tensor:
    if x.ndim != 3:
        raise ValueError(f"{op}: expected an input of shape [N, C, L] or [C, L], got {list(x.shape)}")
    return x.unsqueeze(2)


@accepts_unbatched(3)
def conv1d(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: IntOrSingle = 1,
           padding: Union[IntOrSingle, str] = 0, dilation: IntOrSingle = 1, groups: int = 1) -> Tensor:
    """1-D convolution of an [N, C_in, L] input with ``weight`` [C_out, C_in/groups, k];
    ``padding`` may be ``'valid'`` or ``'same'``, as :func:`ferrograd.functional.conv2d`'s."""
    if weight.ndim != 3:
        raise ValueError(f"conv1d: argument `weight` expected shape [C_out, C_in/groups, k], got {list(weight.shape)}")
    rows, s, d = _as_rows(x, "conv1d"), _single("stride", stride), _single("dilation", dilation)
    if isinstance(padding, str):
        (p,), extra = string_padding("conv1d", padding, [weight.shape[2]], [s], [d])
        rows = pad_end(rows, extra)
    else:
        p = _single("padding", padding)
    return _core.conv2d(rows, weight.unsqueeze(2), bias, (1, s), (0, p), (1, d), groups).squeeze(2)


@accepts_unbatched(3)
def conv_transpose1d(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: IntOrSingle = 1,
                     padding: IntOrSingle = 0, output_padding: IntOrSingle = 0, groups: int = 1,
                     dilation: IntOrSingle = 1) -> Tensor:
    """Transposed 1-D convolution (the gradient of :func:`conv1d` with respect to its input) of an
    [N, C_in, L] input with ``weight`` [C_in, C_out/groups, k]; the output length is
    ``(L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``."""
    if weight.ndim != 3:
        raise ValueError(f"conv_transpose1d: argument `weight` expected shape [C_in, C_out/groups, k], "
                         f"got {list(weight.shape)}")
    rows = _as_rows(x, "conv_transpose1d")
    return _core.conv_transpose2d(rows, weight.unsqueeze(2), bias, (1, _single("stride", stride)),
                                  (0, _single("padding", padding)), (0, _single("output_padding", output_padding)),
                                  groups, (1, _single("dilation", dilation))).squeeze(2)


@accepts_unbatched(3)
def max_pool1d(x: Tensor, kernel_size: IntOrSingle, stride: Optional[IntOrSingle] = None, padding: IntOrSingle = 0,
               dilation: IntOrSingle = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max pooling along the last axis of [N, C, L]; ``stride`` defaults to ``kernel_size``; with
    ``return_indices`` also the position of each maximum."""
    if return_indices:
        _as_rows(x, "max_pool1d")
        return max_pool1d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode)
    k = _single("kernel_size", kernel_size)
    s = k if stride is None else _single("stride", stride)
    return _core.max_pool2d(_as_rows(x, "max_pool1d"), (1, k), (1, s), (0, _single("padding", padding)),
                            (1, _single("dilation", dilation)), ceil_mode).squeeze(2)


@accepts_unbatched(3)
def avg_pool1d(x: Tensor, kernel_size: IntOrSingle, stride: Optional[IntOrSingle] = None, padding: IntOrSingle = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """Average pooling along the last axis of [N, C, L]; ``stride`` defaults to ``kernel_size``."""
    k = _single("kernel_size", kernel_size)
    s = k if stride is None else _single("stride", stride)
    return _core.avg_pool2d(_as_rows(x, "avg_pool1d"), (1, k), (1, s), (0, _single("padding", padding)), ceil_mode,
                            count_include_pad).squeeze(2)
