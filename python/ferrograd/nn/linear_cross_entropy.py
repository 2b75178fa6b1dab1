"""``nn.LinearCrossEntropyLoss``: a linear layer to class logits and the cross-entropy, one module
(PyTorch's LM-head criterion)."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from .._core import Tensor
from .._linear_cross_entropy import linear_cross_entropy
from .linear import Linear
from .module import Module


class LinearCrossEntropyLoss(Module):
    """``F.linear_cross_entropy(input, self.linear.weight viewed [C, *out_features, in_features],
    target)``: ``self.linear`` is a :class:`Linear` from ``in_features`` to
    ``num_classes * prod(out_features)`` (flat storage, as PyTorch's), with a bias when ``bias``."""

    def __init__(self, in_features: int, num_classes: int, *, out_features: Sequence[int] = (), bias: bool = False,
                 device: Any = None, dtype: Any = None, reduction: str = "mean", weight: Optional[Tensor] = None,
                 ignore_index: Optional[int] = None, label_smoothing: float = 0.0, options: Any = None) -> None:
        super().__init__()
        self.in_features, self.num_classes = in_features, num_classes
        self.out_features = tuple(int(d) for d in out_features)
        self.linear = Linear(in_features, num_classes * math.prod(self.out_features), bias=bias)
        if device is not None:
            self.linear.to(device)
        self.reduction, self.weight, self.ignore_index = reduction, weight, ignore_index
        self.label_smoothing, self.options = label_smoothing, options

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        shape = (self.num_classes, *self.out_features, self.in_features)
        bias = self.linear.bias
        return linear_cross_entropy(input, self.linear.weight.reshape(*shape), target,
                                    linear_bias=None if bias is None else bias.reshape(self.num_classes, *self.out_features),
                                    weight=self.weight, reduction=self.reduction, ignore_index=self.ignore_index,
                                    label_smoothing=self.label_smoothing, options=self.options)
