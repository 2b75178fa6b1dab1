"""One training step with an input-gradient penalty (the double backward that GradAlign, input
gradient regularisation and gradient penalties need): loss + 10 * ||d loss / d x||^2 on the
LeNet-style CNN of the fit benchmark, batch 128, Adam, ferrograd against PyTorch CPU in the same
process, same shapes, same thread count."""

from __future__ import annotations

import numpy as np
import torch

import ferrograd as fg
import ferrograd.functional as F

from common import paired_median_ms

BATCH = 128
PENALTY = 10.0


def _fg_model() -> fg.nn.Module:
    n = fg.nn
    return n.Sequential(n.Conv2d(1, 16, 5), n.ReLU(), n.MaxPool2d(2), n.Conv2d(16, 32, 5), n.ReLU(), n.MaxPool2d(2),
                        n.Flatten(), n.Linear(512, 10))


def _torch_model() -> torch.nn.Module:
    n = torch.nn
    return n.Sequential(n.Conv2d(1, 16, 5), n.ReLU(), n.MaxPool2d(2), n.Conv2d(16, 32, 5), n.ReLU(), n.MaxPool2d(2),
                        n.Flatten(), n.Linear(512, 10))


def run(threads: int) -> list[dict]:
    """Times the penalised step of both libraries; one row."""
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    fg_model, torch_model = _fg_model(), _torch_model()
    fopt = fg.optim.Adam(fg_model.parameters(), lr=1e-3)
    topt = torch.optim.Adam(torch_model.parameters(), lr=1e-3)
    fy, ty = fg.tensor(y), torch.from_numpy(y)

    def fg_step() -> None:
        fopt.zero_grad()
        fx = fg.tensor(x, requires_grad=True)
        loss = F.cross_entropy(fg_model(fx), fy)
        (gx,) = fg.autograd.grad(loss, fx, create_graph=True)
        (loss + PENALTY * gx.square().sum()).backward()
        fopt.step()

    def torch_step() -> None:
        topt.zero_grad()
        tx = torch.from_numpy(x).requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(torch_model(tx), ty)
        (gx,) = torch.autograd.grad(loss, tx, create_graph=True)
        (loss + PENALTY * gx.square().sum()).backward()
        topt.step()

    f_ms, t_ms = paired_median_ms(fg_step, torch_step, repeat=24, burst=4)
    return [{"workload": "LeNet-style CNN step with input-gradient penalty (double backward), batch 128, Adam",
             "ferrograd_ms": f_ms, "torch_ms": t_ms, "ratio": f_ms / t_ms, "target": 1.0}]
