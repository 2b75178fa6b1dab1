"""Training steps inside ``fit`` on a GPU, where the forward and backward passes replay as CUDA
graphs (and, for comparison, with ``cuda_graphs=False``), against the equivalent PyTorch eager loop
in the same process: the same model, batch size, Adam, and batches moved to the device from pinned
host memory each step. A row's time is one epoch's wall time (synchronised at its end) divided by
its batches, the median over ``ROUNDS`` epochs that alternate between the libraries."""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

import ferrograd as fg

BATCH = 128
BATCHES = 64
ROUNDS = 5


def _models() -> list[tuple[str, fg.nn.Module, torch.nn.Module, tuple[int, ...], float]]:
    f, t = fg.nn, torch.nn
    return [
        ("MLP 784-256-256-10", f.Sequential(f.Linear(784, 256), f.ReLU(), f.Linear(256, 256), f.ReLU(), f.Linear(256, 10)),
         t.Sequential(t.Linear(784, 256), t.ReLU(), t.Linear(256, 256), t.ReLU(), t.Linear(256, 10)), (784,), 0.5),
        ("small CNN", f.Sequential(f.Conv2d(1, 32, 3), f.ReLU(), f.Conv2d(32, 64, 3), f.ReLU(), f.MaxPool2d(2),
                                   f.Flatten(), f.Linear(9216, 128), f.ReLU(), f.Linear(128, 10)),
         t.Sequential(t.Conv2d(1, 32, 3), t.ReLU(), t.Conv2d(32, 64, 3), t.ReLU(), t.MaxPool2d(2), t.Flatten(),
                      t.Linear(9216, 128), t.ReLU(), t.Linear(128, 10)), (1, 28, 28), 0.33),
    ]


def _fg_epoch(model: fg.nn.Module, opt: fg.optim.Optimizer, x: np.ndarray, y: np.ndarray, graphs: bool) -> float:
    start = time.perf_counter()
    model.fit((x, y), epochs=1, batch_size=BATCH, shuffle=False, optimizer=opt, device="cuda", verbose=False,
              cuda_graphs=graphs)
    fg.cuda.synchronize()
    return time.perf_counter() - start


def _torch_epoch(model: torch.nn.Module, opt: torch.optim.Optimizer, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    start = time.perf_counter()
    for xb, yb in batches:
        xd, yd = xb.cuda(non_blocking=True), yb.cuda(non_blocking=True)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xd), yd).backward()
        opt.step()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def rows(prefix: str) -> list[dict]:
    """One row per model with CUDA graphs and one without; names led by `prefix`."""
    rng = np.random.default_rng(0)
    out = []
    for name, fg_model, torch_model, sample, target in _models():
        x = rng.random((BATCH * BATCHES, *sample), dtype=np.float32)
        y = rng.integers(0, 10, BATCH * BATCHES).astype(np.int64)
        fg_model.to("cuda")
        torch_model.to("cuda")
        fopt = fg.optim.Adam(fg_model.parameters(), lr=1e-3)
        topt = torch.optim.Adam(torch_model.parameters(), lr=1e-3)
        tx, ty = torch.from_numpy(x).pin_memory(), torch.from_numpy(y).pin_memory()
        batches = [(tx[i:i + BATCH], ty[i:i + BATCH]) for i in range(0, len(x), BATCH)]
        times: dict[str, list[float]] = {"graphs": [], "eager": [], "torch": []}
        for timed in [False] + [True] * ROUNDS:
            runs = {"graphs": _fg_epoch(fg_model, fopt, x, y, True), "eager": _fg_epoch(fg_model, fopt, x, y, False),
                    "torch": _torch_epoch(torch_model, topt, batches)}
            if timed:
                for k, v in runs.items():
                    times[k].append(1e3 * v / BATCHES)
        t_ms = statistics.median(times["torch"])
        for mode, label in [("graphs", "CUDA graphs"), ("eager", "op by op")]:
            f_ms = statistics.median(times[mode])
            out.append({"workload": f"{prefix}{name} train step inside fit ({label}), batch {BATCH}, Adam",
                        "ferrograd_ms": f_ms, "torch_ms": t_ms, "ratio": f_ms / t_ms, "target": target})
    return out
