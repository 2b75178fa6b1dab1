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


class OnePixel(Attack):
    """The one-pixel attack (Su et al., 2019): black-box, it sets ``pixels`` pixels of each image
    to new values found by differential evolution (``popsize`` candidates per searched
    coordinate, ``steps`` generations), minimising the softmax probability of the true class (or
    maximising the target's). ``inf_batch`` bounds the images per forward pass. No ε: read
    ``result.norms(0)`` over channels."""

    norm = "l0"
    black_box = True

    def __init__(self, model: Any, pixels: int = 1, steps: int = 10, popsize: int = 10, inf_batch: int = 128,
                 **kw: Any) -> None:
        super().__init__(model, math.inf, **kw)
        if pixels < 1 or steps < 0 or popsize < 1 or inf_batch < 1:
            raise ValueError(f"OnePixel: expected pixels >= 1, steps >= 0, popsize >= 1 and inf_batch >= 1, got "
                             f"{pixels}, {steps}, {popsize} and {inf_batch}")
        self.pixels, self.steps, self.popsize, self.inf_batch = int(pixels), int(steps), int(popsize), int(inf_batch)

    def _options(self) -> dict[str, Any]:
        return dict(kind="one_pixel", pixels=self.pixels, steps=self.steps, popsize=self.popsize,
                    inf_batch=self.inf_batch)


class SparseFool(Attack):
    """SparseFool (Modas et al., 2019; torchattacks' SparseFool), untargeted: each of ``steps``
    rounds, for the samples still classified correctly, DeepFool from the current point finds a
    boundary point, pushed ``lam`` times as far from the input; a linear solver then moves the
    input one coordinate at a time, largest component of the boundary's normal first, until it
    crosses the linearised boundary, and the step is scaled by ``1 + overshoot``. Few features
    change: read ``result.norms(0)``."""

    norm = "l0"

    def __init__(self, model: Any, steps: int = 10, lam: float = 3, overshoot: float = 0.02,
                 deepfool_steps: int = 50, **kw: Any) -> None:
        super().__init__(model, math.inf, **kw)
        if steps < 1 or deepfool_steps < 1 or not lam >= 1 or not overshoot >= 0:
            raise ValueError(f"SparseFool: expected steps >= 1, deepfool_steps >= 1, lam >= 1 and overshoot >= 0, got "
                             f"{steps}, {deepfool_steps}, {lam} and {overshoot}")
        self.steps, self.lam, self.overshoot, self.deepfool_steps = int(steps), float(lam), float(overshoot), int(deepfool_steps)

    def _options(self) -> dict[str, Any]:
        return dict(kind="sparsefool", steps=self.steps, lam=self.lam, overshoot=self.overshoot,
                    deepfool_steps=self.deepfool_steps)
