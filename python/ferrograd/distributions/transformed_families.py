"""Distributions PyTorch defines as transformed simpler ones: ``InverseGamma`` (1 / Gamma),
``Kumaraswamy`` (a power map of a uniform draw), and ``OneHotCategoricalStraightThrough`` (one-hot
draws whose gradient passes to the probabilities as if the draw were the probabilities)."""

from __future__ import annotations

import math
from typing import Optional, Union

from .._core import Tensor
from .continuous import Uniform
from .discrete import OneHotCategorical
from .distribution import Shape, as_tensor
from .gamma import Gamma
from .transforms import AffineTransform, PowerTransform, TransformedDistribution

Number = Union[Tensor, float]


class InverseGamma(TransformedDistribution):
    """The distribution of 1 / X for X ~ Gamma(``concentration``, ``rate``): density
    ``rate^a / Γ(a) y^(-a-1) exp(-rate / y)``; reparametrised."""

    def __init__(self, concentration: Number, rate: Number) -> None:
        base = Gamma(concentration, rate)
        self.concentration, self.rate = base.concentration, base.rate
        super().__init__(base, PowerTransform(-1.0))

    @property
    def mean(self) -> Tensor:
        """rate / (a - 1) for a > 1, else inf."""
        from .. import where

        return where(self.concentration > 1, self.rate / (self.concentration - 1), math.inf)

    @property
    def mode(self) -> Tensor:
        """rate / (a + 1)."""
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        """rate² / ((a - 1)² (a - 2)) for a > 2, else inf."""
        from .. import where

        a = self.concentration
        return where(a > 2, self.rate ** 2 / ((a - 1) ** 2 * (a - 2)), math.inf)

    def entropy(self) -> Tensor:
        """a + log(rate) + lgamma(a) - (1 + a) digamma(a)."""
        a = self.concentration
        return a + self.rate.log() + a.lgamma() - (1 + a) * a.digamma()


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(a, b) on (0, 1): density ``a b x^(a-1) (1 - x^a)^(b-1)``, drawn as
    ``(1 - (1 - u)^(1/b))^(1/a)`` for uniform u; reparametrised."""

    def __init__(self, concentration1: Number, concentration0: Number) -> None:
        self.concentration1 = as_tensor(concentration1, concentration0).float()
        self.concentration0 = as_tensor(concentration0, self.concentration1).float()
        zero, one = self.concentration1 * 0, self.concentration1 * 0 + 1
        base = Uniform(zero.expand(*self._shape()), one.expand(*self._shape()))
        super().__init__(base, [AffineTransform(1.0, -1.0), PowerTransform(1.0 / self.concentration0),
                                AffineTransform(1.0, -1.0), PowerTransform(1.0 / self.concentration1)])

    def _shape(self) -> tuple[int, ...]:
        import numpy as np

        return tuple(np.broadcast_shapes(tuple(self.concentration1.shape), tuple(self.concentration0.shape)))

    def _raw_moment(self, n: int) -> Tensor:
        """E[X^n] = b B(1 + n / a, b)."""
        a, b = self.concentration1, self.concentration0
        log_beta = (1 + n / a).lgamma() + b.lgamma() - (1 + n / a + b).lgamma()
        return b * log_beta.exp()

    @property
    def mean(self) -> Tensor:
        """b B(1 + 1/a, b)."""
        return self._raw_moment(1)

    @property
    def mode(self) -> Tensor:
        """((a - 1) / (a b - 1))^(1/a) where a ≥ 1 and b ≥ 1 (not both 1), else NaN."""
        from .. import where

        a, b = self.concentration1, self.concentration0
        value = ((a - 1) / (a * b - 1)) ** (1 / a)
        return where((a < 1) | (b < 1) | ((a == 1) & (b == 1)), math.nan, value)

    @property
    def variance(self) -> Tensor:
        """E[X²] - E[X]²."""
        return self._raw_moment(2) - self.mean ** 2

    def entropy(self) -> Tensor:
        """(1 - 1/b) + (1 - 1/a) H_b - log(a b), with H_b = digamma(b + 1) + Euler's γ."""
        a, b = self.concentration1, self.concentration0
        harmonic = (b + 1).digamma() + 0.5772156649015329
        return (1 - 1 / b) + (1 - 1 / a) * harmonic - (a * b).log()


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """A :class:`OneHotCategorical` whose ``rsample`` is the one-hot draw in value and the
    probabilities in gradient (``draw + (probs - probs.detach())``): the straight-through
    estimator."""

    has_rsample = True

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        """A one-hot draw carrying the probabilities' gradient."""
        draws = self.sample(sample_shape)
        probs = self.probs.expand(*draws.shape)
        return draws + (probs - probs.detach())
