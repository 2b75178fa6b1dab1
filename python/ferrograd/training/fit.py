"""``Module.fit``: epochs of training in Rust, with validation, schedules, callbacks and
checkpoints handled between epochs in Python."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any, Optional, Sequence

from .. import _core
from ..amp import autocast, precision_name
from .callbacks import Callback, ProgressBar
from .checkpoint import load_training_checkpoint, save_training_checkpoint
from .history import History
from .inputs import DataLike, LossLike, check_device, make_loader, make_objective, model_device
from .metrics import labelled_rows
from .weight_averaging import WeightAveraging


def _step_lrs(schedule: Any, steps: int) -> Optional[list[list[float]]]:
    """Each group's rate for each optimizer step of the coming epoch, from a per-step schedule's
    closed form (``None`` for a per-epoch schedule)."""
    if schedule is None or getattr(schedule, "interval", "epoch") != "step":
        return None
    t0 = schedule.last_epoch
    return [schedule.lrs_at(t0 + k) for k in range(steps)]


def _step_momenta(schedule: Any, steps: int, groups: list[dict[str, Any]]) -> Optional[list[list[float]]]:
    """Each group's momentum (or beta1) for each optimizer step of the coming epoch, for a
    per-step schedule that cycles it (``None`` otherwise). Where the schedule leaves the momentum
    alone (a SequentialLR's phase without cycling), the groups keep the last one they had."""
    if schedule is None or getattr(schedule, "interval", "epoch") != "step":
        return None
    t0 = schedule.last_epoch
    scheduled = [schedule.momenta_at(t0 + k) for k in range(steps)]
    if all(m is None for m in scheduled):
        return None
    current = [float(g["betas"][0]) if "betas" in g else float(g.get("momentum", 0.0)) for g in groups]
    table = []
    for momenta in scheduled:
        if momenta is not None:
            current = [float(m) for m in momenta]
        table.append(list(current))
    return table


def fit(model: Any, train: DataLike, epochs: int = 1, batch_size: int = 32, optimizer: Any = None,
        loss: LossLike = "cross_entropy", val: Optional[DataLike] = None, schedule: Any = None,
        augment: Sequence[Any] = (), transforms: Sequence[Any] = (), callbacks: Sequence[Callback] = (),
        device: Optional[str] = None, grad_clip: Optional[float] = None, accumulate: int = 1, shuffle: bool = True,
        seed: Optional[int] = None, verbose: bool = True, progress_every: int = 10,
        checkpoint: str | os.PathLike[str] | None = None, resume: str | os.PathLike[str] | None = None,
        val_batch_size: int = 512, adversarial: Any = None, val_attack: Any = None, precision: str = "f32",
        cuda_graphs: bool = True) -> History:
    """Trains ``model``; see :meth:`ferrograd.nn.Module.fit` for the arguments."""
    device = check_device(device, "fit", model)
    precision = precision_name(precision, "fit", "precision")
    if device != model_device(model):
        if optimizer is not None:
            raise _core.DeviceError(f"fit: the model is on {model_device(model)} but device={device!r}; move it with "
                                    f"model.to({device!r}) before creating the optimizer")
        model.to(device)
    if val_attack is not None and val is None:
        raise ValueError("fit: argument `val_attack` needs `val` data to attack")
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: argument `epochs` expected a non-negative int, got {epochs!r}")
    if not isinstance(cuda_graphs, bool):
        raise TypeError(f"fit: argument `cuda_graphs` expected a bool, got {cuda_graphs!r}")
    if not isinstance(accumulate, int) or accumulate < 1:
        raise ValueError(f"fit: argument `accumulate` expected an int >= 1, got {accumulate!r}")
    if optimizer is None:
        from ..optim import Adam

        optimizer = Adam(model.parameters(), lr=1e-3)
    if not hasattr(optimizer, "_core"):
        raise TypeError(f"fit: argument `optimizer` expected an optimizer whose step needs no closure (SGD, Adam, ...), "
                        f"got {type(optimizer).__name__}; a closure-driven optimizer such as LBFGS steps in your own "
                        f"loop with optimizer.step(closure)")
    if schedule is not None and not hasattr(schedule, "lr_at"):
        raise TypeError(f"fit: argument `schedule` expected a closed-form LRScheduler, got {type(schedule).__name__} "
                        "(for a plateau schedule pass callbacks=[ferrograd.training.ReduceLROnPlateau(...)])")
    loader = make_loader(train, "train", "fit", batch_size, shuffle, seed, [*augment, *transforms])
    val_loader = make_loader(val, "val", "fit", val_batch_size, False, 0, list(transforms)) if val is not None else None
    objective = make_objective(loss, "fit")
    history, start = History(), 0
    if resume is not None:
        start, history = load_training_checkpoint(resume, model, optimizer, schedule, loader)
    cbs = [*callbacks, *([ProgressBar()] if verbose else [])]
    for cb in cbs:
        cb.model, cb.optimizer = model, optimizer
        cb.stop_training = False
        cb.on_train_begin(epochs)
    averaging = [cb for cb in cbs if isinstance(cb, WeightAveraging)]
    if len(averaging) > 1:
        raise ValueError(f"fit: argument `callbacks` expected at most one WeightAveraging, got {len(averaging)}")
    # Free adversarial training replays every batch, each replay a step.
    batches = len(loader) * int(getattr(adversarial, "replays", 1))
    steps = -(-batches // accumulate)
    try:
        for epoch in range(start, epochs):
            for cb in cbs:
                cb.on_epoch_begin(epoch, batches)
            adversary = None
            if adversarial is not None:
                # The attack sees the same parameters in eval mode (batch norm on running statistics).
                model.eval()
                adversary = (model._loop_layer(), adversarial.options(), int(adversarial.seed) + epoch)
            model.train()
            layer = model._loop_layer()
            optimizer._sync()
            lrs = _step_lrs(schedule, steps)
            momenta = _step_momenta(schedule, steps, optimizer.param_groups)

            def progress(p: dict[str, float], epoch: int = epoch) -> None:
                for cb in cbs:
                    cb.on_batch_end(epoch, p)

            started = time.perf_counter()
            try:
                with autocast(precision):
                    average = averaging[0].average_for(epoch, model) if averaging else None
                    stats = _core.train_epoch(layer, loader, objective, optimizer._core, grad_clip, accumulate, lrs,
                                              progress if cbs else None, progress_every, adversary, device, momenta,
                                              average, cuda_graphs)
            finally:
                # A per-step schedule wrote rates into the Rust optimizer; the groups' own rates
                # (set by the schedule below) stay the source of truth.
                lr_used = optimizer._core.lrs()[0]
                optimizer._sync()
            if schedule is not None:
                if lrs is not None:
                    schedule.last_epoch += int(stats["steps"])
                    schedule._apply()
                else:
                    schedule.step()
            if stats["graphs_off"] is not None:
                # A capture that failed once fails again: later epochs run op by op from the start.
                cuda_graphs = False
                warnings.warn(f"fit: CUDA graphs are off from epoch {epoch}, which ran op by op: {stats['graphs_off']} "
                              "(pass cuda_graphs=False to skip the attempt)", RuntimeWarning, stacklevel=2)
            logs = {"loss": stats["loss"], "accuracy": stats["accuracy"]}
            if device != "cpu":
                logs["graphed"] = stats["graphed"]
            if val_loader is not None:
                model.eval()
                with autocast(precision):
                    out, labels, val_loss = _core.predict_epoch(model._loop_layer(), val_loader, objective, None, device)
                logs["val_loss"] = val_loss
                out, labels = labelled_rows(out, labels)
                logs["val_accuracy"] = float((out.argmax(1) == labels).mean()) if out.ndim == 2 and len(labels) else 0.0
                if val_attack is not None:
                    logs["val_robust_accuracy"] = val_attack(val_loader.dataset).robust_accuracy
                model.train()
            logs["lr"] = lr_used
            logs["time"] = time.perf_counter() - started
            history.append(epoch, logs)
            if checkpoint is not None:
                save_training_checkpoint(checkpoint, model, optimizer, schedule, loader, epoch, history)
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if any(cb.stop_training for cb in cbs):
                break
    finally:
        for cb in cbs:
            cb.on_train_end()
    return history
