"""3-D convolution and pooling ([N, C, D, H, W]) against JAX on CPU: values and gradients
(float32), the layers' PyTorch layout, and a 3-D model trained by ``fit``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference import check_op

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(17)


def triple(v):
    return (v, v, v) if isinstance(v, int) else tuple(v)


def jax_conv3d(x, w, b, stride, padding, dilation, groups):
    pad = padding if isinstance(padding, str) else [(p, p) for p in triple(padding)]
    if isinstance(pad, str):
        pad = pad.upper()
    out = jax.lax.conv_general_dilated(x, w, triple(stride), pad, rhs_dilation=triple(dilation),
                                       dimension_numbers=("NCDHW", "OIDHW", "NCDHW"), feature_group_count=groups)
    return out + b[None, :, None, None, None]


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    (1, 0, 1, 1), ((2, 1, 2), (1, 0, 2), (1, 2, 1), 2), (2, 1, 2, 1), (1, "same", (2, 1, 1), 1)])
def test_conv3d_matches_jax(rng, stride, padding, dilation, groups) -> None:
    x = rng.standard_normal((2, 4, 7, 8, 9)).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups, 3, 2, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    check_op(lambda xv, wv, bv: F.conv3d(xv, wv, bv, stride, padding, dilation, groups),
             lambda xv, wv, bv: jax_conv3d(xv, wv, bv, stride, padding, dilation, groups), [x, w, b],
             rtol=1e-4, atol=1e-4)


def jax_max_pool3d(x, kernel, stride, padding, dilation):
    """The maximum over each window's taps, one strided slice per tap (differentiable with
    dilation, which JAX's own max-pool gradient is not)."""
    k, s, p, d = triple(kernel), triple(stride or kernel), triple(padding), triple(dilation)
    xp = jnp.pad(x, [(0, 0), (0, 0), *[(q, q) for q in p]], constant_values=-jnp.inf)
    out = [(n + 2 * q - dd * (kk - 1) - 1) // ss + 1 for n, q, dd, kk, ss in zip(x.shape[2:], p, d, k, s)]
    best = None
    for a in range(k[0]):
        for b in range(k[1]):
            for c in range(k[2]):
                starts = [a * d[0], b * d[1], c * d[2]]
                tap = xp[:, :, starts[0]:starts[0] + s[0] * (out[0] - 1) + 1:s[0],
                         starts[1]:starts[1] + s[1] * (out[1] - 1) + 1:s[1], starts[2]:starts[2] + s[2] * (out[2] - 1) + 1:s[2]]
                best = tap if best is None else jnp.maximum(best, tap)
    return best


@pytest.mark.parametrize("kernel,stride,padding,dilation", [
    (2, None, 0, 1), ((3, 2, 3), (2, 1, 2), (1, 1, 1), 1), (3, 1, 1, (2, 1, 1))])
def test_max_pool3d_matches_jax(rng, kernel, stride, padding, dilation) -> None:
    x = rng.standard_normal((2, 3, 7, 8, 9)).astype(np.float32)
    check_op(lambda t: F.max_pool3d(t, kernel, stride, padding, dilation),
             lambda t: jax_max_pool3d(t, kernel, stride, padding, dilation), [x], rtol=0, atol=0,
             grad_rtol=1e-6, grad_atol=1e-6)
    with pytest.raises(NotImplementedError, match="max_pool3d: ceil_mode=True"):
        F.max_pool3d(fg.tensor(x), kernel, ceil_mode=True)


def jax_avg_pool3d(x, kernel, stride, padding, count_include_pad, divisor):
    k, s, p = triple(kernel), triple(stride or kernel), triple(padding)
    window = dict(window_dimensions=(1, 1, *k), window_strides=(1, 1, *s), padding=[(0, 0), (0, 0), *[(q, q) for q in p]])
    sums = jax.lax.reduce_window(x, 0.0, jax.lax.add, **window)
    if divisor is not None:
        return sums / divisor
    if count_include_pad:
        return sums / np.prod(k)
    return sums / jax.lax.reduce_window(jnp.ones_like(x), 0.0, jax.lax.add, **window)


@pytest.mark.parametrize("kernel,stride,padding,count_include_pad,divisor", [
    (2, None, 0, True, None), ((3, 2, 3), (2, 1, 2), (1, 1, 1), False, None), (3, 2, 1, True, None), (3, 2, 1, False, 5)])
def test_avg_pool3d_matches_jax(rng, kernel, stride, padding, count_include_pad, divisor) -> None:
    x = rng.standard_normal((2, 3, 7, 8, 9)).astype(np.float32)
    check_op(lambda t: F.avg_pool3d(t, kernel, stride, padding, False, count_include_pad, divisor),
             lambda t: jax_avg_pool3d(t, kernel, stride, padding, count_include_pad, divisor), [x],
             rtol=1e-5, atol=1e-6)


def test_3d_layers_have_pytorchs_layout_and_train_in_fit(rng) -> None:
    """Conv3d's weight layout and default initialisation bound, shape checks, and a small 3-D CNN
    that ``fit`` trains to separate volumes by which half holds a bright cube."""
    conv = nn.Conv3d(2, 4, (3, 2, 1), stride=(2, 1, 1), padding=(1, 0, 0), bias=True)
    assert tuple(conv.weight.shape) == (4, 2, 3, 2, 1) and tuple(conv.bias.shape) == (4,)
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / np.sqrt(2 * 3 * 2)
    assert tuple(conv(fg.randn(1, 2, 5, 4, 4)).shape) == (1, 4, 3, 3, 4)
    with pytest.raises(ValueError, match="conv3d: expected an input of shape \\[N, C, D, H, W\\] or \\[C, D, H, W\\]"):
        conv(fg.randn(5, 4, 4))
    assert tuple(conv(fg.randn(2, 5, 4, 4)).shape) == (4, 3, 3, 4)  # one unbatched sample, as in PyTorch
    n = 64
    x = rng.normal(0, 0.3, (n, 1, 4, 6, 6)).astype(np.float32)
    y = rng.integers(0, 2, n)
    for i, label in enumerate(y):
        x[i, 0, :, :3] += 1.5 if label else 0.0
        x[i, 0, :, 3:] += 0.0 if label else 1.5
    fg.manual_seed(0)
    model = nn.Sequential(nn.Unflatten(1, (1, 4, 6, 6)), nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(),
                          nn.MaxPool3d(2), nn.AvgPool3d((2, 1, 1)), nn.Flatten(), nn.Linear(4 * 1 * 3 * 3, 2))
    history = model.fit((x.reshape(n, -1), y), epochs=15, batch_size=16, verbose=False,
                        optimizer=fg.optim.Adam(model.parameters(), lr=1e-2))
    assert history["accuracy"][-1] >= 0.95, history["accuracy"]


def _adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


@pytest.mark.parametrize("output_size", [3, (2, 4, 5), (None, 2, 1)])
@pytest.mark.parametrize("largest", [False, True])
def test_adaptive_3d_pooling_uses_pytorchs_windows(rng, output_size, largest) -> None:
    """Window i along an axis of size S covers floor(i S / O) .. ceil((i + 1) S / O)."""
    x = rng.standard_normal((2, 3, 7, 6, 5)).astype(np.float32)
    sizes = [output_size] * 3 if isinstance(output_size, int) else [s if s is not None else full
                                                                   for s, full in zip(output_size, (7, 6, 5))]
    windows = [_adaptive_windows(full, out) for full, out in zip((7, 6, 5), sizes)]

    def reference(t):
        reduce = jnp.max if largest else jnp.mean
        return jnp.stack([jnp.stack([jnp.stack([reduce(t[:, :, a:b, c:d, e:f], axis=(2, 3, 4)) for e, f in windows[2]], -1)
                                     for c, d in windows[1]], -2) for a, b in windows[0]], -3)

    op = F.adaptive_max_pool3d if largest else F.adaptive_avg_pool3d
    check_op(lambda t: op(t, output_size), reference, [x], rtol=1e-5, atol=1e-6)
    layer = nn.AdaptiveMaxPool3d(output_size) if largest else nn.AdaptiveAvgPool3d(output_size)
    assert tuple(layer(fg.tensor(x[0])).shape) == (3, *sizes)
