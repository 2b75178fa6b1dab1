"""Randomized low-rank SVD and PCA (``torch.svd_lowrank``, ``torch.pca_lowrank``): Halko,
Martinsson and Tropp's Algorithm 5.1, a Gaussian sketch (from the seeded generator) refined by
``niter`` subspace iterations, then the exact SVD of the small projected matrix. Composed of
differentiable ops (matrix products, QR, SVD), on the input's device."""

from __future__ import annotations

from typing import Optional

from ._core import Tensor
from . import linalg


def _basis(A: Tensor, q: int, niter: int, M: Optional[Tensor]) -> Tensor:
    """An orthonormal ``[..., m, q]`` basis approximating the range of ``A - M``."""
    from . import randn

    def times(X: Tensor) -> Tensor:
        return A @ X if M is None else A @ X - M @ X

    def adjoint_times(X: Tensor) -> Tensor:
        return A.mT @ X if M is None else A.mT @ X - M.mT @ X

    sketch = randn(*A.shape[:-2], A.shape[-1], q).to(A.device)
    Q = linalg.qr(times(sketch)).Q
    for _ in range(niter):
        Q = linalg.qr(adjoint_times(Q)).Q
        Q = linalg.qr(times(Q)).Q
    return Q


def svd_lowrank(A: Tensor, q: Optional[int] = 6, niter: Optional[int] = 2,
                M: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor]:
    """``(U, S, V)`` with ``A - M ≈ U diag(S) V^T`` of rank ``q`` (6 by default; at most
    ``min(m, n)``), after ``niter`` subspace iterations (2). Exact when ``A - M`` has rank at most
    ``q``; seeded by :func:`ferrograd.manual_seed`."""
    if not isinstance(A, Tensor) or A.ndim < 2:
        raise ValueError(f"svd_lowrank: argument `A` expected a tensor of at least 2 dimensions, got "
                         f"{list(A.shape) if isinstance(A, Tensor) else type(A).__name__}")
    m, n = A.shape[-2:]
    rank = min(6 if q is None else int(q), m, n)
    iterations = 2 if niter is None else int(niter)
    if rank < 1 or iterations < 0:
        raise ValueError(f"svd_lowrank: arguments `q` and `niter` expected q >= 1 and niter >= 0, got {q} and {niter}")
    M = None if M is None else M.expand(*A.shape)
    Q = _basis(A, rank, iterations, M)
    B = Q.mT @ A if M is None else Q.mT @ A - Q.mT @ M
    U, S, Vh = linalg.svd(B, full_matrices=False)
    return Q @ U, S, Vh.mT


def pca_lowrank(A: Tensor, q: Optional[int] = None, center: bool = True,
                niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """The principal components of the rows of ``A`` (``[..., m, n]``): ``(U, S, V)`` of the
    column-centred matrix (``center``) by :func:`svd_lowrank`, with ``q = min(6, m, n)`` by
    default; the columns of ``V`` are the principal directions."""
    if not isinstance(A, Tensor) or A.ndim < 2:
        raise ValueError(f"pca_lowrank: argument `A` expected a tensor of at least 2 dimensions, got "
                         f"{list(A.shape) if isinstance(A, Tensor) else type(A).__name__}")
    m, n = A.shape[-2:]
    rank = min(6, m, n) if q is None else int(q)
    if not 0 < rank <= min(m, n):
        raise ValueError(f"pca_lowrank: argument `q` expected a value in [1, {min(m, n)}], got {q}")
    mean = A.mean(dim=-2, keepdim=True) if center else None
    return svd_lowrank(A, rank, niter, mean)
