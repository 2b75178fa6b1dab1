"""Weight averaging, as ``torch.optim.swa_utils``: stochastic weight averaging (SWA) and
exponential moving averages (EMA) of a model's parameters (``AveragedModel``), the SWA learning
rate schedule (``SWALR``) and recomputing batch-norm statistics for averaged weights
(``update_bn``)."""

from __future__ import annotations

import copy
import itertools
import math
import weakref
from typing import Any, Callable, Iterable, Optional, Sequence

from .._core import Tensor
from ..autograd import no_grad
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from .lr_scheduler import _per_group, _RecurrentLRScheduler
from .optimizer import Optimizer

AvgFn = Callable[[Tensor, Tensor, Tensor], Tensor]
MultiAvgFn = Callable[[list[Tensor], list[Tensor], Tensor], None]

# The rule (its name in the Rust training loop, and the decay) behind each averaging function
# made here, so `fit` can fold the average in after each step without calling back into Python.
_RULES: "weakref.WeakKeyDictionary[Callable[..., Any], tuple[str, float]]" = weakref.WeakKeyDictionary()


def _tagged(fn: Callable[..., Any], rule: str, decay: float = 0.0) -> Any:
    _RULES[fn] = (rule, float(decay))
    return fn


def native_rule(averaged: "AveragedModel") -> Optional[tuple[str, float]]:
    """The Rust loop's name and decay for ``averaged``'s averaging function, or None for a
    custom one."""
    if averaged.multi_avg_fn is not None:
        return _RULES.get(averaged.multi_avg_fn)
    if averaged.avg_fn is not None:
        return _RULES.get(averaged.avg_fn)
    return ("equal", 0.0)


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """The exponential moving average of one tensor: ``ema * decay + current * (1 - decay)``."""
    _check_decay(decay)

    def ema_update(ema: Tensor, current: Tensor, num_averaged: Tensor) -> Tensor:
        return ema * decay + current * (1 - decay)

    return _tagged(ema_update, "exponential_products", decay)


def get_swa_avg_fn() -> AvgFn:
    """The running equal average of one tensor: ``avg + (current - avg) / (n + 1)``."""

    def swa_update(averaged: Tensor, current: Tensor, num_averaged: Tensor) -> Tensor:
        return averaged + (current - averaged) / (num_averaged + 1)

    return _tagged(swa_update, "equal")


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """The exponential moving average of a list of tensors, in place: each moves ``1 - decay`` of
    the way to the model's (``lerp_``)."""
    _check_decay(decay)

    def ema_update(ema: list[Tensor], current: list[Tensor], num_averaged: Tensor) -> None:
        for e, c in zip(ema, current):
            _average_into(e, c, lambda a, b: a.lerp(b, 1 - decay))

    return _tagged(ema_update, "exponential", decay)


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """The running equal average of a list of tensors, in place: each moves 1 / (n + 1) of the
    way to the model's (``lerp_``)."""

    def swa_update(averaged: list[Tensor], current: list[Tensor], num_averaged: Tensor) -> None:
        weight = 1 / (num_averaged + 1)
        for a, c in zip(averaged, current):
            _average_into(a, c, lambda x, y: x.lerp(y, weight))

    return _tagged(swa_update, "equal_lerp")


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"weight averaging: argument `decay` expected a value in [0, 1], got {decay}")


def _average_into(target: Tensor, current: Tensor, average: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Writes ``average(target, current)`` into ``target``: integer buffers (a batch-norm count)
    are averaged in float32 and truncated back, as PyTorch's copy into them does."""
    if target.is_floating_point():
        target.copy_(average(target, current))
    else:
        target.copy_(average(target.float(), current.float()).to(target.dtype))


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are the average of the weights ``update_parameters``
    has been given: an equal (SWA) average by default, or ``avg_fn`` / ``multi_avg_fn`` (e.g.
    ``get_ema_multi_avg_fn(0.999)`` for an EMA). With ``use_buffers`` the buffers (batch-norm
    statistics) are averaged too; otherwise they are copied from the model at each update.
    Calling it runs the averaged copy. ``n_averaged`` counts the updates (a buffer, so it is in
    the state dict)."""

    n_averaged: Tensor

    def __init__(self, model: Module, device: Optional[str] = None, avg_fn: Optional[AvgFn] = None,
                 multi_avg_fn: Optional[MultiAvgFn] = None, use_buffers: bool = False) -> None:
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: argument `model` expected a ferrograd.nn.Module, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module.to(device)
        from .. import tensor as make_tensor

        count = make_tensor(0, dtype="int64")
        self.register_buffer("n_averaged", count.to(device) if device is not None else count)
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _tracked(self, model: Module) -> Iterable[Tensor]:
        return itertools.chain(model.parameters(), model.buffers()) if self.use_buffers else model.parameters()

    def update_parameters(self, model: Module) -> None:
        """Folds ``model``'s current weights into the average (the first call copies them)."""
        n = int(self.n_averaged.item())
        with no_grad():
            pairs = [(mine, theirs.detach().to(str(mine.device)))
                     for mine, theirs in zip(self._tracked(self.module), self._tracked(model))]
            if n == 0:
                for mine, theirs in pairs:
                    mine.copy_(theirs)
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn([m for m, _ in pairs], [t for _, t in pairs], self.n_averaged)
            else:
                avg_fn = self.avg_fn or get_swa_avg_fn()
                for mine, theirs in pairs:
                    _average_into(mine, theirs, lambda a, b: avg_fn(a, b, self.n_averaged))
            if not self.use_buffers:
                for mine, theirs in zip(self.module.buffers(), model.buffers()):
                    mine.copy_(theirs.detach().to(str(mine.device)))
            self.n_averaged.copy_(n + 1)


def update_bn(loader: Iterable[Any], model: Module, device: Optional[str] = None) -> None:
    """Recomputes every batch-norm layer's running statistics of ``model`` as the plain average
    over one pass of ``loader`` (batches, or tuples whose first item is the input), in training
    mode without gradients; then restores each layer's momentum and the model's mode. Use it on an
    ``AveragedModel``, whose averaged weights the model's statistics do not describe."""
    momenta: dict[_BatchNorm, Optional[float]] = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for batch in loader:
                x = batch[0] if isinstance(batch, (list, tuple)) else batch
                model(x.to(device) if device is not None else x)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(_RecurrentLRScheduler):
    """The SWA schedule: anneals each group's rate from its current value to ``swa_lr`` over
    ``anneal_epochs`` steps (cosine or linear), then holds it, with PyTorch's step-by-step
    arithmetic (each step recovers the starting rate from the current one)."""

    def __init__(self, optimizer: Optimizer, swa_lr: float | Sequence[float], anneal_epochs: int = 10,
                 anneal_strategy: str = "cos") -> None:
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: argument `anneal_strategy` expected 'cos' or 'linear', got {anneal_strategy!r}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: argument `anneal_epochs` expected a non-negative int, got {anneal_epochs}")
        self.swa_lrs = _per_group("SWALR", "swa_lr", swa_lr, len(optimizer.param_groups))
        for group, rate in zip(optimizer.param_groups, self.swa_lrs):
            group["swa_lr"] = rate
        self.anneal_epochs = anneal_epochs
        self.cos = anneal_strategy == "cos"
        self._start = [float(g["lr"]) for g in optimizer.param_groups]
        super().__init__(optimizer)

    def _anneal(self, t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2 if self.cos else t

    def _first(self) -> list[float]:
        return self._next(0, self._start)

    def _next(self, step: int, current: list[float]) -> list[float]:
        """The rates after schedule step ``step`` (0 for the construction) from the current ones."""
        if self.anneal_epochs == 0:
            step = max(1, step)
        length = max(1, self.anneal_epochs)
        previous = self._anneal(max(0, min(1, (step - 1) / length)))
        alpha = self._anneal(max(0, min(1, step / length)))
        starts = [swa if previous == 1 else (lr - previous * swa) / (1 - previous)
                  for lr, swa in zip(current, self.swa_lrs)]
        return [swa * alpha + start * (1 - alpha) for swa, start in zip(self.swa_lrs, starts)]
