"""Convolution layers."""

from __future__ import annotations

from typing import Optional, Union

from .. import _core
from .._conv_padding import string_padding
from .._core import Tensor
from .. import functional as F
from ..functional import IntOrPair, _pair
from . import init
from ._param import empty_parameter
from .module import Module
from .pooling import MaxPool2d



def _check_groups(layer: str, in_channels: int, out_channels: int, groups: int) -> None:
    """Raises unless ``groups`` divides both channel counts, as a convolution layer needs."""
    if groups < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(f"{layer}: in_channels {in_channels} and out_channels {out_channels} must be divisible by "
                         f"groups {groups}")

class Conv2d(Module):
    """2-D convolution over NCHW inputs; weight [out, in/groups, kH, kW], PyTorch's initialisation.

    The output takes the input's memory format (a ``channels_last`` input gives a ``channels_last``
    output on the GPU, whose kernels read and write that layout in place). After
    ``model.to(memory_format=ferrograd.channels_last)`` the layer brings its input to that format
    first, as PyTorch's channels-last weights do; the weights themselves stay row-major, the
    layout the kernels and optimizers read.

    ``padding`` may be ``'valid'`` or ``'same'`` (stride 1 only), kept as given, as in PyTorch; a
    ``'same'`` padding that is odd along an axis pads the extra row or column at the end."""

    padding: Union[tuple[int, int], str]
    _native_padding: Optional[tuple[int, int]]  # what the fused and native kernels take; None: uneven 'same'

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrPair, stride: IntOrPair = 1,
                 padding: Union[IntOrPair, str] = 0, dilation: IntOrPair = 1, groups: int = 1,
                 bias: bool = True) -> None:
        super().__init__()
        _check_groups("Conv2d", in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair("kernel_size", kernel_size)
        self.stride, self.dilation = _pair("stride", stride), _pair("dilation", dilation)
        if isinstance(padding, str):
            (top, left), extra = string_padding("Conv2d", padding, self.kernel_size, self.stride, self.dilation)
            self.padding, self._native_padding = padding, (None if any(extra) else (top, left))
        else:
            self.padding = self._native_padding = _pair("padding", padding)
        self.weight = empty_parameter((out_channels, in_channels // groups, *self.kernel_size))
        self.bias = empty_parameter((out_channels,)) if bias else None
        self.input_format: Optional[_core.memory_format] = None
        init.default_layer_init(self.weight, self.bias)

    def _set_memory_format(self, memory_format: _core.memory_format) -> None:
        self.input_format = None if memory_format == _core.preserve_format else memory_format

    def _formatted(self, x: Tensor) -> Tensor:
        return x if self.input_format is None else x.contiguous(memory_format=self.input_format)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(self._formatted(x), self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def _forward_relu(self, x: Tensor) -> Optional[Tensor]:
        if type(self).forward is not Conv2d.forward or self._native_padding is None:
            return None  # a subclass with its own forward, or an uneven 'same' padding, runs unfused
        return _core.conv2d(self._formatted(x), self.weight, self.bias, self.stride, self._native_padding,
                            self.dilation, self.groups, relu=True)

    def _forward_relu_max_pool(self, x: Tensor, pool: "MaxPool2d") -> Optional[Tensor]:
        if (type(self).forward is not Conv2d.forward or type(pool).forward is not MaxPool2d.forward
                or pool.return_indices or self._native_padding is None):
            return None  # a subclass with its own forward, or an uneven 'same' padding, runs unfused
        return _core.conv2d(self._formatted(x), self.weight, self.bias, self.stride, self._native_padding,
                            self.dilation, self.groups, relu=True, max_pool=pool._window())

    def _to_layer(self) -> _core.Layer:
        if self._native_padding is None:
            return super()._to_layer()
        return _core.Layer.conv2d(self.weight, self.bias, self.stride, self._native_padding, self.dilation,
                                  self.groups, memory_format=self.input_format)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, bias={self.bias is not None}")


class ConvTranspose2d(Module):
    """Transposed 2-D convolution (learned upsampling) over NCHW inputs, as
    ``torch.nn.ConvTranspose2d``: weight [in, out/groups, kH, kW], PyTorch's initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrPair, stride: IntOrPair = 1,
                 padding: IntOrPair = 0, output_padding: IntOrPair = 0, groups: int = 1, bias: bool = True,
                 dilation: IntOrPair = 1) -> None:
        super().__init__()
        _check_groups("ConvTranspose2d", in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair("kernel_size", kernel_size)
        self.stride, self.padding = _pair("stride", stride), _pair("padding", padding)
        self.output_padding, self.dilation = _pair("output_padding", output_padding), _pair("dilation", dilation)
        self.weight = empty_parameter((in_channels, out_channels // groups, *self.kernel_size))
        self.bias = empty_parameter((out_channels,)) if bias else None
        init.default_layer_init(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, output_padding={self.output_padding}, bias={self.bias is not None}")


class ConvTranspose1d(Module):
    """Transposed 1-D convolution over [N, C, L] inputs, as ``torch.nn.ConvTranspose1d``: weight
    [in, out/groups, k], PyTorch's initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 output_padding: int = 0, groups: int = 1, bias: bool = True, dilation: int = 1) -> None:
        super().__init__()
        _check_groups("ConvTranspose1d", in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.output_padding, self.dilation = output_padding, dilation
        self.weight = empty_parameter((in_channels, out_channels // groups, kernel_size))
        self.bias = empty_parameter((out_channels,)) if bias else None
        init.default_layer_init(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, output_padding={self.output_padding}, bias={self.bias is not None}")


class Conv1d(Module):
    """1-D convolution over [N, C, L] inputs; weight [out, in/groups, k] (PyTorch's layout and
    initialisation, so its state dicts load). ``padding`` may be ``'valid'`` or ``'same'``, as
    :class:`Conv2d`'s."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: Union[int, str] = 0, dilation: int = 1, groups: int = 1, bias: bool = True) -> None:
        super().__init__()
        _check_groups("Conv1d", in_channels, out_channels, groups)
        if isinstance(padding, str):
            string_padding("Conv1d", padding, [kernel_size], [stride], [dilation])  # checks it as PyTorch does
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.weight = empty_parameter((out_channels, in_channels // groups, kernel_size))
        self.bias = empty_parameter((out_channels,)) if bias else None
        init.default_layer_init(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, bias={self.bias is not None}")
