"""SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, RAdam, NAdam, Rprop and ASGD with PyTorch's update rules; each step is one fused Rust
loop per parameter, and the state lives in Rust."""

from __future__ import annotations

from typing import Any, Iterable, Optional

from .. import _core
from .._core import Tensor
from .optimizer import Optimizer


def _check(name: str, value: float, low: float = 0.0, high: float | None = None) -> None:
    if value < low or (high is not None and value >= high):
        bound = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"argument `{name}` expected a value in {bound}, got {value}")


def _check_adam_family(lr: float, betas: tuple[float, float], eps: float, weight_decay: float) -> None:
    """The options that Adam, AdamW, Adamax, RAdam and NAdam share."""
    _check("lr", lr)
    _check("betas[0]", betas[0], 0.0, 1.0)
    _check("betas[1]", betas[1], 0.0, 1.0)
    _check("eps", eps)
    _check("weight_decay", weight_decay)


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

    _algorithm = "sgd"

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False) -> None:
        _check("lr", lr)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))


class Adam(Optimizer):
    """Adam; ``weight_decay`` adds an L2 term to the gradient (use :class:`AdamW` for decoupled decay)."""

    _algorithm = "adam"

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False) -> None:
        _check_adam_family(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize))


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before each Adam update."""

    _algorithm = "adamw"

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


class RMSprop(Optimizer):
    """RMSprop with optional momentum and centering."""

    _algorithm = "rmsprop"

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, maximize: bool = False) -> None:
        _check("lr", lr)
        _check("alpha", alpha)
        _check("eps", eps)
        _check("momentum", momentum)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))


class Adagrad(Optimizer):
    """Adagrad: each coordinate steps by ``lr_t / (sqrt(sum of its squared gradients) + eps)``,
    where ``lr_t = lr / (1 + (t - 1) * lr_decay)`` at step ``t``; the sum starts at
    ``initial_accumulator_value``."""

    _algorithm = "adagrad"

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, maximize: bool = False) -> None:
        _check("lr", lr)
        _check("lr_decay", lr_decay)
        _check("weight_decay", weight_decay)
        _check("initial_accumulator_value", initial_accumulator_value)
        _check("eps", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize))


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): each coordinate steps by ``lr * sqrt(acc_delta + eps) /
    sqrt(square_avg + eps) * g``, both averages decaying with ``rho``, so the units of the
    update match the parameter's and ``lr`` (default 1) only scales it."""

    _algorithm = "adadelta"

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, maximize: bool = False) -> None:
        _check("lr", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: argument `rho` expected a value in [0, 1], got {rho}")
        _check("eps", eps)
        _check("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))


class Adamax(Optimizer):
    """Adamax, Adam's infinity-norm variant: ``u = max(beta2 * u, |g| + eps)`` replaces the
    second moment, and the step is ``lr / (1 - beta1^t) * m / u``."""

    _algorithm = "adamax"

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, maximize: bool = False) -> None:
        _check_adam_family(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize))


class RAdam(Optimizer):
    """Rectified Adam: Adam whose adaptive rate is scaled by the rectification term ``r_t`` once
    the variance of that rate is defined, and plain bias-corrected momentum before (the first
    five steps with the default betas). ``decoupled_weight_decay`` decays as AdamW."""

    _algorithm = "radam"

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, maximize: bool = False) -> None:
        _check_adam_family(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat, 2016): the momentum coefficient
    ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))`` warms up over the first steps,
    and the update mixes the current gradient and the momentum with weights from the product of
    the ``mu_t`` (state ``mu_product``, a 0-d float32 tensor on the CPU, as in PyTorch).
    ``decoupled_weight_decay`` decays as AdamW (NAdamW)."""

    _algorithm = "nadam"

    def __init__(self, params: Iterable[Any], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False,
                 maximize: bool = False) -> None:
        _check_adam_family(lr, betas, eps, weight_decay)
        _check("momentum_decay", momentum_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))


class ASGD(Optimizer):
    """Averaged SGD: SGD whose step size decays as ``eta_t = lr / (1 + lambd * lr * t) ** alpha``
    (with the decay term ``p *= 1 - lambd * eta``), and which keeps the running average ``ax`` of
    the iterates from step ``t0`` on (before it, ``ax`` is the iterate itself). State ``eta`` and
    ``mu`` (the averaging weight) are 0-d float32 tensors on the CPU, as in PyTorch."""

    _algorithm = "asgd"

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0.0, maximize: bool = False) -> None:
        _check("lr", lr)
        _check("lambd", lambd)
        _check("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      maximize=maximize))


class Rprop(Optimizer):
    """Resilient backpropagation: only the sign of each gradient is used. Every coordinate has its
    own step size, starting at ``lr``, multiplied by ``etas[1]`` while the gradient keeps its sign
    and by ``etas[0]`` when it flips (that step is then skipped), kept within ``step_sizes``.
    Meant for full-batch training."""

    _algorithm = "rprop"

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50.0), maximize: bool = False) -> None:
        _check("lr", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Rprop: argument `etas` expected 0 < etas[0] < 1 < etas[1], got {tuple(etas)}")
        if not 0.0 <= step_sizes[0] <= step_sizes[1]:
            raise ValueError(f"Rprop: argument `step_sizes` expected 0 <= min <= max, got {tuple(step_sizes)}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize))


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern, 2018; torch.optim.Adafactor): Adam-like steps from a second
    moment that, for parameters of rank ≥ 2, is kept factored as running row and column means of
    the squared gradient (state ``row_var`` / ``col_var``: memory per matrix ``R + C`` instead of
    ``R C``; vectors keep ``variance``). The running means weigh each new value by
    ``t ** beta2_decay``; the step is relative, ``max(eps[1], RMS(p)) * min(lr, 1 / sqrt(t))``;
    an update whose RMS exceeds ``d`` is scaled down to it; ``eps[0]`` (float32's machine epsilon
    when None) floors the variance estimate's root. Weight decay is decoupled
    (``p *= 1 - lr * weight_decay``)."""

    _algorithm = "adafactor"

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0,
                 maximize: bool = False) -> None:
        _check("lr", lr)
        if not beta2_decay <= 0:
            raise ValueError(f"Adafactor: argument `beta2_decay` expected a value <= 0, got {beta2_decay}")
        if (eps[0] is not None and not eps[0] >= 0) or not eps[1] >= 0:
            raise ValueError(f"Adafactor: argument `eps` expected (None or a value >= 0, a value >= 0), got {tuple(eps)}")
        if not d >= 1:
            raise ValueError(f"Adafactor: argument `d` expected a value >= 1, got {d}")
        _check("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d, weight_decay=weight_decay,
                                      maximize=maximize))


class Muon(Optimizer):
    """Muon (torch.optim.Muon) for matrix (2-d) parameters: SGD momentum (``momentum_buffer``
    moves toward the gradient by ``1 - momentum``; with ``nesterov`` the update is the gradient
    moved toward the buffer by ``momentum``) whose update is orthogonalized by ``ns_steps``
    quintic Newton-Schulz iterations with ``ns_coefficients`` on bfloat16 values, after
    normalising it by its Frobenius norm (floored at ``eps``). The learning rate is scaled by the
    parameter's shape ``A x B``: ``sqrt(max(1, A / B))`` (``adjust_lr_fn`` None or
    ``'original'``), ``0.2 sqrt(max(A, B))`` (``'match_rms_adamw'``) or ``sqrt(A / B)``
    (``'spectral_unclamped'``); weight decay is decoupled (``p *= 1 - lr * weight_decay``).
    Biases, norms and embeddings usually go to another optimizer (AdamW), as PyTorch advises."""

    _algorithm = "muon"

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True, ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
                 eps: float = 1e-7, ns_steps: int = 5, adjust_lr_fn: Optional[str] = None) -> None:
        _check("lr", lr)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        if adjust_lr_fn not in (None, "original", "match_rms_adamw", "spectral_unclamped"):
            raise ValueError(f"Muon: argument `adjust_lr_fn` expected None, 'original', 'match_rms_adamw' or "
                             f"'spectral_unclamped', got {adjust_lr_fn!r}")
        if len(tuple(ns_coefficients)) != 3:
            raise ValueError(f"Muon: argument `ns_coefficients` expected three numbers (a, b, c), got "
                             f"{tuple(ns_coefficients)}")
        if not 0 <= int(ns_steps) < 100:
            raise ValueError(f"Muon: argument `ns_steps` expected a count in [0, 100), got {ns_steps}")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=tuple(float(c) for c in ns_coefficients), eps=eps,
                                      ns_steps=int(ns_steps), adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon: argument `params` expected 2-d (matrix) parameters, got one of shape "
                                     f"{list(p.shape)}")


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float, norm_type: float = 2.0) -> Tensor:
    """Scales gradients in place so their global norm is at most ``max_norm``; returns the norm
    before clipping as a 0-d float32 tensor on the gradients' device, as PyTorch does (use
    ``float(norm)`` for a Python number)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = _core.clip_grad_norm(params, float(max_norm), float(norm_type))
    from .. import tensor
    norm = tensor(total, dtype="float32")
    device = next((str(p.grad.device) for p in params if p.grad is not None), "cpu")
    return norm if device == "cpu" else norm.to(device)
