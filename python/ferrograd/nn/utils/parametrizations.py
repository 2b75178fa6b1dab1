"""Built-in parametrizations (``torch.nn.utils.parametrizations``): spectral normalisation,
which divides a weight by its largest singular value (estimated by power iteration) and so
bounds a layer's Lipschitz constant, and weight normalisation, which splits a weight into a
magnitude and a direction."""

from __future__ import annotations

from typing import Optional

from ..._core import Tensor
from ... import functional as F
from ...autograd import no_grad
from ..module import Module
from .parametrize import register_parametrization

__all__ = ["spectral_norm", "weight_norm"]


def weight_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` as a matrix whose rows run along ``dim``."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.flatten(1)


def power_iteration(matrix: Tensor, u: Tensor, v: Tensor, iterations: int, eps: float, u_first: bool = True) -> None:
    """Refines the singular-vector estimates ``u`` and ``v`` of ``matrix`` in place, each step
    updating ``u`` from ``v`` and then ``v`` from ``u`` (``u_first``, PyTorch's parametrization) or
    the other way round (its older hook-based ``spectral_norm``)."""
    with no_grad():
        for _ in range(iterations):
            if u_first:
                u.copy_(F.normalize(matrix @ v, dim=0, eps=eps))
            v.copy_(F.normalize(matrix.T @ u, dim=0, eps=eps))
            if not u_first:
                u.copy_(F.normalize(matrix @ v, dim=0, eps=eps))


def spectral_sigma(matrix: Tensor, u: Tensor, v: Tensor) -> Tensor:
    """``u^T W v`` with ``u`` and ``v`` constants of the step: the gradient flows through W only."""
    return (u.clone() * (matrix @ v.clone())).sum()


class _SpectralNorm(Module):
    """``weight / sigma``, with sigma = u^T W v from the power iteration's singular vectors
    ``_u`` and ``_v`` (buffers), refined by ``n_power_iterations`` steps at each call in
    training mode. W is the weight as a matrix with ``dim`` as its rows; a 1-d weight is just
    normalised."""

    _u: Tensor
    _v: Tensor

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise IndexError(f"spectral_norm: argument `dim` expected a value in [{-ndim}, {ndim - 1}], got {dim}")
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: argument `n_power_iterations` expected a positive int, got {n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            from ... import randn  # the package's seeded generator (imported here: it defines it last)

            self.n_power_iterations = n_power_iterations
            matrix = self._matrix(weight.detach())
            h, w = matrix.shape
            self.register_buffer("_u", F.normalize(randn(h), dim=0, eps=eps))
            self.register_buffer("_v", F.normalize(randn(w), dim=0, eps=eps))
            # Start from good estimates, as PyTorch does.
            self._power_method(matrix, 15)

    def _matrix(self, weight: Tensor) -> Tensor:
        return weight_matrix(weight, self.dim)

    def _power_method(self, matrix: Tensor, iterations: int) -> None:
        power_iteration(matrix, self._u, self._v, iterations, self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        matrix = self._matrix(weight)
        if self.training:
            self._power_method(matrix.detach(), self.n_power_iterations)
        return weight / spectral_sigma(matrix, self._u, self._v)

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: Optional[int] = None) -> Module:
    """Reparametrizes ``module.<name>`` as itself over its spectral norm (largest singular value),
    estimated by ``n_power_iterations`` power-iteration steps per training-mode call (PyTorch's
    ``spectral_norm``). ``dim`` is the output dimension (default: 1 for transposed convolutions,
    else 0). The singular vectors are buffers (``parametrizations.weight.0._u`` and ``_v``)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: {type(module).__name__} has no tensor attribute {name!r}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    return register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))


def norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of ``v`` over every dimension but ``dim``, shaped to broadcast against ``v``
    (the whole tensor's norm for ``dim = -1``)."""
    if dim == -1:
        return (v * v).sum().sqrt()
    axes = [d for d in range(v.ndim) if d != dim]
    return (v * v).sum(dim=axes, keepdim=True).sqrt()


class _WeightNorm(Module):
    """``g * v / ||v||``, the norm over every dimension but ``dim`` (all of them for ``dim=-1``)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: Optional[int] = 0) -> Module:
    """Reparametrizes ``module.<name>`` as a magnitude ``g`` times a direction ``v / ||v||``
    (PyTorch's ``weight_norm``), the norm over every dimension but ``dim`` (``None`` or -1: the
    whole tensor). Both are parameters: ``parametrizations.weight.original0`` (g) and ``original1`` (v)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"weight_norm: {type(module).__name__} has no tensor attribute {name!r}")
    if dim is None:
        dim = -1  # as in PyTorch, -1 means the whole tensor, not the last dimension
    elif not -weight.ndim <= dim < weight.ndim:
        raise IndexError(f"weight_norm: argument `dim` expected a value in [{-weight.ndim}, {weight.ndim - 1}], got {dim}")
    elif dim < -1:
        dim += weight.ndim
    return register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
