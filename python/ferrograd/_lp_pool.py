"""Power-average (LP) pooling, as PyTorch composes it: the average of x^p over each window times
the window's size, to the power 1/p (``sign(s) * relu(|s|)`` keeps the root real where rounding
leaves a tiny negative sum)."""

from __future__ import annotations

from typing import Optional, Sequence, Union

from . import _core
from ._core import Tensor
from ._one_dimensional import avg_pool1d
from ._pool_indices import _pair
from ._three_dimensional import avg_pool3d

IntOrSeq = Union[int, Sequence[int]]


def _lp(pooled: Tensor, window: int, norm_type: float) -> Tensor:
    return (pooled.sign() * pooled.abs().relu()).mul(window).pow(1.0 / norm_type)


def _window_size(kernel_size: IntOrSeq, rank: int) -> int:
    sizes = [kernel_size] * rank if isinstance(kernel_size, int) else list(kernel_size)
    total = 1
    for size in sizes:
        total *= int(size)
    return total


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: IntOrSeq, stride: Optional[IntOrSeq] = None,
              ceil_mode: bool = False) -> Tensor:
    """(Σ x^p over each window of the last axis)^(1/p)."""
    pooled = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(pooled, _window_size(kernel_size, 1), norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: IntOrSeq, stride: Optional[IntOrSeq] = None,
              ceil_mode: bool = False) -> Tensor:
    """(Σ x^p over each window of the last two axes)^(1/p)."""
    k = _pair("kernel_size", kernel_size)
    pooled = _core.avg_pool2d(input.pow(norm_type), k, k if stride is None else _pair("stride", stride), (0, 0),
                              ceil_mode, True)
    return _lp(pooled, _window_size(kernel_size, 2), norm_type)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: IntOrSeq, stride: Optional[IntOrSeq] = None,
              ceil_mode: bool = False) -> Tensor:
    """(Σ x^p over each window of the last three axes)^(1/p)."""
    pooled = avg_pool3d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(pooled, _window_size(kernel_size, 3), norm_type)
