"""Loss modules (torch.nn names). Those with a native form run inside ``fit``'s Rust loop."""

from __future__ import annotations

from typing import Optional

from .. import _core
from .. import functional as F
from .._core import Tensor
from .module import Module


class CrossEntropyLoss(Module):
    """Cross-entropy of logits against class indices (or probabilities), with class weights,
    ``ignore_index`` and label smoothing."""

    def __init__(self, weight: Optional[Tensor] = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: argument `label_smoothing` expected a value in [0, 1], got {label_smoothing}")
        self.weight, self.ignore_index, self.reduction, self.label_smoothing = weight, ignore_index, reduction, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)

    def _to_objective(self) -> _core.Objective:
        if self.reduction != "mean":
            return _core.Objective.python(self)
        return _core.Objective.cross_entropy(self.weight, self.label_smoothing, self.ignore_index)


class NLLLoss(Module):
    """Negative log-likelihood of log-probabilities (pair with ``LogSoftmax``)."""

    def __init__(self, weight: Optional[Tensor] = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__()
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)

    def _to_objective(self) -> _core.Objective:
        if self.reduction != "mean":
            return _core.Objective.python(self)
        return _core.Objective.nll(self.weight, self.ignore_index)
