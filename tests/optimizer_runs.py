"""Steps an optimizer class of ferrograd or PyTorch (the same code for both) over given
gradients, for the optimizers' parity tests."""

from __future__ import annotations

from typing import Any

import numpy as np


def step_optimizer(lib: Any, name: str, params: list[np.ndarray], grads: list[list[np.ndarray]],
                   options: dict) -> tuple[list[Any], Any]:
    """The parameters (as ``lib`` tensors) and the ``lib.optim.<name>`` optimizer after one step per
    entry of ``grads``."""
    tensors = [lib.tensor(p.copy(), requires_grad=True) for p in params]
    opt = getattr(lib.optim, name)(tensors, **options)
    for gs in grads:
        for t, g in zip(tensors, gs):
            t.grad = lib.tensor(g)
        opt.step()
    return tensors, opt
