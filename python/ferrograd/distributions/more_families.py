"""``GeneralizedPareto`` (peaks over a threshold, with an exponential limit at concentration 0)
and ``LowRankMultivariateNormal`` (a multivariate normal whose covariance is a low-rank factor's
outer product plus a diagonal)."""

from __future__ import annotations

import math
from typing import Union

import numpy as np

from .._core import Tensor
from .distribution import Distribution, Shape, as_tensor
from .multivariate_normal import MultivariateNormal

Number = Union[Tensor, float]


class GeneralizedPareto(Distribution):
    """The generalized Pareto distribution: with ``z = (x - loc) / scale`` and concentration ξ,
    density ``(1 + ξ z)^(-1/ξ - 1) / scale`` on ``x ≥ loc`` (and ``x ≤ loc - scale / ξ`` for ξ < 0);
    ξ = 0 is the exponential ``exp(-z) / scale``. Reparametrised through the inverse CDF."""

    has_rsample = True

    def __init__(self, loc: Number, scale: Number, concentration: Number) -> None:
        self.loc = as_tensor(loc, scale if isinstance(scale, Tensor) else concentration).float()
        self.scale, self.concentration = as_tensor(scale, self.loc).float(), as_tensor(concentration, self.loc).float()
        super().__init__(np.broadcast_shapes(tuple(self.loc.shape), tuple(self.scale.shape),
                                             tuple(self.concentration.shape)))

    def _near_zero(self) -> Tensor:
        return self.concentration.abs() < 1e-6

    def _safe_xi(self) -> Tensor:
        from .. import where

        return where(self._near_zero(), 1.0, self.concentration)

    def icdf(self, value: Tensor) -> Tensor:
        """``loc + scale ((1 - u)^(-ξ) - 1) / ξ``, or ``loc - scale log(1 - u)`` at ξ = 0."""
        from .. import where

        u = as_tensor(value, self.loc)
        xi = self._safe_xi()
        log_tail = (-u).log1p()
        general = ((-xi * log_tail).expm1()) / xi
        return self.loc + self.scale * where(self._near_zero(), -log_tail, general)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import rand

        shape = self._extended_shape(sample_shape)
        return self.icdf(rand(*shape).to(self.loc.device))

    def log_prob(self, value: Tensor) -> Tensor:
        from .. import where

        z = (as_tensor(value, self.loc) - self.loc) / self.scale
        xi = self._safe_xi()
        general = -(1 / xi + 1) * (xi * z).log1p()
        inside = (z >= 0) & ((xi * z > -1) | self._near_zero())
        density = where(self._near_zero(), -z, general) - self.scale.log()
        return where(inside, density, -math.inf)

    def cdf(self, value: Tensor) -> Tensor:
        """``1 - (1 + ξ z)^(-1/ξ)`` (``1 - exp(-z)`` at ξ = 0), clamped to [0, 1] outside the support."""
        from .. import where

        z = (as_tensor(value, self.loc) - self.loc) / self.scale
        xi = self._safe_xi()
        general = -(-(xi * z.clamp(min=0)).log1p() / xi).expm1()
        beyond = (xi < 0) & (xi * z <= -1)
        out = where(self._near_zero(), -(-z.clamp(min=0)).expm1(), general)
        return where(beyond, 1.0, where(z < 0, 0.0, out))

    @property
    def mean(self) -> Tensor:
        """``loc + scale / (1 - ξ)`` for ξ < 1, else inf."""
        from .. import where

        return where(self.concentration < 1, self.loc + self.scale / (1 - self.concentration), math.inf)

    @property
    def variance(self) -> Tensor:
        """``scale² / ((1 - ξ)² (1 - 2ξ))`` for ξ < 1/2, else inf."""
        from .. import where

        xi = self.concentration
        return where(xi < 0.5, self.scale ** 2 / ((1 - xi) ** 2 * (1 - 2 * xi)), math.inf)

    def entropy(self) -> Tensor:
        """``log(scale) + ξ + 1``."""
        return self.scale.log() + self.concentration + 1


class LowRankMultivariateNormal(MultivariateNormal):
    """N(``loc``, W Wᵀ + diag(D)) with ``cov_factor`` W ``[..., n, r]`` and ``cov_diag`` D
    ``[..., n]``: draws ``loc + W ε_r + sqrt(D) ε_n`` (reparametrised); densities, entropy and KL
    through the dense covariance's Cholesky factor (an n x n factorization)."""

    def __init__(self, loc: Tensor, cov_factor: Tensor, cov_diag: Tensor) -> None:
        loc = as_tensor(loc)
        if cov_factor.ndim < 2 or cov_factor.shape[-2] != loc.shape[-1] or cov_diag.shape[-1] != loc.shape[-1]:
            raise ValueError(f"LowRankMultivariateNormal: expected `cov_factor` [..., {loc.shape[-1]}, rank] and "
                             f"`cov_diag` [..., {loc.shape[-1]}] to match `loc` of shape {list(loc.shape)}, got "
                             f"{list(cov_factor.shape)} and {list(cov_diag.shape)}")
        self.cov_factor, self.cov_diag = cov_factor, cov_diag
        from ..tensor_extras import diag_embed

        covariance = cov_factor @ cov_factor.transpose(-1, -2) + diag_embed(cov_diag)
        super().__init__(loc, covariance_matrix=covariance)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import randn

        shape = self._extended_shape(sample_shape)
        rank = self.cov_factor.shape[-1]
        low = randn(*shape[:-1], rank).to(self.loc.device)
        full = randn(*shape).to(self.loc.device)
        return self.loc + (self.cov_factor @ low.unsqueeze(-1)).squeeze(-1) + self.cov_diag.sqrt() * full

    @property
    def variance(self) -> Tensor:
        """The diagonal of the covariance: ``Σ_r W² + D``."""
        return (self.cov_factor ** 2).sum(-1) + self.cov_diag
