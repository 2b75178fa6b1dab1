"""Functions of several tensors under PyTorch's names: matrix products (``mm``, ``bmm``,
``tensordot``), joins (``concat``, ``concatenate``, ``hstack``, ``vstack``), pairwise distances
(``cdist``) and coordinate grids (``meshgrid``). All are compositions of differentiable ops
(``matmul``, ``cat``, ``reshape``, ``permute``, ``expand``), so gradients and every device come
with them."""

from __future__ import annotations

import math
from typing import Sequence, Union

from . import _core
from ._core import Tensor
from .linalg import vector_norm
from .tensor_methods import _sqrt_with_zero_gradient


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices, [n, k] @ [k, m]."""
    return input.mm(mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """The products of two batches of matrices, [B, n, k] @ [B, k, m]."""
    return input.bmm(mat2)


def concat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along ``dim`` (``cat``)."""
    return _core.cat(list(tensors), dim)


concatenate = concat


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined column-wise: along dimension 0 when they are 1-D (0-d ones count as
    1-D), else along dimension 1."""
    pieces = [t.reshape(1) if t.ndim == 0 else t for t in tensors]
    return _core.cat(pieces, 0 if pieces and pieces[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined row-wise, along dimension 0, after turning 0-d and 1-D tensors into rows
    ([n] becomes [1, n])."""
    return _core.cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def _contracted(t: Tensor, dims: Union[int, Sequence[int]], arg: str) -> list[int]:
    found = [dims] if isinstance(dims, int) else list(dims)
    for d in found:
        if not -t.ndim <= d < t.ndim:
            raise IndexError(f"tensordot: argument `dims` expected dimensions of `{arg}` in [{-t.ndim}, {t.ndim - 1}], "
                             f"got {d}")
    return [d % t.ndim for d in found]


def tensordot(a: Tensor, b: Tensor, dims: Union[int, Sequence[Union[int, Sequence[int]]]] = 2) -> Tensor:
    """The sum of products over dimensions of ``a`` paired with dimensions of ``b``: ``dims=n``
    pairs the last n of ``a`` with the first n of ``b``; ``dims=([1, 2], [0, 1])`` names the pairs.
    The result has ``a``'s remaining dimensions, then ``b``'s."""
    if isinstance(dims, int):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: argument `dims` expected a count in [0, {min(a.ndim, b.ndim)}], got {dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif len(dims) != 2:
        raise ValueError(f"tensordot: argument `dims` expected a count or two lists of dimensions, got {dims}")
    else:
        dims_a, dims_b = _contracted(a, dims[0], "a"), _contracted(b, dims[1], "b")
    if [a.shape[d] for d in dims_a] != [b.shape[d] for d in dims_b]:
        raise ValueError(f"tensordot: contracted dimensions {dims_a} of `a` (shape {list(a.shape)}) and {dims_b} of "
                         f"`b` (shape {list(b.shape)}) expected equal sizes")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    shape_a, shape_b = [a.shape[d] for d in free_a], [b.shape[d] for d in free_b]
    size = math.prod(a.shape[d] for d in dims_a)
    left = a.permute(*free_a, *dims_a).reshape(math.prod(shape_a), size)
    right = b.permute(*dims_b, *free_b).reshape(size, math.prod(shape_b))
    return left.matmul(right).reshape(shape_a + shape_b)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2``: [N, D] and [M, D]
    give [N, M], [B, N, D] and [B, M, D] give [B, N, M]. p = 2 uses ``|a|^2 + |b|^2 - 2 a.b``
    (clamped at 0; a zero distance has a zero gradient); other p >= 0 (``inf`` included) take the
    vector norm of every difference."""
    if x1.ndim not in (2, 3) or x2.ndim not in (2, 3) or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: arguments `x1` and `x2` expected [N, D] or [B, N, D] tensors with the same D, got "
                         f"shapes {list(x1.shape)} and {list(x2.shape)}")
    if not p >= 0:
        raise ValueError(f"cdist: argument `p` expected a non-negative number, got {p}")
    if p != 2:
        return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)
    squares = ((x1 * x1).sum(-1, True) + (x2 * x2).sum(-1).unsqueeze(-2) - 2.0 * x1.matmul(x2.mT)).clamp(0.0, None)
    return _sqrt_with_zero_gradient(squares)


def meshgrid(*tensors: Union[Tensor, Sequence[Tensor]], indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 0-d or 1-D tensors (given as arguments or as one list): output ``i``
    repeats ``tensors[i]`` along its own dimension. ``indexing='ij'`` gives each output the shape
    [len0, len1, ...]; ``'xy'`` swaps the first two dimensions (Cartesian, as numpy's default)."""
    flat = list(tensors[0]) if len(tensors) == 1 and not isinstance(tensors[0], Tensor) else list(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: argument `indexing` expected 'ij' or 'xy', got {indexing!r}")
    grids: list[Tensor] = []
    for t in flat:
        if not isinstance(t, Tensor) or t.ndim > 1:
            raise ValueError(f"meshgrid: expected 0-d or 1-D tensors, got {getattr(t, 'shape', t)}")
        grids.append(t)
    order = list(range(len(grids)))
    if indexing == "xy" and len(grids) > 1:
        order[:2] = [1, 0]
    shape = [grids[i].numel() for i in order]
    return tuple(t.reshape([-1 if order[j] == i else 1 for j in range(len(order))]).expand(*shape)
                 for i, t in enumerate(grids))
