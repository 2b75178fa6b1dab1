"""AdaptiveLogSoftmaxWithLoss against a numpy reference built from its own weights."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def _reference_log_prob(m: nn.AdaptiveLogSoftmaxWithLoss, x: np.ndarray) -> np.ndarray:
    w = {k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()}
    head = x @ w["head.weight"].T + w.get("head.bias", 0.0)
    head = _log_softmax(head)
    short = m.cutoffs[0]
    parts = [head[:, :short]]
    for i in range(len(m.cutoffs) - 1):
        tail = (x @ w[f"tail.{i}.0.weight"].T) @ w[f"tail.{i}.1.weight"].T
        parts.append(_log_softmax(tail) + head[:, short + i: short + i + 1])
    return np.concatenate(parts, 1)


@pytest.mark.parametrize("head_bias", [False, True])
def test_outputs_loss_and_distribution_equal_the_reference(head_bias: bool) -> None:
    fg.manual_seed(0)
    m = nn.AdaptiveLogSoftmaxWithLoss(16, 30, [5, 12, 20], div_value=2.0, head_bias=head_bias)
    assert [tuple(p.shape) for p in m.tail[1].parameters()] == [(4, 16), (8, 4)]  # 16 // 2^2 features
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 16)).astype(np.float32)
    y = rng.integers(0, 30, 40)
    y[:4] = [0, 5, 12, 29]  # the edges of every cluster
    full = _reference_log_prob(m, x.astype(np.float64))
    np.testing.assert_allclose(np.exp(full).sum(1), 1.0, rtol=1e-9)
    xt = fg.tensor(x, requires_grad=True)
    out = m(xt, fg.tensor(y))
    np.testing.assert_allclose(out.output.detach().numpy(), full[np.arange(40), y], rtol=1e-5, atol=1e-5)
    assert out.loss.item() == pytest.approx(-full[np.arange(40), y].mean(), rel=1e-5)
    np.testing.assert_allclose(m.log_prob(fg.tensor(x)).detach().numpy(), full, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(m.predict(fg.tensor(x)).numpy(), full.argmax(1))
    # The input gradient of the loss against central differences of the reference.
    out.loss.backward()
    eps = 1e-4
    for i, j in [(0, 0), (3, 7), (39, 15)]:
        up, down = x.astype(np.float64), x.astype(np.float64)
        up[i, j] += eps
        down[i, j] -= eps
        numeric = (-_reference_log_prob(m, up)[np.arange(40), y].mean()
                   + _reference_log_prob(m, down)[np.arange(40), y].mean()) / (2 * eps)
        assert xt.grad.numpy()[i, j] == pytest.approx(numeric, rel=1e-3, abs=1e-6)


def test_it_learns_and_checks_its_arguments() -> None:
    fg.manual_seed(1)
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((20, 8)).astype(np.float32) * 3
    y = rng.integers(0, 20, 400)
    x = centres[y] + rng.standard_normal((400, 8)).astype(np.float32) * 0.3
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=1.0)
    opt = fg.optim.Adam(m.parameters(), lr=0.05)
    first = None
    for _ in range(80):
        opt.zero_grad()
        loss = m(fg.tensor(x), fg.tensor(y)).loss
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.2 * first
    # Linear in each factor, it reaches 79% on these blobs (chance: 5%; torch 2.15 follows the same
    # trajectory to 6 digits).
    assert (m.predict(fg.tensor(x)).numpy() == y).mean() > 0.7
    single = m(fg.tensor(x[0]), fg.tensor(y[:1]))
    assert single.output.ndim == 0
    with pytest.raises(ValueError, match="cutoffs"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 20, [10, 4])
    with pytest.raises(ValueError, match="target"):
        m(fg.tensor(x[:3]), fg.tensor(np.array([0, 1, 20])))
