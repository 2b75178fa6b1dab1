"""Learning-rate schedules with torch.optim.lr_scheduler's semantics, in closed form: call
``step()`` once per epoch (or per batch for OneCycleLR) after ``optimizer.step()``."""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any, Callable, Optional, Sequence

from .optimizer import Optimizer


def _set_momentum(group: dict[str, Any], momentum: float) -> None:
    """Writes a cycled momentum into a parameter group: beta1 where it has betas."""
    if "betas" in group:
        group["betas"] = (momentum, group["betas"][1])
    else:
        group["momentum"] = momentum


def _check_cycles_momentum(name: str, optimizer: Optimizer) -> None:
    if any("betas" not in g and "momentum" not in g for g in optimizer.param_groups):
        raise ValueError(f"{name}: argument `optimizer` must have a momentum or beta1 to cycle with "
                         f"cycle_momentum=True, got {type(optimizer).__name__}")


class LRScheduler:
    """Base class: ``lr_at(t, base_lr)`` defines the schedule; ``step()`` advances ``t`` and writes
    the new rate into every parameter group.

    ``interval`` tells ``Module.fit`` when to step: ``"epoch"`` (after each epoch) or ``"step"``
    (after each optimizer step; the Rust loop then applies the rates in advance from ``lr_at``).
    Set it on an instance to change it."""

    interval: str = "epoch"

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, t: int, base_lr: float) -> float:
        """The learning rate after ``t`` steps of the schedule for a group whose initial rate is ``base_lr``."""
        raise NotImplementedError

    def momentum_at(self, t: int) -> Optional[float]:
        """The momentum (SGD, RMSprop) or beta1 (the Adam family) after ``t`` steps, for a schedule
        that cycles it; None (the default) leaves the groups' own."""
        return None

    def _apply(self) -> None:
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(self.last_epoch, base)
        momentum = self.momentum_at(self.last_epoch)
        if momentum is not None:
            for g in self.optimizer.param_groups:
                _set_momentum(g, momentum)


    def step(self) -> None:
        """Advances the schedule by one step."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The current learning rate of each parameter group."""
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, int]:
        """The schedule's position, for checkpoints."""
        return {"last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Restores a position saved by :meth:`state_dict` and applies its learning rate."""
        self.last_epoch = int(state["last_epoch"])
        self._apply()


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(t)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.lr_lambda(t)


class StepLR(LRScheduler):
    """Multiplies the rate by ``gamma`` every ``step_size`` steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: argument `step_size` expected >= 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """Multiplies the rate by ``gamma`` at each milestone."""

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1) -> None:
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma ** bisect_right(self.milestones, t)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma^t."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma**t


class CosineAnnealingLR(LRScheduler):
    """eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: argument `T_max` expected >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class LinearLR(LRScheduler):
    """Scales the rate linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps
    (a linear warm-up with the defaults)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: factors expected in (0, 1], got start {start_factor} and end {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        frac = min(t, self.total_iters) / max(self.total_iters, 1)
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


class SequentialLR(LRScheduler):
    """Runs ``schedulers[i]`` between consecutive ``milestones`` (e.g. LinearLR warm-up, then cosine)."""

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int]) -> None:
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones, got {len(milestones)}")
        self.schedulers, self.milestones = list(schedulers), list(milestones)
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        i = bisect_right(self.milestones, t)
        start = self.milestones[i - 1] if i > 0 else 0
        return self.schedulers[i].lr_at(t - start, base_lr)


class OneCycleLR(LRScheduler):
    """The 1cycle policy: from max_lr/div_factor up to max_lr over ``pct_start`` of the steps, then
    down to initial_lr/final_div_factor, with cosine (or linear) annealing, as PyTorch defines it.
    With ``cycle_momentum`` (the default, as PyTorch's) the momentum, or beta1 for the Adam
    family, moves the other way: from ``max_momentum`` down to ``base_momentum`` while the rate
    rises, then back up."""

    interval = "step"

    def __init__(self, optimizer: Optimizer, max_lr: float, total_steps: int, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: float = 0.85, max_momentum: float = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4) -> None:
        if total_steps < 2:
            raise ValueError(f"OneCycleLR: argument `total_steps` expected >= 2, got {total_steps}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: argument `anneal_strategy` expected 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps = total_steps
        self.initial = max_lr / div_factor
        self.peak = max_lr
        self.final = self.initial / final_div_factor
        self.warm_end = float(pct_start * total_steps) - 1
        self.cos = anneal_strategy == "cos"
        if cycle_momentum:
            _check_cycles_momentum("OneCycleLR", optimizer)
        self.cycle_momentum, self.base_momentum, self.max_momentum = cycle_momentum, base_momentum, max_momentum
        for g in optimizer.param_groups:
            g["initial_lr"] = self.initial
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.cos:
            return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)
        return start + (end - start) * pct

    def _phase(self, t: int, rising: tuple[float, float], falling: tuple[float, float]) -> float:
        """The annealed value at step ``t``: from ``rising[0]`` to ``rising[1]`` during the
        warm-up, then from ``falling[0]`` to ``falling[1]``."""
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times, more than total_steps = {self.total_steps}")
        if t <= self.warm_end:
            return self._anneal(*rising, t / self.warm_end)
        return self._anneal(*falling, (t - self.warm_end) / (self.total_steps - 1 - self.warm_end))

    def lr_at(self, t: int, base_lr: float) -> float:
        return self._phase(t, (self.initial, self.peak), (self.peak, self.final))

    def momentum_at(self, t: int) -> Optional[float]:
        if not self.cycle_momentum:
            return None
        return self._phase(t, (self.max_momentum, self.base_momentum), (self.base_momentum, self.max_momentum))


class ConstantLR(LRScheduler):
    """Multiplies the rate by ``factor`` for the first ``total_iters`` steps, then restores it."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5) -> None:
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: argument `factor` expected a value in [0, 1], got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.factor if t < self.total_iters else base_lr


class PolynomialLR(LRScheduler):
    """Decays the rate to 0 over ``total_iters`` steps: base_lr * (1 - t / total_iters)^power."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0) -> None:
        if total_iters < 1:
            raise ValueError(f"PolynomialLR: argument `total_iters` expected >= 1, got {total_iters}")
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * (1 - min(t, self.total_iters) / self.total_iters) ** self.power


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from base_lr to ``eta_min`` over ``T_0`` steps, restarting at base_lr; each
    cycle ``T_mult`` times longer than the one before (SGDR)."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> None:
        if T_0 < 1 or not isinstance(T_0, int):
            raise ValueError(f"CosineAnnealingWarmRestarts: argument `T_0` expected a positive int, got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"CosineAnnealingWarmRestarts: argument `T_mult` expected an int >= 1, got {T_mult}")
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        super().__init__(optimizer)

    def _cycle_position(self, t: int) -> tuple[int, int]:
        """(steps into the current cycle, the cycle's length)."""
        if self.T_mult == 1:
            return t % self.T_0, self.T_0
        start, length = 0, self.T_0
        while t >= start + length:
            start, length = start + length, length * self.T_mult
        return t - start, length

    def lr_at(self, t: int, base_lr: float) -> float:
        into, length = self._cycle_position(t)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * into / length)) / 2


class ReduceLROnPlateau:
    """Divides the rate by 1/``factor`` once a metric has stopped improving for ``patience``
    calls of ``step(metric)``, as ``torch.optim.lr_scheduler.ReduceLROnPlateau``: improvement is
    relative (``threshold_mode='rel'``) or absolute, and after a reduction ``cooldown`` calls pass
    before bad epochs count again. For ``fit``, use the callback
    :class:`ferrograd.training.ReduceLROnPlateau`."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0.0, eps: float = 1e-8) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: argument `mode` expected 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: argument `threshold_mode` expected 'rel' or 'abs', got {threshold_mode!r}")
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: argument `factor` expected a value in [0, 1), got {factor}")
        groups = len(optimizer.param_groups)
        min_lrs = [float(min_lr)] * groups if isinstance(min_lr, (int, float)) else [float(v) for v in min_lr]
        if len(min_lrs) != groups:
            raise ValueError(f"ReduceLROnPlateau: argument `min_lr` expected one rate per group ({groups}), got {len(min_lrs)}")
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.min_lrs, self.eps = threshold, threshold_mode, cooldown, min_lrs, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter, self.last_epoch = 0, 0, 0

    def _is_better(self, value: float) -> bool:
        if self.mode == "min":
            bound = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return value < bound
        bound = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return value > bound

    def step(self, metrics: float) -> None:
        """Records one epoch's value of the monitored metric and reduces the rates when due."""
        value = float(metrics)
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(group["lr"] * self.factor, floor)
                if group["lr"] - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self) -> list[float]:
        """The current learning rate of each parameter group."""
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, float]:
        """The counters and the best value, for checkpoints."""
        return {"best": self.best, "num_bad_epochs": self.num_bad_epochs, "cooldown_counter": self.cooldown_counter,
                "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Restores counters saved by :meth:`state_dict`."""
        self.best = float(state["best"])
        self.num_bad_epochs, self.cooldown_counter = int(state["num_bad_epochs"]), int(state["cooldown_counter"])
        self.last_epoch = int(state["last_epoch"])
