"""The Optimizer base class: parameter groups with their own options, per-parameter state, and
state dicts for checkpoints, as in torch.optim."""

from __future__ import annotations

from typing import Any, Iterable

from .._core import Tensor
from .. import _core


class Optimizer:
    """Base class. ``params`` is an iterable of tensors or of dicts ``{"params": [...], **options}``
    (parameter groups whose options override the defaults, e.g. a smaller ``lr`` for a backbone)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        items = list(params)
        if not items:
            raise ValueError(f"{type(self).__name__}: argument `params` expected a non-empty list of tensors, got an empty list")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Adds a group of parameters with options that override the defaults."""
        params = list(group["params"]) if not isinstance(group["params"], Tensor) else [group["params"]]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameters must be ferrograd Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf tensor")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown options {sorted(unknown)} in parameter group")
        full = {**self.defaults, **group, "params": params}
        full.setdefault("initial_lr", full["lr"])
        self.param_groups.append(full)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the gradients of every optimized parameter."""
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = None

    def step(self) -> None:
        """Applies one update to every parameter that has a gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                self._update(p, grad, self.state.setdefault(id(p), {}), group)

    def _update(self, param: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    @staticmethod
    def _zeros_like(p: Tensor) -> Tensor:
        return _core.full(list(p.shape), 0.0, "float32", "cpu", False)

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group."""
        return float(self.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        """Options of every group and the state of every parameter (by position), for checkpoints."""
        index = {id(p): i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}
        groups = [{k: v for k, v in g.items() if k != "params"} | {"params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        state = {index[k]: {n: (v.detach().numpy().copy() if isinstance(v, Tensor) else v) for n, v in s.items()} for k, s in self.state.items() if k in index}
        return {"param_groups": groups, "state": state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores options and state saved by :meth:`state_dict` (the same parameters in the same order)."""
        import numpy as np

        params = [p for g in self.param_groups for p in g["params"]]
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups) or any(len(a["params"]) != len(b["params"]) for a, b in zip(saved, self.param_groups)):
            raise ValueError("load_state_dict: the saved optimizer has a different number of parameter groups or parameters")
        for g, s in zip(self.param_groups, saved):
            g.update({k: v for k, v in s.items() if k != "params"})
        self.state = {}
        for i, s in state_dict["state"].items():
            self.state[id(params[int(i)])] = {
                n: (Tensor.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v) for n, v in s.items()
            }

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({opts})"
