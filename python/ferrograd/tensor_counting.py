"""Counting and repeating: ``unique``, ``bincount`` and ``repeat_interleave`` as Tensor methods.

``unique`` and ``bincount`` produce values (distinct entries, counts) rather than functions of the
input, so they run on the host through numpy and carry no gradient, as in PyTorch;
``repeat_interleave`` is an ``index_select`` and passes gradients. ``install()`` attaches them.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from . import _core
from ._core import Tensor


def _on(array: np.ndarray, like: Tensor) -> Tensor:
    return _core.Tensor.from_numpy(np.ascontiguousarray(array)).to(like.device)


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
    for method in (unique, bincount, repeat_interleave):
        setattr(Tensor, method.__name__, method)
