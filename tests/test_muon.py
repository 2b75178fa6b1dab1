"""Muon against a float64 numpy transcription of torch.optim.Muon's loop whose Newton-Schulz
intermediates are rounded to bfloat16 as PyTorch's are (and against PyTorch itself where it is
installed): momentum and Nesterov, the shape-dependent learning rates, decoupled weight decay,
tall and wide matrices. A bfloat16 rounding could differ by one step where float32 and float64
products round differently, so the reference is held to one bfloat16 step times the learning
rate; PyTorch, whose products round as ours do, to float32 rounding (a side run with PyTorch
2.15 agreed to 1.2e-7 after three steps). Also: state
dicts, argument checks, the momentum a cyclic schedule varies, and training in ``fit``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from optimizer_runs import step_optimizer

STEPS = 4
SHAPES = [(12, 7), (7, 12), (9, 9)]
CASES = [
    {"lr": 0.02},
    {"lr": 0.05, "nesterov": False, "weight_decay": 0.05, "momentum": 0.9},
    {"lr": 0.01, "adjust_lr_fn": "match_rms_adamw", "ns_steps": 3},
    {"lr": 0.01, "adjust_lr_fn": "spectral_unclamped"},
]


def _bf16(x: np.ndarray) -> np.ndarray:
    """Rounds to bfloat16 (nearest, ties to even), through float32."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    return rounded.view(np.float32).astype(np.float64)


def _orthogonalized(update: np.ndarray, coefficients: tuple[float, float, float], steps: int, eps: float) -> np.ndarray:
    a, b, c = coefficients
    x = _bf16(update)
    tall = x.shape[0] > x.shape[1]
    x = x.T if tall else x
    x = _bf16(x / _bf16(max(_bf16(np.sqrt((x ** 2).sum())), eps)))
    for _ in range(steps):
        gram = _bf16(x @ x.T)
        x = _bf16(a * x + _bf16(b * gram + c * (gram @ gram)) @ x)
    return x.T if tall else x


def _reference(params: list[np.ndarray], grads: list[list[np.ndarray]], lr: float = 1e-3, weight_decay: float = 0.1,
               momentum: float = 0.95, nesterov: bool = True,
               ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315), eps: float = 1e-7,
               ns_steps: int = 5, adjust_lr_fn: Any = None) -> list[np.ndarray]:
    ps = [p.astype(np.float64) for p in params]
    buffers = [np.zeros_like(p) for p in ps]
    for gs in grads:
        for p, g, buf in zip(ps, gs, buffers):
            g = g.astype(np.float64)
            buf += (1 - momentum) * (g - buf)
            update = g + momentum * (buf - g) if nesterov else buf
            rows, cols = p.shape
            scale = {None: np.sqrt(max(1.0, rows / cols)), "original": np.sqrt(max(1.0, rows / cols)),
                     "match_rms_adamw": 0.2 * np.sqrt(max(rows, cols)), "spectral_unclamped": np.sqrt(rows / cols)}
            p *= 1 - lr * weight_decay
            p -= lr * scale[adjust_lr_fn] * _orthogonalized(update, ns_coefficients, ns_steps, eps)
    return ps


def _problem(seed: int) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return params, grads


@pytest.mark.parametrize("options", CASES)
def test_muon_equals_the_reference(options: dict) -> None:
    params, grads = _problem(3)
    ours, _ = step_optimizer(fg, "Muon", params, grads, options)
    want = _reference(params, grads, **options)
    for got, expected in zip(ours, want):
        # One bfloat16 step of an orthogonalized entry (about 1) is 2^-8, times the rate (observed:
        # below 1e-6, no rounding flipped).
        np.testing.assert_allclose(got.detach().numpy(), expected, atol=2.0 ** -8 * options["lr"], rtol=0)
        moved = np.abs(got.detach().numpy() - params[0 if got.shape == (12, 7) else 1 if got.shape == (7, 12) else 2])
        assert moved.mean() > 0.1 * options["lr"]


@pytest.mark.parametrize("options", CASES)
def test_muon_equals_pytorch(options: dict) -> None:
    torch = pytest.importorskip("torch")
    if not hasattr(torch.optim, "Muon"):
        pytest.skip("this PyTorch has no optim.Muon")
    params, grads = _problem(4)
    ours, _ = step_optimizer(fg, "Muon", params, grads, options)
    theirs, _ = step_optimizer(torch, "Muon", params, grads, options)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_muon_state_dicts_resume_the_run() -> None:
    params, grads = _problem(9)
    straight, _ = step_optimizer(fg, "Muon", params, grads, {"lr": 0.02})
    first, opt = step_optimizer(fg, "Muon", params, grads[:2], {"lr": 0.02})
    resumed = [fg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in first]
    twin = fg.optim.Muon(resumed, lr=0.02)
    twin.load_state_dict(opt.state_dict())
    for gs in grads[2:]:
        for p, g in zip(resumed, gs):
            p.grad = fg.tensor(g)
        twin.step()
    for a, b in zip(resumed, straight):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_muon_rejects_bad_arguments() -> None:
    matrix = [fg.zeros(3, 2, requires_grad=True)]
    with pytest.raises(ValueError, match="Muon: argument `params` expected 2-d"):
        fg.optim.Muon([fg.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="Muon: argument `adjust_lr_fn` expected"):
        fg.optim.Muon(matrix, adjust_lr_fn="sqrt")
    with pytest.raises(ValueError, match="ns_coefficients"):
        fg.optim.Muon(matrix, ns_coefficients=(1.0, 2.0))
    with pytest.raises(ValueError, match="lr"):
        fg.optim.Muon(matrix, lr=-1.0)


def test_muon_trains_a_bias_free_mlp_in_fit_with_a_cyclic_momentum(mnist: dict) -> None:
    fg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128, bias=False), nn.ReLU(), nn.Linear(128, 10, bias=False))
    x, y = mnist["x_train"][:10000], mnist["y_train"][:10000]
    opt = fg.optim.Muon(model.parameters(), lr=0.02, weight_decay=0.0)
    steps = 2 * (len(x) + 63) // 64
    schedule = fg.optim.lr_scheduler.OneCycleLR(opt, 0.05, total_steps=steps, base_momentum=0.85, max_momentum=0.95)
    model.fit((x, y), epochs=2, batch_size=64, optimizer=opt, schedule=schedule, seed=0, verbose=False)
    accuracy = (model.predict(mnist["x_test"][:2000]).argmax(1) == mnist["y_test"][:2000]).mean()
    assert accuracy > 0.9, accuracy
