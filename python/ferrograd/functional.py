"""Stateless functions on tensors (``ferrograd.functional``, usually imported as ``F``)."""

from __future__ import annotations

from typing import Sequence

from . import _core
from ._core import Tensor

__all__ = ["relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softplus", "silu", "pad", "one_hot", "embedding"]


def relu(x: Tensor) -> Tensor:
    """max(x, 0)."""
    return x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else ``negative_slope * x``."""
    return x.leaky_relu(negative_slope)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU: ``approximate="none"`` is the exact erf form, ``"tanh"`` the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: argument `approximate` expected 'none' or 'tanh', got {approximate!r}")
    return x.gelu(approximate == "tanh")


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow."""
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return x.tanh()


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold (as torch)."""
    return x.softplus(beta, threshold)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x)."""
    return x.silu()


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Constant padding; ``pad`` lists (before, after) sizes starting from the last axis, as in
    ``torch.nn.functional.pad``."""
    if mode != "constant":
        raise ValueError(f"pad: argument `mode` expected 'constant', got {mode!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: argument `pad` expected an even number of sizes, got {len(pad)}")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    return _core.pad(x, pairs, float(value))


def one_hot(labels: Tensor, num_classes: int) -> Tensor:
    """float32 one-hot rows for int64 class labels (a trailing class axis is added)."""
    return _core.one_hot(labels, int(num_classes))


def embedding(ids: Tensor, weight: Tensor) -> Tensor:
    """Rows of ``weight`` [num, dim] picked by int64 ``ids`` of any shape."""
    return _core.embedding(ids, weight)
