"""Callbacks that ``fit`` calls around epochs and batches: a progress bar, early stopping and
best-checkpoint saving, with Keras's names and semantics."""

from __future__ import annotations

import math
import os
from typing import Any, Optional

from .. import _core


class Callback:
    """Base class. ``fit`` sets ``model`` and ``optimizer`` before training and calls the hooks; setting
    ``stop_training = True`` ends training after the current epoch."""

    model: Any = None
    optimizer: Any = None
    stop_training: bool = False

    def on_train_begin(self, epochs: int) -> None:
        """Before the first epoch (of this call: a resumed run starts later)."""

    def on_epoch_begin(self, epoch: int, batches: int) -> None:
        """Before each epoch; ``batches`` is the number of training batches."""

    def on_batch_end(self, epoch: int, progress: dict[str, float]) -> None:
        """Every ``progress_every`` batches, from inside the Rust loop: ``batch``, ``batches``,
        ``steps``, ``samples``, ``loss``, ``accuracy`` (running means) and ``elapsed`` seconds."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """After each epoch, with its metrics (``loss``, ``accuracy``, ``val_loss``, ...)."""

    def on_train_end(self) -> None:
        """After the last epoch, or when training stopped early."""


def _tqdm_class() -> Any:
    """``tqdm.auto``'s class when the notebook widget can be drawn (ipywidgets installed), else the
    text bar: ``tqdm.auto`` would fall back to it too, but with a warning in every notebook."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm
    return tqdm


class ProgressBar(Callback):
    """A tqdm bar per epoch (a widget in notebooks with ipywidgets) with loss, accuracy and samples/s."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._epochs = 0
        self._done = 0

    def on_train_begin(self, epochs: int) -> None:
        self._epochs = epochs

    def on_epoch_begin(self, epoch: int, batches: int) -> None:
        self._bar = _tqdm_class()(total=batches, desc=f"epoch {epoch + 1}/{self._epochs}", unit="batch", leave=True)
        self._done = 0

    def on_batch_end(self, epoch: int, progress: dict[str, float]) -> None:
        if self._bar is None:
            return
        batch = int(progress["batch"])
        self._bar.update(batch - self._done)
        self._done = batch
        rate = progress["samples"] / progress["elapsed"] if progress["elapsed"] > 0 else 0.0
        self._bar.set_postfix(loss=f"{progress['loss']:.4f}", acc=f"{progress['accuracy']:.4f}", samples_s=f"{rate:,.0f}",
                              refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self._bar is None:
            return
        shown = {k: f"{v:.4f}" for k, v in logs.items() if k not in ("time", "lr")}
        self._bar.set_postfix(shown)
        self._bar.close()
        self._bar = None

    def on_train_end(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"argument `mode` expected 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    return "max" if any(k in monitor for k in ("acc", "f1", "precision", "recall")) else "min"


class _Monitor(Callback):
    """Tracks the best value of a monitored metric."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        self.monitor, self.mode, self.min_delta = monitor, _mode(monitor, mode), abs(min_delta)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = -1

    def _improved(self, logs: dict[str, float]) -> bool:
        if self.monitor not in logs:
            raise ValueError(f"{type(self).__name__}: monitored metric {self.monitor!r} is not among the epoch's metrics "
                             f"{sorted(logs)} (pass val= to fit to get val_* metrics)")
        value = logs[self.monitor]
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:
            self.best = value
        return better


class EarlyStopping(_Monitor):
    """Stops training when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs;
    with ``restore_best_weights`` the model ends with the weights of its best epoch."""

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0, mode: str = "auto",
                 restore_best_weights: bool = False) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait = 0
        self.stopped_epoch: Optional[int] = None
        self._best_state: Optional[dict[str, Any]] = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self._improved(logs):
            self.wait, self.best_epoch = 0, epoch
            if self.restore_best_weights:
                self._best_state = {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stop_training, self.stopped_epoch = True, epoch

    def on_train_end(self) -> None:
        if self.restore_best_weights and self._best_state is not None:
            self.model.load_state_dict({k: _core.Tensor.from_numpy(v) for k, v in self._best_state.items()})


class ModelCheckpoint(_Monitor):
    """Saves the model's weights (safetensors, written atomically) after each epoch whose
    ``monitor`` improved (or after every epoch with ``save_best_only=False``). ``path`` may hold
    ``{epoch}`` and metric names, e.g. ``"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"``."""

    def __init__(self, path: str | os.PathLike[str], monitor: str = "val_loss", mode: str = "auto",
                 save_best_only: bool = True, min_delta: float = 0.0) -> None:
        super().__init__(monitor, mode, min_delta)
        self.path, self.save_best_only = os.fspath(path), save_best_only
        self.saved: list[str] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        improved = self._improved(logs)
        if improved:
            self.best_epoch = epoch
        if improved or not self.save_best_only:
            path = self.path.format(epoch=epoch + 1, **logs)
            self.model.save(path)
            self.saved.append(path)


class CatastrophicOverfittingStop(Callback):
    """Fast-AT's guard against catastrophic overfitting (Wong et al., 2020): when ``monitor``
    (by default ``val_robust_accuracy``) falls more than ``drop`` below its best value, training
    stops and the weights of the best epoch are restored."""

    def __init__(self, monitor: str = "val_robust_accuracy", drop: float = 0.2) -> None:
        self.monitor, self.drop = monitor, drop
        self.best = -math.inf
        self.best_epoch = -1
        self.stopped_epoch: Optional[int] = None
        self._best_state: Optional[dict[str, Any]] = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise ValueError(f"CatastrophicOverfittingStop: {self.monitor!r} is not among the epoch's metrics {sorted(logs)} "
                             "(pass val= and val_attack= to fit)")
        value = logs[self.monitor]
        if value >= self.best:
            self.best, self.best_epoch = value, epoch
            self._best_state = {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}
        elif value < self.best - self.drop:
            self.stop_training, self.stopped_epoch = True, epoch
            if self._best_state is not None:
                self.model.load_state_dict({k: _core.Tensor.from_numpy(v) for k, v in self._best_state.items()})


class ReduceLROnPlateau(_Monitor):
    """Keras's callback: multiplies the optimizer's rates by ``factor`` once ``monitor`` has not
    improved by more than ``min_delta`` for ``patience`` epochs, then waits ``cooldown`` epochs
    before counting again; rates never go below ``min_lr``. A new rate applies from the next
    epoch. (``ferrograd.optim.lr_scheduler.ReduceLROnPlateau`` is PyTorch's form, for your own loop.)"""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, mode: str = "auto",
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__(monitor, mode, min_delta)
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: argument `factor` expected a value in [0, 1), got {factor}")
        self.factor, self.patience, self.cooldown, self.min_lr = factor, patience, cooldown, min_lr
        self.wait, self.cooldown_counter = 0, 0

    def on_train_begin(self, epochs: int) -> None:
        if self.optimizer is None:
            raise ValueError("ReduceLROnPlateau: no optimizer to adjust (fit sets it; pass the callback to fit)")

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(logs):
            self.wait, self.best_epoch = 0, epoch
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                for group in self.optimizer.param_groups:
                    if group["lr"] > self.min_lr:
                        group["lr"] = max(group["lr"] * self.factor, self.min_lr)
                self.cooldown_counter, self.wait = self.cooldown, 0
