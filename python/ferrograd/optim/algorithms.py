"""SGD, Adam, AdamW and RMSprop with PyTorch's update rules; each step is one fused Rust loop per
parameter."""

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

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False) -> None:
        _check("lr", lr)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any], g: dict[str, Any]) -> None:
        buf = None
        first = False
        if g["momentum"] != 0:
            first = "momentum_buffer" not in state
            buf = state.setdefault("momentum_buffer", self._zeros_like(param))
        _core.sgd_step(param, grad, buf, g["lr"], g["momentum"], g["dampening"], g["weight_decay"], g["nesterov"], g["maximize"], first)


class Adam(Optimizer):
    """Adam; ``weight_decay`` adds an L2 term to the gradient (use :class:`AdamW` for decoupled decay)."""

    _decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False) -> None:
        _check("lr", lr)
        _check("betas[0]", betas[0], 0.0, 1.0)
        _check("betas[1]", betas[1], 0.0, 1.0)
        _check("eps", eps)
        _check("weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize))

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any], g: dict[str, Any]) -> None:
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = self._zeros_like(param)
            state["exp_avg_sq"] = self._zeros_like(param)
            if g["amsgrad"]:
                state["max_exp_avg_sq"] = self._zeros_like(param)
        state["step"] += 1
        _core.adam_step(param, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"), state["step"],
                        g["lr"], tuple(g["betas"]), g["eps"], g["weight_decay"], self._decoupled, g["amsgrad"], g["maximize"])


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before each Adam update."""

    _decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


class RMSprop(Optimizer):
    """RMSprop with optional momentum and centering."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, maximize: bool = False) -> None:
        _check("lr", lr)
        _check("alpha", alpha)
        _check("eps", eps)
        _check("momentum", momentum)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any], g: dict[str, Any]) -> None:
        if "square_avg" not in state:
            state["square_avg"] = self._zeros_like(param)
            if g["centered"]:
                state["grad_avg"] = self._zeros_like(param)
            if g["momentum"] > 0:
                state["momentum_buffer"] = self._zeros_like(param)
        _core.rmsprop_step(param, grad, state["square_avg"], state.get("grad_avg"), state.get("momentum_buffer"), g["lr"], g["alpha"],
                           g["eps"], g["weight_decay"], g["momentum"], g["centered"], g["maximize"])


def clip_grad_norm_(parameters: Iterable[Tensor], max_norm: float, norm_type: float = 2.0) -> float:
    """Scales gradients in place so their global norm is at most ``max_norm``; returns the norm before."""
    return _core.clip_grad_norm(list(parameters), float(max_norm), float(norm_type))
