"""Where a ferrograd training step's GPU time goes: runs the small-CNN and MLP steps of
`train_step.py` on the GPU under PyTorch's profiler (CUPTI sees every kernel of the process,
ferrograd's NVRTC kernels and cuBLAS included) and prints the kernels by total device time.
Usage: ``python benches/gpu_profile.py [--steps N]`` (needs a GPU and PyTorch)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).parent))

import ferrograd as fg  # noqa: E402
from train_step import BATCH, _fg_cnn, _fg_mlp, _torch_cnn, _torch_mlp, step_pair  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20, help="profiled steps per model")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, BATCH).astype(np.int64)
    for name, ours, theirs, shape in [("small CNN", _fg_cnn(), _torch_cnn(), (BATCH, 1, 28, 28)),
                                      ("MLP", _fg_mlp(), _torch_mlp(), (BATCH, 784))]:
        fg_step, _ = step_pair(ours, theirs, rng.random(shape, dtype=np.float32), y, "cuda")
        for _ in range(3):
            fg_step()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(args.steps):
                fg_step()
        print(f"## ferrograd {name} step, batch {BATCH}: {args.steps} steps\n")
        print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=25, max_name_column_width=60))
    fg.cuda.synchronize()


if __name__ == "__main__":
    main()
