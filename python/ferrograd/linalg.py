"""``fg.linalg``: vector and matrix norms under PyTorch's names, composed from differentiable ops
(the vector p-norms of :meth:`Tensor.norm`, sums, ``max`` / ``min``), so gradients and every
device come with them. Matrix norms that need singular values (``'nuc'``, 2, -2) are not
provided."""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

from ._core import Tensor
from .dtypes import FLOATING_DTYPES
from .tensor_methods import _axis

__all__ = ["norm", "vector_norm", "matrix_norm"]

Ord = Union[float, str]
Dims = Union[int, Sequence[int], None]


def _dims(x: Tensor, dim: Dims) -> Optional[list[int]]:
    if dim is None:
        return None
    return sorted({_axis(x, d, "linalg.vector_norm") for d in ([dim] if isinstance(dim, int) else dim)})


def vector_norm(x: Tensor, ord: float = 2, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (an int or a tuple; all entries when None): 2, 1,
    ``inf`` (largest magnitude), ``-inf`` (smallest), 0 (the count of nonzero entries, without a
    gradient) or any other p, ``sum(|x|^p)^(1/p)``. The 2-norm's gradient at zero is zero."""
    if x.dtype not in FLOATING_DTYPES:
        raise TypeError(f"linalg.vector_norm: argument `x` expected a floating-point tensor, got dtype {x.dtype}")
    if isinstance(ord, bool) or not isinstance(ord, (int, float)) or math.isnan(ord):
        raise ValueError(f"linalg.vector_norm: argument `ord` expected a number, got {ord!r}")
    dims = _dims(x, dim)
    if ord == 0:
        return (x != 0).to(x.dtype).sum(dims, keepdim)
    if ord > 0 or ord == -math.inf:
        return x.norm(ord, dims, keepdim)
    return x.abs().pow(float(ord)).sum(dims, keepdim).pow(1.0 / ord)


def matrix_norm(x: Tensor, ord: Ord = "fro", dim: Sequence[int] = (-2, -1), keepdim: bool = False) -> Tensor:
    """The matrix norm over the two dimensions ``dim``: ``'fro'`` (the 2-norm of the entries), 1 /
    -1 (the largest / smallest column sum of magnitudes) or ``inf`` / ``-inf`` (row sums)."""
    if len(dim) != 2 or x.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: expected two dimensions of a tensor of at least 2, got `dim` {dim} "
                         f"for shape {list(x.shape)}")
    rows, cols = (_axis(x, d, "linalg.matrix_norm") for d in dim)
    if rows == cols:
        raise ValueError(f"linalg.matrix_norm: argument `dim` expected two different dimensions, got {dim}")
    if ord == "fro":
        return vector_norm(x, 2, (rows, cols), keepdim)
    if ord not in (1, -1, math.inf, -math.inf):
        raise ValueError(f"linalg.matrix_norm: argument `ord` expected 'fro', 1, -1, inf or -inf, got {ord!r}")
    summed, picked = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = x.abs().sum(summed, True)
    out = (sums.max(picked, True) if float(ord) > 0 else sums.min(picked, True))[0]
    return out if keepdim else out.squeeze(max(rows, cols)).squeeze(min(rows, cols))


def norm(x: Tensor, ord: Union[Ord, None] = None, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """A vector or matrix norm, chosen as PyTorch does: over one ``dim`` a vector norm
    (:func:`vector_norm`, 2 unless ``ord``), over two a matrix norm (:func:`matrix_norm`,
    ``'fro'`` unless ``ord``); without ``dim``, the 2-norm of all entries when ``ord`` is None,
    else the ``ord`` norm of a 1-D (vector) or 2-D (matrix) tensor."""
    if dim is None and ord is not None:
        if x.ndim not in (1, 2):
            raise ValueError(f"linalg.norm: argument `x` expected a 1-D or 2-D tensor when `ord` is given without "
                             f"`dim`, got shape {list(x.shape)}")
        dim = list(range(x.ndim))
    dims = [dim] if isinstance(dim, int) else None if dim is None else list(dim)
    if dims is not None and len(dims) == 2:
        return matrix_norm(x, "fro" if ord is None else ord, dims, keepdim)
    if dims is not None and len(dims) != 1:
        raise ValueError(f"linalg.norm: argument `dim` expected one or two dimensions, got {dim}")
    if isinstance(ord, str):
        raise ValueError(f"linalg.norm: argument `ord` expected a number for a vector norm, got {ord!r}")
    return vector_norm(x, 2 if ord is None else ord, dims, keepdim)
