"""Adafactor against a float64 numpy transcription of torch.optim.Adafactor (and PyTorch itself
where it is installed): factored row / column second moments for matrices and stacks of them, a
full variance for vectors and scalars, the relative step size and the update clipping. Its
reductions (two RMS values, row and column means) sum in a different order from PyTorch's, so it
is held to float32 rounding (relative 1e-5), not bits as the fused optimizers are. Also: state
dicts, argument checks and training."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from optimizer_runs import step_optimizer

STEPS = 8
SHAPES = [(37, 11), (3, 4, 5), (5,), ()]
CASES = [
    {"lr": 0.05},
    {"lr": 0.5, "weight_decay": 0.1, "d": 1.5, "maximize": True},
    {"lr": 0.01, "eps": (1e-4, 1e-2), "beta2_decay": -0.5},
]


def _problem(seed: int) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[(0.1 * rng.standard_normal(s)).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return params, grads


def _reference(params: list[np.ndarray], grads: list[list[np.ndarray]], lr: float = 1e-2, beta2_decay: float = -0.8,
               eps: tuple[Any, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0,
               maximize: bool = False) -> tuple[list[np.ndarray], list[dict[str, np.ndarray]]]:
    """torch.optim.Adafactor's single-tensor loop in float64."""
    eps1 = float(np.finfo(np.float32).eps) if eps[0] is None else eps[0]
    ps = [p.astype(np.float64) for p in params]
    states: list[dict[str, np.ndarray]] = [{} for _ in ps]
    for step, gs in enumerate(grads, start=1):
        for p, g, state in zip(ps, gs, states):
            g = -g.astype(np.float64) if maximize else g.astype(np.float64)
            weight = step ** beta2_decay
            alpha = max(eps[1], np.sqrt((p ** 2).mean())) * min(lr, 1 / np.sqrt(step))
            if weight_decay:
                p *= 1 - lr * weight_decay
            if g.ndim > 1:
                rows = state.setdefault("row_var", np.zeros(g.shape[:-1] + (1,)))
                cols = state.setdefault("col_var", np.zeros(g.shape[:-2] + (1,) + g.shape[-1:]))
                rows += weight * ((g ** 2).mean(-1, keepdims=True) - rows)
                cols += weight * ((g ** 2).mean(-2, keepdims=True) - cols)
                estimate = rows * cols / np.maximum(rows.mean(-2, keepdims=True), eps1)
            else:
                variance = state.setdefault("variance", np.zeros(g.shape))
                variance += weight * (g ** 2 - variance)
                estimate = variance.copy()
            update = g / np.sqrt(np.maximum(estimate, eps1 * eps1))
            denom = max(1.0, np.sqrt((update ** 2).mean()) / d)
            p -= alpha / denom * update
    return ps, states


@pytest.mark.parametrize("options", CASES)
def test_adafactor_equals_the_reference(options: dict) -> None:
    params, grads = _problem(3)
    want, want_state = _reference(params, grads, **options)
    ps, opt = step_optimizer(fg, "Adafactor", params, grads, options)
    for p, w, ws in zip(ps, want, want_state):
        np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-5, atol=1e-6)
        state = opt.state[p]
        assert state["step"] == STEPS
        for name, value in ws.items():
            np.testing.assert_allclose(state[name].numpy(), value, rtol=1e-5, atol=1e-9)
    # The factored state is one row and one column per matrix.
    assert opt.state[ps[0]]["row_var"].shape == (37, 1) and opt.state[ps[0]]["col_var"].shape == (1, 11)
    assert opt.state[ps[1]]["row_var"].shape == (3, 4, 1) and opt.state[ps[1]]["col_var"].shape == (3, 1, 5)


@pytest.mark.parametrize("options", CASES)
def test_adafactor_equals_pytorch(options: dict) -> None:
    torch = pytest.importorskip("torch")
    params, grads = _problem(5)
    ours, _ = step_optimizer(fg, "Adafactor", params, grads, options)
    theirs, _ = step_optimizer(torch, "Adafactor", params, grads, options)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_adafactor_state_dicts_resume_the_run() -> None:
    params, grads = _problem(9)
    straight, _ = step_optimizer(fg, "Adafactor", params, grads, {"lr": 0.05})
    first, opt = step_optimizer(fg, "Adafactor", params, grads[:4], {"lr": 0.05})
    saved = opt.state_dict()
    resumed = [fg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in first]
    twin = fg.optim.Adafactor(resumed, lr=0.05)
    twin.load_state_dict(saved)
    for gs in grads[4:]:
        for p, g in zip(resumed, gs):
            p.grad = fg.tensor(g)
        twin.step()
    for a, b in zip(resumed, straight):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    bad = opt.state_dict()
    bad["state"][0]["row_var"] = np.zeros((37, 11), np.float32)
    with pytest.raises(ValueError, match="row_var"):
        fg.optim.Adafactor([fg.tensor(params[0], requires_grad=True)], lr=0.05).load_state_dict(
            {"state": {0: bad["state"][0]}, "param_groups": [bad["param_groups"][0] | {"params": [0]}]})


def test_adafactor_rejects_bad_arguments() -> None:
    p = [fg.zeros(3, requires_grad=True)]
    for kwargs, name in (({"beta2_decay": 0.5}, "beta2_decay"), ({"d": 0.5}, "`d`"), ({"eps": (-1.0, 1e-3)}, "eps"),
                         ({"lr": -1.0}, "lr")):
        with pytest.raises(ValueError, match=name):
            fg.optim.Adafactor(p, **kwargs)


def test_adafactor_trains_an_mlp_on_mnist(mnist: dict) -> None:
    fg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    x, y = mnist["x_train"][:10000], mnist["y_train"][:10000]
    model.fit((x, y), epochs=2, batch_size=64, optimizer=fg.optim.Adafactor(model.parameters(), lr=0.1), seed=0,
              verbose=False)
    accuracy = (model.predict(mnist["x_test"][:2000]).argmax(1) == mnist["y_test"][:2000]).mean()
    assert accuracy > 0.9, accuracy
