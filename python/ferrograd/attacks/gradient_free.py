"""SPSA: a gradient-free attack, the check for defences that mask their gradients."""

from __future__ import annotations

from typing import Any

from .base import Attack


class SPSA(Attack):
    """SPSA (Uesato et al., 2018), L∞: estimates the gradient of the margin objective from output
    differences along ``nb_sample`` random sign vectors of size ``delta``, ascends it with Adam
    (``lr``) for ``nb_iter`` steps, and projects onto the ε-ball and the bounds. It reads only the
    model's outputs, so a model that resists PGD but falls to SPSA is masking its gradients."""

    black_box = True

    def __init__(self, model: Any, eps: float = 0.3, delta: float = 0.01, lr: float = 0.01, nb_iter: int = 1,
                 nb_sample: int = 128, **kw: Any) -> None:
        super().__init__(model, eps, **kw)
        if delta <= 0 or lr <= 0 or nb_iter < 1 or nb_sample < 1:
            raise ValueError(f"SPSA: expected delta > 0, lr > 0, nb_iter >= 1 and nb_sample >= 1, got {delta}, {lr}, "
                             f"{nb_iter} and {nb_sample}")
        self.delta, self.lr, self.nb_iter, self.nb_sample = float(delta), float(lr), int(nb_iter), int(nb_sample)

    def _options(self) -> dict[str, Any]:
        return dict(kind="spsa", eps=self.eps, delta=self.delta, lr=self.lr, steps=self.nb_iter, samples=self.nb_sample)
