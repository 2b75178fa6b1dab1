"""Activations composed from core ops (values and gradients as PyTorch defines them, including
zero gradients at the kinks of the hard functions)."""

from __future__ import annotations

from . import _core
from ._core import Tensor


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``x`` clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere (the
    bounds included, as in PyTorch)."""
    if not min_val < max_val:
        raise ValueError(f"hardtanh: arguments `min_val` and `max_val` expected min_val < max_val, got {min_val} and {max_val}")
    inside = (x > min_val) * (x < max_val)  # bool * bool is `and`
    return _core.where_(inside, x, x.clamp(min_val, max_val).detach())


def relu6(x: Tensor) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(x, 0.0, 6.0)


def hardsigmoid(x: Tensor) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return hardtanh(x + 3.0, 0.0, 6.0) / 6.0


def hardswish(x: Tensor) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return x * hardsigmoid(x)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` for x > 0, else ``alpha * (exp(x) - 1)``."""
    # exp of the non-positive part only: exp(x) of a large positive x would be inf, and its zero
    # share of the gradient would then be NaN.
    negative = alpha * (x.clamp(None, 0.0).exp() - 1.0)
    return _core.where_(x > 0, x, negative)


def mish(x: Tensor) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return x * x.softplus(1.0, 20.0).tanh()


def logsigmoid(x: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed stably as ``-softplus(-x)``."""
    return -((-x).softplus(1.0, 20.0))
