"""The older, hook-based ``torch.nn.utils.weight_norm`` and ``spectral_norm`` (still common in
published models, and their checkpoints use these names): the weight is recomputed before each
forward call from parameters on the module itself, ``weight_g`` and ``weight_v`` (magnitude and
direction) or ``weight_orig`` with the power iteration's buffers ``weight_u`` and ``weight_v``.
The math is that of :mod:`ferrograd.nn.utils.parametrizations`, with the older API's power-step
order (``v`` before ``u``); ``remove_*`` folds the current weight back into a plain parameter."""

from __future__ import annotations

from typing import Any, Optional

from ... import functional as F
from ..._core import Tensor
from ...autograd import no_grad
from ..module import Module
from .parametrizations import norm_except_dim, power_iteration, spectral_sigma, weight_matrix

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


class _Recomputed:
    """A forward pre-hook that sets ``module.<name>`` from the module's other tensors."""

    def __init__(self, name: str, kind: str, dim: int, iterations: int = 1, eps: float = 1e-12) -> None:
        self.name, self.kind, self.dim, self.iterations, self.eps = name, kind, dim, iterations, eps

    def compute(self, module: Module) -> Tensor:
        if self.kind == "weight_norm":
            g, v = getattr(module, f"{self.name}_g"), getattr(module, f"{self.name}_v")
            return v * (g / norm_except_dim(v, self.dim))
        weight = getattr(module, f"{self.name}_orig")
        u, v = getattr(module, f"{self.name}_u"), getattr(module, f"{self.name}_v")
        matrix = weight_matrix(weight, self.dim)
        if module.training:
            power_iteration(matrix.detach(), u, v, self.iterations, self.eps, u_first=False)
        return weight / spectral_sigma(matrix, u, v)

    def __call__(self, module: Module, inputs: Any) -> None:
        object.__setattr__(module, self.name, self.compute(module))


def _install(module: Module, name: str, hook: _Recomputed, first: Tensor) -> Module:
    """Registers ``hook`` and sets ``module.<name>`` to ``first`` until the first call."""
    handle = module.register_forward_pre_hook(hook)
    module.__dict__.setdefault("_norm_hooks", {})[name] = (hook, handle)
    object.__setattr__(module, name, first)
    return module


def _weight(module: Module, name: str, what: str) -> Tensor:
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"{what}: {type(module).__name__} has no tensor {name!r}")
    if name in module.__dict__.get("_norm_hooks", {}):
        raise RuntimeError(f"{what}: {type(module).__name__}.{name} is already normalised")
    return weight


def weight_norm(module: Module, name: str = "weight", dim: Optional[int] = 0) -> Module:
    """Splits ``module.<name>`` into ``<name>_g`` (its norm over every dimension but ``dim``;
    ``None`` for the whole tensor) and ``<name>_v`` (its direction), recombined before each call."""
    weight = _weight(module, name, "weight_norm")
    axis = -1 if dim is None else dim % weight.ndim
    module._parameters.pop(name, None)
    module.__dict__.pop(name, None)
    with no_grad():
        setattr(module, f"{name}_g", norm_except_dim(weight, axis).detach().requires_grad_(True))
        setattr(module, f"{name}_v", weight.detach().clone().requires_grad_(True))
    hook = _Recomputed(name, "weight_norm", axis)
    return _install(module, name, hook, hook.compute(module))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: Optional[int] = None) -> Module:
    """Divides ``module.<name>`` by its largest singular value before each call, estimated by
    ``n_power_iterations`` power-iteration steps per training-mode call from the buffers
    ``<name>_u`` and ``<name>_v``; the parameter becomes ``<name>_orig``."""
    weight = _weight(module, name, "spectral_norm")
    if n_power_iterations <= 0:
        raise ValueError(f"spectral_norm: argument `n_power_iterations` expected a positive int, got {n_power_iterations}")
    from ... import randn

    axis = (1 if type(module).__name__.startswith("ConvTranspose") else 0) if dim is None else dim % weight.ndim
    matrix = weight_matrix(weight.detach(), axis)
    module._parameters.pop(name, None)
    module.__dict__.pop(name, None)
    setattr(module, f"{name}_orig", weight)
    module.register_buffer(f"{name}_u", F.normalize(randn(matrix.shape[0]), dim=0, eps=eps).to(str(weight.device)))
    module.register_buffer(f"{name}_v", F.normalize(randn(matrix.shape[1]), dim=0, eps=eps).to(str(weight.device)))
    # Until the first call the weight is the unnormalised one, as in PyTorch.
    return _install(module, name, _Recomputed(name, "spectral_norm", axis, n_power_iterations, eps), weight * 1.0)


def _remove(module: Module, name: str, kind: str, tensors: tuple[str, ...]) -> Module:
    hooks = module.__dict__.get("_norm_hooks", {})
    if name not in hooks or hooks[name][0].kind != kind:
        raise ValueError(f"remove_{kind}: {kind} of {name!r} not found in {type(module).__name__}")
    hook, handle = hooks.pop(name)
    with no_grad():
        value = hook.compute(module).detach()
    handle.remove()
    for key in tensors:
        module._parameters.pop(key, None)
        module._buffers.pop(key, None)
        module.__dict__.pop(key, None)
        module.__dict__.get("_buffer_names", set()).discard(key)
    module.__dict__.pop(name, None)
    setattr(module, name, value.requires_grad_(True))
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Folds the weight norm back into a plain parameter ``module.<name>``."""
    return _remove(module, name, "weight_norm", (f"{name}_g", f"{name}_v"))


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Folds the spectral norm back into a plain parameter ``module.<name>`` (its current value)."""
    return _remove(module, name, "spectral_norm", (f"{name}_orig", f"{name}_u", f"{name}_v"))
