"""bf16 workloads of issue 5 on the GPU, ferrograd against PyTorch eager in the same process:
a ResNet-18 training step with CIFAR shapes (ferrograd under `fg.autocast()`, PyTorch with AMP
bf16 and channels_last, both SGD with momentum), and scaled dot-product attention forward and
backward on bf16-rounded inputs against `torch.nn.functional.scaled_dot_product_attention` on
bf16 tensors. Every timed call ends with a device synchronisation on both sides."""

from __future__ import annotations

import numpy as np
import torch

import ferrograd as fg
import ferrograd.functional as F

from common import paired_median_ms

RESNET_BATCH = 512
# (batch, heads, sequence, head dim) of the attention rows.
ATTENTION_SHAPES = [(8, 12, 512, 64), (8, 12, 2048, 128)]


class _TorchBlock(torch.nn.Module):
    """torchvision's BasicBlock: two 3x3 convolutions with batch norm, and a projected shortcut
    when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        n = torch.nn
        self.conv1, self.bn1 = n.Conv2d(cin, cout, 3, stride, 1, bias=False), n.BatchNorm2d(cout)
        self.conv2, self.bn2 = n.Conv2d(cout, cout, 3, 1, 1, bias=False), n.BatchNorm2d(cout)
        self.downsample = (n.Sequential(n.Conv2d(cin, cout, 1, stride, bias=False), n.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else n.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.downsample(x))


def torch_resnet18_cifar(num_classes: int = 10) -> torch.nn.Module:
    """ResNet-18 with the CIFAR stem (3x3 stride-1 first convolution, no max pool), as
    `fg.models.resnet18(stem="cifar")`."""
    n = torch.nn
    layers: list[torch.nn.Module] = [n.Conv2d(3, 64, 3, 1, 1, bias=False), n.BatchNorm2d(64), n.ReLU()]
    cin = 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        layers += [_TorchBlock(cin, cout, stride), _TorchBlock(cout, cout, 1)]
        cin = cout
    layers += [n.AdaptiveAvgPool2d(1), n.Flatten(), n.Linear(512, num_classes)]
    return n.Sequential(*layers)


def resnet_steps(device: str, batch: int):
    """One SGD training step of each library's ResNet-18 in bf16 on `device` (a GPU step ends
    with a synchronisation)."""
    rng = np.random.default_rng(0)
    x = rng.random((batch, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)
    fg.manual_seed(0)
    fmodel = fg.models.resnet18(num_classes=10, stem="cifar").to(device)
    fopt = fg.optim.SGD(fmodel.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    fx, fy = fg.tensor(x).to(device), fg.tensor(y).to(device)
    torch.manual_seed(0)
    tmodel = torch_resnet18_cifar().to(device).to(memory_format=torch.channels_last)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    tx = torch.from_numpy(x).to(device).contiguous(memory_format=torch.channels_last)
    ty = torch.from_numpy(y).to(device)
    on_gpu = device != "cpu"

    def fg_step() -> None:
        fopt.zero_grad()
        with fg.autocast():
            loss = F.cross_entropy(fmodel(fx), fy)
        loss.backward()
        fopt.step()
        if on_gpu:
            fg.cuda.synchronize()

    def torch_step() -> None:
        topt.zero_grad()
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(tmodel(tx), ty)
        loss.backward()
        topt.step()
        if on_gpu:
            torch.cuda.synchronize()

    return fg_step, torch_step


def attention_steps(device: str, shape: tuple[int, int, int, int]):
    """Attention forward and backward of each library on `device`: ferrograd on bf16-rounded f32
    inputs under autocast, PyTorch on bf16 tensors."""
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(4)]
    fq, fk, fv = (fg.tensor(a).to(device).requires_grad_() for a in arrays[:3])
    fgrad = fg.tensor(arrays[3]).to(device)
    tq, tk, tv = (torch.from_numpy(a).to(device).to(torch.bfloat16).requires_grad_() for a in arrays[:3])
    tgrad = torch.from_numpy(arrays[3]).to(device).to(torch.bfloat16)
    on_gpu = device != "cpu"

    def fg_step() -> None:
        for t in (fq, fk, fv):
            t.grad = None
        with fg.autocast():
            out = F.scaled_dot_product_attention(fq, fk, fv)
        out.backward(fgrad)
        if on_gpu:
            fg.cuda.synchronize()

    def torch_step() -> None:
        for t in (tq, tk, tv):
            t.grad = None
        torch.nn.functional.scaled_dot_product_attention(tq, tk, tv).backward(tgrad)
        if on_gpu:
            torch.cuda.synchronize()

    return fg_step, torch_step


def rows(prefix: str) -> list[dict]:
    """Times the bf16 workloads on the GPU; one row each, names led by `prefix`."""
    fg_step, torch_step = resnet_steps("cuda", RESNET_BATCH)
    f_ms, t_ms = paired_median_ms(fg_step, torch_step, repeat=10, warmup=3)
    out = [{"workload": f"{prefix}ResNet-18 (CIFAR shapes) bf16 train step, batch {RESNET_BATCH}, SGD "
                        "(PyTorch: AMP bf16, channels_last)",
            "ferrograd_ms": f_ms, "torch_ms": t_ms, "ratio": f_ms / t_ms, "target": 1 / 1.2}]
    for shape in ATTENTION_SHAPES:
        fg_step, torch_step = attention_steps("cuda", shape)
        f_ms, t_ms = paired_median_ms(fg_step, torch_step, repeat=20, warmup=3)
        b, h, s, d = shape
        out.append({"workload": f"{prefix}attention forward + backward bf16, B={b} H={h} S={s} D={d} "
                                "(PyTorch: scaled_dot_product_attention)",
                    "ferrograd_ms": f_ms, "torch_ms": t_ms, "ratio": f_ms / t_ms, "target": 1.0})
    return out
