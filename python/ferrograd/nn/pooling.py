"""Pooling layers."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from .. import _core
from .._core import Tensor
from .. import functional as F
from ..functional import IntOrPair, _pair
from .module import Module


class MaxPool2d(Module):
    """Max pooling; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: IntOrPair, stride: Optional[IntOrPair] = None, padding: IntOrPair = 0, dilation: IntOrPair = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode = kernel_size, stride, padding, dilation, ceil_mode
        self.return_indices = return_indices

    def forward(self, x: Tensor) -> Any:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def _window(self) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int], bool]:
        """(kernel, stride, padding, dilation, ceil_mode) as pairs, checked."""
        k = _pair("kernel_size", self.kernel_size)
        s = _pair("stride", self.stride) if self.stride is not None else k
        return k, s, _pair("padding", self.padding), _pair("dilation", self.dilation), bool(self.ceil_mode)

    def _to_layer(self) -> _core.Layer:
        if self.return_indices:
            return super()._to_layer()  # a (values, indices) pair: the Python call
        return _core.Layer.max_pool2d(*self._window())

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AvgPool2d(Module):
    """Average pooling; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: IntOrPair, stride: Optional[IntOrPair] = None, padding: IntOrPair = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def _to_layer(self) -> _core.Layer:
        k = _pair("kernel_size", self.kernel_size)
        s = _pair("stride", self.stride) if self.stride is not None else k
        return _core.Layer.avg_pool2d(k, s, _pair("padding", self.padding), self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class _AdaptivePool(Module):
    """Pooling to a fixed ``output_size`` with ``_pool(x, output_size)``."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    @staticmethod
    def _pool(x: Tensor, output_size: Any) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        return self._pool(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling of [N, C, L] inputs to ``output_size`` positions."""

    _pool = staticmethod(F.adaptive_avg_pool1d)


class _AdaptiveMaxPool(Module):
    """Adaptive max pooling to ``output_size``; ``return_indices`` also returns each maximum's
    position in its plane."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    @staticmethod
    def _pool(x: Tensor, output_size: Any, return_indices: bool) -> Any:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Any:
        return self._pool(x, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling of [N, C, L] inputs to ``output_size`` positions."""

    _pool = staticmethod(F.adaptive_max_pool1d)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size."""

    def __init__(self, output_size: IntOrPair) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.adaptive_avg_pool2d(_pair("output_size", self.output_size))

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling to a fixed output size (an int, or a pair whose None keeps that side)."""

    _pool = staticmethod(F.adaptive_max_pool2d)


class MaxPool1d(Module):
    """Max pooling over [N, C, L]; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: int, stride: Optional[int] = None, padding: int = 0, dilation: int = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode = kernel_size, stride, padding, dilation, ceil_mode
        self.return_indices = return_indices

    def forward(self, x: Tensor) -> Any:
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AvgPool1d(Module):
    """Average pooling over [N, C, L]; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: int, stride: Optional[int] = None, padding: int = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class _MaxUnpoolNd(Module):
    """The inverse of max pooling with indices: ``forward(input, indices, output_size=None)``
    puts each value back where its maximum was, zeros elsewhere."""

    _unpool = staticmethod(F.max_unpool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, input: Tensor, indices: Tensor, output_size: Optional[Sequence[int]] = None) -> Tensor:
        return type(self)._unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """:func:`ferrograd.functional.max_unpool1d` as a layer."""

    _unpool = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """:func:`ferrograd.functional.max_unpool2d` as a layer."""


class MaxUnpool3d(_MaxUnpoolNd):
    """:func:`ferrograd.functional.max_unpool3d` as a layer."""

    _unpool = staticmethod(F.max_unpool3d)


class _LPPoolNd(Module):
    """Power-average pooling: (Σ x^p over each window)^(1/p)."""

    _pool = staticmethod(F.lp_pool2d)

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        return type(self)._pool(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}"


class LPPool1d(_LPPoolNd):
    """:func:`ferrograd.functional.lp_pool1d` as a layer."""

    _pool = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """:func:`ferrograd.functional.lp_pool2d` as a layer."""


class LPPool3d(_LPPoolNd):
    """:func:`ferrograd.functional.lp_pool3d` as a layer."""

    _pool = staticmethod(F.lp_pool3d)


class _FractionalMaxPoolNd(Module):
    _rank = 0

    def __init__(self, kernel_size: Union[int, Sequence[int]], output_size: Optional[Union[int, Sequence[int]]] = None,
                 output_ratio: Optional[Union[float, Sequence[float]]] = None, return_indices: bool = False,
                 _random_samples: Optional[Tensor] = None) -> None:
        super().__init__()
        if (output_size is None) == (output_ratio is None):
            raise ValueError(f"{type(self).__name__}: pass exactly one of `output_size` and `output_ratio`")
        self.kernel_size, self.output_size, self.output_ratio = kernel_size, output_size, output_ratio
        self.return_indices, self._random_samples = return_indices, _random_samples

    def forward(self, x: Tensor) -> Any:
        pool = F.fractional_max_pool2d if self._rank == 2 else F.fractional_max_pool3d
        return pool(x, self.kernel_size, self.output_size, self.output_ratio, self.return_indices, self._random_samples)

    def extra_repr(self) -> str:
        size = f"output_size={self.output_size}" if self.output_size is not None else f"output_ratio={self.output_ratio}"
        return f"kernel_size={self.kernel_size}, {size}"


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling (Graham, 2014) over [N, C, H, W]: windows at pseudo-random,
    overlapping-free positions drawn per plane, to ``output_size`` or ``output_ratio`` of the
    input, as ``torch.nn.FractionalMaxPool2d``."""

    _rank = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling over [N, C, D, H, W], as ``torch.nn.FractionalMaxPool3d``."""

    _rank = 3
