"""Adversarial-training methods that are not plain attacks, for ``fit(adversarial=...)``."""

from __future__ import annotations

from typing import Any


class TRADES:
    """TRADES (Zhang et al., 2019): the loss becomes ``CE(f(x), y) + beta * KL(f(x) || f(x'))``,
    where ``x'`` maximises that divergence within the L∞ ``eps``-ball (``steps`` signed steps of
    ``alpha`` from ``x + 0.001 * N(0, I)``). Larger ``beta`` trades clean accuracy for robustness.
    Pass it as ``model.fit(..., adversarial=TRADES(model, eps=0.3, alpha=0.01, steps=10))``. On a GPU the
    inner steps replay as a CUDA graph after the first (``cuda_graphs = False`` runs them op by op)."""

    #: Replay the inner maximisation's steps as CUDA graphs on a GPU.
    cuda_graphs = True

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, beta: float = 6.0,
                 bounds: tuple[float, float] = (0.0, 1.0), seed: int = 0) -> None:
        if eps < 0 or alpha < 0 or steps < 0 or beta < 0:
            raise ValueError(f"TRADES: eps, alpha, steps and beta expected >= 0, got {eps}, {alpha}, {steps}, {beta}")
        self.model, self.eps, self.alpha, self.steps, self.beta = model, float(eps), float(alpha), steps, float(beta)
        self.bounds, self.seed = bounds, seed

    def options(self) -> dict[str, Any]:
        """The options the Rust training loop reads."""
        return dict(eps=self.eps, alpha=self.alpha, steps=self.steps, norm="linf", start="input", bounds=tuple(self.bounds),
                    trades_beta=self.beta, eot=1, cuda_graphs=bool(self.cuda_graphs))

    def __repr__(self) -> str:
        return f"TRADES(eps={self.eps}, alpha={self.alpha}, steps={self.steps}, beta={self.beta})"


class MART:
    """MART (Wang et al., 2020): train on PGD examples (cross-entropy, ``steps`` signed steps of
    ``alpha`` in the L∞ ``eps``-ball from ``x + 0.001 * N(0, I)``) with the loss
    ``CE(f(x'), y) - log(1 - p'_k) + beta * KL(p || p') * (1 - p_y)``: ``k`` is the most likely
    wrong class at ``x'``, and the divergence from the clean prediction ``p`` counts more for
    inputs the model already misclassifies. Pass it as
    ``model.fit(..., adversarial=MART(model, eps=0.3, alpha=0.01, steps=10))``."""

    #: Replay the inner maximisation's steps as CUDA graphs on a GPU.
    cuda_graphs = True

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10, beta: float = 6.0,
                 bounds: tuple[float, float] = (0.0, 1.0), seed: int = 0) -> None:
        if eps < 0 or alpha < 0 or steps < 1 or beta < 0:
            raise ValueError(f"MART: expected eps, alpha and beta >= 0 and steps >= 1, got {eps}, {alpha}, {steps}, {beta}")
        self.model, self.eps, self.alpha, self.steps, self.beta = model, float(eps), float(alpha), steps, float(beta)
        self.bounds, self.seed = bounds, seed

    def options(self) -> dict[str, Any]:
        """The options the Rust training loop reads."""
        return dict(eps=self.eps, alpha=self.alpha, steps=self.steps, norm="linf", start="gaussian", start_size=0.001,
                    loss="ce", bounds=tuple(self.bounds), mart_beta=self.beta, eot=1,
                    cuda_graphs=bool(self.cuda_graphs))

    def __repr__(self) -> str:
        return f"MART(eps={self.eps}, alpha={self.alpha}, steps={self.steps}, beta={self.beta})"


class FreeAT:
    """Free adversarial training (Shafahi et al., 2019): every batch is replayed ``replays``
    times (their m), each replay one training step on the batch plus a perturbation that carries
    over from step to step and batch to batch; the step's backward pass gives the input gradient
    for free, and the perturbation takes a signed step of ``step`` (default ``eps``) from it,
    clipped to the L∞ ``eps``-box. Each epoch takes ``replays`` times the steps of a clean one,
    so train for about ``epochs / replays`` epochs. The perturbation starts at zero each epoch.
    Pass it as ``model.fit(..., adversarial=FreeAT(model, eps=0.3, replays=8))``."""

    def __init__(self, model: Any, eps: float = 8 / 255, replays: int = 8, step: float | None = None,
                 bounds: tuple[float, float] = (0.0, 1.0), seed: int = 0) -> None:
        self.model, self.eps = model, float(eps)
        self.step = self.eps if step is None else float(step)
        if self.eps < 0 or self.step < 0 or replays < 1:
            raise ValueError(f"FreeAT: expected eps >= 0, step >= 0 and replays >= 1, got {self.eps}, {self.step} "
                             f"and {replays}")
        self.replays, self.bounds, self.seed = int(replays), bounds, seed

    def options(self) -> dict[str, Any]:
        """The options the Rust training loop reads."""
        return dict(eps=self.eps, alpha=self.step, steps=0, norm="linf", start="input", bounds=tuple(self.bounds),
                    free_replays=self.replays, eot=1)

    def __repr__(self) -> str:
        return f"FreeAT(eps={self.eps}, replays={self.replays}, step={self.step})"


class AWP:
    """Adversarial weight perturbation (Wu et al., 2020) around an adversarial-training method
    (``PGD(...)`` for PGD-AT, ``TRADES``, ``MART``, ``FastAT``): before each step, every weight of
    rank ≥ 2 moves along the gradient of the step's adversarial loss by ``gamma`` times its own
    norm; the step's gradients are taken at the perturbed weights, and the perturbation is taken
    back after the optimizer step. It flattens the robust loss landscape in weight space, which
    narrows the gap between training and test robustness. Pass it as
    ``model.fit(..., adversarial=AWP(PGD(model, eps, alpha, 10), gamma=5e-3))``."""

    def __init__(self, adversarial: Any, gamma: float = 5e-3) -> None:
        if isinstance(adversarial, (AWP, FreeAT)) or not hasattr(adversarial, "options"):
            raise ValueError(f"AWP: argument `adversarial` expected an attack or TRADES / MART / FastAT, got "
                             f"{type(adversarial).__name__}")
        if not gamma > 0:
            raise ValueError(f"AWP: argument `gamma` expected a value > 0, got {gamma}")
        self.adversarial, self.gamma = adversarial, float(gamma)
        self.model, self.seed = adversarial.model, getattr(adversarial, "seed", 0)

    def options(self) -> dict[str, Any]:
        """The wrapped method's options and ``awp_gamma``."""
        return self.adversarial.options() | {"awp_gamma": self.gamma}

    def __repr__(self) -> str:
        return f"AWP({self.adversarial!r}, gamma={self.gamma})"


class FastAT:
    """Fast adversarial training's attack (Wong et al., 2020): one FGSM step of ``alpha``
    (default 1.25 ``eps``) from a uniform random start in the ε-box. As in their MNIST code, the
    start is not clipped to ``bounds``: the gradient is taken at the unclipped point and only the
    result is clipped. ``clip_start=True`` clips the start first, as their CIFAR-10 code does.
    Pass it as ``model.fit(..., adversarial=FastAT(model, eps=0.3, alpha=0.375))``, with a cyclic
    learning rate, and guard against catastrophic overfitting with ``CatastrophicOverfittingStop``."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float | None = None,
                 bounds: tuple[float, float] = (0.0, 1.0), seed: int = 0, clip_start: bool = False) -> None:
        self.model, self.eps = model, float(eps)
        self.alpha = 1.25 * self.eps if alpha is None else float(alpha)
        if self.eps < 0 or self.alpha < 0:
            raise ValueError(f"FastAT: eps and alpha expected >= 0, got {self.eps} and {self.alpha}")
        self.bounds, self.seed, self.clip_start = bounds, seed, bool(clip_start)

    def options(self) -> dict[str, Any]:
        """The options the Rust training loop reads."""
        return dict(eps=self.eps, alpha=self.alpha, steps=1, norm="linf",
                    start="uniform" if self.clip_start else "uniform_unclipped", bounds=tuple(self.bounds), eot=1)

    def __repr__(self) -> str:
        return f"FastAT(eps={self.eps}, alpha={self.alpha}" + (", clip_start=True)" if self.clip_start else ")")
