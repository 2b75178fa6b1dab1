"""The multivariate normal distribution, given by a covariance matrix, a precision matrix or a
lower-triangular scale (its Cholesky factor L, which every formula uses: draws loc + L ε,
Mahalanobis distances through a solve with L, log-determinants from L's diagonal)."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from .._core import Tensor
from .. import linalg
from .distribution import Distribution, Shape, as_tensor


def _triangular_solve(scale_tril: Tensor, rhs: Tensor) -> Tensor:
    """L⁻¹ rhs for matrices ``rhs``, L's batch broadcast to theirs."""
    batch = tuple(np.broadcast_shapes(tuple(scale_tril.shape[:-2]), tuple(rhs.shape[:-2])))
    k = scale_tril.shape[-1]
    return linalg.solve(scale_tril.expand(*batch, k, k), rhs.expand(*batch, k, rhs.shape[-1]))


class MultivariateNormal(Distribution):
    """N(``loc``, Σ) over the last axis of ``loc``, with Σ given by exactly one of
    ``covariance_matrix``, ``precision_matrix`` (Σ⁻¹) and ``scale_tril`` (L with Σ = L Lᵀ)."""

    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Optional[Tensor] = None,
                 precision_matrix: Optional[Tensor] = None, scale_tril: Optional[Tensor] = None) -> None:
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("MultivariateNormal: expected exactly one of `covariance_matrix`, `precision_matrix` "
                             f"and `scale_tril`, got {sum(given)}")
        self.loc = as_tensor(loc)
        if self.loc.ndim < 1:
            raise ValueError("MultivariateNormal: argument `loc` expected at least one dimension (the event), got a "
                             "0-d tensor")
        if scale_tril is not None:
            self.scale_tril = scale_tril
        elif covariance_matrix is not None:
            self.scale_tril = linalg.cholesky(covariance_matrix)
        else:
            assert precision_matrix is not None
            self.scale_tril = linalg.cholesky(linalg.inv(precision_matrix))
        k = self.loc.shape[-1]
        if self.scale_tril.ndim < 2 or tuple(self.scale_tril.shape[-2:]) != (k, k):
            raise ValueError(f"MultivariateNormal: expected a {k} x {k} matrix (or batch) to match `loc` of shape "
                             f"{list(self.loc.shape)}, got shape {list(self.scale_tril.shape)}")
        batch = np.broadcast_shapes(tuple(self.loc.shape[:-1]), tuple(self.scale_tril.shape[:-2]))
        super().__init__(batch, (k,))

    @property
    def covariance_matrix(self) -> Tensor:
        """Σ = L Lᵀ."""
        return self.scale_tril @ self.scale_tril.transpose(-1, -2)

    @property
    def precision_matrix(self) -> Tensor:
        """Σ⁻¹."""
        return linalg.inv(self.covariance_matrix)

    def _half_log_det(self) -> Tensor:
        return self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import randn

        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, device=self.loc.device)
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        difference = as_tensor(value, self.loc) - self.loc
        whitened = _triangular_solve(self.scale_tril, difference.unsqueeze(-1)).squeeze(-1)
        k = self.event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + (whitened**2).sum(-1)) - self._half_log_det()

    def entropy(self) -> Tensor:
        k = self.event_shape[0]
        value = 0.5 * k * (1 + math.log(2 * math.pi)) + self._half_log_det()
        return value.expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """The mean, ``loc``."""
        return self.loc.expand(*self.batch_shape, *self.event_shape)

    @property
    def variance(self) -> Tensor:
        """The diagonal of Σ."""
        return (self.scale_tril**2).sum(-1).expand(*self.batch_shape, *self.event_shape)


def multivariate_normal_kl(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    """KL(p || q) = (tr(Σq⁻¹ Σp) + Mahalanobis(μq - μp) - k + log det Σq - log det Σp) / 2."""
    k = p.event_shape[0]
    trace = (_triangular_solve(q.scale_tril, p.scale_tril) ** 2).sum((-2, -1))
    shift = _triangular_solve(q.scale_tril, (q.loc - p.loc).unsqueeze(-1)).squeeze(-1)
    return 0.5 * (trace + (shift**2).sum(-1) - k) + q._half_log_det() - p._half_log_det()
