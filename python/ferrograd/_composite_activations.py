"""Activations composed from core ops (values and gradients as PyTorch defines them, including
zero gradients at the kinks of the hard functions). ``inplace=True`` writes the result into the
input where no gradient depends on it, else returns the out-of-place result (ferrograd's in-place
rule, see :func:`ferrograd.tensor_in_place.in_place_result`)."""

from __future__ import annotations

from . import _core
from ._core import Tensor
from .tensor_in_place import in_place_result


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere (the
    bounds included, as in PyTorch)."""
    if not min_val < max_val:
        raise ValueError(f"hardtanh: arguments `min_val` and `max_val` expected min_val < max_val, got {min_val} and {max_val}")
    inside = (x > min_val) * (x < max_val)  # bool * bool is `and`
    return in_place_result(x, _core.where_(inside, x, x.clamp(min_val, max_val).detach()), inplace, "hardtanh")


def relu6(x: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``."""
    return hardtanh(x, 0.0, 6.0, inplace)


def hardsigmoid(x: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return in_place_result(x, hardtanh(x + 3.0, 0.0, 6.0) / 6.0, inplace, "hardsigmoid")


def hardswish(x: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``."""
    return in_place_result(x, x * hardsigmoid(x), inplace, "hardswish")


def elu(x: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for x > 0, else ``alpha * (exp(x) - 1)``."""
    # exp of the non-positive part only: exp(x) of a large positive x would be inf, and its zero
    # share of the gradient would then be NaN.
    negative = alpha * (x.clamp(None, 0.0).exp() - 1.0)
    return in_place_result(x, _core.where_(x > 0, x, negative), inplace, "elu")


def mish(x: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``."""
    return in_place_result(x, x * x.softplus(1.0, 20.0).tanh(), inplace, "mish")


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """``x`` where x > 0, else ``weight * x``: ``weight`` holds one slope, or one per channel
    (axis 1 of ``x``). The gradients are PyTorch's: at x = 0 the input gets the slope and the
    slope gets nothing."""
    channels = x.shape[1] if x.ndim >= 2 else 1
    if weight.ndim > 1 or weight.numel() not in (1, channels):
        raise ValueError(f"prelu: argument `weight` expected 1 or {channels} slopes (one per channel, axis 1 of the "
                         f"input) in a 0-d or 1-d tensor, got shape {list(weight.shape)}")
    slope = weight.reshape(1, -1, *[1] * (x.ndim - 2)) if weight.numel() > 1 else weight.reshape([])
    return _core.where_(x > 0, x, slope * x)


def logsigmoid(x: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed stably as ``-softplus(-x)``."""
    return -((-x).softplus(1.0, 20.0))
