"""``fg.special``'s normal-distribution, Bessel and Airy functions: each one core kernel (evaluated
in double and rounded once, on the CPU and the GPU; integer inputs promote to float32),
differentiable (twice too), where PyTorch's scaled Bessel and Airy functions have no gradient."""

from __future__ import annotations

from typing import Any, Callable

from . import _core
from ._core import Tensor, special_function


def _kernel(name: str, doc: str) -> Callable[[Tensor], Tensor]:
    """The public function `name`: the core kernel of that name, documented by `doc`."""
    def function(input: Tensor) -> Tensor:
        return special_function(name, input)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return function


erfcx = _kernel("erfcx", "The scaled complementary error function exp(x²) erfc(x), finite where erfc underflows.")
log_ndtr = _kernel("log_ndtr", "log Φ(x), the log of the standard normal CDF, finite far into the lower tail.")
ndtri = _kernel("ndtri", "Φ⁻¹(p), the standard normal quantile: NaN outside [0, 1], -inf at 0 and inf at 1.")
bessel_j0 = _kernel("bessel_j0", "The Bessel function of the first kind of order 0.")
bessel_j1 = _kernel("bessel_j1", "The Bessel function of the first kind of order 1.")
bessel_y0 = _kernel("bessel_y0", "The Bessel function of the second kind of order 0: -inf at 0, NaN below.")
bessel_y1 = _kernel("bessel_y1", "The Bessel function of the second kind of order 1: -inf at 0, NaN below.")
modified_bessel_k0 = _kernel("modified_bessel_k0",
                             "The modified Bessel function of the second kind of order 0: inf at 0, NaN below.")
modified_bessel_k1 = _kernel("modified_bessel_k1",
                             "The modified Bessel function of the second kind of order 1: inf at 0, NaN below.")
scaled_modified_bessel_k0 = _kernel("scaled_modified_bessel_k0", "e^x K0(x), finite where K0 underflows.")
scaled_modified_bessel_k1 = _kernel("scaled_modified_bessel_k1", "e^x K1(x), finite where K1 underflows.")
airy_ai = _kernel("airy_ai", "The Airy function Ai, the solution of y'' = x y that decays as x grows.")


def modified_bessel_i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 0 (``i0``)."""
    return input.i0()


def modified_bessel_i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 1 (``i1``)."""
    return input.i1()


def zeta(input: Any, other: Any) -> Tensor:
    """The Hurwitz zeta function ζ(x, q) = Σ_k (q + k)^-x (``other = 1`` gives Riemann's), broadcast;
    either argument may be a number. inf at x = 1 and at q a non-positive integer, NaN for x < 1 and
    for a negative q with a non-integer x. Differentiable in q, not in x (as in PyTorch)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"zeta: expected a Tensor for `input` or `other`, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    like = input if isinstance(input, Tensor) else other
    like = like if like.is_floating_point() else like.float()
    x, q = (t if isinstance(t, Tensor) else like.new_tensor(float(t)) for t in (input, other))
    return _core.zeta(x if x.is_floating_point() else x.float(), q if q.is_floating_point() else q.float())
