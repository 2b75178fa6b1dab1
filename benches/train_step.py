"""One training step (forward, cross-entropy, backward, Adam) of the MLP and the small CNN of
issue 2, ferrograd against PyTorch CPU in the same process, same shapes, same thread count."""

from __future__ import annotations

import numpy as np
import torch

import ferrograd as fg
import ferrograd.functional as F

from common import paired_median_ms

BATCH = 128


def _fg_mlp() -> fg.nn.Module:
    return fg.nn.Sequential(fg.nn.Linear(784, 256), fg.nn.ReLU(), fg.nn.Linear(256, 256), fg.nn.ReLU(), fg.nn.Linear(256, 10))


def _torch_mlp() -> torch.nn.Module:
    n = torch.nn
    return n.Sequential(n.Linear(784, 256), n.ReLU(), n.Linear(256, 256), n.ReLU(), n.Linear(256, 10))


def _fg_cnn() -> fg.nn.Module:
    n = fg.nn
    return n.Sequential(n.Conv2d(1, 32, 3), n.ReLU(), n.Conv2d(32, 64, 3), n.ReLU(), n.MaxPool2d(2), n.Flatten(),
                        n.Linear(9216, 128), n.ReLU(), n.Linear(128, 10))


def _torch_cnn() -> torch.nn.Module:
    n = torch.nn
    return n.Sequential(n.Conv2d(1, 32, 3), n.ReLU(), n.Conv2d(32, 64, 3), n.ReLU(), n.MaxPool2d(2), n.Flatten(),
                        n.Linear(9216, 128), n.ReLU(), n.Linear(128, 10))


def step_pair(fg_model: fg.nn.Module, torch_model: torch.nn.Module, x: np.ndarray, y: np.ndarray,
              device: str = "cpu"):
    """The two libraries' training steps on `device`; on a GPU each ends with a device
    synchronisation, so a timing covers the work rather than the launch queue."""
    fg_model.to(device)
    torch_model.to(device)
    fx, fy = fg.tensor(x).to(device), fg.tensor(y).to(device)
    tx, ty = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
    fopt = fg.optim.Adam(fg_model.parameters(), lr=1e-3)
    topt = torch.optim.Adam(torch_model.parameters(), lr=1e-3)
    on_gpu = device != "cpu"

    def fg_step() -> None:
        fopt.zero_grad()
        F.cross_entropy(fg_model(fx), fy).backward()
        fopt.step()
        if on_gpu:
            fg.cuda.synchronize()

    def torch_step() -> None:
        topt.zero_grad()
        torch.nn.functional.cross_entropy(torch_model(tx), ty).backward()
        topt.step()
        if on_gpu:
            torch.cuda.synchronize()

    return fg_step, torch_step


def step_rows(device: str, prefix: str, targets: tuple[float, float], repeats: tuple[int, int]) -> list[dict]:
    """Times the MLP and the small CNN step on `device`; one row each, names led by `prefix`."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    rows = []
    for name, fg_model, torch_model, shape, target, repeat in [
        ("MLP 784-256-256-10 train step, batch 128, Adam", _fg_mlp(), _torch_mlp(), (BATCH, 784), targets[0], repeats[0]),
        ("small CNN train step, batch 128, Adam", _fg_cnn(), _torch_cnn(), (BATCH, 1, 28, 28), targets[1], repeats[1]),
    ]:
        x = rng.random(shape, dtype=np.float32)
        fg_step, torch_step = step_pair(fg_model, torch_model, x, y, device)
        # Six rounds: fewer untimed settling calls than one timed call per round would need.
        f_ms, t_ms = paired_median_ms(fg_step, torch_step, repeat=repeat, burst=max(1, repeat // 6))
        rows.append({"workload": prefix + name, "ferrograd_ms": f_ms, "torch_ms": t_ms, "ratio": f_ms / t_ms,
                     "target": target})
    return rows


def run(threads: int) -> list[dict]:
    """Times both workloads on the CPU; returns one row per workload."""
    torch.set_num_threads(threads)
    return step_rows("cpu", "", targets=(0.5, 0.7), repeats=(60, 12))
