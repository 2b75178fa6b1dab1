"""Training checkpoints: model, optimizer, schedule, RNG and loader position in one safetensors
file (written atomically), so a resumed run continues exactly as an uninterrupted one would."""

from __future__ import annotations

import json
import os
from typing import Any, Optional

import numpy as np

from .. import _core
from .._core import get_rng_state, set_rng_state
from .._core import DataLoader, Tensor
from ..io import load_safetensors, save_safetensors
from .history import History

_META_KEY = "ferrograd.training"


def save_training_checkpoint(path: str | os.PathLike[str], model: Any, optimizer: Any, schedule: Any, loader: DataLoader,
                             epoch: int, history: History) -> None:
    """Writes everything needed to resume after ``epoch`` (0-based) to ``path``."""
    tensors: dict[str, Tensor] = {f"model/{k}": v for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    steps: dict[str, int] = {}
    for i, state in opt_state["state"].items():
        for name, value in state.items():
            if isinstance(value, np.ndarray):
                tensors[f"optimizer/{i}/{name}"] = Tensor.from_numpy(np.array(value, order="C"))  # keeps 0-d state 0-d
            else:
                steps[f"{i}/{name}"] = int(value)
    seed, offset = get_rng_state()
    meta = {
        "epoch": epoch,
        "param_groups": opt_state["param_groups"],
        "optimizer_scalars": steps,
        "schedule": schedule.state_dict() if schedule is not None else None,
        "rng": [int(seed), int(offset)],
        "loader_epoch": int(loader.epoch),
        "history": history.to_dict(),
    }
    save_safetensors(tensors, path, {_META_KEY: json.dumps(meta)})


def load_training_checkpoint(path: str | os.PathLike[str], model: Any, optimizer: Any, schedule: Any,
                             loader: Optional[DataLoader]) -> tuple[int, History]:
    """Restores a checkpoint written by :func:`save_training_checkpoint`; returns the epoch to
    continue from and the History so far."""
    meta_raw = _core.read_safetensors_metadata(os.fspath(path)).get(_META_KEY)
    if meta_raw is None:
        raise ValueError(f"{os.fspath(path)}: not a ferrograd training checkpoint (no {_META_KEY!r} metadata); "
                         "weights saved with Module.save load with Module.load")
    meta = json.loads(meta_raw)
    tensors = load_safetensors(path)
    model.load_state_dict({k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")})
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer/"):
            _, i, name = key.split("/", 2)
            state.setdefault(int(i), {})[name] = value.cpu().numpy()
    for key, value in meta["optimizer_scalars"].items():
        i, name = key.split("/", 1)
        state.setdefault(int(i), {})[name] = value
    optimizer.load_state_dict({"param_groups": meta["param_groups"], "state": state})
    if schedule is not None and meta["schedule"] is not None:
        schedule.load_state_dict(meta["schedule"])
    set_rng_state(tuple(meta["rng"]))
    if loader is not None:
        loader.set_epoch(meta["loader_epoch"])
    return int(meta["epoch"]) + 1, History.from_dict(meta["history"])
