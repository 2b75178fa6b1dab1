"""Optimisation-based attacks (minimal perturbations rather than a fixed budget)."""

from __future__ import annotations

import math
from typing import Any

from .base import Attack


class CW(Attack):
    """Carlini-Wagner L2 (untargeted): Adam in tanh space minimises
    ``||x' - x||_2^2 + c * max(z_y - max_{j != y} z_j, -kappa)``, with a per-sample binary search
    over ``c`` (``search_steps`` rounds of ``steps`` Adam steps) that keeps the smallest successful
    perturbation. There is no ε: read ``result.norms(2)``."""

    norm = "l2"

    def __init__(self, model: Any, c: float = 1.0, kappa: float = 0.0, steps: int = 100, lr: float = 0.01,
                 search_steps: int = 5, **kw: Any) -> None:
        super().__init__(model, math.inf, **kw)
        if c <= 0 or kappa < 0 or steps < 1 or lr <= 0 or search_steps < 1:
            raise ValueError(f"CW: expected c > 0, kappa >= 0, steps >= 1, lr > 0, search_steps >= 1; got "
                             f"{c}, {kappa}, {steps}, {lr}, {search_steps}")
        self.c, self.kappa, self.steps, self.lr, self.search_steps = c, kappa, steps, lr, search_steps

    def _options(self) -> dict[str, Any]:
        return dict(kind="cw", c=self.c, kappa=self.kappa, steps=self.steps, lr=self.lr, search_steps=self.search_steps)


class DeepFool(Attack):
    """DeepFool (L2, untargeted): repeatedly steps to the nearest boundary of the classifier
    linearised at the current point until the label changes (at most ``steps`` times), overshooting
    by ``overshoot``. Minimal perturbations, no ε: read ``result.norms(2)``."""

    norm = "l2"

    def __init__(self, model: Any, steps: int = 50, overshoot: float = 0.02, **kw: Any) -> None:
        super().__init__(model, math.inf, **kw)
        if steps < 1 or overshoot < 0:
            raise ValueError(f"DeepFool: expected steps >= 1 and overshoot >= 0, got {steps} and {overshoot}")
        self.steps, self.overshoot = steps, overshoot

    def _options(self) -> dict[str, Any]:
        return dict(kind="deepfool", steps=self.steps, overshoot=self.overshoot)
