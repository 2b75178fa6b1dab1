"""``optim.LBFGS``: iterations against the two-loop recursion written out in numpy (float64) on a
logistic regression of real data, convergence with the strong-Wolfe line search on a quadratic
and on Rosenbrock's function, state round trips and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

import ferrograd as fg
import ferrograd.functional as F


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    """The breast-cancer table bundled with scikit-learn, standardised (569 x 30, labels 0/1)."""
    x, y = load_breast_cancer(return_X_y=True)
    x = (x - x.mean(0)) / x.std(0)
    return x.astype(np.float32), y.astype(np.float32)


def _logistic_loss_and_grad(w: np.ndarray, x: np.ndarray, y: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    z = x @ w
    loss = np.mean(np.logaddexp(0, z) - y * z) + 0.5 * l2 * w @ w
    grad = x.T @ (1 / (1 + np.exp(-z)) - y) / len(y) + l2 * w
    return float(loss), grad


def _reference_lbfgs(w: np.ndarray, x: np.ndarray, y: np.ndarray, l2: float, lr: float, iterations: int,
                     history: int) -> np.ndarray:
    """Fixed-step L-BFGS, the first step scaled by min(1, 1 / |g|_1), as torch.optim.LBFGS."""
    loss, g = _logistic_loss_and_grad(w, x, y, l2)
    pairs: list[tuple[np.ndarray, np.ndarray, float]] = []
    h_diag, d, t, prev_g = 1.0, -g, 0.0, g
    for k in range(iterations):
        if k > 0:
            yk, sk = g - prev_g, d * t
            if yk @ sk > 1e-10:
                pairs = (pairs + [(sk, yk, 1 / (yk @ sk))])[-history:]
                h_diag = (yk @ sk) / (yk @ yk)
            q, alphas = -g, []
            for s_i, y_i, rho in reversed(pairs):
                a = rho * s_i @ q
                alphas.append(a)
                q = q - a * y_i
            r = h_diag * q
            for (s_i, y_i, rho), a in zip(pairs, reversed(alphas)):
                r = r + s_i * (a - rho * y_i @ r)
            d = r
        prev_g = g
        t = min(1.0, 1.0 / np.abs(g).sum()) * lr if k == 0 else lr
        w = w + t * d
        loss, g = _logistic_loss_and_grad(w, x, y, l2)
    return w


def _closure_for(w: fg.Tensor, x: np.ndarray, y: np.ndarray, l2: float, opt):
    xt, yt = fg.tensor(x), fg.tensor(y)

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(xt @ w, yt) + 0.5 * l2 * (w * w).sum()
        loss.backward()
        return loss
    return closure


def test_fixed_step_iterations_follow_the_two_loop_recursion(cancer) -> None:
    x, y = cancer
    l2, lr, iterations, history = 1e-2, 0.5, 8, 3
    w = fg.zeros(30, requires_grad=True)
    opt = fg.optim.LBFGS([w], lr=lr, max_iter=iterations, history_size=history, tolerance_change=0.0,
                         tolerance_grad=0.0)
    first = opt.step(_closure_for(w, x, y, l2, opt))
    want = _reference_lbfgs(np.zeros(30), x.astype(np.float64), y.astype(np.float64), l2, lr, iterations, history)
    np.testing.assert_allclose(w.detach().numpy(), want, rtol=2e-4, atol=2e-5)
    assert float(first) == pytest.approx(np.log(2), rel=1e-6)  # the loss before any move
    state = opt.state[w]
    assert state["n_iter"] == iterations and state["func_evals"] == iterations
    assert len(state["old_dirs"]) == history


def test_strong_wolfe_solves_a_quadratic_and_rosenbrock(rng) -> None:
    a = rng.standard_normal((12, 12))
    a = (a @ a.T + 12 * np.eye(12)).astype(np.float32)
    b = rng.standard_normal(12).astype(np.float32)
    x = fg.zeros(12, requires_grad=True)
    opt = fg.optim.LBFGS([x], max_iter=100, line_search_fn="strong_wolfe")
    at, bt = fg.tensor(a), fg.tensor(b)

    def quadratic():
        opt.zero_grad()
        loss = 0.5 * (x * (at @ x)).sum() - (bt * x).sum()
        loss.backward()
        return loss
    opt.step(quadratic)
    # Float32 losses stop it once they change by less than tolerance_change (1e-9): PyTorch's
    # LBFGS ends about 2e-5 from the solution on such problems too.
    np.testing.assert_allclose(x.detach().numpy(), np.linalg.solve(a.astype(np.float64), b), rtol=1e-3, atol=1e-4)

    p = fg.tensor(np.array([-1.5, 2.0], np.float32), requires_grad=True)
    opt = fg.optim.LBFGS([p], max_iter=200, line_search_fn="strong_wolfe")

    def rosenbrock():
        opt.zero_grad()
        loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
        loss.backward()
        return loss
    opt.step(rosenbrock)
    np.testing.assert_allclose(p.detach().numpy(), [1.0, 1.0], atol=1e-3)
    assert opt.state[p]["func_evals"] < 200


def test_state_round_trips_and_bad_use_is_named(cancer) -> None:
    x, y = cancer
    w1 = fg.zeros(30, requires_grad=True)
    o1 = fg.optim.LBFGS([w1], lr=0.5, max_iter=3, tolerance_change=0.0, tolerance_grad=0.0, history_size=4)
    o1.step(_closure_for(w1, x, y, 1e-2, o1))
    w2 = fg.tensor(w1.detach().numpy(), requires_grad=True)
    o2 = fg.optim.LBFGS([w2], lr=0.5, max_iter=3, tolerance_change=0.0, tolerance_grad=0.0, history_size=4)
    o2.load_state_dict(o1.state_dict())
    o1.step(_closure_for(w1, x, y, 1e-2, o1))
    o2.step(_closure_for(w2, x, y, 1e-2, o2))
    np.testing.assert_array_equal(w1.detach().numpy(), w2.detach().numpy())
    with pytest.raises(ValueError, match="LBFGS.step: argument `closure` expected a function"):
        o1.step(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="LBFGS: argument `line_search_fn` expected None or 'strong_wolfe', got 'armijo'"):
        fg.optim.LBFGS([w1], line_search_fn="armijo")
    with pytest.raises(ValueError, match="LBFGS: argument `history_size` expected a positive int, got 0"):
        fg.optim.LBFGS([w1], history_size=0)
    model = fg.nn.Linear(30, 2)
    with pytest.raises(TypeError, match="fit: argument `optimizer` expected an optimizer whose step needs no closure"):
        model.fit(fg.data.from_numpy(x, y.astype(np.int64)), optimizer=fg.optim.LBFGS(model.parameters()), verbose=False)
