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


def _checked_reduction(module: str, reduction: str, allowed: tuple[str, ...] = ("none", "mean", "sum")) -> str:
    """``reduction`` if it is one of ``allowed``; else a ValueError naming the module."""
    if reduction not in allowed:
        expected = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{module}: argument `reduction` expected one of {expected}, got {reduction!r}")
    return reduction


class MSELoss(Module):
    """Mean squared error between ``input`` and ``target`` (same shape)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _checked_reduction("MSELoss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(Module):
    """Mean absolute error between ``input`` and ``target`` (same shape)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _checked_reduction("L1Loss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(Module):
    """Quadratic below ``beta`` and linear above it (``torch.nn.SmoothL1Loss``)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__()
        if not beta >= 0.0:
            raise ValueError(f"SmoothL1Loss: argument `beta` expected a value >= 0, got {beta!r}")
        self.reduction, self.beta = _checked_reduction("SmoothL1Loss", reduction), float(beta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(Module):
    """Quadratic (``0.5 * d**2``) where ``|d| <= delta``, linear beyond (``torch.nn.HuberLoss``);
    ``delta`` times :class:`SmoothL1Loss` with ``beta=delta``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__()
        if not delta > 0.0:
            raise ValueError(f"HuberLoss: argument `delta` expected a value > 0, got {delta!r}")
        self.reduction, self.delta = _checked_reduction("HuberLoss", reduction), float(delta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class BCELoss(Module):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100), with optional
    per-element ``weight``."""

    def __init__(self, weight: Optional[Tensor] = None, reduction: str = "mean") -> None:
        super().__init__()
        self.weight, self.reduction = weight, _checked_reduction("BCELoss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(Module):
    """Binary cross-entropy on logits, computed stably, with optional per-element ``weight`` and
    a ``pos_weight`` per class for the positive term."""

    def __init__(self, weight: Optional[Tensor] = None, reduction: str = "mean",
                 pos_weight: Optional[Tensor] = None) -> None:
        super().__init__()
        self.weight, self.pos_weight = weight, pos_weight
        self.reduction = _checked_reduction("BCEWithLogitsLoss", reduction)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class KLDivLoss(Module):
    """KL divergence of ``target`` from ``input`` given as log-probabilities; ``reduction`` may be
    ``'batchmean'`` (the mathematically correct mean), and ``log_target`` says ``target`` is given
    as log-probabilities too."""

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__()
        self.reduction = _checked_reduction("KLDivLoss", reduction, ("none", "mean", "sum", "batchmean"))
        self.log_target = bool(log_target)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, self.reduction, self.log_target)
