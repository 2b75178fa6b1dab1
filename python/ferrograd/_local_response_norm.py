"""Local response normalisation (AlexNet's): each channel divided by a power of the mean square of
its neighbouring channels, computed as PyTorch computes it (squares averaged by a pooling window
that runs along the channels, zero-padded at the ends and counted as zeros)."""

from __future__ import annotations

from . import _core
from ._core import Tensor


def local_response_norm(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """``x / (k + alpha * mean_window(x**2)) ** beta`` over windows of ``size`` channels
    (``size // 2`` before each channel and ``(size - 1) // 2`` after) of an [N, C, ...] input."""
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected an input of shape [N, C, L, ...], got {list(x.shape)}")
    if size < 1:
        raise ValueError(f"local_response_norm: argument `size` expected >= 1, got {size}")
    n, c = x.shape[0], x.shape[1]
    squares = (x * x).reshape(n, 1, c, -1)
    padded = _core.pad(squares, [(0, 0), (size // 2, (size - 1) // 2)], 0.0)
    mean = _core.avg_pool2d(padded, (size, 1), (1, 1), (0, 0), False, True).reshape(*x.shape)
    return x / (mean * alpha + k) ** beta
