"""1-D convolution (plain and transposed) and pooling, group, instance, local-response and 3-D batch norm, resizing
(nearest, linear modes, area) and the composite activations against JAX on CPU (values and
gradients, float32; tolerances per check)."""

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
    return np.random.default_rng(11)


def jax_conv1d(x, w, b, stride, padding, dilation, groups):
    out = jax.lax.conv_general_dilated(x, w, (stride,), [(padding, padding)], rhs_dilation=(dilation,),
                                       dimension_numbers=("NCH", "OIH", "NCH"), feature_group_count=groups)
    return out + b[None, :, None]


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 2, 1, 1), (1, 1, 2, 2), (3, 0, 1, 4)])
def test_conv1d_matches_jax(rng, stride, padding, dilation, groups) -> None:
    x = rng.normal(size=(3, 4, 17)).astype(np.float32)
    w = rng.normal(size=(8, 4 // groups, 3)).astype(np.float32)
    b = rng.normal(size=(8,)).astype(np.float32)
    check_op(lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, groups),
             lambda x, w, b: jax_conv1d(x, w, b, stride, padding, dilation, groups), [x, w, b], rtol=1e-4, atol=1e-4)
    layer = nn.Conv1d(4, 8, 3, stride, padding, dilation, groups)
    assert layer.weight.shape == (8, 4 // groups, 3)
    bound = 1 / np.sqrt(4 // groups * 3)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound


def jax_conv_transpose1d(y, w, b, stride, padding, output_padding, groups, dilation):
    """The transposed convolution as the input gradient (VJP) of the 1-D convolution whose input
    has the transposed one's output length."""
    k = w.shape[2]
    length = (y.shape[2] - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    x0 = jnp.zeros((y.shape[0], w.shape[1] * groups, length), y.dtype)
    _, vjp = jax.vjp(lambda x: jax.lax.conv_general_dilated(x, w, (stride,), [(padding, padding)], rhs_dilation=(dilation,),
                                                            dimension_numbers=("NCH", "OIH", "NCH"),
                                                            feature_group_count=groups), x0)
    return vjp(y)[0] + b[None, :, None]


@pytest.mark.parametrize("cin,cout,k,stride,padding,output_padding,groups,dilation,length",
                         [(4, 6, 3, 2, 1, 1, 2, 1, 7), (3, 2, 5, 1, 0, 0, 1, 2, 9), (2, 4, 2, 3, 1, 2, 2, 1, 5)])
def test_conv_transpose1d_matches_jax(rng, cin, cout, k, stride, padding, output_padding, groups, dilation,
                                      length) -> None:
    x = rng.standard_normal((2, cin, length)).astype(np.float32)
    w = rng.standard_normal((cin, cout // groups, k)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    args = (stride, padding, output_padding, groups, dilation)
    check_op(lambda xv, wv, bv: F.conv_transpose1d(xv, wv, bv, *args),
             lambda xv, wv, bv: jax_conv_transpose1d(xv, wv, bv, *args), [x, w, b], rtol=1e-5, atol=1e-5)
    layer = nn.ConvTranspose1d(cin, cout, k, stride, padding, output_padding, groups, dilation=dilation)
    assert tuple(layer.weight.shape) == (cin, cout // groups, k) and tuple(layer.bias.shape) == (cout,)
    assert tuple(layer(fg.tensor(x)).shape) == (2, cout, (length - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1)


def test_1d_pooling_matches_jax(rng) -> None:
    x = rng.normal(size=(2, 3, 11)).astype(np.float32)

    def jax_pool(x, init, op, k, s, p):
        return jax.lax.reduce_window(x, init, op, (1, 1, k), (1, 1, s), [(0, 0), (0, 0), (p, p)])

    check_op(lambda x: F.max_pool1d(x, 3, 2, 1), lambda x: jax_pool(x, -jnp.inf, jax.lax.max, 3, 2, 1), [x])
    check_op(lambda x: nn.AvgPool1d(3, 1, 1)(x), lambda x: jax_pool(x, 0.0, jax.lax.add, 3, 1, 1) / 3, [x])
    check_op(lambda x: nn.MaxPool1d(2)(x), lambda x: jax_pool(x, -jnp.inf, jax.lax.max, 2, 2, 0), [x])


def jax_group_norm(x, groups, w, b, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    normed = ((g - g.mean(-1, keepdims=True)) / jnp.sqrt(g.var(-1, keepdims=True) + eps)).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    return normed * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("shape,groups", [((2, 6, 5, 4), 3), ((3, 4, 7), 1), ((2, 4, 3, 3), 4)])
def test_group_norm_matches_jax(rng, shape, groups) -> None:
    x = (rng.normal(size=shape) * 3 + 1).astype(np.float32)
    w = rng.normal(size=(shape[1],)).astype(np.float32)
    b = rng.normal(size=(shape[1],)).astype(np.float32)
    check_op(lambda x, w, b: F.group_norm(x, groups, w, b), lambda x, w, b: jax_group_norm(x, groups, w, b),
             [x, w, b], rtol=1e-4, atol=1e-4)
    layer = nn.GroupNorm(groups, shape[1])
    np.testing.assert_allclose(layer(fg.tensor(x)).detach().numpy(),
                               np.asarray(jax_group_norm(x, groups, np.ones(shape[1]), np.zeros(shape[1]))),
                               rtol=1e-4, atol=1e-4)
    assert list(layer.state_dict()) == ["weight", "bias"]


def test_instance_norm_normalises_each_channel_of_each_sample(rng) -> None:
    x = (rng.normal(size=(2, 3, 4, 5)) * 2 - 1).astype(np.float32)
    ones, zeros = np.ones(3, np.float32), np.zeros(3, np.float32)
    check_op(lambda x: nn.InstanceNorm2d(3)(x), lambda x: jax_group_norm(x, 3, ones, zeros), [x], rtol=1e-4, atol=1e-4)
    seq = x.reshape(2, 3, 20)
    check_op(lambda x: nn.InstanceNorm1d(3)(x), lambda x: jax_group_norm(x, 3, ones, zeros), [seq], rtol=1e-4, atol=1e-4)
    assert list(nn.InstanceNorm2d(3).state_dict()) == [] and list(nn.InstanceNorm2d(3, affine=True).state_dict()) == ["weight", "bias"]


def jax_local_response_norm(x, size, alpha, beta, k):
    """Each channel over the mean square of channels c - size//2 .. c + (size-1)//2 (missing ones
    count as zeros), written as a loop over windows."""
    c = x.shape[1]
    squares = x * x
    sums = jnp.stack([squares[:, max(0, i - size // 2):min(c, i + (size - 1) // 2 + 1)].sum(1) for i in range(c)], 1)
    return x / (k + alpha * sums / size) ** beta


@pytest.mark.parametrize("shape,size", [((2, 7, 5), 3), ((2, 6, 4, 5), 4), ((1, 5, 3, 2, 2), 5), ((2, 4, 3), 1)])
def test_local_response_norm_matches_jax(rng, shape, size) -> None:
    x = rng.standard_normal(shape).astype(np.float32)
    check_op(lambda t: F.local_response_norm(t, size, 2e-2, 0.75, 2.0),
             lambda t: jax_local_response_norm(t, size, 2e-2, 0.75, 2.0), [x], rtol=1e-5, atol=1e-6)
    layer = nn.LocalResponseNorm(size, alpha=2e-2, beta=0.75, k=2.0)
    np.testing.assert_array_equal(layer(fg.tensor(x)).numpy(),
                                  F.local_response_norm(fg.tensor(x), size, 2e-2, 0.75, 2.0).numpy())
    with pytest.raises(ValueError, match="local_response_norm: expected an input of shape"):
        F.local_response_norm(fg.tensor(x.reshape(-1)[:4]), size)


def test_batch_norm_3d_normalises_volumes_in_python_and_in_fit(rng) -> None:
    """BatchNorm3d: training statistics over (N, D, H, W) per channel and PyTorch's running
    update (unbiased variance, momentum 0.1), in a Python call and in the Rust layer ``fit`` runs
    (an SGD rate of 0 leaves the parameters as they are)."""
    x = rng.standard_normal((4, 3, 2, 3, 5)).astype(np.float32) * 2 + 1
    mean, var = x.mean((0, 2, 3, 4)), x.var((0, 2, 3, 4))
    expected = (x - mean[None, :, None, None, None]) / np.sqrt(var[None, :, None, None, None] + 1e-5)
    bn = nn.BatchNorm3d(3)
    np.testing.assert_allclose(bn(fg.tensor(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    unbiased = x.var((0, 2, 3, 4), ddof=1)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * unbiased, rtol=1e-5)
    with pytest.raises(ValueError, match="BatchNorm3d: expected input of rank 5"):
        bn(fg.tensor(x[0]))
    # fit takes flat samples here (its array inputs stop at [N, C, H, W]); the model unflattens them.
    model = nn.Sequential(nn.Unflatten(1, (3, 2, 3, 5)), nn.BatchNorm3d(3), nn.Flatten(), nn.Linear(90, 2))
    model.fit((x.reshape(4, -1), np.array([0, 1, 0, 1])), epochs=1, batch_size=4, shuffle=False, verbose=False,
              optimizer=fg.optim.SGD(model.parameters(), lr=0.0))
    np.testing.assert_allclose(model[1].running_mean.numpy(), 0.1 * mean, rtol=1e-5, atol=1e-6)
    assert int(model[1].num_batches_tracked.item()) == 1


def test_nearest_upsampling_matches_repeat(rng) -> None:
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)

    def jax_nearest(x, fh, fw):
        return jnp.repeat(jnp.repeat(x, fh, axis=2), fw, axis=3)

    check_op(lambda x: nn.Upsample(scale_factor=2)(x), lambda x: jax_nearest(x, 2, 2), [x])
    check_op(lambda x: F.interpolate(x, size=(8, 15)), lambda x: jax_nearest(x, 2, 3), [x])
    check_op(lambda x: F.interpolate(x, scale_factor=3), lambda x: jnp.repeat(x, 3, axis=2), [x[:, :, 0]])


def _linear_weights(n_in: int, n_out: int, align_corners: bool) -> np.ndarray:
    """The [n_out, n_in] matrix of 1-D linear resizing by PyTorch's documented source-coordinate
    rule, in float64: half-pixel centres clamped at 0 (or corners aligned), edges repeated."""
    matrix = np.zeros((n_out, n_in))
    for i in range(n_out):
        if align_corners:
            src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            src = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        low = min(int(np.floor(src)), n_in - 1)
        high = min(low + 1, n_in - 1)
        matrix[i, low] += 1 - (src - low)
        matrix[i, high] += src - low
    return matrix


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(9, 11), (3, 4), (5, 7)])
def test_bilinear_resizing_matches_the_separable_reference(rng, size, align_corners) -> None:
    x = rng.normal(size=(2, 3, 5, 7)).astype(np.float32)
    rows, cols = _linear_weights(5, size[0], align_corners), _linear_weights(7, size[1], align_corners)
    check_op(lambda t: F.interpolate(t, size=size, mode="bilinear", align_corners=align_corners),
             lambda t: jnp.einsum("ih,nchw,jw->ncij", rows, t, cols), [x])
    layer = nn.Upsample(size=size, mode="bilinear", align_corners=align_corners)
    np.testing.assert_allclose(layer(fg.tensor(x)).numpy(), np.einsum("ih,nchw,jw->ncij", rows, x, cols), atol=1e-5)


def test_linear_and_trilinear_upsampling_match_jax_resize(rng) -> None:
    # JAX's half-pixel linear resize without antialiasing is PyTorch's align_corners=False rule.
    line = rng.normal(size=(2, 3, 6)).astype(np.float32)
    check_op(lambda t: F.interpolate(t, size=13, mode="linear"),
             lambda t: jax.image.resize(t, (2, 3, 13), "linear", antialias=False), [line])
    volume = rng.normal(size=(1, 2, 3, 4, 5)).astype(np.float32)
    check_op(lambda t: F.interpolate(t, scale_factor=2, mode="trilinear"),
             lambda t: jax.image.resize(t, (1, 2, 6, 8, 10), "linear", antialias=False), [volume])


def test_nearest_resizing_to_any_size_and_area_mode(rng) -> None:
    x = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    # PyTorch's 'nearest': source floor(i * in / out); 'nearest-exact': floor((i + 0.5) * in / out).
    rows, cols = np.floor(np.arange(7) * 4 / 7).astype(int), np.floor(np.arange(3) * 5 / 3).astype(int)
    check_op(lambda t: F.interpolate(t, size=(7, 3)), lambda t: t[:, :, rows][:, :, :, cols], [x])
    rows = np.minimum(np.floor((np.arange(7) + 0.5) * 4 / 7).astype(int), 3)
    cols = np.minimum(np.floor((np.arange(3) + 0.5) * 5 / 3).astype(int), 4)
    check_op(lambda t: F.interpolate(t, size=(7, 3), mode="nearest-exact"), lambda t: t[:, :, rows][:, :, :, cols],
             [x])
    np.testing.assert_allclose(F.interpolate(fg.tensor(x), size=(2, 5), mode="area").numpy(),
                               x.reshape(2, 3, 2, 2, 5).mean(3), rtol=1e-6)
    with pytest.raises(ValueError, match="mode 'bilinear' expects 2 spatial axes"):
        F.interpolate(fg.tensor(x[:, :, 0]), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="argument `align_corners` applies only to the linear modes"):
        F.interpolate(fg.tensor(x), scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="argument `mode` expected one of"):
        F.interpolate(fg.tensor(x), scale_factor=2, mode="lanczos")


ACTIVATIONS = [
    (nn.ELU(), lambda x: jax.nn.elu(x)),
    (nn.ELU(0.5), lambda x: jax.nn.elu(x, 0.5)),
    (nn.Hardtanh(-0.5, 2.0), lambda x: jnp.clip(x, -0.5, 2.0)),
    (nn.ReLU6(), jax.nn.relu6),
    (nn.Hardsigmoid(), jax.nn.hard_sigmoid),
    (nn.Hardswish(), jax.nn.hard_swish),
    (nn.Mish(), jax.nn.mish),
    (nn.LogSigmoid(), jax.nn.log_sigmoid),
]


@pytest.mark.parametrize("layer,reference", ACTIVATIONS, ids=[type(a[0]).__name__ for a in ACTIVATIONS])
def test_composite_activations_match_jax(rng, layer, reference) -> None:
    # Spread over the kinks at -3, -1, 0, 3 and 6 without landing on them (JAX's and PyTorch's
    # gradients disagree exactly there), and into the tails.
    x = (rng.uniform(-9, 9, size=(4, 50)) + 1e-3).astype(np.float32)
    x[0, :4] = [-60.0, 60.0, -30.0, 30.0]
    check_op(layer, reference, [x], rtol=1e-5, atol=1e-6)


def test_hard_activations_pass_no_gradient_at_their_bounds() -> None:
    x = fg.tensor([-3.0, -1.0, 0.0, 3.0, 6.0], requires_grad=True)
    (F.hardtanh(x) + F.relu6(x) + F.hardsigmoid(x)).sum().backward()
    # hardtanh: 1 inside (-1, 1) -> only 0.0; relu6: inside (0, 6) -> 3.0; hardsigmoid: (-3, 3) / 6.
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1 / 6, 1 + 1 / 6, 1.0, 0.0], rtol=1e-6)
    big = fg.tensor([100.0, -100.0], requires_grad=True)
    F.elu(big).sum().backward()
    assert np.isfinite(big.grad.numpy()).all()


def test_bad_arguments_name_the_layer() -> None:
    with pytest.raises(ValueError, match="GroupNorm: argument `num_groups` expected a divisor of num_channels 6, got 4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="GroupNorm: expected an input of shape \\[N, 6, ...\\]"):
        nn.GroupNorm(3, 6)(fg.zeros(2, 4, 3))
    with pytest.raises(ValueError, match="InstanceNorm2d: argument `track_running_stats` expected False"):
        nn.InstanceNorm2d(3, track_running_stats=True)
    with pytest.raises(ValueError, match="conv1d: expected an input of shape \\[N, C, L\\]"):
        nn.Conv1d(3, 4, 3)(fg.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="Conv1d: in_channels 3 and out_channels 4 must be divisible by groups 2"):
        nn.Conv1d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="interpolate: argument `size` expected 2 positive sizes, got \\(6, 0\\)"):
        F.interpolate(fg.zeros(1, 1, 4, 5), size=(6, 0))
    with pytest.raises(ValueError, match="Upsample: argument `mode` expected one of .*, got 'lanczos'"):
        nn.Upsample(scale_factor=2, mode="lanczos")
    with pytest.raises(ValueError, match="Hardtanh: arguments `min_val` and `max_val`"):
        nn.Hardtanh(1.0, -1.0)


def test_interpolate_rejects_an_empty_spatial_axis() -> None:
    with pytest.raises(ValueError, match=r"interpolate: argument `input` expected spatial sizes greater than 0, "
                                         r"got an input of shape \[1, 2, 0\]"):
        F.interpolate(fg.zeros(1, 2, 0), size=4)
