"""More continuous distributions with ``torch.distributions``' formulas: Cauchy, HalfNormal,
HalfCauchy, Gumbel, Weibull, Pareto and FisherSnedecor (all reparametrised: ``rsample`` is a
differentiable transform of uniform, normal or gamma draws) and VonMises (drawn by Best and
Fisher's rejection sampler, without gradient)."""

from __future__ import annotations

import math
from typing import Union

import numpy as np

from .._core import Tensor, where_ as _where
from .continuous import Normal
from .distribution import EPS, TINY, Distribution, Shape, as_tensor
from .gamma import Chi2, _positive

Number = Union[Tensor, float]
EULER_GAMMA = 0.57721566490153286060


def uniform_draws(d: Distribution, sample_shape: Shape, like: Tensor) -> Tensor:
    """Uniform draws on (0, 1), clamped away from both ends."""
    from .. import rand

    return rand(*d._extended_shape(sample_shape), device=like.device).clamp(TINY, 1 - EPS / 2)


def _pair(a: Number, b: Number) -> tuple[Tensor, Tensor, tuple[int, ...]]:
    """Both parameters as tensors on one device, and their broadcast (the batch shape)."""
    left, right = as_tensor(a, b), as_tensor(b, a)
    return left, right, tuple(np.broadcast_shapes(tuple(left.shape), tuple(right.shape)))


class Cauchy(Distribution):
    """The Cauchy distribution with median ``loc`` and half-width ``scale``."""

    has_rsample = True

    def __init__(self, loc: Number, scale: Number) -> None:
        _positive("Cauchy", "scale", scale)
        self.loc, self.scale, batch = _pair(loc, scale)
        super().__init__(batch)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        u = uniform_draws(self, sample_shape, self.loc)
        return self.loc + self.scale * ((u - 0.5) * math.pi).tan()

    def log_prob(self, value: Tensor) -> Tensor:
        z = (as_tensor(value, self.loc) - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z * z).log1p()

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value)."""
        return ((as_tensor(value, self.loc) - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        """The quantile loc + scale tan(pi (p - 1/2))."""
        return ((as_tensor(value, self.loc) - 0.5) * math.pi).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return (math.log(4 * math.pi) + self.scale.log()).expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """Undefined: NaN, as in PyTorch."""
        return (self.loc * math.nan).expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """Infinite, as in PyTorch."""
        return (self.loc * 0 + math.inf).expand(*self.batch_shape)


class _Folded(Distribution):
    """|X| for X drawn from ``base_dist``, a law symmetric about 0 with a ``scale``: twice its
    density on x >= 0, 2 F(x) - 1 as cdf, and its entropy less log 2."""

    has_rsample = True
    base_dist: Distribution
    scale: Tensor

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.scale)
        return _where(value >= 0, self.base_dist.log_prob(value) + math.log(2.0), -math.inf)

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value) = 2 F(value) - 1 for the unfolded law's cdf F."""
        return 2 * self.base_dist.cdf(as_tensor(value, self.scale)) - 1  # type: ignore[attr-defined]

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2.0)


class HalfNormal(_Folded):
    """|X| for X ~ N(0, ``scale``²)."""

    def __init__(self, scale: Number) -> None:
        _positive("HalfNormal", "scale", scale)
        self.base_dist = Normal(0.0, scale)
        self.scale = self.base_dist.scale
        super().__init__(self.base_dist.batch_shape)

    @property
    def mean(self) -> Tensor:
        """scale · sqrt(2 / pi)."""
        return (self.scale * math.sqrt(2 / math.pi)).expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """scale² (1 - 2 / pi)."""
        return (self.scale**2 * (1 - 2 / math.pi)).expand(*self.batch_shape)


class HalfCauchy(_Folded):
    """|X| for X ~ Cauchy(0, ``scale``)."""

    def __init__(self, scale: Number) -> None:
        _positive("HalfCauchy", "scale", scale)
        self.scale = as_tensor(scale)
        self.base_dist = Cauchy(self.scale * 0, self.scale)
        super().__init__(tuple(self.scale.shape))

    @property
    def mean(self) -> Tensor:
        """Infinite."""
        return self.scale * 0 + math.inf

    @property
    def variance(self) -> Tensor:
        """Infinite."""
        return self.scale * 0 + math.inf


class Gumbel(Distribution):
    """The Gumbel (extreme value) distribution with ``loc`` and ``scale``."""

    has_rsample = True

    def __init__(self, loc: Number, scale: Number) -> None:
        _positive("Gumbel", "scale", scale)
        self.loc, self.scale, batch = _pair(loc, scale)
        super().__init__(batch)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        u = uniform_draws(self, sample_shape, self.loc)
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value: Tensor) -> Tensor:
        z = (as_tensor(value, self.loc) - self.loc) / self.scale
        return -(z + (-z).exp()) - self.scale.log()

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value) = exp(-exp(-(value - loc) / scale))."""
        z = (as_tensor(value, self.loc) - self.loc) / self.scale
        return (-(-z).exp()).exp()

    def entropy(self) -> Tensor:
        return (self.scale.log() + 1 + EULER_GAMMA).expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """loc + scale · γ (Euler's constant)."""
        return (self.loc + self.scale * EULER_GAMMA).expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """(pi² / 6) scale²."""
        return (self.scale**2 * (math.pi**2 / 6)).expand(*self.batch_shape)


class Weibull(Distribution):
    """The Weibull distribution with ``scale`` λ and shape ``concentration`` k."""

    has_rsample = True

    def __init__(self, scale: Number, concentration: Number) -> None:
        _positive("Weibull", "scale", scale)
        _positive("Weibull", "concentration", concentration)
        self.scale, self.concentration, batch = _pair(scale, concentration)
        super().__init__(batch)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        u = uniform_draws(self, sample_shape, self.scale)
        return self.scale * (-(-u).log1p()).pow(1 / self.concentration)

    def log_prob(self, value: Tensor) -> Tensor:
        x = as_tensor(value, self.scale) / self.scale
        k = self.concentration
        return (k / self.scale).log() + (k - 1) * x.log() - x.pow(k)

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value) = 1 - exp(-(value / λ)^k)."""
        return -(-(as_tensor(value, self.scale) / self.scale).pow(self.concentration)).expm1()

    def entropy(self) -> Tensor:
        k = self.concentration
        return (EULER_GAMMA * (1 - 1 / k) + (self.scale / k).log() + 1).expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """λ Γ(1 + 1/k)."""
        return (self.scale * (1 + 1 / self.concentration).lgamma().exp()).expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """λ² (Γ(1 + 2/k) - Γ(1 + 1/k)²)."""
        k = self.concentration
        return (self.scale**2 * ((1 + 2 / k).lgamma().exp() - (2 * (1 + 1 / k).lgamma()).exp())).expand(
            *self.batch_shape)


class Pareto(Distribution):
    """The Pareto distribution with minimum ``scale`` and tail index ``alpha``."""

    has_rsample = True

    def __init__(self, scale: Number, alpha: Number) -> None:
        _positive("Pareto", "scale", scale)
        _positive("Pareto", "alpha", alpha)
        self.scale, self.alpha, batch = _pair(scale, alpha)
        super().__init__(batch)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        u = uniform_draws(self, sample_shape, self.scale)
        return self.scale * ((-u).log1p() * (-1 / self.alpha)).exp()

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.scale)
        density = self.alpha.log() + self.alpha * self.scale.log() - (self.alpha + 1) * value.log()
        return _where(value >= self.scale, density, -math.inf)

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value) = 1 - (scale / value)^alpha."""
        value = as_tensor(value, self.scale)
        return (1 - (self.scale / value).pow(self.alpha)).clamp(min=0.0)

    def entropy(self) -> Tensor:
        return ((self.scale / self.alpha).log() + 1 / self.alpha + 1).expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """alpha · scale / (alpha - 1), infinite for alpha <= 1."""
        a = self.alpha.expand(*self.batch_shape)
        return _where(a > 1, a * self.scale / (a - 1), math.inf)

    @property
    def variance(self) -> Tensor:
        """scale² alpha / ((alpha - 1)² (alpha - 2)), infinite for alpha <= 2."""
        a = self.alpha.expand(*self.batch_shape)
        return _where(a > 2, self.scale**2 * a / ((a - 1) ** 2 * (a - 2)), math.inf)


class FisherSnedecor(Distribution):
    """Fisher's F distribution with ``df1`` and ``df2`` degrees of freedom: (V1 / df1) / (V2 / df2)
    for independent chi-squared V1, V2."""

    has_rsample = True

    def __init__(self, df1: Number, df2: Number) -> None:
        _positive("FisherSnedecor", "df1", df1)
        _positive("FisherSnedecor", "df2", df2)
        self.df1, self.df2, batch = _pair(df1, df2)
        super().__init__(batch)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        first = Chi2(self.df1.expand(*shape)).rsample() / self.df1
        second = Chi2(self.df2.expand(*shape)).rsample() / self.df2
        return (first / second).clamp(min=TINY)

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.df1)
        half1, half2 = self.df1 * 0.5, self.df2 * 0.5
        ratio = self.df1 / self.df2
        normaliser = (half1 + half2).lgamma() - half1.lgamma() - half2.lgamma()
        return normaliser + half1 * ratio.log() + (half1 - 1) * value.log() - (half1 + half2) * (ratio * value).log1p()

    @property
    def mean(self) -> Tensor:
        """df2 / (df2 - 2) where df2 > 2, else NaN."""
        df2 = self.df2.expand(*self.batch_shape)
        return _where(df2 > 2, df2 / (df2 - 2), math.nan)

    @property
    def variance(self) -> Tensor:
        """2 df2² (df1 + df2 - 2) / (df1 (df2 - 2)² (df2 - 4)) where df2 > 4, else NaN."""
        df1, df2 = self.df1.expand(*self.batch_shape), self.df2.expand(*self.batch_shape)
        value = 2 * df2**2 * (df1 + df2 - 2) / (df1 * (df2 - 2) ** 2 * (df2 - 4))
        return _where(df2 > 4, value, math.nan)


class VonMises(Distribution):
    """The von Mises (circular normal) distribution on [-pi, pi) with ``loc`` and
    ``concentration`` κ; draws by Best and Fisher's wrapped-Cauchy rejection sampler."""

    def __init__(self, loc: Number, concentration: Number) -> None:
        _positive("VonMises", "concentration", concentration)
        self.loc, self.concentration, batch = _pair(loc, concentration)
        super().__init__(batch)

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.loc)
        kappa = self.concentration
        # κ cos(x - μ) - log(2π I0(κ)), with I0 scaled by e^-κ so large κ stays finite.
        return kappa * ((value - self.loc).cos() - 1) - math.log(2 * math.pi) - kappa.i0e().log()

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import no_grad, rand

        with no_grad():
            shape = self._extended_shape(sample_shape)
            kappa = self.concentration.detach().expand(*shape)
            tau = 1 + (1 + 4 * kappa**2).sqrt()
            rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
            r = (1 + rho**2) / (2 * rho)
            angles = kappa * 0
            done = kappa < 0
            while not bool(done.all()):
                z = (rand(*shape, device=kappa.device) * math.pi).cos()
                f = (1 + r * z) / (r + z)
                c = kappa * (r - f)
                u2 = rand(*shape, device=kappa.device).clamp(min=TINY)
                accepted = ((c * (2 - c) - u2 > 0) | ((c / u2).log() + 1 - c >= 0)) & ~done
                side = (rand(*shape, device=kappa.device) - 0.5).sign()
                angles = _where(accepted, side * f.clamp(-1.0, 1.0).acos(), angles)
                done = done | accepted
            wrapped = (angles + self.loc.detach() + math.pi).remainder(2 * math.pi) - math.pi
            return wrapped

    @property
    def mean(self) -> Tensor:
        """The circular mean, loc."""
        return self.loc.expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """The circular variance 1 - I1(κ) / I0(κ)."""
        kappa = self.concentration
        return (1 - kappa.i1e() / kappa.i0e()).expand(*self.batch_shape)
