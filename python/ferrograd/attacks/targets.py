"""The multi-target loop that APGD-T and FAB-T share: attack toward each of the most likely wrong
classes in turn, on the samples no earlier target broke."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Attack, AttackResult
from .gradient import FGSM


def merge(parts: list[tuple[np.ndarray, AttackResult]], base: AttackResult, targeted: bool = False) -> AttackResult:
    """``base`` with the samples at each part's indices replaced where that part succeeded."""
    raw = {"adversarial": base.adversarial.copy(), "labels": base.labels, "clean_predictions": base.clean_predictions,
           "adversarial_predictions": base.adversarial_predictions.copy(), "success": base.success.copy()}
    for idx, r in parts:
        won = r.success & ~raw["success"][idx]
        sel = idx[won]
        raw["adversarial"][sel] = r.adversarial[won]
        raw["adversarial_predictions"][sel] = r.adversarial_predictions[won]
        raw["success"][sel] = True
    return AttackResult(raw, base.inputs, targeted)


def attack_each_target(attack: Attack, ds: Any, n_target_classes: int) -> AttackResult:
    """Runs ``attack`` in targeted mode toward the k-th most likely wrong class, k = 1 ..
    ``n_target_classes``, on the samples of ``ds`` still classified correctly. A sample counts as
    broken once it is misclassified, whichever class it lands in."""
    model = attack.attacked_model
    # The clean result (success where the model already errs): a step of size zero.
    base = FGSM(model, 0.0, bounds=attack.bounds, batch_size=attack.batch_size)(ds)
    order = np.argsort(-model.predict(ds), axis=1, kind="stable")
    parts: list[tuple[np.ndarray, AttackResult]] = []
    success = base.success.copy()
    for k in range(1, min(n_target_classes, order.shape[1] - 1) + 1):
        idx = np.flatnonzero(~success)
        if not len(idx):
            break
        ranked = order[idx]
        wrong = ranked[ranked != base.labels[idx, None]].reshape(len(idx), -1)
        r = Attack.__call__(attack, ds.subset(idx.tolist()), targets=wrong[:, k - 1])
        r.success = r.adversarial_predictions != base.labels[idx]
        parts.append((idx, r))
        success[idx[r.success]] = True
    return merge(parts, base)
