"""Diagonals, traces, rolls, gathers and scatters, and the positions of nonzero entries, under
PyTorch's names.

``diag``, ``diagonal``, ``trace``, ``roll`` and ``scatter`` are built from differentiable ops
(``index_select``, ``cat``, ``narrow``, ``scatter_add``, ``where``), so gradients and every device
come with them. Where a scatter writes one position twice, the later entry along ``dim`` wins, as
on PyTorch's CPU. ``nonzero``, ``argwhere`` and ``count_nonzero`` are positions and counts found
on the host through numpy (int64, no gradient, as in PyTorch). ``install()`` attaches the methods
to :class:`Tensor`.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from . import _core
from ._core import Tensor
from .dtypes import FLOATING_DTYPES
from .tensor_in_place import _in_place
from .tensor_counting import _on
from .tensor_methods import _axis, _host, _index


def _float32(t: Tensor) -> Tensor:
    return t if t.dtype == "float32" else t.to("float32")


def _zeros(like: Tensor, *shape: int) -> Tensor:
    return _core.full(list(shape), 0.0, like.dtype, like.device, False)


def diagonal(self: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The entries (i, i + ``offset``) of dimensions ``dim1`` and ``dim2`` (above the main diagonal
    for a positive offset), as a new last dimension; the other dimensions stay in order. A copy,
    not a view; gradients flow back to the diagonal."""
    if self.ndim < 2:
        raise ValueError(f"diagonal: expected a tensor of at least 2 dimensions, got shape {list(self.shape)}")
    first, second = _axis(self, dim1, "diagonal", "dim1"), _axis(self, dim2, "diagonal", "dim2")
    if first == second:
        raise ValueError(f"diagonal: arguments `dim1` and `dim2` expected different dimensions, got {dim1} and {dim2}")
    rest = [d for d in range(self.ndim) if d not in (first, second)]
    rows, cols = self.shape[first], self.shape[second]
    flat = self.permute(*rest, first, second).reshape([self.shape[d] for d in rest] + [rows * cols])
    row0, col0 = max(-offset, 0), max(offset, 0)
    positions = [(row0 + i) * cols + col0 + i for i in range(max(min(rows - row0, cols - col0), 0))]
    return flat.index_select(-1, _index(positions, self))


def diag(self: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor as the diagonal ``diagonal`` of an otherwise zero square matrix, or the
    diagonal ``diagonal`` of a 2-D tensor (above the main one for a positive offset)."""
    if self.ndim == 2:
        return self.diagonal(diagonal)
    if self.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {list(self.shape)}")
    n, k = self.shape[0], abs(diagonal)
    # Each entry followed by n zeros, read as n x n: the entries land at i * (n + 1), the diagonal.
    square = _core.cat([self.unsqueeze(1), _zeros(self, n, n)], 1).reshape(-1).narrow(0, 0, n * n).reshape(n, n)
    if diagonal > 0:
        square = _core.cat([_core.cat([_zeros(self, n, k), square], 1), _zeros(self, k, n + k)], 0)
    elif diagonal < 0:
        square = _core.cat([_core.cat([_zeros(self, k, n), square], 0), _zeros(self, n + k, k)], 1)
    return square


def trace(self: Tensor) -> Tensor:
    """The sum of a matrix's main diagonal (int64 for integer entries)."""
    if self.ndim != 2:
        raise ValueError(f"trace: expected a 2-D tensor, got shape {list(self.shape)}")
    return self.diagonal().sum()


def roll(self: Tensor, shifts: Union[int, Sequence[int]], dims: Union[int, Sequence[int], None] = None) -> Tensor:
    """The entries moved ``shifts`` places along ``dims`` (ints or tuples of the same length),
    those pushed past the end coming back at the start; without ``dims`` the flattened tensor
    rolls and keeps its shape."""
    shift_list = [shifts] if isinstance(shifts, int) else list(shifts)
    if dims is None:
        if len(shift_list) != 1:
            raise ValueError(f"roll: argument `shifts` expected one shift when `dims` is None, got {shifts}")
        return roll(self.reshape(-1), shift_list[0], 0).reshape(list(self.shape))
    dim_list = [dims] if isinstance(dims, int) else list(dims)
    if len(shift_list) != len(dim_list):
        raise ValueError(f"roll: arguments `shifts` and `dims` expected the same length, got {shifts} and {dims}")
    out = self
    for shift, dim in zip(shift_list, dim_list):
        axis = _axis(self, dim, "roll", "dims")
        size = out.shape[axis]
        step = shift % size if size else 0
        if step:
            out = _core.cat([out.narrow(axis, size - step, step), out.narrow(axis, 0, size - step)], axis)
    return out


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Values of ``input`` along ``dim`` at the positions of an int64 ``index`` of the same rank
    (``out[i][j] = input[index[i][j]][j]`` for ``dim=0``)."""
    return input.gather(dim, index)


def _scatter_plan(self: Tensor, axis: int, index: Tensor,
                  src: Optional[Tensor]) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """The index on the host, the positions its entries write, whether each entry is the last to
    write its position along ``axis``, and which positions of ``self`` are written."""
    if index.dtype not in ("int64", "int32") or index.ndim != self.ndim:
        raise ValueError(f"scatter: argument `index` expected an int64 or int32 tensor of {self.ndim} dimensions, "
                         f"got dtype {index.dtype} and shape {list(index.shape)}")
    for d, size in enumerate(index.shape):
        if (d != axis and size > self.shape[d]) or (src is not None and size > src.shape[d]):
            raise ValueError(f"scatter: argument `index` expected a shape no larger than `src` in every dimension and "
                             f"than `self` apart from dimension {axis}, got {list(index.shape)} with `self` "
                             f"{list(self.shape)}" + ("" if src is None else f" and `src` {list(src.shape)}"))
    idx = _host(index).astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= self.shape[axis]):
        raise IndexError(f"scatter: argument `index` expected values in [0, {self.shape[axis]}), got values from "
                         f"{idx.min()} to {idx.max()}")
    grid = np.indices(idx.shape)
    target = tuple(idx if d == axis else grid[d] for d in range(idx.ndim))
    last = np.full(self.shape, -1, dtype=np.int64)
    np.maximum.at(last, target, grid[axis])
    return idx, target, last[target] == grid[axis], last >= 0


def _source(src: Union[Tensor, float, None], value: Optional[float]) -> Union[Tensor, float]:
    if src is not None and value is None:
        return src
    if src is None and value is not None:
        return value
    raise TypeError("scatter: expected exactly one of the arguments `src` and `value`, got "
                    f"{'both' if src is not None else 'neither'}")


def scatter(self: Tensor, dim: int, index: Tensor, src: Union[Tensor, float, None] = None,
            value: Optional[float] = None) -> Tensor:
    """A copy of ``self`` whose entries at ``index`` along ``dim`` take ``src``'s entries (a
    tensor of ``self``'s dtype) or the number ``value`` (``out[index[i][j]][j] = src[i][j]`` for
    ``dim=0``); the other positions keep ``self``'s. A position written twice takes the later entry
    along ``dim``. Gradients flow to ``self``'s kept entries and ``src``'s written ones."""
    fill = _source(src, value)
    if isinstance(fill, Tensor) and fill.dtype != self.dtype:
        raise TypeError(f"scatter: argument `src` expected dtype {self.dtype} (self's), got {fill.dtype}")
    axis = _axis(self, dim, "scatter")
    idx, target, last, written = _scatter_plan(self, axis, index, fill if isinstance(fill, Tensor) else None)
    corner = tuple(slice(0, size) for size in idx.shape)
    if self.dtype not in FLOATING_DTYPES:
        entries = _host(self).copy()
        entries[tuple(t[last] for t in target)] = _host(fill)[corner][last] if isinstance(fill, Tensor) else fill
        return _on(entries, self)
    base = _float32(self)
    if isinstance(fill, Tensor):
        kept = _core.where_(_on(last, self), _float32(fill[corner]), 0.0)
        fill = _zeros(base, *self.shape).scatter_add(axis, _index(idx, self), kept)
    out = _core.where_(_on(written, self), fill if isinstance(fill, Tensor) else float(fill), base)
    return out if self.dtype == "float32" else out.to(self.dtype)


def scatter_(self: Tensor, dim: int, index: Tensor, src: Union[Tensor, float, None] = None,
             value: Optional[float] = None) -> Tensor:
    """:meth:`scatter` written into ``self`` in place (only where no gradient depends on it; see
    ``tensor_in_place``)."""
    return _in_place(self, "scatter_", src, lambda: scatter(self, dim, index, src, value))


def nonzero(self: Tensor, as_tuple: bool = False) -> Any:
    """The positions of the nonzero entries (NaN counts as nonzero) in row-major order: an int64
    tensor of shape [count, ndim], or with ``as_tuple`` one int64 tensor per dimension."""
    values = _host(self)
    if not as_tuple:
        return _on(np.argwhere(values).astype(np.int64), self)
    found = np.nonzero(values.reshape(-1) if self.ndim == 0 else values)
    return tuple(_on(positions.astype(np.int64), self) for positions in found)


def argwhere(self: Tensor) -> Tensor:
    """The positions of the nonzero entries as an int64 tensor of shape [count, ndim]
    (``nonzero()``)."""
    return nonzero(self)


def count_nonzero(self: Tensor, dim: Union[int, Sequence[int], None] = None) -> Tensor:
    """How many entries are nonzero, of all or over ``dim`` (an int or a tuple), as int64."""
    dims = [dim] if isinstance(dim, int) else dim
    axes = None if dims is None else tuple(_axis(self, d, "count_nonzero") for d in dims)
    return _on(np.asarray(np.count_nonzero(_host(self), axis=axes), dtype=np.int64), self)


METHODS = (diag, diagonal, trace, roll, scatter, scatter_, nonzero, argwhere, count_nonzero)


def install() -> None:
    """Attaches the methods above to :class:`Tensor`."""
    for method in METHODS:
        setattr(Tensor, method.__name__, method)
