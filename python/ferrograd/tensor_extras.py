"""More of ``torch.*``'s tensor functions, composed of ferrograd ops: NaN-ignoring sums and means,
triangle indices, diagonal embedding and block diagonals, left-right and up-down flips, the
trapezoidal rule, membership (``isin``), ``signbit`` and ``heaviside``. ``install()`` attaches the
ones PyTorch also has as Tensor methods (``t.nansum()``, ``t.fliplr()`` ...)."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from . import _core
from ._core import Tensor
from .tensor_methods import _axis, _index

Dims = Union[int, Sequence[int], None]


def nansum(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """The sum with NaNs counted as zero."""
    from . import where

    cleaned = where(input.isnan(), 0.0, input)
    return cleaned.sum() if dim is None else cleaned.sum(dim=dim, keepdim=keepdim)


def nanmean(input: Tensor, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """The mean of the non-NaN entries (NaN where all are NaN)."""
    counted = (~input.isnan()).to(input.dtype)
    total = counted.sum() if dim is None else counted.sum(dim=dim, keepdim=keepdim)
    return nansum(input, dim, keepdim) / total


def _triangle_indices(op: str, row: int, col: int, offset: int, lower: bool, device: str) -> Tensor:
    if row < 0 or col < 0:
        raise ValueError(f"{op}: arguments `row` and `col` expected >= 0, got {row} and {col}")
    picked = np.tril_indices(row, offset, col) if lower else np.triu_indices(row, offset, col)
    return _core.Tensor.from_numpy(np.stack(picked).astype(np.int64)).to(device)


def tril_indices(row: int, col: int, offset: int = 0, device: str = "cpu") -> Tensor:
    """The [2, K] (row, column) indices of the lower triangle of a ``row`` x ``col`` matrix, row by row."""
    return _triangle_indices("tril_indices", row, col, offset, True, device)


def triu_indices(row: int, col: int, offset: int = 0, device: str = "cpu") -> Tensor:
    """The [2, K] (row, column) indices of the upper triangle of a ``row`` x ``col`` matrix, row by row."""
    return _triangle_indices("triu_indices", row, col, offset, False, device)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose ``offset`` diagonal holds the last axis of ``input`` (the others batch), with
    the two new axes at ``dim1`` and ``dim2`` (the last two by default)."""
    n = input.shape[-1]
    size = n + abs(offset)
    rows = np.arange(n) + max(0, -offset)
    cols = np.arange(n) + max(0, offset)
    flat = rows * size + cols
    batch = list(input.shape[:-1])
    out = _core.full(batch + [size * size], 0.0, input.dtype, str(input.device), False)
    positions = _index(np.broadcast_to(flat, tuple(batch) + (n,)).copy(), input)
    placed = out.scatter(-1, positions, input).reshape(*batch, size, size)
    rank = placed.ndim
    d1, d2 = _axis(placed, dim1, "diag_embed", "dim1"), _axis(placed, dim2, "diag_embed", "dim2")
    if d1 == d2:
        raise ValueError(f"diag_embed: arguments `dim1` and `dim2` expected different axes, got {dim1} and {dim2}")
    if (d1, d2) == (rank - 2, rank - 1):
        return placed
    order = [i for i in range(rank - 2)]
    for axis, source in sorted(((d1, rank - 2), (d2, rank - 1))):
        order.insert(axis, source)
    return placed.permute(*order)


def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix of the given matrices (0-d and 1-d inputs count as one row)."""
    from . import cat

    if not tensors:
        raise ValueError("block_diag: expected at least one tensor")
    blocks = [t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t for t in tensors]
    if any(b.ndim != 2 for b in blocks):
        raise ValueError(f"block_diag: expected tensors of at most two dimensions, got shapes {[list(t.shape) for t in tensors]}")
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        right = width - left - b.shape[1]
        rows.append(_core.pad(b, [(left, right)], 0.0))
        left += b.shape[1]
    return cat(rows, 0)


def fliplr(input: Tensor) -> Tensor:
    """``input`` reversed along axis 1 (left-right)."""
    if input.ndim < 2:
        raise ValueError(f"fliplr: expected at least two dimensions, got shape {list(input.shape)}")
    return input.flip((1,))


def flipud(input: Tensor) -> Tensor:
    """``input`` reversed along axis 0 (up-down)."""
    if input.ndim < 1:
        raise ValueError("flipud: expected at least one dimension, got a 0-d tensor")
    return input.flip((0,))


def _spacing(y: Tensor, x: Optional[Tensor], dx: Optional[float], axis: int) -> Any:
    """The widths between consecutive samples along ``axis``: ``dx`` or the differences of ``x``."""
    if x is None:
        return 1.0 if dx is None else float(dx)
    n = x.shape[-1] if x.ndim == 1 else x.shape[axis]
    ax = 0 if x.ndim == 1 else axis
    widths = x.narrow(ax, 1, n - 1) - x.narrow(ax, 0, n - 1)
    if x.ndim == 1 and y.ndim > 1:
        shape = [1] * y.ndim
        shape[axis] = n - 1
        widths = widths.reshape(*shape)
    return widths


def trapezoid(y: Tensor, x: Optional[Tensor] = None, *, dx: Optional[float] = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: samples ``y`` at ``x`` (or spaced ``dx`` apart, default 1)."""
    axis = _axis(y, dim, "trapezoid")
    n = y.shape[axis]
    if n < 2:
        return y.sum(dim=axis) * 0.0
    pairs = y.narrow(axis, 1, n - 1) + y.narrow(axis, 0, n - 1)
    return (pairs * _spacing(y, x, dx, axis)).sum(dim=axis) / 2


trapz = trapezoid


def cumulative_trapezoid(y: Tensor, x: Optional[Tensor] = None, *, dx: Optional[float] = None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along ``dim`` (one fewer entry than ``y`` there)."""
    axis = _axis(y, dim, "cumulative_trapezoid")
    n = y.shape[axis]
    pairs = y.narrow(axis, 1, n - 1) + y.narrow(axis, 0, n - 1)
    return (pairs * _spacing(y, x, dx, axis) / 2).cumsum(axis)


def isin(elements: Tensor, test_elements: Union[Tensor, Sequence[Any], float], *, invert: bool = False) -> Tensor:
    """A bool tensor: whether each entry of ``elements`` is among ``test_elements``."""
    values = elements.detach().cpu().numpy()
    tests = test_elements.detach().cpu().numpy() if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    found = np.isin(values, tests, invert=invert)
    return _core.Tensor.from_numpy(np.ascontiguousarray(found)).to(elements.device)


def signbit(input: Tensor) -> Tensor:
    """Whether each entry's sign bit is set (true for -0.0 and negative NaNs)."""
    values = input.detach().cpu().numpy()
    return _core.Tensor.from_numpy(np.ascontiguousarray(np.signbit(values))).to(input.device)


def heaviside(input: Tensor, values: Union[Tensor, float]) -> Tensor:
    """0 where ``input`` < 0, 1 where > 0, and ``values`` where it is 0."""
    from . import where

    step = (input > 0).to(input.dtype)
    return where(input == 0, values, step)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A matrix with the flattened ``input`` on its ``offset`` diagonal."""
    return diag_embed(input.reshape(-1), offset)


# The functions above that PyTorch also has as Tensor methods.
METHOD_FORMS = ("nansum", "nanmean", "signbit", "heaviside", "fliplr", "flipud", "diag_embed", "diagflat")


def install() -> None:
    """Attaches the method forms that :class:`Tensor` lacks (existing ones are kept)."""
    for name in METHOD_FORMS:
        if not hasattr(Tensor, name):
            setattr(Tensor, name, globals()[name])
