"""Sparse (L0) attacks: a few input features changed by a lot."""

from __future__ import annotations

import math
from typing import Any

from .base import Attack


class JSMA(Attack):
    """JSMA, the Jacobian-based saliency map attack (Papernot et al., 2016): each iteration moves
    the pair of features whose gradients raise the target logit while lowering the others the
    most (by ``theta`` times the bounds' width; negative values lower features), until the target
    wins or ``gamma`` of the features have changed. Pass ``targets=``; untargeted, each sample
    aims at its most likely wrong class. No ε: read ``result.norms(0)``."""

    norm = "l0"

    def __init__(self, model: Any, theta: float = 1.0, gamma: float = 0.1, **kw: Any) -> None:
        super().__init__(model, math.inf, **kw)
        if theta == 0 or not math.isfinite(theta) or not 0 <= gamma <= 1:
            raise ValueError(f"JSMA: expected theta != 0 and gamma in [0, 1], got {theta} and {gamma}")
        self.theta, self.gamma = float(theta), float(gamma)

    def _options(self) -> dict[str, Any]:
        return dict(kind="jsma", theta=self.theta, gamma=self.gamma)
