"""The hook-based ``nn.utils.weight_norm`` and ``spectral_norm``: PyTorch's names, the
recomputed weight, the power iteration's order, training through them and removal."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn, optim
from ferrograd.nn.utils import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_splits_magnitude_and_direction(dim: int | None) -> None:
    fg.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3)
    w = conv.weight.detach().numpy().astype(np.float64).copy()
    x = fg.randn(2, 3, 6, 6)
    expected = conv(x).detach().numpy()
    weight_norm(conv, dim=dim)
    assert list(conv.state_dict()) == ["bias", "weight_g", "weight_v"]
    axes = tuple(a for a in range(4) if a != dim) if dim is not None else None
    np.testing.assert_allclose(conv.weight_g.detach().numpy(), np.sqrt((w ** 2).sum(axis=axes, keepdims=dim is not None)),
                               rtol=1e-6)
    np.testing.assert_allclose(conv(x).detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    with fg.no_grad():
        conv.weight_g.mul_(2.0)
    np.testing.assert_allclose(conv(x).detach().numpy() - conv.bias.detach().numpy()[None, :, None, None],
                               2 * (expected - conv.bias.detach().numpy()[None, :, None, None]), rtol=1e-4, atol=1e-4)
    remove_weight_norm(conv)
    assert list(conv.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="not found"):
        remove_weight_norm(conv)


def test_spectral_norm_follows_the_older_power_iteration_and_trains() -> None:
    fg.manual_seed(1)
    layer = nn.Linear(6, 5)
    w = layer.weight.detach().numpy().astype(np.float64).copy()
    spectral_norm(layer, n_power_iterations=2)
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    np.testing.assert_array_equal(layer.weight.detach().numpy(), w.astype(np.float32))  # until the first call
    u, v = layer.weight_u.numpy().astype(np.float64), layer.weight_v.numpy().astype(np.float64)
    x = fg.randn(3, 6)
    out = layer(x)
    for _ in range(2):  # v from u, then u from v
        v = w.T @ u
        v /= np.linalg.norm(v)
        u = w @ v
        u /= np.linalg.norm(u)
    sigma = u @ w @ v
    np.testing.assert_allclose(layer.weight.detach().numpy(), w / sigma, rtol=1e-5)
    np.testing.assert_allclose(layer.weight_u.numpy(), u, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.detach().numpy(), x.numpy() @ (w / sigma).T + layer.bias.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # After many steps sigma is the largest singular value.
    for _ in range(30):
        layer(x)
    assert np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)[0] == pytest.approx(1.0, rel=1e-4)
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((64, 6)).astype(np.float32), rng.integers(0, 5, 64))
    model = nn.Sequential(layer)
    before = layer.weight_orig.detach().numpy().copy()
    model.fit(data, epochs=1, batch_size=16, optimizer=optim.SGD(model.parameters(), lr=0.1), verbose=False)
    assert not np.array_equal(layer.weight_orig.detach().numpy(), before)
    layer.eval()
    frozen = layer.weight_u.numpy().copy()
    layer(x)
    np.testing.assert_array_equal(layer.weight_u.numpy(), frozen)  # no power step in eval mode
    remove_spectral_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"] and layer.weight.requires_grad
    with pytest.raises(RuntimeError, match="already"):
        weight_norm(layer)
        weight_norm(layer)
