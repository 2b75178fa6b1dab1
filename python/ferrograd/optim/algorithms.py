"""SGD, Adam, AdamW and RMSprop with PyTorch's update rules; each step is one fused Rust loop per
parameter, and the state lives in Rust."""

from __future__ import annotations

from typing import Any, Iterable

from .. import _core
from .._core import Tensor
from .optimizer import Optimizer


def _check(name: str, value: float, low: float = 0.0, high: float | None = None) -> None:
    if value < low or (high is not None and value >= high):
        bound = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"argument `{name}` expected a value in {bound}, got {value}")


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
        _check("lr", lr)
        _check("betas[0]", betas[0], 0.0, 1.0)
        _check("betas[1]", betas[1], 0.0, 1.0)
        _check("eps", eps)
        _check("weight_decay", weight_decay)
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
