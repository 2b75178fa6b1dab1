"""Gamma, Chi2 and Exponential distributions, and the standard gamma sampler with its
reparametrised gradient (as PyTorch's ``_standard_gamma``): a draw z of Gamma(α, 1) is
differentiable in α through dz/dα = -(∂F/∂α) / p(z; α), the implicit derivative of holding z at
its quantile (the core's ``_standard_gamma_grad``)."""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from .._core import Tensor
from ..autograd_function import Function, FunctionCtx
from .distribution import TINY, Distribution, Shape, as_tensor

Number = Union[Tensor, float]



def _draw_standard_gamma(alpha: Tensor) -> Tensor:
    """Draws of Gamma(α, 1), one per entry of ``alpha`` (no gradient), by Marsaglia and Tsang's
    squeeze method: with d = α - 1/3 and c = 1 / sqrt(9 d), a normal x gives the candidate
    d (1 + c x)^3, accepted when log u < x²/2 + d - d v + d log v for a uniform u (over 95% of
    candidates for every α >= 1). Rejected entries are drawn again until none is left. α < 1
    draws at α + 1 and scales by u^(1/α)."""
    from .. import no_grad, rand, randn, where

    with no_grad():
        alpha = alpha.detach()
        boosted = where(alpha < 1, alpha + 1, alpha)
        d = boosted - 1.0 / 3.0
        c = (9 * d).rsqrt()
        shape, device = list(alpha.shape), alpha.device
        draws = alpha * 0
        done = alpha < 0  # all False, on the right device
        while not bool(done.all()):
            x = randn(*shape, device=device)
            v = (1 + c * x) ** 3
            u = rand(*shape, device=device)
            log_v = v.clamp(min=TINY).log()
            accepted = (v > 0) & (u.log() < 0.5 * x * x + d - d * v + d * log_v) & ~done
            draws = where(accepted, d * v, draws)
            done = done | accepted
        small = alpha < 1
        if bool(small.any()):
            scale = rand(*shape, device=device).pow(1 / alpha)
            draws = where(small, draws * scale, draws)
        # A small α's draws underflow to 0, where log-densities and the Beta and Dirichlet ratios
        # would be undefined: clamped as PyTorch clamps them.
        return draws.clamp(min=TINY)


class _StandardGamma(Function):
    """A Gamma(α, 1) draw per entry of α, differentiable in α."""

    @staticmethod
    def forward(ctx: FunctionCtx, alpha: Tensor) -> Tensor:
        draws = _draw_standard_gamma(alpha)
        ctx.save_for_backward(alpha, draws)
        return draws

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> Any:
        alpha, draws = ctx.saved_tensors
        assert alpha is not None and draws is not None
        return grads[0] * alpha._standard_gamma_grad(draws)


def standard_gamma(alpha: Tensor) -> Tensor:
    """Draws of Gamma(α, 1) of ``alpha``'s shape; differentiable in ``alpha`` (reparametrised)."""
    return _StandardGamma.apply(alpha)


def _positive(name: str, argument: str, value: Any) -> None:
    if isinstance(value, (int, float)) and not value > 0:
        raise ValueError(f"{name}: argument `{argument}` expected a positive value, got {value}")


class Gamma(Distribution):
    """The gamma distribution with shape ``concentration`` α and ``rate`` β (density
    β^α x^(α-1) e^(-β x) / Γ(α)); ``rsample`` is differentiable in both."""

    has_rsample = True

    def __init__(self, concentration: Number, rate: Number) -> None:
        _positive("Gamma", "concentration", concentration)
        _positive("Gamma", "rate", rate)
        self.concentration, self.rate = as_tensor(concentration, rate), as_tensor(rate, concentration)
        super().__init__(np.broadcast_shapes(tuple(self.concentration.shape), tuple(self.rate.shape)))

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return standard_gamma(self.concentration.expand(*shape)) / self.rate.expand(*shape)

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.rate)
        alpha, rate = self.concentration, self.rate
        return alpha * rate.log() + (alpha - 1) * value.log() - rate * value - alpha.lgamma()

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value), the regularised lower incomplete gamma function P(α, β x)."""
        value = as_tensor(value, self.rate)
        return self.concentration.igamma(self.rate * value)

    def entropy(self) -> Tensor:
        alpha = self.concentration
        value = alpha - self.rate.log() + alpha.lgamma() + (1 - alpha) * alpha.digamma()
        return value.expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """The mean α / β of each distribution of the batch."""
        return (self.concentration / self.rate).expand(*self.batch_shape)

    @property
    def mode(self) -> Tensor:
        """The mode (α - 1) / β, clamped at 0 for α < 1."""
        return ((self.concentration - 1) / self.rate).clamp(min=0).expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """The variance α / β² of each distribution of the batch."""
        return (self.concentration / self.rate**2).expand(*self.batch_shape)


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom: Gamma(df / 2, 1 / 2)."""

    def __init__(self, df: Number) -> None:
        _positive("Chi2", "df", df)
        df_tensor = as_tensor(df)
        super().__init__(df_tensor * 0.5, df_tensor * 0 + 0.5)

    @property
    def df(self) -> Tensor:
        """The degrees of freedom, twice the concentration."""
        return self.concentration * 2


class Exponential(Distribution):
    """The exponential distribution with ``rate`` λ (density λ e^(-λ x) on x >= 0)."""

    has_rsample = True

    def __init__(self, rate: Number) -> None:
        _positive("Exponential", "rate", rate)
        self.rate = as_tensor(rate)
        super().__init__(tuple(self.rate.shape))

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import rand

        shape = self._extended_shape(sample_shape)
        # -log(1 - u) with u in [0, 1) never takes the log of 0.
        unit = -(-rand(*shape, device=self.rate.device)).log1p()
        return unit / self.rate.expand(*shape)

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.rate)
        return self.rate.log() - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value) = 1 - e^(-λ x)."""
        value = as_tensor(value, self.rate)
        return -(-self.rate * value).expm1()

    def icdf(self, value: Tensor) -> Tensor:
        """The quantile -log(1 - p) / λ."""
        value = as_tensor(value, self.rate)
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()

    @property
    def mean(self) -> Tensor:
        """The mean 1 / λ."""
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        """The mode, 0."""
        return self.rate * 0

    @property
    def variance(self) -> Tensor:
        """The variance 1 / λ²."""
        return self.rate.pow(-2)

