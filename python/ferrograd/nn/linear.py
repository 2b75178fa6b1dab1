"""Fully connected layers."""

from __future__ import annotations

import math
from typing import Optional

from .. import _core
from .._core import Tensor
from .. import functional as F
from . import init
from ._param import empty_parameter
from .module import Module


class Identity(Module):
    """Returns its input."""

    def forward(self, x: Tensor) -> Tensor:
        return x

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("identity")


class Linear(Module):
    """y = x @ weight.T + bias, weight [out_features, in_features] initialised as in PyTorch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear: features expected >= 1, got in_features={in_features}, out_features={out_features}")
        self.in_features, self.out_features = in_features, out_features
        self.weight = empty_parameter((out_features, in_features))
        self.bias = empty_parameter((out_features,)) if bias else None
        init.default_layer_init(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def _forward_relu(self, x: Tensor) -> Optional[Tensor]:
        if type(self).forward is not Linear.forward:
            return None  # a subclass with its own forward runs it
        return _core.linear(x, self.weight, self.bias, relu=True)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.linear(self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """``y_k = x1 · weight[k] · x2 + bias[k]``; weight [out, in1, in2], initialised U(-1/sqrt(in1),
    1/sqrt(in1)) with the bias, as in PyTorch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        if min(in1_features, in2_features, out_features) < 1:
            raise ValueError(f"Bilinear: features expected >= 1, got {in1_features}, {in2_features}, {out_features}")
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        bound = 1 / math.sqrt(in1_features)
        self.weight = init.uniform_(empty_parameter((out_features, in1_features, in2_features)), -bound, bound)
        self.bias = init.uniform_(empty_parameter((out_features,)), -bound, bound) if bias else None

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
