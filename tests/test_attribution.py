"""Feature attributions against closed forms and numpy references: an affine model's exact
attributions, integrated gradients' quadrature and completeness on a smooth model, the noise
tunnel, and Grad-CAM computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from ferrograd.attribution import InputXGradient, IntegratedGradients, LayerGradCam, NoiseTunnel, Saliency

from test_attack_api import _logit_backprop, _logits, _tanh_mlp


def _affine() -> tuple[nn.Module, np.ndarray]:
    fg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    return model, model[1].weight.detach().numpy().reshape(3, 1, 3, 4)


def test_an_affine_models_attributions_are_its_weights() -> None:
    model, w = _affine()
    x = np.random.default_rng(0).random((4, 1, 3, 4), dtype=np.float32)
    target = np.array([0, 2, 1, 2])
    np.testing.assert_allclose(Saliency(model).attribute(x, target=target).numpy(), np.abs(w[target]), rtol=1e-6)
    np.testing.assert_allclose(InputXGradient(model).attribute(x, target=target).numpy(), x * w[target], rtol=1e-6)
    for method in ("gausslegendre", "riemann_left", "riemann_trapezoid"):
        attributions, delta = IntegratedGradients(model).attribute(x, target=target, method=method, n_steps=7,
                                                                   return_convergence_delta=True)
        np.testing.assert_allclose(attributions.numpy(), x * w[target], rtol=1e-5, atol=1e-7)
        assert np.abs(delta.numpy()).max() < 1e-5
    # The gradient is the same everywhere, so smoothing changes nothing and its variance is zero.
    smooth = NoiseTunnel(Saliency(model)).attribute(x, nt_samples=4, stdevs=0.3, target=1, abs=False)
    np.testing.assert_allclose(smooth.numpy(), np.broadcast_to(w[1], x.shape), rtol=1e-5)
    var = NoiseTunnel(Saliency(model)).attribute(x, nt_type="vargrad", nt_samples=4, stdevs=0.3, target=1, abs=False)
    assert np.abs(var.numpy()).max() < 1e-6


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_middle", "riemann_trapezoid"])
def test_integrated_gradients_equal_the_quadrature_by_hand_and_are_complete(method: str) -> None:
    model, params = _tanh_mlp()
    rng = np.random.default_rng(1)
    x = rng.random((5, 1, 4, 4), dtype=np.float32)
    base = rng.random((5, 1, 4, 4), dtype=np.float32) * 0.2
    target, steps = 3, 24
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        alphas, weights = (nodes + 1) / 2, weights / 2
    elif method == "riemann_middle":
        alphas, weights = (np.arange(steps) + 0.5) / steps, np.full(steps, 1 / steps)
    else:
        alphas = np.linspace(0, 1, steps)
        weights = np.full(steps, 1 / (steps - 1))
        weights[[0, -1]] /= 2
    onehot = np.zeros((5, 5))
    onehot[:, target] = 1.0
    expected = (x - base) * sum(w * _logit_backprop(params, base + a * (x - base), onehot) for a, w in zip(alphas, weights))
    attributions, delta = IntegratedGradients(model).attribute(x, base, target=target, n_steps=steps, method=method,
                                                               internal_batch_size=20, return_convergence_delta=True)
    np.testing.assert_allclose(attributions.numpy(), expected, rtol=1e-4, atol=1e-6)
    change = _logits(params, x)[:, target] - _logits(params, base)[:, target]
    np.testing.assert_allclose(delta.numpy(), expected.reshape(5, -1).sum(1) - change, atol=1e-5)
    if method == "gausslegendre":
        assert np.abs(delta.numpy()).max() < 1e-4  # complete up to the quadrature error


def test_grad_cam_equals_the_map_by_hand() -> None:
    """conv -> flatten -> linear: the target score's gradient at the conv output is the linear
    row, so each channel's weight is that row's mean over the channel's positions."""
    fg.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    x = fg.randn(3, 2, 6, 6)
    activations = model[0](x).detach().numpy()
    row = model[2].weight.detach().numpy()[2].reshape(4, 4, 4)
    raw = (row.mean((1, 2))[None, :, None, None] * activations).sum(1, keepdims=True)
    cam = LayerGradCam(model, model[0])
    np.testing.assert_allclose(cam.attribute(x, target=2).numpy(), np.maximum(raw, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cam.attribute(x, target=2, relu_attributions=False).numpy(), raw, rtol=1e-5, atol=1e-6)
    assert not model[0]._forward_hooks  # the hook is gone afterwards
    with pytest.raises(ValueError, match="target"):
        Saliency(model).attribute(x)
