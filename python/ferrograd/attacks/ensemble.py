"""MultiAttack: attacks run in turn, each on the samples every earlier one left unbroken."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ..training.inputs import as_dataset
from .base import Attack, AttackResult
from .targets import merge


class MultiAttack(Attack):
    """Runs ``attacks`` in turn (torchattacks' MultiAttack), each on the samples every earlier
    one left unbroken; per sample the result of the first attack that succeeded. After a call,
    ``robust_after`` holds the fraction still unbroken after each attack. Targets (``targets=``
    or a targeted mode) are passed on to every member."""

    def __init__(self, attacks: Sequence[Attack]) -> None:
        if not attacks or not all(isinstance(a, Attack) for a in attacks):
            raise ValueError(f"MultiAttack: argument `attacks` expected a non-empty sequence of attacks, got {attacks!r}")
        first = attacks[0]
        super().__init__(first.model, max(a.eps for a in attacks), bounds=first.bounds, seed=first.seed,
                         batch_size=first.batch_size)
        self.attacks: list[Attack] = list(attacks)
        self.robust_after: list[float] = []

    def _options(self) -> dict[str, Any]:
        return dict(members=[type(a).__name__ for a in self.attacks])

    def set_normalization_used(self, mean: Sequence[float], std: Sequence[float]) -> None:
        """Declares the model's input normalisation to the ensemble and to every member."""
        super().set_normalization_used(mean, std)
        for attack in self.attacks:
            attack.set_normalization_used(mean, std)

    def __call__(self, data: Any, labels: Optional[np.ndarray] = None, targets: Optional[np.ndarray] = None) -> AttackResult:
        """Attacks ``data`` (a Dataset, ``(X, y)`` arrays, or ``X`` with ``labels``) with each
        member in turn."""
        ds = as_dataset((data, labels) if isinstance(data, np.ndarray) else data, "data", type(self).__name__)
        if targets is None and self.targeted:
            targets = self._mode_targets(ds)
        goal = None if targets is None else np.asarray(targets, dtype=np.int64)
        first = self.attacks[0](ds, targets=goal)
        parts: list[tuple[np.ndarray, AttackResult]] = []
        success = first.success.copy()
        self.robust_after = [float((~success).mean())]
        for attack in self.attacks[1:]:
            idx = np.flatnonzero(~success)
            if len(idx):
                r = attack(ds.subset(idx.tolist()), targets=None if goal is None else goal[idx])
                parts.append((idx, r))
                success[idx[r.success]] = True
            self.robust_after.append(float((~success).mean()))
        return merge(parts, first, targeted=goal is not None)
