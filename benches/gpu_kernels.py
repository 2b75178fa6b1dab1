"""Speed of each CUDA kernel family on large inputs, ferrograd against the same PyTorch op on the same
GPU in the same process, with the bytes each op must move (inputs read once, outputs written once)
as a bandwidth next to a device-to-device copy's, and the convolutions' arithmetic rate. These are
the measured speeds quoted at the top of each `.cu` file. Usage: ``python benches/gpu_kernels.py``
(needs a GPU and PyTorch)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

import ferrograd as fg  # noqa: E402
import ferrograd.functional as F  # noqa: E402
from common import median_ms  # noqa: E402

TF = torch.nn.functional


def _pair(a: np.ndarray) -> tuple[fg.Tensor, torch.Tensor]:
    return fg.tensor(a).cuda(), torch.from_numpy(a).cuda()


def _timed(fn: Callable[[], object], sync: Callable[[], None]) -> float:
    def call() -> None:
        fn()
        sync()

    return median_ms(call, repeat=20, warmup=3)


def _cases(rng: np.random.Generator) -> list[tuple[str, int, Callable[[], object], Callable[[], object]]]:
    """(name, bytes moved, ferrograd call, PyTorch call) for each kernel family."""
    big = rng.standard_normal((8192, 8192), dtype=np.float32)
    row = rng.standard_normal(8192, dtype=np.float32)
    fx, tx = _pair(big)
    fr, tr = _pair(row)
    n = big.size * 4
    logits = rng.standard_normal((16384, 1000), dtype=np.float32)
    fl, tl = _pair(logits)
    labels = rng.integers(0, 1000, 16384)
    fy, ty = _pair(labels)
    fl.requires_grad = True
    tl.requires_grad = True
    table = rng.standard_normal((50000, 768), dtype=np.float32)
    ids = rng.integers(0, 50000, 65536)
    ft, tt = _pair(table)
    fi, ti = _pair(ids)
    ln = rng.standard_normal((16384, 1024), dtype=np.float32)
    fn_, tn = _pair(ln)
    gamma = np.ones(1024, np.float32)
    fg_g, t_g = _pair(gamma)
    fb, tb = _pair(np.zeros(1024, np.float32))
    img = rng.standard_normal((128, 32, 28, 28), dtype=np.float32)
    fimg, timg = _pair(img)
    cols = 128 * 32 * 9 * 28 * 28 * 4

    feat = rng.standard_normal((128, 64, 32, 32), dtype=np.float32)
    ff, tfe = _pair(feat)
    fbn, tbn = fg.nn.BatchNorm2d(64).cuda(), torch.nn.BatchNorm2d(64).cuda()

    fx_bn, tx_bn = _pair(feat)
    fx_bn.requires_grad = True
    tx_bn.requires_grad = True

    def bn_fg() -> None:
        fbn(fx_bn).sum().backward()

    def bn_torch() -> None:
        tbn(tx_bn).sum().backward()

    def ce_fg() -> None:
        F.cross_entropy(fl, fy).backward()

    def ce_torch() -> None:
        TF.cross_entropy(tl, ty).backward()

    return [
        ("copy (transpose to contiguous), 8192²", 2 * n, lambda: fx.T.contiguous(), lambda: tx.t().contiguous()),
        ("binary add with a broadcast row, 8192²", 2 * n, lambda: fx + fr, lambda: tx + tr),
        ("unary exp, 8192²", 2 * n, lambda: fx.exp(), lambda: tx.exp()),
        ("row sum, 8192² → 8192", n, lambda: fx.sum(dim=-1), lambda: tx.sum(dim=-1)),
        ("column sum, 8192² → 8192", n, lambda: fx.sum(dim=0), lambda: tx.sum(dim=0)),
        ("argmax over rows, 8192²", n, lambda: fx.argmax(dim=-1), lambda: tx.argmax(dim=-1)),
        ("softmax over rows, 8192²", 2 * n, lambda: F.softmax(fx, dim=-1), lambda: TF.softmax(tx, dim=-1)),
        ("cross-entropy forward + backward, 16384 × 1000", 2 * logits.size * 4, ce_fg, ce_torch),
        ("layer norm forward, 16384 × 1024", 2 * ln.size * 4, lambda: F.layer_norm(fn_, 1024, fg_g, fb),
         lambda: TF.layer_norm(tn, (1024,), t_g, tb)),
        ("embedding gather, 65536 of 50000 × 768", 2 * 65536 * 768 * 4, lambda: F.embedding(fi, ft),
         lambda: TF.embedding(ti, tt)),
        ("dropout p=0.1, 8192²", 2 * n, lambda: F.dropout(fx, 0.1), lambda: TF.dropout(tx, 0.1)),
        ("max pool 2×2 forward, 128 × 64 × 32²", feat.size * 4 + feat.size // 4 * 12, lambda: F.max_pool2d(ff, 2),
         lambda: TF.max_pool2d(tfe, 2)),
        # Forward reads x three times (two statistics passes, apply) and writes y; backward reads
        # dy and x twice and writes dx; the sum's backward writes dy.
        ("batch norm forward + backward, 128 × 64 × 32²", 9 * feat.size * 4, bn_fg, bn_torch),
        ("im2col 3×3 pad 1, 128 × 32 × 28²", img.size * 4 + cols, lambda: F.unfold(fimg, 3, padding=1),
         lambda: TF.unfold(timg, 3, padding=1)),
    ]


def _conv_cases(rng: np.random.Generator) -> list[tuple[str, float, Callable[[], object], Callable[[], object]]]:
    """(name, multiply-adds x 2, ferrograd call, PyTorch call) for the implicit-GEMM convolution:
    the small CNN's second convolution, and a ResNet-style 3×3 convolution in f32 and in bf16
    (ferrograd under `fg.autocast()`, PyTorch on bf16 channels-last tensors, cuDNN's choice)."""
    cases = []
    shapes = [("small CNN conv2 32→64 3×3, 128 × 26²", (128, 32, 26, 64, 0), ("f32",)),
              ("ResNet 3×3 128→128, 256 × 16²", (256, 128, 16, 128, 1), ("f32", "bf16"))]
    for label, (n, c, hw, co, pad), precisions in shapes:
        x = rng.standard_normal((n, c, hw, hw), dtype=np.float32)
        w = (rng.standard_normal((co, c, 3, 3)) * 0.05).astype(np.float32)
        out = hw + 2 * pad - 2
        flops = 2.0 * n * co * out * out * c * 9
        for precision in precisions:
            fx, tx = _pair(x)
            fw, tw = _pair(w)
            if precision == "bf16":
                tx = tx.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
                tw = tw.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
            for t in (fx, fw, tx, tw):
                t.requires_grad = True

            def ours(fx=fx, fw=fw, pad=pad, bf16=precision == "bf16") -> None:
                if bf16:
                    with fg.autocast():
                        F.conv2d(fx, fw, padding=pad).sum().backward()
                else:
                    F.conv2d(fx, fw, padding=pad).sum().backward()

            def theirs(tx=tx, tw=tw, pad=pad) -> None:
                TF.conv2d(tx, tw, padding=pad).sum().backward()

            cases.append((f"{label}, forward, {precision}", flops,
                          lambda fx=fx, fw=fw, pad=pad, bf16=precision == "bf16": _conv_forward(fx, fw, pad, bf16),
                          lambda tx=tx, tw=tw, pad=pad: _torch_conv_forward(tx, tw, pad)))
            cases.append((f"{label}, forward + both gradients, {precision}", 3 * flops, ours, theirs))
    return cases


def _conv_forward(x: fg.Tensor, w: fg.Tensor, pad: int, bf16: bool) -> fg.Tensor:
    with fg.no_grad():
        if bf16:
            with fg.autocast():
                return F.conv2d(x, w, padding=pad)
        return F.conv2d(x, w, padding=pad)


def _torch_conv_forward(x: torch.Tensor, w: torch.Tensor, pad: int) -> torch.Tensor:
    with torch.no_grad():
        return TF.conv2d(x, w, padding=pad)


def _copy_bandwidth() -> float:
    src = torch.empty(2 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    ms = _timed(lambda: dst.copy_(src), torch.cuda.synchronize)
    return 2 * src.numel() / (ms / 1e3)


def main() -> None:
    copy = _copy_bandwidth()
    print(f"{fg.cuda.get_device_name()}: device-to-device copy {copy / 1e12:.2f} TB/s (read + write)\n")
    print("| kernel | ferrograd (ms) | PyTorch (ms) | ratio | ferrograd TB/s (share of copy) |")
    print("|---|---|---|---|---|")
    for name, nbytes, ours, theirs in _cases(np.random.default_rng(0)):
        f_ms = _timed(ours, fg.cuda.synchronize)
        t_ms = _timed(theirs, torch.cuda.synchronize)
        rate = nbytes / (f_ms / 1e3)
        print(f"| {name} | {f_ms:.3f} | {t_ms:.3f} | {f_ms / t_ms:.2f}× | {rate / 1e12:.2f} ({100 * rate / copy:.0f}%) |")
    # Full-precision convolutions on both sides: cuDNN would otherwise use TF32 tensor cores.
    torch.backends.cudnn.allow_tf32 = False
    print("\n| convolution | ferrograd (ms) | PyTorch (ms) | ratio | ferrograd TFLOP/s |")
    print("|---|---|---|---|---|")
    for name, flops, ours, theirs in _conv_cases(np.random.default_rng(1)):
        f_ms = _timed(ours, fg.cuda.synchronize)
        t_ms = _timed(theirs, torch.cuda.synchronize)
        print(f"| {name} | {f_ms:.3f} | {t_ms:.3f} | {f_ms / t_ms:.2f}× | {flops / (f_ms / 1e3) / 1e12:.1f} |")


if __name__ == "__main__":
    main()
