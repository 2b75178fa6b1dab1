"""``prod``: the product of a tensor's entries, of all or along one dimension.

It is formed as a balanced tree of elementwise products (halves multiplied until one slice is
left), so it runs on every device with the existing multiply, and autograd through the tree gives
each entry the product of all the others: exact where entries are zero, with no division by the
entry as the closed form ``prod / x`` would need. ``install()`` attaches it to :class:`Tensor`.
"""

from __future__ import annotations

from typing import Optional

from . import _core
from ._core import Tensor
from .tensor_methods import _axis

_WIDENED_TO_INT64 = ("bool", "uint8", "int32")


def prod(self: Tensor, dim: Optional[int] = None, keepdim: bool = False, dtype: Optional[str] = None) -> Tensor:
    """The product of all entries (a 0-d tensor), or along ``dim`` (kept as size 1 with
    ``keepdim``). Integer and bool entries multiply in int64, as in PyTorch; ``dtype`` casts first.
    The product of no entries is 1."""
    t = self.to(dtype) if dtype is not None else self
    if t.dtype in _WIDENED_TO_INT64:
        t = t.to("int64")
    if dim is None:
        t, axis = t.reshape(-1), 0
    else:
        axis = _axis(t, dim, "prod")
        if t.ndim == 0:
            t = t.reshape(1)
    if t.shape[axis] == 0:
        shape = list(t.shape)
        shape[axis] = 1
        out = _core.full(shape, 1.0, t.dtype, t.device, False)
    else:
        out = t
        while out.shape[axis] > 1:
            size = out.shape[axis]
            half = size // 2
            paired = out.narrow(axis, 0, half) * out.narrow(axis, half, half)
            out = _core.cat([paired, out.narrow(axis, size - 1, 1)], axis) if size % 2 else paired
    if dim is None:
        return out.reshape([])
    if keepdim:
        return out.reshape(list(self.shape)) if self.ndim == 0 else out
    return out.squeeze(axis) if self.ndim > 0 else out.reshape([])


def install() -> None:
    """Attaches :func:`prod` to :class:`Tensor`."""
    setattr(Tensor, "prod", prod)
