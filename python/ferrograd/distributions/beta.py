"""Beta and Dirichlet distributions, reparametrised through normalised gamma draws
(X_i ~ Gamma(α_i, 1), X / ΣX ~ Dirichlet(α)), so ``rsample`` is differentiable in the
concentrations; formulas as ``torch.distributions``'."""

from __future__ import annotations

from typing import Union

import numpy as np

from .._core import Tensor
from .distribution import EPS, TINY, Distribution, Shape, as_tensor
from .gamma import _positive, standard_gamma

Number = Union[Tensor, float]


class Dirichlet(Distribution):
    """The Dirichlet distribution over the simplex of the last axis of ``concentration``."""

    has_rsample = True

    def __init__(self, concentration: Tensor) -> None:
        concentration = as_tensor(concentration)
        if concentration.ndim < 1:
            raise ValueError("Dirichlet: argument `concentration` expected at least one dimension (the categories), "
                             "got a 0-d tensor")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:])

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        draws = standard_gamma(self.concentration.expand(*self._extended_shape(sample_shape)))
        return (draws / draws.sum(-1, keepdim=True)).clamp(min=TINY)

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.concentration)
        alpha = self.concentration
        return ((alpha - 1) * value.log()).sum(-1) + alpha.sum(-1).lgamma() - alpha.lgamma().sum(-1)

    def entropy(self) -> Tensor:
        alpha = self.concentration
        k = alpha.shape[-1]
        total = alpha.sum(-1)
        return (alpha.lgamma().sum(-1) - total.lgamma() - (k - total) * total.digamma()
                - ((alpha - 1) * alpha.digamma()).sum(-1))

    @property
    def mean(self) -> Tensor:
        """The mean α / Σα of each distribution of the batch."""
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def variance(self) -> Tensor:
        """The variance α (α0 - α) / (α0² (α0 + 1)) of each coordinate, α0 = Σα."""
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total**2 * (total + 1))


class Beta(Distribution):
    """The beta distribution on (0, 1) with ``concentration1`` (α, the exponent of x) and
    ``concentration0`` (β, the exponent of 1 - x)."""

    has_rsample = True

    def __init__(self, concentration1: Number, concentration0: Number) -> None:
        _positive("Beta", "concentration1", concentration1)
        _positive("Beta", "concentration0", concentration0)
        self.concentration1 = as_tensor(concentration1, concentration0)
        self.concentration0 = as_tensor(concentration0, concentration1)
        shape = np.broadcast_shapes(tuple(self.concentration1.shape), tuple(self.concentration0.shape))
        super().__init__(shape)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration1.expand(*shape))
        y = standard_gamma(self.concentration0.expand(*shape))
        # Inside (0, 1): 1 - EPS / 2 is the largest float32 below 1.
        return (x / (x + y)).clamp(TINY, 1 - EPS / 2)

    def _log_normaliser(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return a.lgamma() + b.lgamma() - (a + b).lgamma()

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.concentration1)
        a, b = self.concentration1, self.concentration0
        return (a - 1) * value.log() + (b - 1) * (-value).log1p() - self._log_normaliser()

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        total = a + b
        value = (self._log_normaliser() - (a - 1) * a.digamma() - (b - 1) * b.digamma()
                 + (total - 2) * total.digamma())
        return value.expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """The mean α / (α + β)."""
        return (self.concentration1 / (self.concentration1 + self.concentration0)).expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """The variance α β / ((α + β)² (α + β + 1))."""
        a, b = self.concentration1, self.concentration0
        total = a + b
        return (a * b / (total**2 * (total + 1))).expand(*self.batch_shape)
