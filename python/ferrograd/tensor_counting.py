"""Counting and repeating: ``unique``, ``bincount``, ``mode`` and ``repeat_interleave`` as Tensor
methods.

``unique`` and ``bincount`` produce values (distinct entries, counts) rather than functions of the
input, so they run on the host through numpy and carry no gradient, as in PyTorch. ``mode`` finds
its positions on the host and gathers the values, which passes gradients to them;
``repeat_interleave`` is an ``index_select`` and passes gradients. ``install()`` attaches them.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from . import _core
from ._core import Tensor


def _on(array: Any, like: Tensor) -> Tensor:
    """``array`` as a tensor on ``like``'s device."""
    values = np.asarray(array)
    # np.ascontiguousarray makes a 0-d array 1-d: restore the shape.
    return _core.Tensor.from_numpy(np.ascontiguousarray(values).reshape(values.shape)).to(like.device)


def unique(self: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: Optional[int] = None) -> Any:
    """The distinct entries in ascending order (of the flattened tensor, or the distinct slices
    along ``dim``); with ``return_inverse`` also each entry's position among them (int64, the
    input's shape), with ``return_counts`` also how often each occurs. ``sorted=False`` is accepted
    and also sorts."""
    values = self.detach().cpu().numpy()
    if dim is not None and not -values.ndim <= dim < values.ndim:
        raise ValueError(f"unique: argument `dim` expected a dimension of a {values.ndim}-d tensor, got {dim}")
    # numpy's stubs type np.unique per literal flag; these flags are the caller's.
    numpy_unique: Any = np.unique
    found = numpy_unique(values, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not (return_inverse or return_counts):
        return _on(found, self)
    out: list[Tensor] = [_on(found[0], self)]
    if return_inverse:
        shape = values.shape if dim is None else (values.shape[dim],)
        out.append(_on(found[1].reshape(shape).astype(np.int64), self))
    if return_counts:
        out.append(_on(found[-1].astype(np.int64), self))
    return tuple(out)


def bincount(self: Tensor, weights: Optional[Tensor] = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in this 1-D tensor of non-negative integers (int64,
    at least ``minlength`` long); with ``weights`` (same length), the sum of their weights
    (float32)."""
    if self.dtype not in ("int64", "int32", "uint8", "int8", "bool") or self.ndim != 1:
        raise ValueError(f"bincount: expected a 1-D tensor of non-negative integers, got dtype {self.dtype} and "
                         f"shape {list(self.shape)}")
    values = self.detach().cpu().numpy().astype(np.int64)
    if values.size and values.min() < 0:
        raise ValueError(f"bincount: expected non-negative integers, got {int(values.min())}")
    if minlength < 0:
        raise ValueError(f"bincount: argument `minlength` expected a value >= 0, got {minlength}")
    if weights is None:
        return _on(np.bincount(values, minlength=minlength).astype(np.int64), self)
    w = weights.detach().cpu().numpy()
    if w.shape != values.shape:
        raise ValueError(f"bincount: argument `weights` expected shape {list(values.shape)}, got {list(w.shape)}")
    return _on(np.bincount(values, weights=w, minlength=minlength).astype(np.float32), self)


def mode(self: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value along ``dim`` and the index of its last occurrence, as ``(values,
    indices)``: the smallest value among equally frequent ones, as PyTorch picks. NaN entries never
    equal each other, so each counts once. Gradients go to the chosen entries."""
    from .tensor_methods import ValuesIndices

    rank = max(self.ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"mode: argument `dim` expected a value in [{-rank}, {rank - 1}], got {dim}")
    source = self.reshape(1) if self.ndim == 0 else self
    axis = dim % rank
    size = source.shape[axis]
    if size == 0:
        raise ValueError(f"mode: expected a non-empty dimension {dim}, got shape {list(self.shape)}")
    host = source.detach().cpu()
    rows = np.moveaxis((host.float() if host.dtype == "bfloat16" else host).numpy(), axis, -1)
    lead = rows.shape[:-1]
    rows = rows.reshape(-1, size)
    order = np.argsort(rows, axis=1, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=1)
    starts_run = np.ones(ordered.shape, dtype=bool)
    starts_run[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    # Each position's count within its run of equal sorted values: the first position where a
    # row's count peaks ends the run of its smallest most frequent value, and (the sort being
    # stable) holds that value's last original index.
    positions = np.arange(size)
    run_start = np.maximum.accumulate(np.where(starts_run, positions, 0), axis=1)
    count = positions - run_start + 1
    peak = np.argmax(count == count.max(axis=1, keepdims=True), axis=1)
    chosen = order[np.arange(len(order)), peak].reshape(*lead, 1)
    indices = _on(np.moveaxis(chosen, -1, axis).astype(np.int64), self)
    values = source.gather(axis, indices)
    if not keepdim or self.ndim == 0:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    if self.ndim == 0:
        values, indices = values.reshape([]), indices.reshape([])
    return ValuesIndices(values, indices)


def repeat_interleave(self: Tensor, repeats: Union[int, Tensor], dim: Optional[int] = None) -> Tensor:
    """Each entry (of the flattened tensor, or each slice along ``dim``) repeated ``repeats``
    times in place, or ``repeats[i]`` times for entry i; gradients sum over the copies."""
    source = self.reshape(-1) if dim is None else self
    axis = 0 if dim is None else dim
    if not -source.ndim <= axis < source.ndim:
        raise ValueError(f"repeat_interleave: argument `dim` expected a dimension of a {source.ndim}-d tensor, "
                         f"got {dim}")
    axis %= source.ndim
    size = source.shape[axis]
    counts = np.asarray(repeats.cpu().numpy() if isinstance(repeats, Tensor) else repeats, dtype=np.int64)
    if counts.ndim > 1 or (counts.ndim == 1 and counts.shape[0] not in (1, size)) or (counts < 0).any():
        raise ValueError(f"repeat_interleave: argument `repeats` expected a non-negative integer or {size} of "
                         f"them, got {counts.tolist()}")
    index = np.repeat(np.arange(size, dtype=np.int64), np.broadcast_to(counts, (size,)))
    return source.index_select(axis, _on(index, self))


def install() -> None:
    """Attaches the methods above to :class:`Tensor`."""
    for method in (unique, bincount, mode, repeat_interleave):
        setattr(Tensor, method.__name__, method)
