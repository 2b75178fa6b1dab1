"""Lazy layers, as PyTorch's ``torch.nn.Lazy*``: the input size (``in_features``,
``in_channels`` or ``num_features``) is read from the first input, at which point the layer
creates its parameters (initialised as the plain layer's are, on the input's device) and becomes
that plain layer (``LazyLinear`` becomes ``Linear``). Until then it has no parameters, so build
an optimizer after a first forward pass (a dry run on one batch), as with PyTorch."""

from __future__ import annotations

from typing import Any

from .._core import Tensor
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .linear import Linear
from .module import Module
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d,
                            InstanceNorm3d)
from .volumetric import Conv3d, ConvTranspose3d

# What Module.__init__ sets that the lazy module keeps: its hooks and its training flag.
_KEPT = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks", "training")


class _LazyModule(Module):
    """Remembers the constructor's arguments; the first call builds ``_becomes`` with the size
    ``_input_size(x)`` prepended and turns into it."""

    _becomes: type = Module
    _spatial = 0  # trailing axes after the channels, to tell batched from unbatched inputs

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        object.__setattr__(self, "_lazy_arguments", (args, kwargs))

    def _input_size(self, x: Tensor) -> int:
        """The channels (axis 1, or axis 0 for an unbatched input)."""
        return int(x.shape[1] if x.ndim == self._spatial + 2 else x.shape[0])

    def has_uninitialized_params(self) -> bool:
        """Whether the parameters still wait for the first input."""
        return "_lazy_arguments" in self.__dict__

    def initialize_parameters(self, x: Tensor) -> None:
        """Creates the parameters for inputs like ``x`` and turns into the plain layer."""
        if x.ndim < 1:
            raise ValueError(f"{type(self).__name__}: expected an input with at least one dimension, got a 0-d tensor")
        args, kwargs = self.__dict__.pop("_lazy_arguments")
        built = self._becomes(self._input_size(x), *args, **kwargs)
        built.train(self.training)
        if str(x.device) != "cpu":
            built = built.to(x.device)
        for name, value in built.__dict__.items():
            if name not in _KEPT:
                object.__setattr__(self, name, value)
        object.__setattr__(self, "__class__", self._becomes)

    def forward(self, x: Tensor, *args: Any, **kwargs: Any) -> Any:
        self.initialize_parameters(x)
        return type(self).forward(self, x, *args, **kwargs)  # the plain layer's forward now

    def extra_repr(self) -> str:
        args, kwargs = self.__dict__.get("_lazy_arguments", ((), {}))
        shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return ", ".join(shown)


class LazyLinear(_LazyModule):
    """``Linear`` whose ``in_features`` is the last axis of the first input:
    ``LazyLinear(out_features, bias=True)``."""

    _becomes = Linear

    def _input_size(self, x: Tensor) -> int:
        return int(x.shape[-1])


class LazyConv1d(_LazyModule):
    """``Conv1d`` whose ``in_channels`` comes from the first input: ``LazyConv1d(out_channels,
    kernel_size, ...)``."""

    _becomes, _spatial = Conv1d, 1


class LazyConv2d(_LazyModule):
    """``Conv2d`` whose ``in_channels`` comes from the first input: ``LazyConv2d(out_channels,
    kernel_size, ...)``."""

    _becomes, _spatial = Conv2d, 2


class LazyConv3d(_LazyModule):
    """``Conv3d`` whose ``in_channels`` comes from the first input."""

    _becomes, _spatial = Conv3d, 3


class LazyConvTranspose1d(_LazyModule):
    """``ConvTranspose1d`` whose ``in_channels`` comes from the first input."""

    _becomes, _spatial = ConvTranspose1d, 1


class LazyConvTranspose2d(_LazyModule):
    """``ConvTranspose2d`` whose ``in_channels`` comes from the first input."""

    _becomes, _spatial = ConvTranspose2d, 2


class LazyConvTranspose3d(_LazyModule):
    """``ConvTranspose3d`` whose ``in_channels`` comes from the first input."""

    _becomes, _spatial = ConvTranspose3d, 3


class _LazyBatchNorm(_LazyModule):
    """A batch norm whose ``num_features`` is axis 1 of the first input."""

    def _input_size(self, x: Tensor) -> int:
        return int(x.shape[1])


class LazyBatchNorm1d(_LazyBatchNorm):
    """``BatchNorm1d`` whose ``num_features`` is axis 1 of the first input."""

    _becomes = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm):
    """``BatchNorm2d`` whose ``num_features`` is axis 1 of the first input."""

    _becomes = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm):
    """``BatchNorm3d`` whose ``num_features`` is axis 1 of the first input."""

    _becomes = BatchNorm3d


class LazyInstanceNorm1d(_LazyModule):
    """``InstanceNorm1d`` whose ``num_features`` comes from the first input."""

    _becomes, _spatial = InstanceNorm1d, 1


class LazyInstanceNorm2d(_LazyModule):
    """``InstanceNorm2d`` whose ``num_features`` comes from the first input."""

    _becomes, _spatial = InstanceNorm2d, 2


class LazyInstanceNorm3d(_LazyModule):
    """``InstanceNorm3d`` whose ``num_features`` comes from the first input."""

    _becomes, _spatial = InstanceNorm3d, 3
