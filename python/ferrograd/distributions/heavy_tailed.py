"""Laplace, Student's t and log-normal distributions (reparametrised), with
``torch.distributions``' formulas."""

from __future__ import annotations

import math
from typing import Union

import numpy as np

from .._core import Tensor
from .continuous import Normal
from .distribution import Distribution, Shape, as_tensor
from .gamma import Chi2, _positive

Number = Union[Tensor, float]


class Laplace(Distribution):
    """The Laplace distribution with ``loc`` μ and ``scale`` b (density e^(-|x - μ| / b) / 2b)."""

    has_rsample = True

    def __init__(self, loc: Number, scale: Number) -> None:
        _positive("Laplace", "scale", scale)
        self.loc, self.scale = as_tensor(loc, scale), as_tensor(scale, loc)
        super().__init__(np.broadcast_shapes(tuple(self.loc.shape), tuple(self.scale.shape)))

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import rand

        shape = self._extended_shape(sample_shape)
        # u uniform on (-1, 1): the sign picks the side, -log(1 - |u|) the exponential distance.
        u = rand(*shape, device=self.loc.device) * 2 - 1
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.loc)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value)."""
        value = as_tensor(value, self.loc)
        distance = value - self.loc
        return 0.5 - 0.5 * distance.sign() * (-distance.abs() / self.scale).expm1()

    def entropy(self) -> Tensor:
        return (1 + (2 * self.scale).log()).expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """The mean μ."""
        return self.loc.expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """The variance 2 b²."""
        return (2 * self.scale**2).expand(*self.batch_shape)


class StudentT(Distribution):
    """Student's t distribution with ``df`` degrees of freedom, ``loc`` and ``scale``:
    loc + scale · X / sqrt(V / df) for a standard normal X and V ~ Chi2(df), so ``rsample`` is
    differentiable in all three."""

    has_rsample = True

    def __init__(self, df: Number, loc: Number = 0.0, scale: Number = 1.0) -> None:
        _positive("StudentT", "df", df)
        _positive("StudentT", "scale", scale)
        like = next((v for v in (df, loc, scale) if isinstance(v, Tensor)), None)
        self.df, self.loc, self.scale = as_tensor(df, like), as_tensor(loc, like), as_tensor(scale, like)
        super().__init__(np.broadcast_shapes(tuple(self.df.shape), tuple(self.loc.shape), tuple(self.scale.shape)))

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import randn

        shape = self._extended_shape(sample_shape)
        normal = randn(*shape, device=self.loc.device)
        chi2 = Chi2(self.df.expand(*shape)).rsample()
        return self.loc + self.scale * normal * (chi2 / self.df).rsqrt()

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.loc)
        df = self.df
        y = (value - self.loc) / self.scale
        normaliser = (self.scale.log() + 0.5 * df.log() + 0.5 * math.log(math.pi) + (0.5 * df).lgamma()
                      - (0.5 * (df + 1)).lgamma())
        return -0.5 * (df + 1) * (y**2 / df).log1p() - normaliser

    def entropy(self) -> Tensor:
        df = self.df
        log_beta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        value = (self.scale.log() + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
                 + 0.5 * df.log() + log_beta)
        return value.expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """The mean: loc where df > 1, else NaN."""
        from .. import where

        return where(self.df > 1, self.loc.expand(*self.batch_shape), float("nan"))

    @property
    def variance(self) -> Tensor:
        """The variance scale² df / (df - 2) where df > 2, inf where 1 < df <= 2, NaN where df <= 1."""
        from .. import where

        df = self.df.expand(*self.batch_shape)
        finite = self.scale**2 * df / (df - 2)
        return where(df > 2, finite, where(df > 1, float("inf"), float("nan")))


class LogNormal(Distribution):
    """exp(N(``loc``, ``scale``²)): the distribution of a variable whose logarithm is normal."""

    has_rsample = True

    def __init__(self, loc: Number, scale: Number) -> None:
        self.base_dist = Normal(loc, scale)
        self.loc, self.scale = self.base_dist.loc, self.base_dist.scale
        super().__init__(self.base_dist.batch_shape)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.loc)
        log_value = value.log()
        return self.base_dist.log_prob(log_value) - log_value

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value)."""
        return self.base_dist.cdf(as_tensor(value, self.loc).log())

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc

    @property
    def mean(self) -> Tensor:
        """The mean exp(μ + σ² / 2)."""
        return (self.loc + self.scale**2 / 2).exp().expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """The variance (exp(σ²) - 1) exp(2μ + σ²)."""
        s2 = self.scale**2
        return (s2.expm1() * (2 * self.loc + s2).exp()).expand(*self.batch_shape)
