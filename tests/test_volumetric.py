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


def _conv_transpose3d_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray, s: tuple, p: tuple, op: tuple,
                                groups: int, d: tuple) -> np.ndarray:
    """Transposed 3-D convolution by scattering: input voxel i adds w[.., j] to output i * s + j * d - p."""
    n, cin, *size = x.shape
    cout = w.shape[1] * groups
    k = w.shape[2:]
    full = [(size[a] - 1) * s[a] + d[a] * (k[a] - 1) + 1 + op[a] for a in range(3)]
    out = np.zeros((n, cout, *full))
    per_in, per_out = cin // groups, cout // groups
    for ci in range(cin):
        g = ci // per_in
        for i in np.ndindex(*size):
            for j in np.ndindex(*k):
                at = tuple(i[a] * s[a] + j[a] * d[a] for a in range(3))
                out[(slice(None), slice(g * per_out, (g + 1) * per_out), *at)] += (
                    x[(slice(None), ci, *i)][:, None] * w[(ci, slice(None), *j)][None])
    out = out[:, :, p[0]: full[0] - p[0], p[1]: full[1] - p[1], p[2]: full[2] - p[2]]
    return out + b.reshape(1, -1, 1, 1, 1)


@pytest.mark.parametrize("case", [
    dict(cin=2, cout=3, k=(3, 2, 2), s=(2, 1, 2), p=(1, 0, 1), op=(1, 0, 1), d=(1, 1, 1), g=1, size=(5, 4, 3)),
    dict(cin=4, cout=2, k=(2, 3, 1), s=(3, 2, 1), p=(0, 1, 0), op=(2, 1, 0), d=(2, 1, 1), g=2, size=(3, 5, 4)),
])
def test_conv_transpose3d_equals_scattering_and_is_the_adjoint_of_conv3d(case: dict) -> None:
    """Values against a scatter reference; and <conv3d(y, w), x> = <y, conv_transpose3d(x, w)>,
    the defining identity, which also checks the input gradient."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, case["cin"], *case["size"])).astype(np.float32)
    w = rng.standard_normal((case["cin"], case["cout"] // case["g"], *case["k"])).astype(np.float32)
    b = rng.standard_normal(case["cout"]).astype(np.float32)
    args = (case["s"], case["p"], case["op"], case["g"], case["d"])
    got = F.conv_transpose3d(fg.tensor(x), fg.tensor(w), fg.tensor(b), *args)
    np.testing.assert_allclose(got.numpy(), _conv_transpose3d_reference(x, w, b, *args), rtol=1e-5, atol=1e-5)
    y = rng.standard_normal(tuple(got.shape)).astype(np.float32)
    if case["g"] == 1:
        # conv3d with the same weight, read as [C_in, C_out, k...], maps y back onto x's shape.
        forward = F.conv3d(fg.tensor(y), fg.tensor(w), None, case["s"], case["p"], case["d"]).numpy()
        plain = F.conv_transpose3d(fg.tensor(x), fg.tensor(w), None, *args).numpy()
        assert forward.shape == x.shape
        assert np.isclose((forward * x).sum(), (y * plain).sum(), rtol=1e-4)
    xt = fg.tensor(x, requires_grad=True)
    (F.conv_transpose3d(xt, fg.tensor(w), fg.tensor(b), *args) * fg.tensor(y)).sum().backward()
    eps = 1e-2
    for idx in [(0, 0, 0, 0, 0), (1, case["cin"] - 1, 1, 2, 1)]:
        bumped = x.copy()
        bumped[idx] += eps
        lowered = x.copy()
        lowered[idx] -= eps
        numeric = ((_conv_transpose3d_reference(bumped, w, b, *args) - _conv_transpose3d_reference(lowered, w, b, *args))
                   * y).sum() / (2 * eps)
        assert xt.grad.numpy()[idx] == pytest.approx(numeric, rel=1e-3, abs=1e-3)


def test_conv_transpose3d_layer_and_its_lazy_form() -> None:
    fg.manual_seed(0)
    layer = nn.ConvTranspose3d(2, 4, (3, 2, 2), stride=2, padding=1, output_padding=1)
    assert tuple(layer.weight.shape) == (2, 4, 3, 2, 2) and tuple(layer.bias.shape) == (4,)
    x = fg.randn(1, 2, 3, 4, 4)
    assert tuple(layer(x).shape) == (1, 4, 6, 7, 7)
    assert tuple(layer(x[0]).shape) == (4, 6, 7, 7)
    fg.manual_seed(0)
    lazy = nn.LazyConvTranspose3d(4, (3, 2, 2), stride=2, padding=1, output_padding=1)
    np.testing.assert_array_equal(lazy(x).detach().numpy(), layer(x).detach().numpy())
    assert isinstance(lazy, nn.ConvTranspose3d)
    with pytest.raises(ValueError, match="output_padding must be below stride or dilation"):
        F.conv_transpose3d(x, layer.weight, None, 1, 0, 1)
