"""Baselines any real attack must beat: the unchanged inputs and random Gaussian noise."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..training.inputs import as_dataset
from .base import Attack, AttackResult


class GN(Attack):
    """Gaussian noise (torchattacks' GN): ``x + std * N(0, I)`` clamped to the bounds, seeded; the
    baseline any real attack must beat. Untargeted, with no ε (read ``result.norms()``)."""

    def __init__(self, model: Any, std: float = 0.1, **kw: Any) -> None:
        super().__init__(model, np.inf, **kw)
        if not std >= 0:
            raise ValueError(f"GN: argument `std` expected a value >= 0, got {std}")
        self.std = float(std)

    def _options(self) -> dict[str, Any]:
        return dict(std=self.std)

    def __call__(self, data: Any, labels: Optional[np.ndarray] = None, targets: Optional[np.ndarray] = None) -> AttackResult:
        """Adds the noise to ``data`` (a Dataset, ``(X, y)`` arrays, or ``X`` with ``labels``)."""
        if targets is not None or self.targeted:
            raise ValueError("GN: Gaussian noise is untargeted")
        ds = as_dataset((data, np.asarray(labels)) if isinstance(data, np.ndarray) else data, "data", "GN")
        inputs, y = ds.get_batch(list(range(len(ds))))
        x = np.asarray(inputs, dtype=np.float32)
        if self.std == 0:
            adversarial = x.copy()
        else:
            noise = np.random.default_rng(self.seed).standard_normal(x.shape).astype(np.float32)
            adversarial = np.clip(x + self.std * noise, *self.bounds).astype(np.float32)
        model = self.attacked_model
        clean = model.predict(x, batch_size=self.batch_size).argmax(1)
        noisy = model.predict(adversarial, batch_size=self.batch_size).argmax(1)
        y = np.asarray(y, dtype=np.int64)
        raw = {"adversarial": adversarial, "labels": y, "clean_predictions": clean, "adversarial_predictions": noisy,
               "success": noisy != y}
        return AttackResult(raw, x, False)


class VANILA(GN):
    """torchattacks' VANILA: the inputs themselves, unchanged (clean accuracy through the attack
    interface, for pipelines that expect an attack)."""

    def __init__(self, model: Any, **kw: Any) -> None:
        super().__init__(model, std=0.0, **kw)

    def _options(self) -> dict[str, Any]:
        return {}
