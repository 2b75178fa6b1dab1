"""GPU workloads of the CUDA backend (issue 4), ferrograd against PyTorch eager on the same device in
the same process: the MLP and small-CNN training steps (from Python, and inside `fit` with and
without CUDA graphs, `gpu_fit.py`), an AdamW step over 100M parameters whose bandwidth is
compared with a device-to-device copy measured in the same run, the robustness workloads (PGD-10
evaluation, a PGD-AT epoch), and issue 5's bf16 rows (`mixed_precision.py`). Every timed call ends
with a device synchronisation on both sides, so the times are the work's, not the launch queue's."""

from __future__ import annotations

import numpy as np
import torch

import ferrograd as fg

from attacks import robustness_rows
from common import median_ms, paired_median_ms
from gpu_fit import rows as fit_rows
from mixed_precision import rows as mixed_precision_rows
from train_step import step_rows

ADAMW_PARAMS = 100_000_000


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

    f_ms, t_ms = paired_median_ms(fg_step, torch_step, repeat=30)
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
    steps = step_rows("cuda", f"{name}: ", targets=(0.5, 0.33), repeats=(100, 50))
    return [*steps, *fit_rows(f"{name}: "), _adamw_row(name), *robustness_rows("cuda", f"{name}: "),
            *mixed_precision_rows(f"{name}: ")]
