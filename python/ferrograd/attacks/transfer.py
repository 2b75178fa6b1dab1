"""Transfer attacks: iterative FGSM variants whose adversarial examples also fool models they were
not computed on, with torchattacks' names and defaults. The gradient transforms (input diversity,
scale copies, kernel smoothing, variance tuning) and PI-FGSM's patch-wise steps run inside the Rust
attack loop."""

from __future__ import annotations

from typing import Any

from .base import Attack
from .gradient import MIFGSM, NIFGSM, PGD


class DIFGSM(PGD):
    """DI²-FGSM (Xie et al., 2019): iterative FGSM whose forward passes each see, with probability
    ``diversity_prob``, the image resized (nearest neighbour) to a random side between
    ``resize_rate`` times its own and its own, zero-padded back at a random offset (a rate above 1
    enlarges the canvas instead). ``decay > 0`` adds MI-FGSM's momentum (M-DI²-FGSM)."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, decay: float = 0.0,
                 resize_rate: float = 0.9, diversity_prob: float = 0.5, random_start: bool = False, **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, random_start=random_start, **kw)
        self.decay, self.resize_rate, self.diversity_prob = float(decay), float(resize_rate), float(diversity_prob)

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"momentum": self.decay if self.decay > 0 else None,
                                     "diversity": (self.resize_rate, self.diversity_prob)}


class TIFGSM(DIFGSM):
    """TI-FGSM (Dong et al., 2019): DI²-FGSM whose gradient is smoothed, channel by channel, by a
    ``len_kernel`` × ``len_kernel`` kernel (normalised to sum 1) before the signed step.
    ``kernel_name`` picks its profile along each axis: ``"gaussian"`` spans ``nsig`` standard
    deviations each way, ``"linear"`` is the tent ``1 - |2 t / (len_kernel + 1)|`` at offset ``t``
    from the centre, ``"uniform"`` a box filter (torchattacks' three kernels)."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, decay: float = 0.0,
                 kernel_name: str = "gaussian", len_kernel: int = 15, nsig: float = 3, resize_rate: float = 0.9,
                 diversity_prob: float = 0.5, random_start: bool = False, **kw: Any) -> None:
        if kernel_name not in ("gaussian", "linear", "uniform"):
            raise ValueError(f"TIFGSM: argument `kernel_name` expected 'gaussian', 'linear' or 'uniform', got "
                             f"{kernel_name!r}")
        super().__init__(model, eps, alpha, steps, decay, resize_rate, diversity_prob, random_start, **kw)
        self.kernel_name, self.len_kernel, self.nsig = kernel_name, int(len_kernel), float(nsig)

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"smoothing": (self.len_kernel, self.kernel_name, self.nsig)}


class VMIFGSM(MIFGSM):
    """VMI-FGSM (Wang and He, 2021): MI-FGSM stepping along each gradient plus the previous step's
    variance, the mean gradient over ``N`` points drawn uniformly within ``beta * eps`` of the
    iterate minus the gradient at the iterate."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, decay: float = 1.0,
                 N: int = 5, beta: float = 3 / 2, **kw: Any) -> None:  # noqa: N803 (torchattacks' name)
        super().__init__(model, eps, alpha, steps, decay, **kw)
        self.N, self.beta = int(N), float(beta)

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"variance": (self.N, self.beta)}


class VNIFGSM(VMIFGSM):
    """VNI-FGSM (Wang and He, 2021): VMI-FGSM with NI-FGSM's Nesterov look-ahead gradients (the
    variance is still measured around the iterate)."""

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"nesterov": True}


class SINIFGSM(NIFGSM):
    """SI-NI-FGSM (Lin et al., 2020): NI-FGSM with each gradient averaged over the ``m`` scaled
    copies ``x / 2^i`` of the look-ahead point (scale invariance)."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, decay: float = 1.0,
                 m: int = 5, **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, decay, **kw)
        self.m = int(m)

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"scales": self.m}


class PIFGSM(Attack):
    """PI-FGSM (Gao et al., 2020; torchattacks' PIFGSM), patch-wise iterative FGSM, untargeted or
    targeted: ``num_iter_set`` signed steps amplified ``amplification`` times past
    ``max_epsilon / num_iter_set``; the accumulated steps' excess over ε is spread to each
    pixel's eight neighbours (``gamma * sign(ring mean)``, gamma the amplified step) and the point
    clipped back to the ε-box, so perturbations grow in patches that transfer to other models.
    (torchattacks' ``momentum`` and ``prob`` arguments are not used by its loop and are not taken.)"""

    def __init__(self, model: Any, max_epsilon: float = 16 / 255, num_iter_set: int = 10, amplification: float = 10.0,
                 **kw: Any) -> None:
        super().__init__(model, max_epsilon, **kw)
        if num_iter_set < 1 or not amplification > 0:
            raise ValueError(f"{type(self).__name__}: expected num_iter_set >= 1 and amplification > 0, got "
                             f"{num_iter_set} and {amplification}")
        self.num_iter_set, self.amplification = int(num_iter_set), float(amplification)

    def _patchwise(self) -> tuple[float, bool]:
        return 1.0, True

    def _options(self) -> dict[str, Any]:
        return dict(eps=self.eps, alpha=self.eps / self.num_iter_set * self.amplification, steps=self.num_iter_set,
                    norm="linf", start="input", patchwise=self._patchwise())


class PIFGSMPP(PIFGSM):
    """PI-FGSM++ (Gao et al., 2020; torchattacks' PIFGSMPP): PI-FGSM with each gradient smoothed
    by TI-FGSM's 3 × 3 Gaussian kernel (3 standard deviations each way), the spread step scaled by
    ``project_factor`` and not added to the accumulated steps. Targeted attacks descend the
    target's cross-entropy."""

    def __init__(self, model: Any, max_epsilon: float = 16 / 255, num_iter_set: int = 10, amplification: float = 10.0,
                 project_factor: float = 0.8, **kw: Any) -> None:
        super().__init__(model, max_epsilon, num_iter_set, amplification, **kw)
        if not project_factor >= 0:
            raise ValueError(f"PIFGSMPP: argument `project_factor` expected a value >= 0, got {project_factor}")
        self.project_factor = float(project_factor)

    def _patchwise(self) -> tuple[float, bool]:
        return self.project_factor, False

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"smoothing": (3, "gaussian", 3.0)}
