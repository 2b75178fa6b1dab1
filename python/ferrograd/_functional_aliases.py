"""``torch.nn.functional``'s in-place activation forms (``relu_``, ``elu_`` ...: the activation
with ``inplace=True``, written in place where no gradient depends on it, as every ``inplace`` here
is), its older names (``upsample``, ``upsample_nearest``, ``upsample_bilinear``,
``native_channel_shuffle``) and the ``*_with_indices`` spellings of the pools that can return
indices."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from ._adaptive_max_pool import adaptive_max_pool2d
from ._composed_layers_functional import adaptive_max_pool1d, channel_shuffle
from ._composite_activations import elu, hardtanh
from ._core import Tensor
from ._extra_functional import celu, rrelu, selu, threshold
from ._fractional_max_pool import fractional_max_pool2d, fractional_max_pool3d
from ._resampling import interpolate
from ._three_dimensional import adaptive_max_pool3d
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


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> Any:
    """:func:`adaptive_max_pool1d` returning ``(output, indices)``."""
    return adaptive_max_pool1d(input, output_size, return_indices=True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> Any:
    """:func:`adaptive_max_pool2d` returning ``(output, indices)``."""
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> Any:
    """:func:`adaptive_max_pool3d` returning ``(output, indices)``."""
    return adaptive_max_pool3d(input, output_size, return_indices=True)


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = True,
                                       _random_samples: Optional[Tensor] = None) -> Any:
    """:func:`fractional_max_pool2d` returning ``(output, indices)``."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = True,
                                       _random_samples: Optional[Tensor] = None) -> Any:
    """:func:`fractional_max_pool3d` returning ``(output, indices)``."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples)
