"""Learning-rate schedules with torch.optim.lr_scheduler's semantics, in closed form: call
``step()`` once per epoch (or per batch for OneCycleLR) after ``optimizer.step()``."""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any, Callable, Optional, Sequence, cast

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

    def lrs_at(self, t: int) -> list[float]:
        """Every parameter group's learning rate after ``t`` steps."""
        return [self.lr_at(t, base) for base in self.base_lrs]

    def momenta_at(self, t: int) -> Optional[list[float]]:
        """Every parameter group's momentum (SGD, RMSprop) or beta1 (the Adam family) after ``t``
        steps, for a schedule that cycles it; None (the default) leaves the groups' own."""
        return None

    def _apply(self) -> None:
        for g, lr in zip(self.optimizer.param_groups, self.lrs_at(self.last_epoch)):
            g["lr"] = lr
        momenta = self.momenta_at(self.last_epoch)
        if momenta is not None:
            for g, momentum in zip(self.optimizer.param_groups, momenta):
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


class _GroupwiseLRScheduler(LRScheduler):
    """A schedule whose groups differ by more than their initial rate (their own peaks,
    functions or histories): it defines ``lrs_at``, and ``lr_at`` picks one group out of it."""

    def lrs_at(self, t: int) -> list[float]:
        raise NotImplementedError

    def lr_at(self, t: int, base_lr: float) -> float:
        """The rate after ``t`` steps of the (first) group whose initial rate is ``base_lr``."""
        return self.lrs_at(t)[_group_of(type(self).__name__, self.base_lrs, base_lr)]


class _RecurrentLRScheduler(_GroupwiseLRScheduler):
    """A schedule defined step by step from the rates before, in PyTorch's own arithmetic (which
    a closed form would not repeat bit for bit): ``_first()`` gives every group's rate at step 0
    and ``_next(t, previous)`` those at step t. The rates computed so far are kept."""

    _history: list[list[float]]

    def _first(self) -> list[float]:
        raise NotImplementedError

    def _next(self, t: int, previous: list[float]) -> list[float]:
        raise NotImplementedError

    def lrs_at(self, t: int) -> list[float]:
        if not self.__dict__.get("_history"):
            self._history = [self._first()]
        while len(self._history) <= t:
            self._history.append(self._next(len(self._history), self._history[-1]))
        return list(self._history[t])


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(t)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def lr_at(self, t: int, base_lr: float) -> float:
        return base_lr * self.lr_lambda(t)


class MultiplicativeLR(_RecurrentLRScheduler):
    """Multiplies the rate by ``lr_lambda(t)`` at each step t >= 1 (one function for all groups,
    or one per group): lr_t = base_lr * lr_lambda(1) * ... * lr_lambda(t), in that order."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]]) -> None:
        groups = len(optimizer.param_groups)
        self.lr_lambdas: list[Callable[[int], float]] = (
            list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [cast(Callable[[int], float], lr_lambda)] * groups)
        if len(self.lr_lambdas) != groups:
            raise ValueError(f"MultiplicativeLR: argument `lr_lambda` expected {groups} functions (one per parameter "
                             f"group), got {len(self.lr_lambdas)}")
        super().__init__(optimizer)

    def _first(self) -> list[float]:
        return list(self.base_lrs)

    def _next(self, t: int, previous: list[float]) -> list[float]:
        return [lr * f(t) for lr, f in zip(previous, self.lr_lambdas)]


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

    def _active(self, t: int) -> tuple[LRScheduler, int]:
        """The schedule running at step ``t`` and the step it is at."""
        i = bisect_right(self.milestones, t)
        start = self.milestones[i - 1] if i > 0 else 0
        return self.schedulers[i], t - start

    def lr_at(self, t: int, base_lr: float) -> float:
        scheduler, local = self._active(t)
        return scheduler.lr_at(local, base_lr)

    def lrs_at(self, t: int) -> list[float]:
        scheduler, local = self._active(t)
        return scheduler.lrs_at(local)

    def momenta_at(self, t: int) -> Optional[list[float]]:
        scheduler, local = self._active(t)
        return scheduler.momenta_at(local)


class OneCycleLR(_GroupwiseLRScheduler):
    """The 1cycle policy, as PyTorch defines it: from max_lr/div_factor up to max_lr over
    ``pct_start`` of the steps, then down to initial_lr/final_div_factor, with cosine (or linear)
    annealing. With ``three_phase`` the rate comes back down to its initial value over a second
    ``pct_start`` of the steps before annealing to the minimum. Give the length as
    ``total_steps`` or as ``epochs`` and ``steps_per_epoch``. With ``cycle_momentum`` (the default,
    as PyTorch's) the momentum, or beta1 for the Adam family, moves the other way: from
    ``max_momentum`` down to ``base_momentum`` while the rate rises, then back up (and stays at
    ``max_momentum`` in a third phase). ``max_lr``, ``base_momentum`` and ``max_momentum`` may each
    be one value per parameter group."""

    interval = "step"

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float], total_steps: Optional[int] = None,
                 epochs: Optional[int] = None, steps_per_epoch: Optional[int] = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.85, max_momentum: float | Sequence[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False) -> None:
        self.total_steps = _one_cycle_length(total_steps, epochs, steps_per_epoch)
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: argument `pct_start` expected a value in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: argument `anneal_strategy` expected 'cos' or 'linear', got {anneal_strategy!r}")
        groups = optimizer.param_groups
        peaks = _per_group("OneCycleLR", "max_lr", max_lr, len(groups))
        # Each group's (initial, peak, minimum) rates.
        self._rates = [(peak / div_factor, peak, peak / div_factor / final_div_factor) for peak in peaks]
        # Each group's (max, base) momenta.
        self._momenta = list(zip(_per_group("OneCycleLR", "max_momentum", max_momentum, len(groups)),
                                 _per_group("OneCycleLR", "base_momentum", base_momentum, len(groups))))
        warm_end = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        # Phases (last step, rate from, rate to, momentum from, momentum to), with the rates as
        # indices into a group's (initial, peak, minimum) and the momenta into its (max, base).
        self._phases: list[tuple[float, int, int, int, int]] = (
            [(warm_end, 0, 1, 0, 1),
             (float(2 * pct_start * self.total_steps) - 2, 1, 0, 1, 0),
             (last, 0, 2, 0, 0)]
            if three_phase else
            [(warm_end, 0, 1, 0, 1),
             (last, 1, 2, 1, 0)])
        self.cos = anneal_strategy == "cos"
        if cycle_momentum:
            _check_cycles_momentum("OneCycleLR", optimizer)
        self.cycle_momentum = cycle_momentum
        for g, peak in zip(groups, peaks):
            g["initial_lr"] = peak / div_factor
        super().__init__(optimizer)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.cos:
            return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _phase_at(self, t: int) -> tuple[tuple[float, int, int, int, int], float]:
        """The phase step ``t`` falls in and how far through it, as a fraction."""
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {t} times, more than total_steps = {self.total_steps}")
        start = 0.0
        for i, phase in enumerate(self._phases):
            if t <= phase[0] or i == len(self._phases) - 1:
                return phase, (t - start) / (phase[0] - start)
            start = phase[0]
        raise AssertionError("unreachable: the last phase always matches")

    def lrs_at(self, t: int) -> list[float]:
        (_, rate_from, rate_to, _, _), pct = self._phase_at(t)
        return [self._anneal(rates[rate_from], rates[rate_to], pct) for rates in self._rates]

    def momenta_at(self, t: int) -> Optional[list[float]]:
        if not self.cycle_momentum:
            return None
        (_, _, _, start, end), pct = self._phase_at(t)
        return [self._anneal(momenta[start], momenta[end], pct) for momenta in self._momenta]


def _group_of(name: str, base_lrs: list[float], base_lr: float) -> int:
    """The index of the first group whose initial rate is ``base_lr``."""
    if base_lr not in base_lrs:
        raise ValueError(f"{name}: argument `base_lr` expected one of the groups' initial rates {base_lrs}, got {base_lr}")
    return base_lrs.index(base_lr)


def _per_group(name: str, argument: str, value: float | Sequence[float], groups: int) -> list[float]:
    """``value`` for each of ``groups`` parameter groups: one number for all, or one each."""
    values: list[float] = list(value) if isinstance(value, (list, tuple)) else [cast(float, value)] * groups
    if len(values) != groups:
        raise ValueError(f"{name}: argument `{argument}` expected {groups} values (one per parameter group), "
                         f"got {len(values)}")
    return [float(v) for v in values]


def _one_cycle_length(total_steps: Optional[int], epochs: Optional[int], steps_per_epoch: Optional[int]) -> int:
    """OneCycleLR's number of steps: ``total_steps``, or ``epochs * steps_per_epoch``."""
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps < 2:
            raise ValueError(f"OneCycleLR: argument `total_steps` expected an int >= 2, got {total_steps}")
        return total_steps
    if epochs is None or steps_per_epoch is None:
        raise ValueError("OneCycleLR: expected `total_steps`, or both `epochs` and `steps_per_epoch`, "
                         f"got epochs={epochs} and steps_per_epoch={steps_per_epoch}")
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"OneCycleLR: argument `{name}` expected a positive int, got {value}")
    if epochs * steps_per_epoch < 2:
        raise ValueError(f"OneCycleLR: expected at least 2 steps, got epochs * steps_per_epoch = {epochs * steps_per_epoch}")
    return epochs * steps_per_epoch


class CyclicLR(_GroupwiseLRScheduler):
    """Cyclical learning rates (CLR), stepped per batch: each group's rate climbs from ``base_lr``
    to ``max_lr`` over ``step_size_up`` steps and back over ``step_size_down`` (default: as many).
    ``mode`` scales each cycle's amplitude: "triangular" keeps it, "triangular2" halves it every
    cycle, "exp_range" multiplies it by ``gamma`` every step; or give ``scale_fn`` (of the cycle
    number, or of the step with ``scale_mode="iterations"``). With ``cycle_momentum`` (the
    default, as PyTorch's) the momentum, or beta1 for the Adam family, moves from
    ``max_momentum`` to ``base_momentum`` while the rate climbs, and back. ``base_lr``, ``max_lr``,
    ``base_momentum`` and ``max_momentum`` may each be one value per parameter group."""

    interval = "step"

    def __init__(self, optimizer: Optimizer, base_lr: float | Sequence[float], max_lr: float | Sequence[float],
                 step_size_up: int = 2000, step_size_down: Optional[int] = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Optional[Callable[[float], float]] = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float | Sequence[float] = 0.8,
                 max_momentum: float | Sequence[float] = 0.9) -> None:
        groups = optimizer.param_groups
        bases = _per_group("CyclicLR", "base_lr", base_lr, len(groups))
        self.max_lrs = _per_group("CyclicLR", "max_lr", max_lr, len(groups))
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        if up <= 0 or down <= 0:
            raise ValueError(f"CyclicLR: arguments `step_size_up` and `step_size_down` expected positive, "
                             f"got {step_size_up} and {step_size_down}")
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is None:
            if mode not in ("triangular", "triangular2", "exp_range"):
                raise ValueError(f"CyclicLR: argument `mode` expected 'triangular', 'triangular2' or 'exp_range' "
                                 f"(or a scale_fn), got {mode!r}")
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        elif scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: argument `scale_mode` expected 'cycle' or 'iterations', got {scale_mode!r}")
        self.mode, self.gamma, self.scale_mode, self._scale_fn = mode, gamma, scale_mode, scale_fn
        if cycle_momentum:
            _check_cycles_momentum("CyclicLR", optimizer)
        self.cycle_momentum = cycle_momentum
        self.base_momenta = _per_group("CyclicLR", "base_momentum", base_momentum, len(groups))
        self.max_momenta = _per_group("CyclicLR", "max_momentum", max_momentum, len(groups))
        for g, base in zip(groups, bases):
            g["initial_lr"] = base
        super().__init__(optimizer)

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or step) ``x``."""
        if self._scale_fn is not None:
            return self._scale_fn(x)
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        if self.mode == "exp_range":
            return self.gamma**x
        return 1.0

    def _position(self, t: int) -> tuple[float, float]:
        """How far up the cycle step ``t`` is (0 at base_lr, 1 at max_lr), and the amplitude's scale."""
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        return height, self.scale_fn(cycle if self.scale_mode == "cycle" else t)

    def lrs_at(self, t: int) -> list[float]:
        height, scale = self._position(t)
        return [base + (peak - base) * height * scale for base, peak in zip(self.base_lrs, self.max_lrs)]

    def momenta_at(self, t: int) -> Optional[list[float]]:
        if not self.cycle_momentum:
            return None
        height, scale = self._position(t)
        return [peak - (peak - base) * height * scale for base, peak in zip(self.base_momenta, self.max_momenta)]


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


class ChainedScheduler(_GroupwiseLRScheduler):
    """Several schedules of one optimizer applied together, as
    ``torch.optim.lr_scheduler.ChainedScheduler``: each step multiplies the rate by every
    schedule's factor, so a group's rate after ``t`` steps is
    base_lr * Π (schedule's rate at t / base_lr) (for example ConstantLR or LinearLR warm-up times
    ExponentialLR decay). PyTorch chains schedules through their step-by-step forms; for the
    schedules accepted here (StepLR, MultiStepLR, ExponentialLR, ConstantLR, LinearLR,
    PolynomialLR, MultiplicativeLR and CosineAnnealingLR with ``eta_min=0``) those forms multiply
    the current rate, so the product is the same schedule. Others are refused by name."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optional[Optimizer] = None) -> None:
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("ChainedScheduler: argument `schedulers` expected at least one scheduler, got none")
        optimizer = optimizer if optimizer is not None else schedulers[0].optimizer
        chainable = (StepLR, MultiStepLR, ExponentialLR, ConstantLR, LinearLR, PolynomialLR, MultiplicativeLR,
                     CosineAnnealingLR)
        for i, scheduler in enumerate(schedulers):
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"ChainedScheduler: scheduler {i} ({type(scheduler).__name__}) expected to schedule "
                                 "the chain's optimizer, got another one")
            additive = isinstance(scheduler, CosineAnnealingLR) and scheduler.eta_min != 0
            if not isinstance(scheduler, chainable) or additive:
                raise ValueError(f"ChainedScheduler: scheduler {i} expected a schedule that multiplies the rate "
                                 f"({', '.join(c.__name__ for c in chainable)} with eta_min=0), got "
                                 f"{type(scheduler).__name__}" + (" with eta_min != 0" if additive else ""))
        intervals = {scheduler.interval for scheduler in schedulers}
        if len(intervals) != 1:
            raise ValueError(f"ChainedScheduler: expected schedulers that all step per epoch or all per batch, got "
                             f"intervals {sorted(intervals)}")
        self.schedulers = schedulers
        self.interval = intervals.pop()
        super().__init__(optimizer)

    def lrs_at(self, t: int) -> list[float]:
        rates = list(self.base_lrs)
        for scheduler in self.schedulers:
            for i, (base, scheduled) in enumerate(zip(self.base_lrs, scheduler.lrs_at(t))):
                rates[i] *= scheduled / base if base else 0.0
        return rates

    def step(self) -> None:
        """Advances every schedule by one step and applies their product."""
        for scheduler in self.schedulers:
            scheduler.last_epoch += 1
        super().step()


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
