"""The gamma family and the inverse error function as PyTorch spells them: ``fg.lgamma``,
``fg.digamma``, ``fg.polygamma``, ``fg.mvlgamma``, ``fg.erfinv``, the regularised incomplete gamma
functions ``fg.igamma`` / ``fg.igammac``, their Tensor methods and in-place forms. The first four are core kernels (``cpu/gamma_functions.rs``, ``gamma_functions.cuh``),
evaluated in double and rounded once; each is differentiable (lgamma's derivative is digamma,
digamma's the trigamma, polygamma's the next order)."""

from __future__ import annotations

import math
from typing import Any, Callable

from ._core import Tensor
from .tensor_in_place import _in_place as _write_in_place


def lgamma(input: Tensor) -> Tensor:
    """log|Γ(x)|, elementwise; inf at the poles 0, -1, -2, ... (integers are promoted to float32)."""
    return input.lgamma()


def digamma(input: Tensor) -> Tensor:
    """The digamma function ψ(x) = d/dx log Γ(x), elementwise: -inf at +0, inf at -0 and NaN at
    negative integers, as in PyTorch."""
    return input.digamma()


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of the digamma function, elementwise (n = 0 is digamma); at the poles
    0, -1, -2, ... it is (-1)^(n+1) inf."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"polygamma: argument `n` expected a non-negative int, got {n!r}")
    return input.polygamma(n)


def erfinv(input: Tensor) -> Tensor:
    """The inverse error function on [-1, 1]: ±inf at ±1, NaN outside."""
    return input.erfinv()


def igamma(input: Any, other: Any) -> Tensor:
    """P(a, x), the regularised lower incomplete gamma function of shape ``input`` at ``other``
    (``gammainc``); differentiable in ``other``."""
    a = input if isinstance(input, Tensor) else other.new_tensor(float(input))
    return a.igamma(other)


def igammac(input: Any, other: Any) -> Tensor:
    """Q(a, x) = 1 - P(a, x), the regularised upper incomplete gamma function (``gammaincc``)."""
    a = input if isinstance(input, Tensor) else other.new_tensor(float(input))
    return a.igammac(other)


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma of dimension ``p``,
    p (p - 1) / 4 log(pi) + sum over i < p of lgamma(x - i / 2); every entry must exceed
    (p - 1) / 2, as in PyTorch."""
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValueError(f"mvlgamma: argument `p` expected a positive int, got {p!r}")
    if input.numel() and not bool((input > (p - 1) / 2).all()):
        raise ValueError(f"mvlgamma: every entry of `input` expected to exceed (p - 1) / 2 = {(p - 1) / 2}, "
                         f"got a minimum of {input.min().item()}")
    x = input if input.is_floating_point() else input.float()
    total = x.lgamma()
    for i in range(1, p):
        total = total + (x - i / 2).lgamma()
    return total + p * (p - 1) / 4 * math.log(math.pi)


def _in_place(name: str, compute: Callable[..., Tensor], doc: str) -> Callable[..., Tensor]:
    def method(self: Tensor, *args: Any) -> Tensor:
        return _write_in_place(self, name, None, lambda: compute(self, *args))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    return method


def _mvlgamma_method(self: Tensor, p: int) -> Tensor:
    """The multivariate log-gamma of dimension ``p`` (see :func:`ferrograd.mvlgamma`)."""
    return mvlgamma(self, p)


_mvlgamma_method.__name__ = _mvlgamma_method.__qualname__ = "mvlgamma"

METHODS = (
    _mvlgamma_method,
    _in_place("lgamma_", Tensor.lgamma, "Replaces each entry with log|Γ(x)|, in place."),
    _in_place("digamma_", Tensor.digamma, "Replaces each entry with ψ(x), in place."),
    _in_place("polygamma_", Tensor.polygamma, "Replaces each entry with ψ^(n)(x), in place (``t.polygamma_(n)``)."),
    _in_place("erfinv_", Tensor.erfinv, "Replaces each entry with its inverse error function, in place."),
    _in_place("igamma_", Tensor.igamma, "Replaces each entry a with P(a, other), in place."),
    _in_place("igammac_", Tensor.igammac, "Replaces each entry a with Q(a, other), in place."),
    _in_place("mvlgamma_", mvlgamma, "Replaces each entry with its multivariate log-gamma of dimension p, in place."),
)


def install() -> None:
    """Attaches ``mvlgamma`` and the in-place forms to :class:`Tensor`."""
    for method in METHODS:
        setattr(Tensor, method.__name__, method)
