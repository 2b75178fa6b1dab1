"""GPU workloads of the CUDA backend (issue 4), ferrograd against PyTorch eager on the same device in
the same process: an MLP training step, and an AdamW step over 100M parameters whose bandwidth is
compared with a device-to-device copy measured in the same run. Every timed call ends with a device
synchronisation on both sides, so the times are the work's, not the launch queue's."""

from __future__ import annotations

import numpy as np
import torch

import ferrograd as fg
import ferrograd.functional as F

from common import median_ms

BATCH = 128
ADAMW_PARAMS = 100_000_000


def _mlp_rows(name: str) -> dict:
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 784), dtype=np.float32)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    fg.manual_seed(0)
    fmodel = fg.nn.Sequential(fg.nn.Linear(784, 256), fg.nn.ReLU(), fg.nn.Linear(256, 256), fg.nn.ReLU(),
                              fg.nn.Linear(256, 10)).to("cuda")
    n = torch.nn
    tmodel = n.Sequential(n.Linear(784, 256), n.ReLU(), n.Linear(256, 256), n.ReLU(), n.Linear(256, 10)).cuda()
    fx, fy = fg.tensor(x).cuda(), fg.tensor(y).cuda()
    tx, ty = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()
    fopt = fg.optim.Adam(fmodel.parameters(), lr=1e-3)
    topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)

    def fg_step() -> None:
        fopt.zero_grad()
        F.cross_entropy(fmodel(fx), fy).backward()
        fopt.step()
        fg.cuda.synchronize()

    def torch_step() -> None:
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tmodel(tx), ty).backward()
        topt.step()
        torch.cuda.synchronize()

    f_ms, t_ms = median_ms(fg_step, repeat=100, warmup=10), median_ms(torch_step, repeat=100, warmup=10)
    return {"workload": f"{name}: MLP 784-256-256-10 train step, batch 128, Adam", "ferrograd_ms": f_ms,
            "torch_ms": t_ms, "ratio": f_ms / t_ms, "target": 0.5}


def _copy_bandwidth() -> float:
    """Bytes per second of a device-to-device copy of 2 GiB (read + write counted)."""
    src = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)

    def copy() -> None:
        dst.copy_(src)
        torch.cuda.synchronize()

    ms = median_ms(copy, repeat=20, warmup=3)
    return 2 * src.numel() / (ms / 1e3)


def _adamw_row(name: str) -> dict:
    grad = np.random.default_rng(1).standard_normal(ADAMW_PARAMS).astype(np.float32)
    p = fg.zeros(ADAMW_PARAMS, device="cuda")
    p.requires_grad = True
    (p * fg.tensor(grad).cuda()).sum().backward()  # p.grad = grad
    fopt = fg.optim.AdamW([p], lr=1e-3, weight_decay=1e-2)
    tp = torch.zeros(ADAMW_PARAMS, device="cuda", requires_grad=True)
    tp.grad = torch.from_numpy(grad).cuda()
    topt = torch.optim.AdamW([tp], lr=1e-3, weight_decay=1e-2, fused=True)

    def fg_step() -> None:
        fopt.step()
        fg.cuda.synchronize()

    def torch_step() -> None:
        topt.step()
        torch.cuda.synchronize()

    f_ms, t_ms = median_ms(fg_step, repeat=30), median_ms(torch_step, repeat=30)
    # AdamW reads param, grad, exp_avg, exp_avg_sq and writes param, exp_avg, exp_avg_sq: 28 bytes.
    achieved = 28 * ADAMW_PARAMS / (f_ms / 1e3)
    share = achieved / _copy_bandwidth()
    return {"workload": f"{name}: AdamW step over 100M parameters vs torch fused=True "
                        f"({achieved / 1e12:.2f} TB/s, {100 * share:.0f}% of the copy bandwidth)",
            "ferrograd_ms": f_ms, "torch_ms": t_ms, "ratio": f_ms / t_ms, "target": 1.0}


def run(threads: int) -> list[dict]:
    """Times the GPU workloads; returns one row per workload."""
    del threads  # the GPU work does not depend on host threads
    name = f"GPU ({fg.cuda.get_device_name()})"
    return [_mlp_rows(name), _adamw_row(name)]
