"""``GradScaler``: PyTorch's dynamic loss scaling (``torch.amp.GradScaler``), with its algorithm."""

from __future__ import annotations

import math
from typing import Any, Optional, TypeVar, Union

import numpy as np

from ._core import Tensor
from .autograd import no_grad
from .dtypes import device as _device

Outputs = TypeVar("Outputs", bound=Union[Tensor, list[Any], tuple[Any, ...]])

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


def _float32(value: float) -> float:
    """``value`` rounded to float32, the dtype PyTorch keeps the scale in."""
    return float(np.float32(value))


class GradScaler:
    """Dynamic loss scaling, as ``torch.amp.GradScaler``: ``scaler.scale(loss).backward()``,
    ``scaler.step(optimizer)``, ``scaler.update()``.

    :meth:`scale` multiplies the loss by the scale (``init_scale`` at first), so small float16
    gradients do not flush to zero; :meth:`step` divides the optimizer's gradients by the scale
    (:meth:`unscale_`, once per step) and skips ``optimizer.step()`` when any of them is inf or
    NaN; :meth:`update` multiplies the scale by ``backoff_factor`` after such a step and by
    ``growth_factor`` after ``growth_interval`` clean steps in a row. With a power-of-two scale a
    clean step updates the parameters exactly as an unscaled one. ``enabled=False`` makes every
    method a pass-through. ``device`` (``"cuda"``, ``"cpu"``) is recorded only: the scaler works
    on every device, so unlike PyTorch's it is not turned off where CUDA is missing.
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = _device(device)
        self._enabled = bool(enabled)
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"GradScaler: argument `growth_factor` expected a value > 1, got {growth_factor!r}")
            if not 0.0 < backoff_factor < 1.0:
                raise ValueError(f"GradScaler: argument `backoff_factor` expected a value in (0, 1), "
                                 f"got {backoff_factor!r}")
            if not (isinstance(growth_interval, int) and growth_interval >= 1):
                raise ValueError(f"GradScaler: argument `growth_interval` expected an int >= 1, "
                                 f"got {growth_interval!r}")
        self._init_scale = _float32(init_scale)
        self._scale: Optional[float] = None  # set by the first scale(), as PyTorch's lazy init
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval, self._growth_tracker = growth_interval, 0
        self._optimizer_states: dict[int, dict[str, Any]] = {}

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._optimizer_states.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    def _checked_scale(self, method: str) -> float:
        if self._scale is None:
            raise RuntimeError(f"GradScaler.{method}: no scale yet; call scaler.scale(loss) earlier in the "
                               "iteration")
        return self._scale

    def scale(self, outputs: Outputs) -> Outputs:
        """``outputs`` (a tensor, or a list or tuple of them) multiplied by the current scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = self._init_scale
        if isinstance(outputs, Tensor):
            return outputs * self._scale  # type: ignore[return-value]
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)  # type: ignore[return-value]
        raise TypeError(f"GradScaler.scale: argument `outputs` expected a Tensor or a list or tuple of Tensors, "
                        f"got {type(outputs).__name__}")

    def unscale_(self, optimizer: Any) -> None:
        """Divides the gradients of ``optimizer``'s parameters by the scale in place (so that they
        can be clipped before :meth:`step`) and records whether any is inf or NaN; at most once
        per optimizer between two :meth:`update` calls."""
        if not self._enabled:
            return
        scale = self._checked_scale("unscale_")
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("GradScaler.unscale_: already called on this optimizer since the last update()")
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.unscale_: called after step(); call it before step()")
        inverse = _float32(1.0 / scale)  # the reciprocal taken in float64, then rounded, as PyTorch does
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        # Per device, the sum of every gradient's ``g - g``: 0 when all are finite, else NaN (inf - inf
        # is NaN), read with one synchronisation per device.
        residues: dict[str, Tensor] = {}
        with no_grad():
            for g in grads:
                residue = (g - g).sum()
                residues[g.device] = residues[g.device] + residue if g.device in residues else residue
                g.mul_(inverse)
        state["found_inf"] = any(not math.isfinite(r.item()) for r in residues.values())
        state["stage"] = _UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscales the gradients (unless :meth:`unscale_` did) and calls ``optimizer.step(*args,
        **kwargs)`` when all of them are finite; skips it otherwise. Returns what the step returns
        (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("GradScaler.step: argument `closure` is not supported while the scaler is enabled")
        self._checked_scale("step")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("GradScaler.step: already called on this optimizer since the last update()")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: Optional[Union[float, Tensor]] = None) -> None:
        """Sets the scale for the next iteration: ``new_scale`` if given, else backs off after a
        step with inf or NaN gradients and grows after ``growth_interval`` clean steps."""
        if not self._enabled:
            return
        scale = self._checked_scale("update")
        if new_scale is not None:
            self._scale = _float32(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        else:
            found = [s["found_inf"] for s in self._optimizer_states.values() if s["found_inf"] is not None]
            if not found:
                raise RuntimeError("GradScaler.update: no inf checks were recorded; call step(optimizer) or "
                                   "unscale_(optimizer) first")
            if any(found):
                self._scale, self._growth_tracker = _float32(scale * self._backoff_factor), 0
            elif self._growth_tracker + 1 == self._growth_interval:
                grown = _float32(scale * self._growth_factor)
                self._scale, self._growth_tracker = (grown if math.isfinite(grown) else scale), 0
            else:
                self._growth_tracker += 1
        self._optimizer_states = {}

    def get_scale(self) -> float:
        """The current scale (``init_scale`` before the first :meth:`scale`; 1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self) -> float:
        """The factor the scale grows by after ``growth_interval`` clean steps."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Sets the growth factor."""
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        """The factor the scale shrinks by after a step with inf or NaN gradients."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Sets the backoff factor."""
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        """How many clean steps in a row make the scale grow."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Sets the growth interval."""
        self._growth_interval = int(new_interval)

    def is_enabled(self) -> bool:
        """Whether the scaler scales (False: every method is a pass-through)."""
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval`` and
        ``_growth_tracker`` (clean steps in a row), PyTorch's keys; empty when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restores a :meth:`state_dict` (nothing happens when disabled)."""
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("GradScaler.load_state_dict: argument `state_dict` expected the state of an enabled "
                               "scaler, got an empty dict (saved from a disabled one?)")
        self._init_scale = _float32(state_dict["scale"])
        if self._scale is not None:
            self._scale = self._init_scale
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
