"""Optimisation-based attacks (minimal perturbations rather than a fixed budget)."""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from ..training.inputs import as_dataset
from .base import Attack, AttackResult
from .targets import attack_each_target


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


class EADEN(Attack):
    """EAD, the elastic-net attack (Chen et al., 2018), untargeted: FISTA minimises
    ``c * max(z_y - max_{j != y} z_j, -kappa) + ||x' - x||_2^2 + beta * ||x' - x||_1`` with a
    projected shrinkage step that zeroes small changes, so the perturbations are sparse; a
    per-sample binary search over ``c`` (``binary_search_steps`` rounds of ``max_iterations``
    steps, starting at ``initial_const``) keeps the misclassified iterate with the smallest
    elastic-net distance ``beta * L1 + L2^2``. There is no ε: read ``result.norms(1)``. Every
    iteration runs (no early abort)."""

    norm = "l1"
    decision_rule = "EN"

    def __init__(self, model: Any, kappa: float = 0.0, lr: float = 0.01, binary_search_steps: int = 9,
                 max_iterations: int = 100, initial_const: float = 1e-3, beta: float = 1e-3, **kw: Any) -> None:
        super().__init__(model, math.inf, **kw)
        if kappa < 0 or lr <= 0 or binary_search_steps < 1 or max_iterations < 1 or initial_const <= 0 or beta < 0:
            raise ValueError(f"{type(self).__name__}: expected kappa >= 0, lr > 0, binary_search_steps >= 1, "
                             f"max_iterations >= 1, initial_const > 0 and beta >= 0; got {kappa}, {lr}, "
                             f"{binary_search_steps}, {max_iterations}, {initial_const}, {beta}")
        self.kappa, self.lr, self.binary_search_steps = float(kappa), float(lr), int(binary_search_steps)
        self.max_iterations, self.initial_const, self.beta = int(max_iterations), float(initial_const), float(beta)

    def _options(self) -> dict[str, Any]:
        return dict(kind="ead", c=self.initial_const, kappa=self.kappa, beta=self.beta, lr=self.lr,
                    steps=self.max_iterations, search_steps=self.binary_search_steps, decision_rule=self.decision_rule)


class EADL1(EADEN):
    """EAD with the L1 decision rule: the kept iterate is the misclassified one with the smallest
    ``||x' - x||_1``."""

    decision_rule = "L1"


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


class FAB(Attack):
    """FAB, the fast adaptive boundary attack (Croce and Hein, 2020), under ``norm`` ``"linf"`` or
    ``"l2"``: a minimal-norm attack. Each step linearises the boundary to the nearest other class
    (with ``targets=``, the boundary between the target and its strongest rival), projects the current point and the input onto it inside the
    bounds, and moves to a mix of the two projections stretched by ``eta`` (the input's share at
    most ``alpha_max``); points past the boundary are kept when closest so far and pulled back
    toward the input by ``beta``. Restarts after the first start at random points at half the best
    distance. A sample counts as broken when its closest adversarial point is within ``eps``; pass
    ``eps=math.inf`` for pure minimal perturbations and read ``result.norms()``.

    Targeted, the target must win: under L∞, where the target's region narrows to a corner
    between two rivals the single-boundary steps can stop short of the minimum; ``restarts`` help."""

    def __init__(self, model: Any, eps: float = 8 / 255, norm: str = "linf", steps: int = 10, restarts: int = 1,
                 alpha_max: float = 0.1, eta: float = 1.05, beta: float = 0.9, **kw: Any) -> None:
        super().__init__(model, eps, **kw)
        if norm not in ("linf", "l2"):
            raise ValueError(f"{type(self).__name__}: argument `norm` expected 'linf' or 'l2', got {norm!r}")
        if steps < 1 or restarts < 1:
            raise ValueError(f"{type(self).__name__}: `steps` and `restarts` expected >= 1, got {steps} and {restarts}")
        self.norm, self.steps, self.restarts = norm, steps, restarts
        self.alpha_max, self.eta, self.beta = float(alpha_max), float(eta), float(beta)

    def _options(self) -> dict[str, Any]:
        return dict(kind="fab", eps=self.eps, norm=self.norm, steps=self.steps, restarts=self.restarts,
                    alpha_max=self.alpha_max, eta=self.eta, beta=self.beta)


class FABT(FAB):
    """FAB-T, AutoAttack's targeted FAB: FAB toward each of the ``n_target_classes`` most likely
    wrong classes in turn, on the samples no earlier target broke (one boundary gradient per step
    instead of one per class). Each run crosses the boundary between the label and the target and,
    as in AutoAttack, counts any wrong class as success."""

    def __init__(self, model: Any, eps: float = 8 / 255, norm: str = "linf", steps: int = 100, restarts: int = 1,
                 n_target_classes: int = 9, **kw: Any) -> None:
        super().__init__(model, eps, norm, steps, restarts, **kw)
        if n_target_classes < 1:
            raise ValueError(f"FABT: argument `n_target_classes` expected >= 1, got {n_target_classes}")
        self.n_target_classes = n_target_classes

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"any_wrong_class": True}

    def __call__(self, data: Any, labels: Optional[np.ndarray] = None, targets: Optional[np.ndarray] = None) -> AttackResult:
        """Attacks ``data`` (a Dataset, ``(X, y)`` arrays, or ``X`` with ``labels``) toward each
        likely target in turn; explicit ``targets`` run one pass toward them instead."""
        if targets is not None:
            return super().__call__(data, labels, targets)
        ds = as_dataset((data, labels) if isinstance(data, np.ndarray) else data, "data", "FABT")
        return attack_each_target(self, ds, self.n_target_classes)
