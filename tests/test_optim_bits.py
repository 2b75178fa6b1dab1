"""Every optimizer's step gives PyTorch's float32 bits, not just values within a tolerance.

The references below transcribe PyTorch's single-tensor optimizers (torch/optim/*.py, the CPU
default) term for term in the tensor ops they are written in, and each op rounds as PyTorch's CPU
kernel does on a processor with fused multiply-add: `add(other, alpha)` and `addcmul` round their
product-sum once; `addcdiv` rounds its product, quotient and sum separately; `lerp` is a fused
multiply-add from the nearer end. Hyperparameters stay Python floats, so what PyTorch computes
from them in Python (bias corrections, `1 - beta`) is computed in double and rounded once where a
tensor op receives it. A fused multiply-add is emulated by forming the float32 product exactly
in float64 and rounding the sum to float32 (a double rounding, off once in about 2^29 sums; the
fixed seeds here do not hit one).

Where PyTorch is installed, `test_steps_equal_pytorch_bit_for_bit` compares with it directly. Its
CPU build computes `sqrt` of large tensors with MKL's vector math, which is off by one unit in the
last place on about 17% of elements, so that test gives PyTorch a correctly rounded `sqrt`: every
other op is PyTorch's own.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import ferrograd as fg
from optimizer_runs import step_optimizer

F32 = np.float32
STEPS = 8


def _f(x: float) -> np.float32:
    """A Python float as a float32 tensor op receives it."""
    return F32(x)


def _fma(a: np.ndarray, b: Any, c: Any) -> np.ndarray:
    return (np.asarray(a, np.float64) * np.float64(b) + np.asarray(c, np.float64)).astype(F32)


def _add(this: np.ndarray, other: np.ndarray, alpha: float) -> np.ndarray:
    return _fma(other, _f(alpha), this)


def _addcmul(this: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float) -> np.ndarray:
    return _fma(_f(value) * t1, t2, this)


def _addcdiv(this: np.ndarray, t1: np.ndarray, t2: np.ndarray, value: float) -> np.ndarray:
    return this + _f(value) * t1 / t2


def _lerp(this: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    w = _f(weight)
    return _fma(w, end - this, this) if abs(w) < 0.5 else _fma(w - F32(1), end - this, end)


def _signed_decayed(g: np.ndarray, p: np.ndarray, o: dict) -> np.ndarray:
    g = -g if o.get("maximize") else g
    return _add(g, p, o["weight_decay"]) if o.get("weight_decay") else g


def _sgd(p: np.ndarray, g: np.ndarray, s: dict, o: dict) -> np.ndarray:
    g = _signed_decayed(g, p, o)
    if o.get("momentum"):
        s["buf"] = g.copy() if "buf" not in s else _add(s["buf"] * _f(o["momentum"]), g, 1 - o.get("dampening", 0.0))
        g = _add(g, s["buf"], o["momentum"]) if o.get("nesterov") else s["buf"]
    return _add(p, g, -o["lr"])


def _adam_moments(p: np.ndarray, g: np.ndarray, s: dict, o: dict, decoupled: bool) -> tuple[np.ndarray, np.ndarray]:
    """The weight decay and both moments, as Adam, RAdam and NAdam share them."""
    b1, b2 = o.get("betas", (0.9, 0.999))
    wd = o.get("weight_decay", 0.0)
    g = -g if o.get("maximize") else g
    if wd and decoupled:
        p = p * _f(1 - o["lr"] * wd)
    elif wd:
        g = _add(g, p, wd)
    s["m"] = _lerp(s.get("m", np.zeros_like(p)), g, 1 - b1)
    s["v"] = _addcmul(s.get("v", np.zeros_like(p)) * _f(b2), g, g, 1 - b2)
    return p, g


def _adam(p: np.ndarray, g: np.ndarray, s: dict, o: dict, decoupled: bool = False) -> np.ndarray:
    b1, b2 = o.get("betas", (0.9, 0.999))
    t = s["step"]
    p, g = _adam_moments(p, g, s, o, decoupled)
    v = s["v"]
    if o.get("amsgrad"):
        s["vmax"] = v = np.maximum(s.get("vmax", np.zeros_like(p)), v)
    denom = np.sqrt(v) / _f((1 - b2**t) ** 0.5) + _f(o.get("eps", 1e-8))
    return _addcdiv(p, s["m"], denom, -(o["lr"] / (1 - b1**t)))


def _rmsprop(p: np.ndarray, g: np.ndarray, s: dict, o: dict) -> np.ndarray:
    alpha = o.get("alpha", 0.99)
    g = _signed_decayed(g, p, o)
    s["sq"] = _addcmul(s.get("sq", np.zeros_like(p)) * _f(alpha), g, g, 1 - alpha)
    if o.get("centered"):
        s["ga"] = _lerp(s.get("ga", np.zeros_like(p)), g, 1 - alpha)
        avg = np.sqrt(_addcmul(s["sq"], s["ga"], s["ga"], -1.0))
    else:
        avg = np.sqrt(s["sq"])
    avg = avg + _f(o.get("eps", 1e-8))
    if o.get("momentum"):
        s["buf"] = _addcdiv(s.get("buf", np.zeros_like(p)) * _f(o["momentum"]), g, avg, 1.0)
        return _add(p, s["buf"], -o["lr"])
    return _addcdiv(p, g, avg, -o["lr"])


def _adagrad(p: np.ndarray, g: np.ndarray, s: dict, o: dict) -> np.ndarray:
    g = _signed_decayed(g, p, o)
    clr = o["lr"] / (1 + (s["step"] - 1) * o.get("lr_decay", 0.0))
    s["sum"] = _addcmul(s.get("sum", np.full_like(p, _f(o.get("initial_accumulator_value", 0.0)))), g, g, 1.0)
    return _addcdiv(p, g, np.sqrt(s["sum"]) + _f(o.get("eps", 1e-10)), -clr)


def _adamax(p: np.ndarray, g: np.ndarray, s: dict, o: dict) -> np.ndarray:
    b1, b2 = o.get("betas", (0.9, 0.999))
    g = _signed_decayed(g, p, o)
    s["m"] = _lerp(s.get("m", np.zeros_like(p)), g, 1 - b1)
    s["u"] = np.maximum(s.get("u", np.zeros_like(p)) * _f(b2), np.abs(g) + _f(o.get("eps", 1e-8)))
    return _addcdiv(p, s["m"], s["u"], -(o["lr"] / (1 - b1 ** s["step"])))


def _radam(p: np.ndarray, g: np.ndarray, s: dict, o: dict) -> np.ndarray:
    b1, b2 = o.get("betas", (0.9, 0.999))
    t = s["step"]
    p, g = _adam_moments(p, g, s, o, o.get("decoupled_weight_decay", False))
    bias2 = 1 - b2**t
    corrected = s["m"] / _f(1 - b1**t)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * (b2**t) / bias2
    if rho_t <= 5.0:
        return _add(p, corrected * _f(o["lr"]), -1.0)
    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    # A Python float over a tensor is the tensor's reciprocal times the float.
    adaptive = F32(1) / (np.sqrt(s["v"]) + _f(o.get("eps", 1e-8))) * _f(bias2**0.5)
    return _add(p, corrected * _f(o["lr"]) * adaptive * _f(rect), -1.0)


def _nadam(p: np.ndarray, g: np.ndarray, s: dict, o: dict) -> np.ndarray:
    b1, b2 = o.get("betas", (0.9, 0.999))
    psi, lr, t = o.get("momentum_decay", 4e-3), o["lr"], s["step"]
    p, g = _adam_moments(p, g, s, o, o.get("decoupled_weight_decay", False))
    mu = b1 * (1.0 - 0.5 * (0.96 ** (t * psi)))
    mu_next = b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))
    s["mu_product"] = F32(s.get("mu_product", F32(1.0)) * _f(mu))
    product = float(s["mu_product"])
    denom = np.sqrt(s["v"] / _f(1 - b2**t)) + _f(o.get("eps", 1e-8))
    p = _addcdiv(p, g, denom, -lr * (1.0 - mu) / (1.0 - product))
    return _addcdiv(p, s["m"], denom, (-lr * mu_next) / (1.0 - product * mu_next))


def _adadelta(p: np.ndarray, g: np.ndarray, s: dict, o: dict) -> np.ndarray:
    rho, eps = o.get("rho", 0.9), _f(o.get("eps", 1e-6))
    g = _signed_decayed(g, p, o)
    s["sq"] = _addcmul(s.get("sq", np.zeros_like(p)) * _f(rho), g, g, 1 - rho)
    acc = s.get("acc", np.zeros_like(p))
    delta = np.sqrt(acc + eps) / np.sqrt(s["sq"] + eps) * g
    s["acc"] = _addcmul(acc * _f(rho), delta, delta, 1 - rho)
    return _add(p, delta, -o.get("lr", 1.0))


def _asgd(p: np.ndarray, g: np.ndarray, s: dict, o: dict) -> np.ndarray:
    lr, lambd, alpha, t0 = o["lr"], o.get("lambd", 1e-4), o.get("alpha", 0.75), o.get("t0", 1e6)
    g = _signed_decayed(g, p, o)
    eta = float(s.get("eta", _f(lr)))  # 0-d float32 state
    p = _add(p * _f(1 - lambd * eta), g, -eta)
    mu = s.get("mu", F32(1))
    s["ax"] = p.copy() if mu == 1 else s.get("ax", np.zeros_like(p)) + (p - s.get("ax", np.zeros_like(p))) * mu
    t = s["step"]
    s["eta"] = _f(lr / ((1 + lambd * lr * t) ** alpha))
    s["mu"] = _f(1 / max(1, t - t0))
    return p


REFERENCES: dict[str, Callable[..., np.ndarray]] = {
    "SGD": _sgd,
    "Adam": _adam,
    "AdamW": lambda p, g, s, o: _adam(p, g, s, o, decoupled=True),
    "RMSprop": _rmsprop,
    "Adagrad": _adagrad,
    "Adamax": _adamax,
    "RAdam": _radam,
    "NAdam": _nadam,
    "Adadelta": _adadelta,
    "ASGD": _asgd,
}

CASES: list[tuple[str, dict]] = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-2}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2, "maximize": True}),
    ("Adam", {"lr": 1e-3}),
    ("Adam", {"lr": 1e-2, "weight_decay": 1e-2, "amsgrad": True}),
    # beta1 < 0.5 takes lerp's other branch.
    ("Adam", {"lr": 3e-3, "betas": (0.3, 0.99), "eps": 1e-6, "maximize": True}),
    ("AdamW", {"lr": 1e-3, "weight_decay": 1e-2}),
    ("AdamW", {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {"lr": 1e-2}),
    ("RMSprop", {"lr": 1e-2, "momentum": 0.9, "centered": True, "weight_decay": 1e-2}),
    ("RMSprop", {"lr": 1e-3, "alpha": 0.9, "centered": True, "maximize": True}),
    ("Adagrad", {"lr": 1e-2}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 1e-2, "initial_accumulator_value": 0.1}),
    ("Adamax", {"lr": 2e-3}),
    ("Adamax", {"lr": 2e-3, "weight_decay": 1e-2, "maximize": True}),
    # With b2 = 0.999 the rectification starts at step 6, within the eight steps.
    ("RAdam", {"lr": 1e-3}),
    ("RAdam", {"lr": 1e-2, "betas": (0.9, 0.9), "weight_decay": 1e-2, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 2e-3}),
    ("NAdam", {"lr": 1e-2, "weight_decay": 1e-2, "momentum_decay": 0.05, "decoupled_weight_decay": True}),
    ("Adadelta", {"lr": 1.0}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("ASGD", {"lr": 0.1}),
    # Averaging from step 3 on (t0 = 3), within the eight steps.
    ("ASGD", {"lr": 0.05, "lambd": 0.1, "alpha": 0.5, "t0": 3, "weight_decay": 1e-2, "maximize": True}),
]

IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def _problem(seed: int) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Two parameters (one of 4107 elements, past any vector width, and one of 5) and a
    gradient for each at each step."""
    rng = np.random.default_rng(seed)
    shapes = [(37, 111), (5,)]
    params = [rng.standard_normal(s).astype(F32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(F32) for s in shapes] for _ in range(STEPS)]
    return params, grads


def _steps(lib: Any, name: str, options: dict, params: list[np.ndarray], grads: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The parameters after one step of ``lib.optim.<name>`` per gradient (``lib``: ferrograd or torch)."""
    return [p.detach().numpy() for p in step_optimizer(lib, name, params, grads, options)[0]]


def _assert_same_bits(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    for a, b in zip(got, want):
        differ = np.count_nonzero(a.view(np.int32) != b.view(np.int32))
        assert differ == 0, f"{differ} of {a.size} elements differ; worst {np.max(np.abs(a - b)):.3e}"


@pytest.mark.parametrize(("name", "options"), CASES, ids=IDS)
def test_steps_equal_the_float32_transcription_bit_for_bit(name: str, options: dict) -> None:
    params, grads = _problem(7)
    reference = REFERENCES[name]
    want = [p.copy() for p in params]
    states: list[dict] = [{} for _ in params]
    for step, gs in enumerate(grads, start=1):
        for i, g in enumerate(gs):
            states[i]["step"] = step
            want[i] = reference(want[i], g, states[i], options)
    _assert_same_bits(_steps(fg, name, options, params, grads), want)


@pytest.mark.parametrize(("name", "options"), CASES, ids=IDS)
def test_steps_equal_pytorch_bit_for_bit(name: str, options: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")

    def exact_sqrt(self: Any) -> Any:
        return torch.from_numpy(np.sqrt(self.detach().numpy()))

    def exact_sqrt_(self: Any) -> Any:
        return self.copy_(exact_sqrt(self))

    monkeypatch.setattr(torch.Tensor, "sqrt", exact_sqrt)
    monkeypatch.setattr(torch.Tensor, "sqrt_", exact_sqrt_)
    params, grads = _problem(11)
    _assert_same_bits(_steps(fg, name, options, params, grads), _steps(torch, name, options, params, grads))
