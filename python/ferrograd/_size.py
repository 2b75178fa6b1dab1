"""``Size``: the shape of a tensor, a tuple of ints as ``torch.Size``.

``Tensor.shape`` and ``Tensor.size()`` return one. The compiled class's getters build a plain
tuple; the wrappers below re-type it without copying through ``Size.__new__``'s checks (the core's
sizes are ints already), which keeps ``t.shape`` at a few hundred nanoseconds.
"""

from __future__ import annotations

import math
import operator
from typing import Any, Iterable, Optional, SupportsIndex, Union, overload

from ._core import Tensor


class Size(tuple[int, ...]):
    """A tensor's shape, as ``torch.Size``: a tuple of ints that compares equal to the plain tuple
    with the same sizes, with :meth:`numel`, a ``fg.Size([2, 3])`` repr, and slicing, ``+`` and
    ``*`` that give a Size. Accepted wherever a shape is (``fg.zeros(t.shape)``,
    ``t.reshape(s)``, ``t.view(fg.Size([6]))``, ``t.expand(other.shape)``)."""

    def __new__(cls, sizes: Iterable[SupportsIndex] = ()) -> Size:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
            raise TypeError(f"Size: argument `sizes` expected an iterable of ints, got {sizes!r}")
        values = []
        for value in sizes:
            try:
                values.append(operator.index(value))
            except TypeError:
                raise TypeError(f"Size: argument `sizes` expected ints, got {value!r} ({type(value).__name__}) in "
                                f"{sizes!r}") from None
        return super().__new__(cls, values)

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds (1 for ``Size([])``)."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"fg.Size({list(self)})"

    @overload
    def __getitem__(self, key: SupportsIndex) -> int: ...

    @overload
    def __getitem__(self, key: slice) -> Size: ...

    def __getitem__(self, key: Union[SupportsIndex, slice]) -> Union[int, Size]:
        if isinstance(key, slice):
            return tuple.__new__(Size, tuple.__getitem__(self, key))
        return tuple.__getitem__(self, key)

    def __add__(self, other: tuple[Any, ...]) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: tuple[Any, ...]) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, count: SupportsIndex) -> Size:
        return tuple.__new__(Size, tuple.__mul__(self, count))

    def __rmul__(self, count: SupportsIndex) -> Size:
        return tuple.__new__(Size, tuple.__mul__(self, count))


# The compiled class's own getters, which the versions below wrap.
_SHAPE: Any = Tensor.shape
_SIZE: Any = Tensor.size


# The defaults bind the callables as locals: `t.shape` is on hot paths, and global lookups cost
# about a tenth of its time.
def _shape(self: Tensor, _get: Any = _SHAPE.__get__, _new: Any = tuple.__new__) -> Size:
    """The size of every axis, as a :class:`ferrograd.Size` (a tuple of ints)."""
    return _new(Size, _get(self))


def _size(self: Tensor, dim: Optional[int] = None) -> Any:
    """The size of every axis as a :class:`ferrograd.Size`, or, with ``dim``, the size of that axis
    (an int; negative ``dim`` counts from the end)."""
    if dim is None:
        return tuple.__new__(Size, _SIZE(self))
    return _SIZE(self, dim)


def install() -> None:
    """Makes ``Tensor.shape`` and ``Tensor.size()`` return a :class:`Size`."""
    _size.__name__ = "size"
    setattr(Tensor, "shape", property(_shape))
    setattr(Tensor, "size", _size)
