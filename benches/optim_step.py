"""The optimizer step alone: ``fg.optim.X.step()`` against ``torch.optim.X.step()`` (its default,
single-tensor CPU path) on one 2M-element float32 parameter with a fixed gradient, for each update
rule. Both give the same float32 bits (tests/test_optim_bits.py), so this times the same
arithmetic."""

from __future__ import annotations

import numpy as np
import torch

import ferrograd as fg

from common import paired_median_ms

ELEMENTS = 1 << 21
RULES = [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 1e-3}), ("AdamW", {"lr": 1e-3, "weight_decay": 1e-2}),
         ("RMSprop", {"lr": 1e-2}), ("Adagrad", {"lr": 1e-2}), ("NAdam", {"lr": 1e-3}), ("Adadelta", {})]


def run(threads: int) -> list[dict]:
    """One row per update rule."""
    del threads  # both libraries already run with the runner's thread count
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(ELEMENTS).astype(np.float32)
    grad = rng.standard_normal(ELEMENTS).astype(np.float32)
    rows = []
    for name, options in RULES:
        ours = fg.tensor(p0.copy(), requires_grad=True)
        ours.grad = fg.tensor(grad)
        theirs = torch.tensor(p0.copy(), requires_grad=True)
        theirs.grad = torch.from_numpy(grad.copy())
        f_ms, t_ms = paired_median_ms(getattr(fg.optim, name)([ours], **options).step,
                                      getattr(torch.optim, name)([theirs], **options).step)
        rows.append({"workload": f"{name} step over one 2M-element parameter", "ferrograd_ms": f_ms,
                     "torch_ms": t_ms, "ratio": f_ms / t_ms, "target": 1.0})
    return rows
