"""The Optimizer base class: parameter groups with their own options, per-parameter state, and
state dicts for checkpoints, as in torch.optim. The updates and the state live in a Rust
``_core.Optimizer``, which ``Module.fit`` steps directly for a whole epoch."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Iterable, Optional

import numpy as np

from .._core import Tensor
from .. import _core
from ..autograd import enable_grad


class Optimizer:
    """Base class. ``params`` is an iterable of tensors or of dicts ``{"params": [...], **options}``
    (parameter groups whose options override the defaults, e.g. a smaller ``lr`` for a backbone).

    Subclasses name their update rule in ``_algorithm``.
    """

    _algorithm = ""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self._core = _core.Optimizer(self._algorithm)
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
        self._core.add_group(params, self._options(full))

    @staticmethod
    def _options(group: dict[str, Any]) -> dict[str, Any]:
        return {k: (tuple(v) if isinstance(v, list) else v) for k, v in group.items() if k != "params"}

    def _sync(self) -> None:
        """Pushes every group's options (edited by users and schedules) to the Rust optimizer."""
        for i, g in enumerate(self.param_groups):
            self._core.set_options(i, self._options(g))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the gradients of every optimized parameter.

        As in PyTorch, ``set_to_none=True`` (the default) sets each ``.grad`` to ``None``;
        ``set_to_none=False`` fills the existing gradients with zeros in place."""
        if not isinstance(set_to_none, bool):
            raise TypeError(f"zero_grad(): set_to_none must be a bool, got {type(set_to_none).__name__}")
        if set_to_none:
            self._core.zero_grad()
            return
        for p in self._params():
            if p.grad is not None:
                p.grad.zero_()

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """Applies one update to every parameter that has a gradient. ``closure``, if given, is
        called first with gradients enabled (it recomputes the loss and its gradients, as
        PyTorch's closures do); its result is returned, else None."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._sync()
        self._core.step()
        return loss

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def state(self) -> defaultdict[Tensor, dict[str, Any]]:
        """Per-parameter state keyed by the parameter, as ``torch.optim.Optimizer.state``: ``step``
        and buffers such as ``exp_avg`` (a snapshot; a parameter not stepped yet reads as ``{}``)."""
        out: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for p in self._params():
            s = self._core.get_state(p)
            if s is not None:
                out[p] = s
        return out

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group."""
        return float(self.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        """Options of every group and the state of every parameter (by position), for checkpoints."""
        groups, state, i = [], {}, 0
        for g in self.param_groups:
            groups.append(self._options(g) | {"params": list(range(i, i + len(g["params"])))})
            for p in g["params"]:
                s = self._core.get_state(p)
                if s is not None:
                    state[i] = {n: (v.cpu().numpy().copy() if isinstance(v, Tensor) else v) for n, v in s.items()}
                i += 1
        return {"param_groups": groups, "state": state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores options and state saved by :meth:`state_dict` (the same parameters in the same order)."""
        params = self._params()
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups) or any(len(a["params"]) != len(b["params"]) for a, b in zip(saved, self.param_groups)):
            raise ValueError("load_state_dict: the saved optimizer has a different number of parameter groups or parameters")
        for g, s in zip(self.param_groups, saved):
            g.update({k: v for k, v in s.items() if k != "params"})
        self._sync()
        self._core.clear_state()
        for i, s in state_dict["state"].items():
            device = params[int(i)].device  # state buffers live with their parameter, 0-d entries on the CPU
            entries = {n: (Tensor.from_numpy(np.array(v, dtype=np.float32, order="C")).to(device if v.ndim else "cpu")
                           if isinstance(v, np.ndarray) else int(v))
                       for n, v in s.items()}
            self._core.set_state(params[int(i)], entries)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({opts})"
