"""Vector normalisation and cosine similarity, composed from core ops (so gradients and devices
come with them), with PyTorch's formulas and guards against zero vectors."""

from __future__ import annotations

from ._core import Tensor


def normalize(x: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``: unit vectors, and zero vectors left at zero."""
    if eps <= 0:
        raise ValueError(f"normalize: argument `eps` expected a positive number, got {eps}")
    return x / x.norm(p, dim, keepdim=True).clamp(eps, None)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim`` (they broadcast):
    ``sum(x1 * x2) / sqrt(max(||x1||^2 * ||x2||^2, eps^2))``."""
    if eps <= 0:
        raise ValueError(f"cosine_similarity: argument `eps` expected a positive number, got {eps}")
    dot = (x1 * x2).sum(dim)
    squares = (x1 * x1).sum(dim) * (x2 * x2).sum(dim)
    return dot / squares.clamp(eps * eps, None).sqrt()
