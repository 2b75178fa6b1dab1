"""APGD, its targeted version, Square and the AutoAttack ensemble (Croce and Hein, 2020). The
iterations run in Rust; this file only chains the ensemble's members and keeps, per sample, the
first attack that broke it."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..training.inputs import as_dataset
from .base import Attack, AttackResult
from .optimization import FABT
from .ensemble import MultiAttack
from .targets import attack_each_target


class APGD(Attack):
    """Auto-PGD: no step size to tune (it starts at 2ε and halves at checkpoints), momentum 0.75,
    ``loss`` ``"ce"`` or ``"dlr"`` (scale-invariant difference of logits ratio), L∞ or L2."""

    def __init__(self, model: Any, eps: float = 8 / 255, steps: int = 100, norm: str = "linf", loss: str = "ce",
                 restarts: int = 1, **kw: Any) -> None:
        super().__init__(model, eps, **kw)
        if norm not in ("linf", "l2"):
            raise ValueError(f"APGD: argument `norm` expected 'linf' or 'l2', got {norm!r}")
        if steps < 1 or restarts < 1:
            raise ValueError(f"APGD: `steps` and `restarts` expected >= 1, got {steps} and {restarts}")
        self.norm, self.steps, self.loss, self.restarts = norm, steps, loss, restarts

    def _options(self) -> dict[str, Any]:
        return dict(kind="apgd", eps=self.eps, steps=self.steps, norm=self.norm, loss=self.loss, restarts=self.restarts)


class APGDT(APGD):
    """Targeted APGD with the targeted DLR loss, run toward each of the ``n_target_classes`` most
    likely wrong classes in turn, on the samples no earlier target broke."""

    def __init__(self, model: Any, eps: float = 8 / 255, steps: int = 100, norm: str = "linf", n_target_classes: int = 9,
                 restarts: int = 1, **kw: Any) -> None:
        super().__init__(model, eps, steps, norm, "dlr", restarts, **kw)
        self.n_target_classes = n_target_classes

    def __call__(self, data: Any, labels: Optional[np.ndarray] = None, targets: Optional[np.ndarray] = None) -> AttackResult:
        if targets is not None:
            return super().__call__(data, labels, targets)
        ds = as_dataset((data, labels) if isinstance(data, np.ndarray) else data, "data", "APGDT")
        return attack_each_target(self, ds, self.n_target_classes)


class Square(Attack):
    """Square attack (L∞, untargeted): score-based and black-box - it reads only the model's
    outputs, proposing random square patches of ±ε and keeping those that lower the margin.
    ``queries`` is the budget per sample; ``p_init`` the first windows' share of the image."""

    black_box = True

    def __init__(self, model: Any, eps: float = 8 / 255, queries: int = 1000, p_init: float = 0.8, **kw: Any) -> None:
        super().__init__(model, eps, **kw)
        if queries < 0:
            raise ValueError(f"Square: argument `queries` expected >= 0, got {queries}")
        self.queries, self.p_init = queries, p_init

    def _options(self) -> dict[str, Any]:
        return dict(kind="square", eps=self.eps, queries=self.queries, p_init=self.p_init)


class AutoAttack(MultiAttack):
    """The AutoAttack ensemble (Croce and Hein, 2020), standard version: APGD-CE, then APGD-T,
    FAB-T and Square (L∞ only), each on the points every earlier member left robust. The result
    holds, per sample, the first successful attack; ``robust_after`` the robust accuracy after each
    member. ``eot_iter`` > 1 gives the gradient members EOT, for randomised models."""

    def __init__(self, model: Any, eps: float = 8 / 255, norm: str = "linf", steps: int = 100, n_target_classes: int = 9,
                 queries: int = 1000, seed: int = 0, bounds: tuple[float, float] = (0.0, 1.0), batch_size: int = 256,
                 eot_iter: int = 1) -> None:
        if norm not in ("linf", "l2"):
            raise ValueError(f"AutoAttack: argument `norm` expected 'linf' or 'l2', got {norm!r}")
        common: dict[str, Any] = dict(seed=seed, bounds=bounds, batch_size=batch_size)
        gradient: dict[str, Any] = common | dict(eot_iter=eot_iter)
        super().__init__([
            APGD(model, eps, steps, norm, "ce", **gradient),
            APGDT(model, eps, steps, norm, n_target_classes, **gradient),
            FABT(model, eps, norm, steps, n_target_classes=n_target_classes, **gradient),
            *([Square(model, eps, queries, **common)] if norm == "linf" else []),
        ])
        self.norm, self.steps, self.n_target_classes, self.queries = norm, steps, n_target_classes, queries

    def _options(self) -> dict[str, Any]:
        return dict(eps=self.eps, norm=self.norm, steps=self.steps, members=[type(a).__name__ for a in self.attacks])

    def __call__(self, data: Any, labels: Optional[np.ndarray] = None, targets: Optional[np.ndarray] = None) -> AttackResult:
        """Runs the ensemble on ``data`` (a Dataset, ``(X, y)`` arrays, or ``X`` with ``labels``)."""
        if targets is not None or self.targeted:
            raise ValueError("AutoAttack: the ensemble is untargeted (APGD-T and FAB-T pick their own targets)")
        return super().__call__(data, labels)
