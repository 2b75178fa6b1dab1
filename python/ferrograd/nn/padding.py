"""Padding layers over ``F.pad``: zero, constant, reflection, replication and circular padding
of the last axis (``...1d``) or the last two axes (``...2d``)."""

from __future__ import annotations

from typing import Tuple, Union

from .._core import Tensor
from .. import functional as F
from .module import Module


class _PadNd(Module):
    """Pads the last ``_axes`` axes in ``_mode``; ``padding`` is an int (every side) or the
    (left, right[, top, bottom]) sizes, stored as that tuple, as in PyTorch."""

    _axes = 1
    _mode = "constant"

    def __init__(self, padding: Union[int, Tuple[int, ...]], value: float = 0.0) -> None:
        super().__init__()
        sides = 2 * self._axes
        if isinstance(padding, int):
            self.padding: Tuple[int, ...] = (padding,) * sides
        elif len(padding) == sides:
            self.padding = tuple(int(p) for p in padding)
        else:
            raise ValueError(f"{type(self).__name__}: argument `padding` expected an int or {sides} sizes, "
                             f"got {padding!r}")
        self.value = float(value)

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x, self.padding, self._mode, self.value)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_PadNd):
    """Pads the last axis with zeros by ``padding``: an int (both sides) or (left, right)."""

    def __init__(self, padding: Union[int, Tuple[int, int]]) -> None:
        super().__init__(padding)


class ZeroPad2d(_PadNd):
    """Pads the last two axes with zeros by ``padding``: an int (every side) or
    (left, right, top, bottom)."""

    _axes = 2

    def __init__(self, padding: Union[int, Tuple[int, int, int, int]]) -> None:
        super().__init__(padding)


class _ConstantPadNd(_PadNd):
    """Constant padding, whose repr shows the fill value."""

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last axis with ``value`` by ``padding``: an int (both sides) or (left, right)."""

    def __init__(self, padding: Union[int, Tuple[int, int]], value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two axes with ``value`` by ``padding``: an int (every side) or
    (left, right, top, bottom)."""

    _axes = 2

    def __init__(self, padding: Union[int, Tuple[int, int, int, int]], value: float) -> None:
        super().__init__(padding, value)


class ReflectionPad1d(_PadNd):
    """Pads the last axis of a 2-d or 3-d input by its reflection about the edge (the edge not
    repeated); ``padding`` is an int (both sides) or (left, right), each below the axis size."""

    _mode = "reflect"

    def __init__(self, padding: Union[int, Tuple[int, int]]) -> None:
        super().__init__(padding)


class ReflectionPad2d(_PadNd):
    """Pads the last two axes of a 3-d or 4-d input by their reflection about the edges (the edges
    not repeated); ``padding`` is an int (every side) or (left, right, top, bottom)."""

    _axes, _mode = 2, "reflect"

    def __init__(self, padding: Union[int, Tuple[int, int, int, int]]) -> None:
        super().__init__(padding)


class ReplicationPad1d(_PadNd):
    """Pads the last axis of a 2-d or 3-d input by repeating its edge elements; ``padding`` is an
    int (both sides) or (left, right)."""

    _mode = "replicate"

    def __init__(self, padding: Union[int, Tuple[int, int]]) -> None:
        super().__init__(padding)


class ReplicationPad2d(_PadNd):
    """Pads the last two axes of a 3-d or 4-d input by repeating their edge elements; ``padding``
    is an int (every side) or (left, right, top, bottom)."""

    _axes, _mode = 2, "replicate"

    def __init__(self, padding: Union[int, Tuple[int, int, int, int]]) -> None:
        super().__init__(padding)


class CircularPad1d(_PadNd):
    """Pads the last axis of a 2-d or 3-d input by wrapping around; ``padding`` is an int (both
    sides) or (left, right), each at most the axis size."""

    _mode = "circular"

    def __init__(self, padding: Union[int, Tuple[int, int]]) -> None:
        super().__init__(padding)


class CircularPad2d(_PadNd):
    """Pads the last two axes of a 3-d or 4-d input by wrapping around; ``padding`` is an int
    (every side) or (left, right, top, bottom)."""

    _axes, _mode = 2, "circular"

    def __init__(self, padding: Union[int, Tuple[int, int, int, int]]) -> None:
        super().__init__(padding)


class ZeroPad3d(_PadNd):
    """Pads the last three axes with zeros by ``padding``: an int (every side) or
    (left, right, top, bottom, front, back)."""

    _axes = 3

    def __init__(self, padding: Union[int, Tuple[int, int, int, int, int, int]]) -> None:
        super().__init__(padding)


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three axes with ``value`` by ``padding``: an int (every side) or
    (left, right, top, bottom, front, back)."""

    _axes = 3

    def __init__(self, padding: Union[int, Tuple[int, int, int, int, int, int]], value: float) -> None:
        super().__init__(padding, value)


class ReflectionPad3d(_PadNd):
    """Pads the last three axes of a 4-d or 5-d input by their reflection about the edges."""

    _axes, _mode = 3, "reflect"

    def __init__(self, padding: Union[int, Tuple[int, int, int, int, int, int]]) -> None:
        super().__init__(padding)


class ReplicationPad3d(_PadNd):
    """Pads the last three axes of a 4-d or 5-d input by repeating their edge elements."""

    _axes, _mode = 3, "replicate"

    def __init__(self, padding: Union[int, Tuple[int, int, int, int, int, int]]) -> None:
        super().__init__(padding)


class CircularPad3d(_PadNd):
    """Pads the last three axes of a 4-d or 5-d input by wrapping around."""

    _axes, _mode = 3, "circular"

    def __init__(self, padding: Union[int, Tuple[int, int, int, int, int, int]]) -> None:
        super().__init__(padding)
