"""The projected-gradient family, with torchattacks' names and defaults (ε and α in input
units, inputs in [0, 1])."""

from __future__ import annotations

from typing import Any

from .base import Attack


class FGSM(Attack):
    """Fast gradient sign method: one step of size ε along the sign of the input gradient."""

    def __init__(self, model: Any, eps: float = 8 / 255, **kw: Any) -> None:
        super().__init__(model, eps, **kw)

    def _options(self) -> dict[str, Any]:
        return dict(eps=self.eps, alpha=self.eps, steps=1, norm="linf", start="input")


class RFGSM(Attack):
    """R+FGSM (Tramèr et al.): a random step ``alpha * sign(N(0, I))``, then one FGSM step of
    size ``eps - alpha``."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float | None = None, **kw: Any) -> None:
        super().__init__(model, eps, **kw)
        self.alpha = self.eps / 2 if alpha is None else float(alpha)
        if not 0 <= self.alpha <= self.eps:
            raise ValueError(f"RFGSM: argument `alpha` expected a value in [0, eps={self.eps}], got {self.alpha}")

    def _options(self) -> dict[str, Any]:
        return dict(eps=self.eps, alpha=self.eps - self.alpha, steps=1, norm="linf", start="signed_gaussian",
                    start_size=self.alpha)


class PGD(Attack):
    """Projected gradient descent (Madry et al.) under L∞: uniform random start in the ε-ball,
    ``steps`` signed steps of size ``alpha`` projected around the original input and clamped to
    the bounds; ``restarts`` keep each sample's best result. ``loss`` is ``"ce"`` or
    ``"margin"`` (Carlini-Wagner)."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10,
                 random_start: bool = True, restarts: int = 1, loss: str = "ce", **kw: Any) -> None:
        super().__init__(model, eps, **kw)
        if steps < 1 or restarts < 1:
            raise ValueError(f"{type(self).__name__}: `steps` and `restarts` expected >= 1, got {steps} and {restarts}")
        self.alpha, self.steps, self.random_start, self.restarts, self.loss = float(alpha), steps, random_start, restarts, loss

    def _options(self) -> dict[str, Any]:
        return dict(eps=self.eps, alpha=self.alpha, steps=self.steps, norm=self.norm,
                    start="uniform" if self.random_start else "input", restarts=self.restarts, loss=self.loss)


class PGDL2(PGD):
    """PGD under L2: steps along the L2-normalised gradient, projection onto the L2 ball, random
    start uniform in the ball."""

    norm = "l2"

    def __init__(self, model: Any, eps: float = 1.0, alpha: float = 0.2, steps: int = 10, random_start: bool = True,
                 restarts: int = 1, loss: str = "ce", **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, random_start, restarts, loss, **kw)


class BIM(PGD):
    """Basic iterative method (Kurakin et al.): PGD from the input itself (no random start)."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, random_start=False, **kw)


class MIFGSM(PGD):
    """Momentum iterative FGSM (Dong et al.): signed steps along ``decay * g + grad / ||grad||_1``."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, decay: float = 1.0,
                 **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, random_start=False, **kw)
        self.decay = float(decay)

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"momentum": self.decay}


class NIFGSM(MIFGSM):
    """Nesterov iterative FGSM (Lin et al.): MI-FGSM with each gradient taken at the look-ahead
    point ``adv + alpha * decay * g``, ``g`` the accumulated gradient (in the published code's
    scale: gradients divided by their mean absolute value); a transfer attack."""

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"nesterov": True}


class UPGD(PGD):
    """torchattacks' "ultimate" PGD: L∞ steps along the sign of ``decay * g + grad / mean|grad|``
    (MI-FGSM's momentum, which ``decay=0`` turns into plain signed steps), with the ``loss``
    ``"ce"``, ``"margin"`` or ``"dlr"``, an optional uniform ``random_start`` and EOT over
    ``eot_iter`` passes. The margin here is Carlini and Wagner's without the clamp at 0, so a
    sample already misclassified keeps moving away from its label rather than stopping."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10,
                 random_start: bool = False, loss: str = "ce", decay: float = 1.0, eot_iter: int = 1,
                 **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, random_start=random_start, loss=loss, eot_iter=eot_iter, **kw)
        if not decay >= 0:
            raise ValueError(f"UPGD: argument `decay` expected a value >= 0, got {decay}")
        self.decay = float(decay)

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"momentum": self.decay}


class Jitter(PGD):
    """Jitter (Schwinn et al., 2021; torchattacks' Jitter): L∞ PGD ascending
    ``mean_c (softmax(scale * z / ||z||∞) + std * N(0, I) - onehot(y))²`` (descending it toward
    the target when targeted), the squared distance of a jittered, temperature-scaled softmax from
    the label. Samples already misclassified have it divided by ``||x' - x||∞``, so their steps
    shrink the perturbation too. The noise is drawn from the attack's seeded stream each step."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, scale: float = 10,
                 std: float = 0.1, random_start: bool = True, **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, random_start=random_start, **kw)
        if not scale > 0 or not std >= 0:
            raise ValueError(f"Jitter: arguments `scale` and `std` expected a value > 0 and >= 0, got {scale} and {std}")
        self.scale, self.std = float(scale), float(std)

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"jitter": (self.scale, self.std)}


class FFGSM(PGD):
    """Fast FGSM (Wong et al., 2020): one step of size ``alpha`` from a uniform random start in the
    ε-ball, projected back onto the ball and the bounds (the attack Fast-AT trains on)."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 10 / 255, **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps=1, random_start=True, **kw)


class EOTPGD(PGD):
    """PGD with expectation over transformation: each gradient averages ``eot_iter`` passes of a
    randomised model (torchattacks' EOTPGD; every attack here takes ``eot_iter``)."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, eot_iter: int = 2,
                 random_start: bool = True, **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, random_start=random_start, eot_iter=eot_iter, **kw)


class TPGD(PGD):
    """TRADES' attack (Zhang et al., 2019) as an evaluation: from ``x + 0.001 N(0, I)``, signed
    steps that increase ``KL(f(x) || f(x'))``, the divergence from the model's own clean
    prediction (so it needs no labels to step), projected onto the L∞ ball and the bounds."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, **kw)

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"kind": "tpgd"}
