"""Parametrized weights (`fg.nn.utils.parametrize`, `parametrizations`): spectral and weight
normalisation against JAX (values and gradients), the registration API's rules, and a
spectrally normalised network trained by `fit` on MNIST keeping its layers 1-Lipschitz."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from ferrograd import functional as F
from ferrograd.nn.utils import parametrizations, parametrize



@pytest.fixture(autouse=True)
def _float64_jax():
    """The JAX references run in float64 (other test modules switch the global flag off)."""
    with jax.enable_x64(True):
        yield


def _top_singular_value(matrix: np.ndarray) -> float:
    return float(np.linalg.svd(matrix.reshape(matrix.shape[0], -1).astype(np.float64), compute_uv=False)[0])


def _check_gradient(apply: Callable[[fg.Tensor], fg.Tensor], reparametrize: Callable, w0: np.ndarray,
                    original: fg.Tensor) -> None:
    """``original.grad`` (from sum(apply(weight)^2).backward()) against the JAX VJP of
    ``reparametrize`` applied to the gradient at the reparametrized weight."""
    weight = fg.tensor(np.asarray(reparametrize(jnp.asarray(w0, jnp.float64)), np.float32), requires_grad=True)
    apply(weight).square().sum().backward()
    _, vjp = jax.vjp(reparametrize, jnp.asarray(w0, jnp.float64))
    want = vjp(jnp.asarray(weight.grad.numpy(), jnp.float64))[0]
    np.testing.assert_allclose(original.grad.numpy(), want, rtol=1e-4, atol=1e-5 * float(np.abs(want).max()))


@pytest.mark.parametrize("kind", ["linear", "conv", "conv_transpose"])
def test_spectral_norm_divides_by_sigma_with_jax_gradients(kind: str) -> None:
    rng = np.random.default_rng(0)
    fg.manual_seed(0)
    layer, x, functional = {
        "linear": (nn.Linear(7, 5), rng.standard_normal((3, 7)), F.linear),
        "conv": (nn.Conv2d(2, 4, 3), rng.standard_normal((2, 2, 5, 5)), F.conv2d),
        "conv_transpose": (nn.ConvTranspose2d(3, 2, 3), rng.standard_normal((2, 3, 4, 4)), F.conv_transpose2d),
    }[kind]
    inputs = fg.tensor(x.astype(np.float32))
    w0 = layer.weight.detach().numpy().copy()
    parametrizations.spectral_norm(layer)
    sn = layer.parametrizations.weight[0]
    assert sn.dim == (1 if kind == "conv_transpose" else 0)
    layer(inputs).square().sum().backward()
    # After the call's power-iteration step, u and v are the vectors sigma was taken from.
    u, v = sn._u.numpy().astype(np.float64), sn._v.numpy().astype(np.float64)

    def normalised(w: jnp.ndarray) -> jnp.ndarray:
        return w / (u @ (jnp.moveaxis(w, sn.dim, 0).reshape(w.shape[sn.dim], -1) @ v))

    # 16 power-iteration steps from a random start: sigma approaches the top singular value (how
    # closely depends on the gap to the second).
    matrix = np.moveaxis(w0, sn.dim, 0).reshape(w0.shape[sn.dim], -1).astype(np.float64)
    assert u @ matrix @ v == pytest.approx(_top_singular_value(matrix), rel=1e-2)
    _check_gradient(lambda w: functional(inputs, w, layer.bias), normalised, w0, layer.parametrizations.weight.original)
    layer.eval()  # no power iteration in eval mode: the weight is the one just used
    np.testing.assert_allclose(layer.weight.detach().numpy(), normalised(jnp.asarray(w0, jnp.float64)), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(sn._u.numpy(), u.astype(np.float32))


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_splits_magnitude_and_direction_with_jax_gradients(dim: int | None) -> None:
    rng = np.random.default_rng(1)
    fg.manual_seed(1)
    conv = nn.Conv2d(3, 4, 3)
    inputs = fg.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    w0 = conv.weight.detach().numpy().copy()
    parametrizations.weight_norm(conv, dim=dim)
    plist = conv.parametrizations.weight
    g, v = plist.original0, plist.original1
    axes = tuple(range(4)) if dim is None else tuple(d for d in range(4) if d != dim)
    norms = np.sqrt((w0.astype(np.float64) ** 2).sum(axis=axes, keepdims=dim is not None))
    np.testing.assert_allclose(g.detach().numpy(), norms, rtol=1e-6)
    np.testing.assert_array_equal(v.detach().numpy(), w0)
    assert sorted(conv.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    np.testing.assert_allclose(conv.weight.detach().numpy(), w0, rtol=1e-6, atol=1e-7)
    conv(inputs).square().sum().backward()
    upstream = fg.tensor(w0, requires_grad=True)
    F.conv2d(inputs, upstream, conv.bias).square().sum().backward()

    def reparametrized(gv: tuple[jnp.ndarray, jnp.ndarray]) -> jnp.ndarray:
        gg, vv = gv
        return vv * (gg / jnp.sqrt((vv**2).sum(axis=axes, keepdims=dim is not None)))

    _, vjp = jax.vjp(reparametrized, (jnp.asarray(norms), jnp.asarray(w0, jnp.float64)))
    want_g, want_v = vjp(jnp.asarray(upstream.grad.numpy(), jnp.float64))[0]
    np.testing.assert_allclose(g.grad.numpy(), want_g, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(v.grad.numpy(), want_v, rtol=1e-4, atol=1e-4)


class _Doubled(nn.Module):
    def forward(self, x: fg.Tensor) -> fg.Tensor:
        return x * 2.0

    def right_inverse(self, x: fg.Tensor) -> fg.Tensor:
        return x / 2.0


class _Flattened(nn.Module):
    def forward(self, x: fg.Tensor) -> fg.Tensor:
        return x.reshape(-1)


def test_registration_chaining_assignment_removal_and_caching() -> None:
    fg.manual_seed(2)
    layer = nn.Linear(3, 2)
    w0 = layer.weight.detach().numpy().copy()
    original = layer.weight
    parametrize.register_parametrization(layer, "weight", _Doubled())
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias") and type(layer).__name__ == "ParametrizedLinear"
    # right_inverse keeps the value: the original (the same parameter object) holds w / 2.
    assert layer.parametrizations.weight.original is original
    np.testing.assert_allclose(layer.weight.detach().numpy(), w0, rtol=1e-7)
    np.testing.assert_allclose(original.detach().numpy(), w0 / 2, rtol=1e-7)
    assert [id(p) for p in layer.parameters()] == [id(layer.bias), id(original)]
    # Assigning goes through right_inverse; chaining applies in order.
    layer.weight = fg.ones(2, 3)
    np.testing.assert_allclose(original.detach().numpy(), np.full((2, 3), 0.5))
    parametrize.register_parametrization(layer, "weight", _Doubled())
    np.testing.assert_allclose(layer.weight.detach().numpy(), np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="must keep weight's shape \\[2, 3\\] and dtype float32, got \\[6\\]"):
        parametrize.register_parametrization(layer, "weight", _Flattened())
    assert len(layer.parametrizations.weight) == 2
    # An unrelated instance keeps its plain attribute.
    assert type(nn.Linear(3, 2)).__name__ == "Linear"
    with parametrize.cached():
        assert layer.weight is layer.weight
    assert layer.weight is not layer.weight
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and not parametrize.is_parametrized(layer)
    assert layer.weight is original and original.requires_grad
    np.testing.assert_allclose(layer.weight.detach().numpy(), np.full((2, 3), 2.0))
    assert sorted(layer.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="has no parametrization on 'weight'"):
        parametrize.remove_parametrizations(layer, "weight")
    parametrize.register_parametrization(layer, "weight", _Doubled())
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    np.testing.assert_allclose(layer.weight.detach().numpy(), np.full((2, 3), 1.0))
    with pytest.raises(ValueError, match="argument `tensor_name` expected a tensor attribute of Linear, got 'scale'"):
        parametrize.register_parametrization(layer, "scale", _Doubled())


def test_spectrally_normalised_mlp_trains_with_fit_and_stays_one_lipschitz(data_dir: Path) -> None:
    """fit runs a parametrized layer's Python call, so each step recomputes the normalised
    weight from the trained original: the MLP learns, and its hidden layer's spectral norm stays
    1 (the output layer is left free, so the logits can grow)."""
    train, test = fg.data.mnist(data_dir / "mnist")
    train, test = train.subset(list(range(4096))), test.subset(list(range(1000)))
    fg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    parametrizations.spectral_norm(model[1])
    before = model[1].parametrizations.weight.original.detach().numpy().copy()
    opt = fg.optim.Adam(model.parameters(), lr=3e-3)
    history = model.fit(train, epochs=5, batch_size=64, optimizer=opt, val=test, seed=0, verbose=False)
    assert not np.array_equal(model[1].parametrizations.weight.original.detach().numpy(), before)
    assert history["val_accuracy"][-1] >= 0.85, history["val_accuracy"]
    # One power-iteration step per update lags the moving weight; a few more on the final one
    # converge (training-mode calls, without gradients).
    with fg.no_grad():
        for _ in range(20):
            model[1](fg.zeros(1, 784))
    model.eval()
    assert _top_singular_value(model[1].weight.detach().numpy()) == pytest.approx(1.0, abs=2e-2)
