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


def _extent(d: Any, name: str) -> tuple[float, bool]:
    """A Pixle patch side: an int (pixels, >= 1) or a float in [0, 1] (a fraction of the side)."""
    if isinstance(d, bool) or not isinstance(d, (int, float)):
        raise ValueError(f"Pixle: argument `{name}` expected ints >= 1 or floats in [0, 1], got {d!r}")
    if isinstance(d, int):
        if d < 1:
            raise ValueError(f"Pixle: argument `{name}` expected ints >= 1 or floats in [0, 1], got {d!r}")
        return float(d), False
    if not 0 <= d <= 1:
        raise ValueError(f"Pixle: argument `{name}` expected ints >= 1 or floats in [0, 1], got {d!r}")
    return float(d), True


class Pixle(Attack):
    """Pixle (Pomponi et al., 2022; torchattacks' Pixle), black-box: rearranges pixels. Each
    proposal copies a random patch of the clean image (sides drawn from ``x_dimensions`` and
    ``y_dimensions``: ints are pixels, floats fractions of the side) onto destination pixels of
    the best image so far, picked by ``pixel_mapping`` ("random", or the most similar /
    most different pixel: "similarity", "distance", and their softmax-sampled "_random" forms),
    and is kept when it lowers the label's softmax probability (raises the target's). Each of
    ``restarts`` runs ``max_iterations`` proposals (``update_each_iteration=True``: one run,
    the best image updated after every improvement). ``inf_batch`` bounds the images per forward
    pass. No ε: read ``result.norms(0)``."""

    norm = "l0"
    black_box = True

    def __init__(self, model: Any, x_dimensions: Any = (2, 10), y_dimensions: Any = (2, 10),
                 pixel_mapping: str = "random", restarts: int = 20, max_iterations: int = 10,
                 update_each_iteration: bool = False, inf_batch: int = 256, **kw: Any) -> None:
        super().__init__(model, math.inf, **kw)
        mappings = ("random", "similarity", "similarity_random", "distance", "distance_random")
        if pixel_mapping.lower() not in mappings:
            raise ValueError(f"Pixle: argument `pixel_mapping` expected one of {mappings}, got {pixel_mapping!r}")
        if restarts < 0 or max_iterations < 0 or inf_batch < 1:
            raise ValueError(f"Pixle: expected restarts >= 0, max_iterations >= 0 and inf_batch >= 1, got {restarts}, "
                             f"{max_iterations} and {inf_batch}")

        def pair(d: Any, name: str) -> tuple[tuple[float, bool], tuple[float, bool]]:
            lo, hi = (d, d) if isinstance(d, (int, float)) else tuple(d)
            return _extent(lo, name), _extent(hi, name)

        self.x_dimensions, self.y_dimensions = pair(x_dimensions, "x_dimensions"), pair(y_dimensions, "y_dimensions")
        self.pixel_mapping, self.restarts, self.max_iterations = pixel_mapping.lower(), int(restarts), int(max_iterations)
        self.update_each_iteration, self.inf_batch = bool(update_each_iteration), int(inf_batch)

    def _options(self) -> dict[str, Any]:
        return dict(kind="pixle", x_dimensions=self.x_dimensions, y_dimensions=self.y_dimensions,
                    pixel_mapping=self.pixel_mapping, restarts=self.restarts, iterations=self.max_iterations,
                    update_each_iteration=self.update_each_iteration, inf_batch=self.inf_batch)
