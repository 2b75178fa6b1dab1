"""``fg.special``: PyTorch's ``torch.special`` functions, each differentiable and on the input's
device. The error, gamma-family, Bessel and Airy functions and the normal log-CDF and quantile are
core kernels; the orthogonal polynomials and the rest are composed from core ops."""

from __future__ import annotations

import math
from typing import Any, Optional

from ._core import Tensor
from . import functional as F
from .gamma_functions import digamma, erfinv, polygamma
from ._orthogonal_polynomials import (chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v,
                                      chebyshev_polynomial_w, hermite_polynomial_h, hermite_polynomial_he,
                                      laguerre_polynomial_l, legendre_polynomial_p, shifted_chebyshev_polynomial_t,
                                      shifted_chebyshev_polynomial_u, shifted_chebyshev_polynomial_v,
                                      shifted_chebyshev_polynomial_w)
from ._special_kernels import (airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1, erfcx, log_ndtr,
                               modified_bessel_i0, modified_bessel_i1, modified_bessel_k0, modified_bessel_k1, ndtri,
                               scaled_modified_bessel_k0, scaled_modified_bessel_k1, zeta)
from .gamma_functions import igamma as gammainc, igammac as gammaincc, lgamma as gammaln, mvlgamma as multigammaln

psi = digamma


def erf(input: Tensor) -> Tensor:
    """The error function, elementwise."""
    return input.erf()


def erfc(input: Tensor) -> Tensor:
    """1 - erf(x), elementwise, accurate where erf(x) nears 1."""
    return input.erfc()


def ndtr(input: Tensor) -> Tensor:
    """The standard normal cumulative distribution function, (1 + erf(x / sqrt 2)) / 2, from
    erfc so that the lower tail keeps its relative accuracy."""
    return (input * -math.sqrt(0.5)).erfc() * 0.5


def expit(input: Tensor) -> Tensor:
    """The logistic sigmoid 1 / (1 + exp(-x))."""
    return input.sigmoid()


def logit(input: Tensor, eps: Optional[float] = None) -> Tensor:
    """log(p / (1 - p)); with ``eps`` the input is first clamped to [eps, 1 - eps]."""
    p = input if eps is None else input.clamp(eps, 1.0 - eps)
    return p.log() - (1.0 - p).log()


def exp2(input: Tensor) -> Tensor:
    """2 ** x, elementwise, as one correctly rounded power (exp of x ln 2 would round x ln 2 first)."""
    x = input if input.is_floating_point() else input.float()
    return (x * 0 + 2.0).pow(x)


def expm1(input: Tensor) -> Tensor:
    """exp(x) - 1, accurate for small x."""
    return input.expm1()


def log1p(input: Tensor) -> Tensor:
    """log(1 + x), accurate for small x."""
    return input.log1p()


def xlogy(input: Any, other: Any) -> Tensor:
    """x * log(y), defined as 0 where x is 0 (and y is not NaN), as in entropy sums."""
    x = input if isinstance(input, Tensor) else other.new_tensor(input) if isinstance(other, Tensor) else None
    if x is None:
        raise TypeError(f"xlogy: expected a Tensor operand, got {type(input).__name__} and {type(other).__name__}")
    y = other if isinstance(other, Tensor) else x.new_tensor(other)
    product = x * y.log()
    zero = (x == 0) * (y == y)
    return product.masked_fill(zero, 0.0)


def xlog1py(input: Any, other: Any) -> Tensor:
    """x * log1p(y), defined as 0 where x is 0 (and y is not NaN)."""
    x = input if isinstance(input, Tensor) else other.new_tensor(input) if isinstance(other, Tensor) else None
    if x is None:
        raise TypeError(f"xlog1py: expected a Tensor operand, got {type(input).__name__} and {type(other).__name__}")
    y = other if isinstance(other, Tensor) else x.new_tensor(other)
    return (x * y.log1p()).masked_fill((x == 0) * (y == y), 0.0)


def entr(input: Tensor) -> Tensor:
    """The entropy term -x log(x): 0 at 0, -inf for negative x (NaN stays NaN)."""
    x = input if input.is_floating_point() else input.float()
    positive = x > 0
    safe = x.masked_fill(~positive, 1.0)
    out = (-safe * safe.log()).masked_fill(x == 0, 0.0)
    return out.masked_fill(x < 0, -math.inf).masked_fill(x != x, math.nan)


def spherical_bessel_j0(input: Tensor) -> Tensor:
    """The spherical Bessel function of the first kind of order 0, sin(x) / x (1 at 0)."""
    x = input if input.is_floating_point() else input.float()
    at_zero = x == 0
    safe = x.masked_fill(at_zero, 1.0)
    return (safe.sin() / safe).masked_fill(at_zero, 1.0)


def round(input: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 (torch.special's name)
    """Rounds half to even, to ``decimals`` places (``torch.round``)."""
    from .tensor_functions import round as rounded

    return rounded(input, decimals)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, without overflow."""
    return input.logsumexp(dim, keepdim)


def softmax(input: Tensor, dim: int) -> Tensor:
    """Softmax over ``dim``."""
    return F.softmax(input, dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """Log-softmax over ``dim``."""
    return F.log_softmax(input, dim)


def i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 0."""
    return input.i0()


def i0e(input: Tensor) -> Tensor:
    """e^-|x| I0(x), finite where I0 overflows."""
    return input.i0e()


def i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind of order 1."""
    return input.i1()


def i1e(input: Tensor) -> Tensor:
    """e^-|x| I1(x)."""
    return input.i1e()


def sinc(input: Tensor) -> Tensor:
    """The normalised sinc sin(pi x) / (pi x), 1 at x = 0."""
    angle = input * math.pi
    at_zero = input == 0
    safe = angle.masked_fill(at_zero, 1.0)
    return (safe.sin() / safe).masked_fill(at_zero, 1.0)


__all__ = ["erf", "erfc", "ndtr", "expit", "logit", "exp2", "expm1", "log1p", "xlogy", "logsumexp", "softmax",
           "log_softmax", "sinc", "gammaln", "digamma", "psi", "polygamma", "multigammaln", "erfinv", "gammainc", "gammaincc", "i0", "i0e", "i1",
           "i1e", "xlog1py", "entr", "spherical_bessel_j0", "round", "erfcx", "log_ndtr", "ndtri", "bessel_j0", "bessel_j1",
           "bessel_y0", "bessel_y1", "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "airy_ai", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
           "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
           "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p", "zeta"]
