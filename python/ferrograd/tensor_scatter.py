"""``masked_scatter`` and ``scatter_reduce`` with PyTorch's semantics. Positions are worked out on
the host; values move through differentiable ops (a gather for ``masked_scatter``, scatter-adds
for the sums and means), and the maxima and minima pass their gradient, as PyTorch does, evenly to
every entry equal to the result."""

from __future__ import annotations

from typing import Optional

import numpy as np

from . import _core
from ._core import Tensor
from .autograd_function import Function, FunctionCtx
from .tensor_in_place import _in_place
from .tensor_methods import _axis, _index


def masked_scatter(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """``self`` with the positions where ``mask`` (broadcast to ``self``) is true filled, in
    row-major order, by consecutive elements of ``source``."""
    from . import where

    full = mask.expand(*self.shape) if tuple(mask.shape) != tuple(self.shape) else mask
    picked = full.detach().cpu().numpy().astype(bool)
    needed = int(picked.sum())
    if source.numel() < needed:
        raise ValueError(f"masked_scatter: argument `source` expected at least {needed} elements (the mask's true "
                         f"entries), got {source.numel()}")
    order = np.clip(np.cumsum(picked.reshape(-1)) - 1, 0, None)
    taken = source.reshape(-1).index_select(0, _index(order, self)).reshape(*self.shape)
    return where(full, taken.to(self.dtype), self)


def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """:func:`masked_scatter` written into ``self`` in place."""
    return _in_place(self, "masked_scatter_", source, lambda: masked_scatter(self, mask, source))


class _ScatterExtremum(Function):
    """The scatter maximum or minimum: computed on the host; its gradient is shared evenly by the
    entries (of ``src``, and of ``self`` with ``include_self``) equal to each result, and passes
    unchanged to the entries of ``self`` no index names."""

    @staticmethod
    def forward(ctx: FunctionCtx, self: Tensor, src: Tensor, axis: int, index: Tensor, largest: bool,  # type: ignore[override]
                include_self: bool) -> Tensor:
        base, values = self.detach().cpu().numpy(), src.detach().cpu().numpy()
        target = _targets(index, axis)
        touched = _touched(base.shape, target)
        out = base.copy() if include_self else np.where(touched, -np.inf if largest else np.inf, base)
        (np.maximum if largest else np.minimum).at(out, target, values)
        self_hit = include_self & (base == out) & touched
        src_hit = values == out[target]
        counts = self_hit.astype(np.float64)
        np.add.at(counts, target, src_hit.astype(np.float64))
        ctx.plan = (target, touched, self_hit, src_hit, np.where(counts == 0, 1.0, counts))  # type: ignore[attr-defined]
        return _core.Tensor.from_numpy(np.ascontiguousarray(out.astype(base.dtype))).to(self.device)

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Optional[Tensor], ...]:  # type: ignore[override]
        target, touched, self_hit, src_hit, counts = ctx.plan  # type: ignore[attr-defined]
        g = grad.detach().cpu().numpy()
        share = g / counts
        g_src = np.where(src_hit, share[target], 0.0).astype(g.dtype)
        g_self = np.where(touched, np.where(self_hit, share, 0.0), g).astype(g.dtype)

        def back(a: np.ndarray) -> Tensor:
            return _core.Tensor.from_numpy(np.ascontiguousarray(a)).to(grad.device)

        return back(g_self), back(g_src), None, None, None, None


def _targets(index: Tensor, axis: int) -> tuple[np.ndarray, ...]:
    """The full coordinates that the entries of ``index`` name: their own, with ``axis`` replaced."""
    positions = index.detach().cpu().numpy().astype(np.int64)
    grid = np.indices(positions.shape)
    return tuple(positions if d == axis else grid[d] for d in range(positions.ndim))


def _touched(shape: tuple[int, ...], target: tuple[np.ndarray, ...]) -> np.ndarray:
    """Which entries of an array of ``shape`` the coordinates ``target`` name."""
    hit = np.zeros(shape, bool)
    hit[target] = True
    return hit


def scatter_reduce(self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduces the values of ``src`` into ``self`` at the positions ``index`` names along ``dim``
    (``reduce`` "sum", "mean", "amax" or "amin"; with ``include_self=False`` the entries of
    ``self`` that receive values do not take part). "mean" divides by the number of values
    reduced at each entry (including ``self``'s own when it takes part)."""
    axis = _axis(self, dim, "scatter_reduce")
    if reduce not in ("sum", "mean", "amax", "amin"):
        raise ValueError(f"scatter_reduce: argument `reduce` expected 'sum', 'mean', 'amax' or 'amin', got {reduce!r}"
                         + (" ('prod' is not supported)" if reduce == "prod" else ""))
    if index.ndim != self.ndim or tuple(index.shape) != tuple(src.shape):
        raise ValueError(f"scatter_reduce: expected `index` and `src` of the same shape and `self`'s rank, got "
                         f"{list(index.shape)}, {list(src.shape)} and {list(self.shape)}")
    if reduce in ("amax", "amin"):
        return _ScatterExtremum.apply(self, src, axis, index, reduce == "amax", include_self)
    target = _targets(index, axis)
    touched = _touched(tuple(self.shape), target)
    kept = self if include_self else self * _core.Tensor.from_numpy(~touched).to(self.device).to(self.dtype)
    total = kept.scatter_add(axis, index, src)
    if reduce == "sum":
        return total
    counts = touched * (1.0 if include_self else 0.0)
    np.add.at(counts, target, 1.0)
    counts = np.where(counts == 0, 1.0, counts)
    return total / _core.Tensor.from_numpy(counts.astype(np.float32)).to(self.device)


def scatter_reduce_(self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    """:func:`scatter_reduce` written into ``self`` in place."""
    return _in_place(self, "scatter_reduce_", src,
                     lambda: scatter_reduce(self, dim, index, src, reduce, include_self=include_self))


def install() -> None:
    """Attaches the methods to :class:`Tensor`."""
    for method in (masked_scatter, masked_scatter_, scatter_reduce, scatter_reduce_):
        setattr(Tensor, method.__name__, method)

