"""3-D layers over [N, C, D, H, W] volumes (video, medical scans): Conv3d, MaxPool3d, AvgPool3d
and their adaptive forms, with PyTorch's names, weight layout and initialisation."""

from __future__ import annotations

from typing import Optional, Union

from .. import functional as F
from .._core import Tensor
from .._three_dimensional import IntOrTriple, _triple
from . import init
from ._param import empty_parameter
from .conv import _check_groups
from .module import Module
from .pooling import _AdaptiveMaxPool, _AdaptivePool


class Conv3d(Module):
    """3-D convolution; weight [out, in/groups, kD, kH, kW]. ``padding`` may be ``'valid'`` or
    ``'same'`` (stride 1 only)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTriple, stride: IntOrTriple = 1,
                 padding: Union[IntOrTriple, str] = 0, dilation: IntOrTriple = 1, groups: int = 1,
                 bias: bool = True) -> None:
        super().__init__()
        _check_groups("Conv3d", in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _triple("kernel_size", kernel_size)
        self.stride, self.dilation = _triple("stride", stride), _triple("dilation", dilation)
        self.padding: Union[tuple[int, int, int], str] = padding if isinstance(padding, str) else _triple("padding", padding)
        self.weight = empty_parameter((out_channels, in_channels // groups, *self.kernel_size))
        self.bias = empty_parameter((out_channels,)) if bias else None
        init.default_layer_init(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv3d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}")


class ConvTranspose3d(Module):
    """Transposed 3-D convolution (learned volumetric upsampling), as ``torch.nn.ConvTranspose3d``:
    weight [in, out/groups, kD, kH, kW], PyTorch's initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrTriple, stride: IntOrTriple = 1,
                 padding: IntOrTriple = 0, output_padding: IntOrTriple = 0, groups: int = 1, bias: bool = True,
                 dilation: IntOrTriple = 1) -> None:
        super().__init__()
        _check_groups("ConvTranspose3d", in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _triple("kernel_size", kernel_size)
        self.stride, self.padding = _triple("stride", stride), _triple("padding", padding)
        self.output_padding, self.dilation = _triple("output_padding", output_padding), _triple("dilation", dilation)
        self.weight = empty_parameter((in_channels, out_channels // groups, *self.kernel_size))
        self.bias = empty_parameter((out_channels,)) if bias else None
        init.default_layer_init(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose3d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, output_padding={self.output_padding}, bias={self.bias is not None}")


class MaxPool3d(Module):
    """Max pooling over 3-D windows; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: IntOrTriple, stride: Optional[IntOrTriple] = None, padding: IntOrTriple = 0,
                 dilation: IntOrTriple = 1, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode = kernel_size, stride, padding, dilation, ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool3d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AvgPool3d(Module):
    """Average pooling over 3-D windows; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size: IntOrTriple, stride: Optional[IntOrTriple] = None, padding: IntOrTriple = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: Optional[int] = None) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average pooling of volumes to a fixed output size."""

    _pool = staticmethod(F.adaptive_avg_pool3d)


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max pooling of volumes to a fixed output size."""

    _pool = staticmethod(F.adaptive_max_pool3d)
