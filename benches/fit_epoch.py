"""One MNIST training epoch: ``model.fit`` (the whole epoch in Rust, data pipeline included)
against an idiomatic PyTorch CPU loop (TensorDataset + DataLoader, same model, batch size,
optimizer and thread count), in the same process. PyTorch gets its images already normalised
as float32; ferrograd decodes uint8 and normalises per batch inside the epoch. Each model's
epochs alternate between the libraries for ``ROUNDS`` rounds (each epoch continues training the
same model), and the row gives each library's median."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import ferrograd as fg

BATCH = 128
ROUNDS = 3
DATA = Path(os.environ.get("FERROGRAD_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def _models() -> list[tuple[str, fg.nn.Module, torch.nn.Module]]:
    f, t = fg.nn, torch.nn
    return [
        ("small CNN (conv 1→32→64 3×3, fc 9216→128→10)",
         f.Sequential(f.Conv2d(1, 32, 3), f.ReLU(), f.Conv2d(32, 64, 3), f.ReLU(), f.MaxPool2d(2), f.Flatten(),
                      f.Linear(9216, 128), f.ReLU(), f.Linear(128, 10)),
         t.Sequential(t.Conv2d(1, 32, 3), t.ReLU(), t.Conv2d(32, 64, 3), t.ReLU(), t.MaxPool2d(2), t.Flatten(),
                      t.Linear(9216, 128), t.ReLU(), t.Linear(128, 10))),
        ("LeNet-style CNN (conv 5×5 16/32 + BN, fc 512→10)",
         f.Sequential(f.Conv2d(1, 16, 5), f.ReLU(), f.MaxPool2d(2), f.Conv2d(16, 32, 5), f.BatchNorm2d(32), f.ReLU(),
                      f.MaxPool2d(2), f.Flatten(), f.Linear(512, 10)),
         t.Sequential(t.Conv2d(1, 16, 5), t.ReLU(), t.MaxPool2d(2), t.Conv2d(16, 32, 5), t.BatchNorm2d(32), t.ReLU(),
                      t.MaxPool2d(2), t.Flatten(), t.Linear(512, 10))),
    ]


def _torch_epoch(model: torch.nn.Module, loader: torch.utils.data.DataLoader) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    start = time.perf_counter()
    for x, y in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return time.perf_counter() - start


def _fg_epoch(model: fg.nn.Module, train: fg.data.Dataset) -> float:
    opt = fg.optim.Adam(model.parameters(), lr=1e-3)
    norm = [fg.data.transforms.Normalize([0.1307], [0.3081])]
    start = time.perf_counter()
    model.fit(train, epochs=1, batch_size=BATCH, optimizer=opt, transforms=norm, seed=0, verbose=False)
    return time.perf_counter() - start


def run(threads: int) -> list[dict]:
    """Times one epoch of each model with both libraries; one row per model."""
    torch.set_num_threads(threads)
    train, _ = fg.data.mnist(DATA / "mnist")
    x = np.stack([train[i][0] for i in range(len(train))]).astype(np.float32) / 255.0
    x = (x - 0.1307) / 0.3081
    y = train.labels
    tds = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(tds, batch_size=BATCH, shuffle=True)
    warm = train.subset(list(range(1024)))
    warm_loader = torch.utils.data.DataLoader(torch.utils.data.Subset(tds, range(1024)), batch_size=BATCH)
    rows = []
    for name, fg_model, torch_model in _models():
        _fg_epoch(fg_model, warm)
        _torch_epoch(torch_model, warm_loader)
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(ROUNDS):
            times[0].append(_fg_epoch(fg_model, train))
            times[1].append(_torch_epoch(torch_model, loader))
        f_s, t_s = statistics.median(times[0]), statistics.median(times[1])
        rows.append({"workload": f"MNIST epoch via fit, {name}, batch {BATCH}, Adam", "ferrograd_ms": 1e3 * f_s,
                     "torch_ms": 1e3 * t_s, "ratio": f_s / t_s, "target": 0.6})
    return rows
