"""``torch.nn.functional``'s in-place activation forms (``relu_``, ``elu_`` ...: the activation
with ``inplace=True``, written in place where no gradient depends on it, as every ``inplace`` here
is) and its older names (``upsample``, ``upsample_nearest``, ``upsample_bilinear``,
``native_channel_shuffle``)."""

from __future__ import annotations

from typing import Optional, Sequence, Union

from ._composed_layers_functional import channel_shuffle
from ._composite_activations import elu, hardtanh
from ._core import Tensor
from ._extra_functional import celu, rrelu, selu, threshold
from ._resampling import interpolate
from .tensor_in_place import in_place_result

Size = Optional[Union[int, Sequence[int]]]
Scale = Optional[Union[float, Sequence[float]]]


def relu_(input: Tensor) -> Tensor:
    """max(x, 0) in place."""
    return in_place_result(input, input.relu(), True, "relu_")


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """Leaky ReLU in place."""
    return in_place_result(input, input.leaky_relu(negative_slope), True, "leaky_relu_")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """ELU in place."""
    return elu(input, alpha, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """Hardtanh in place."""
    return hardtanh(input, min_val, max_val, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """SELU in place."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """CELU in place."""
    return celu(input, alpha, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """Randomised leaky ReLU in place."""
    return rrelu(input, lower, upper, training, inplace=True)


def threshold_(input: Tensor, threshold_value: float, value: float) -> Tensor:
    """``threshold`` in place."""
    return threshold(input, threshold_value, value, inplace=True)


def upsample(input: Tensor, size: Size = None, scale_factor: Scale = None, mode: str = "nearest",
             align_corners: Optional[bool] = None) -> Tensor:
    """The older name of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Size = None, scale_factor: Scale = None) -> Tensor:
    """Nearest-neighbour :func:`interpolate`."""
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input: Tensor, size: Size = None, scale_factor: Scale = None) -> Tensor:
    """Bilinear :func:`interpolate` with ``align_corners=True`` (what this older name meant)."""
    return interpolate(input, size, scale_factor, "bilinear", True)


def native_channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """The same as :func:`channel_shuffle`."""
    return channel_shuffle(input, groups)
