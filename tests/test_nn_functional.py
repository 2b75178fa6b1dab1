"""Parity of linear, softmax, losses, convolution, pooling, normalisation and dropout with JAX
(forward and backward, float32). Tolerances: 1e-4 on values, 1e-3 on gradients (sums over
hundreds of terms in a different order)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from reference import check_op


def test_softmax_family(rng):
    x = (rng.standard_normal((4, 5, 6)) * 3).astype(np.float32)
    for dim in (0, 1, -1):
        check_op(lambda t: F.softmax(t, dim), lambda v: jax.nn.softmax(v, axis=dim), [x], rtol=1e-5, atol=1e-6)
        check_op(lambda t: F.log_softmax(t, dim), lambda v: jax.nn.log_softmax(v, axis=dim), [x], rtol=1e-5, atol=1e-5)
    check_op(lambda t: F.logsumexp(t, 1), lambda v: jax.scipy.special.logsumexp(v, axis=1), [x], rtol=1e-5, atol=1e-5)
    big = np.array([[1000.0, 0.0, -1000.0]], dtype=np.float32)
    np.testing.assert_allclose(F.softmax(fg.tensor(big)).numpy(), [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("shape", [(7,), (4, 7), (2, 3, 7)])
def test_linear(shape, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((5, 7)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    check_op(F.linear, lambda a, c, d: a @ c.T + d, [x, w, b], rtol=1e-5, atol=1e-5)
    check_op(lambda a, c: F.linear(a, c), lambda a, c: a @ c.T, [x, w], rtol=1e-5, atol=1e-5)
    # A transposed weight view is read through its strides.
    wt = np.ascontiguousarray(w.T)
    check_op(lambda a, c: F.linear(a, c.T), lambda a, c: a @ c, [x, wt], rtol=1e-5, atol=1e-5)


def test_linear_rejects_bad_shapes():
    x = fg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"input must be \[\.\.\., 5\].*\[2, 3\]"):
        F.linear(x, fg.zeros(4, 5))
    with pytest.raises(ValueError, match=r"bias must have shape \[4\], got \[3\]"):
        F.linear(x, fg.zeros(4, 3), fg.zeros(3))


def _jax_cross_entropy(logits, target, weight, ignore, smoothing, reduction):
    c = logits.shape[1]
    logp = jax.nn.log_softmax(jnp.moveaxis(logits, 1, -1), -1).reshape(-1, c)
    t = target.reshape(-1)
    valid = t != ignore
    safe = jnp.where(valid, t, 0)
    w = weight if weight is not None else jnp.ones(c)
    hard = -jnp.take_along_axis(logp, safe[:, None], 1)[:, 0] * w[safe]
    smooth = -(logp * w).sum(1)
    per = jnp.where(valid, (1 - smoothing) * hard + smoothing / c * smooth, 0.0)
    if reduction == "mean":
        return per.sum() / jnp.where(valid, w[safe], 0.0).sum()
    if reduction == "sum":
        return per.sum()
    return per.reshape(target.shape)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_cross_entropy(reduction, smoothing, rng):
    x = rng.standard_normal((6, 5)).astype(np.float32)
    t = np.array([0, 4, -100, 2, 2, 1], dtype=np.int64)
    w = rng.uniform(0.5, 2, 5).astype(np.float32)
    check_op(lambda a, b, c: F.cross_entropy(a, b, weight=c, reduction=reduction, label_smoothing=smoothing),
             lambda a, b, c: _jax_cross_entropy(a, b, c, -100, smoothing, reduction), [x, t, w], differentiable=[True, False, False])
    img = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    ti = rng.integers(0, 4, (2, 3, 3)).astype(np.int64)
    check_op(lambda a, b: F.cross_entropy(a, b, reduction=reduction, label_smoothing=smoothing),
             lambda a, b: _jax_cross_entropy(a, b, None, -100, smoothing, reduction), [img, ti], differentiable=[True, False])


def test_cross_entropy_probability_targets_and_errors(rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    q = jax.nn.softmax(rng.standard_normal((4, 3)).astype(np.float32))
    q = np.asarray(q, dtype=np.float32)
    check_op(lambda a, b: F.cross_entropy(a, b), lambda a, b: -(jax.nn.log_softmax(a) * b).sum(1).mean(), [x, q], differentiable=[True, False])
    with pytest.raises(ValueError, match="target"):
        F.cross_entropy(fg.tensor(x), fg.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(fg.tensor(x), fg.tensor([0, 1, 2, 1]), reduction="avg")


def test_pointwise_losses(rng):
    a = rng.standard_normal((5, 4)).astype(np.float32)
    b = rng.standard_normal((5, 4)).astype(np.float32)
    p = np.asarray(jax.nn.sigmoid(a), np.float32)
    y = (rng.random((5, 4)) > 0.5).astype(np.float32)
    pw = rng.uniform(0.5, 3, 4).astype(np.float32)
    check_op(F.mse_loss, lambda u, v: jnp.mean((u - v) ** 2), [a, b])
    check_op(lambda u, v: F.l1_loss(u, v, reduction="sum"), lambda u, v: jnp.sum(jnp.abs(u - v)), [a, b])
    check_op(lambda u, v: F.smooth_l1_loss(u, v, beta=0.7),
             lambda u, v: jnp.mean(jnp.where(jnp.abs(u - v) < 0.7, 0.5 * (u - v) ** 2 / 0.7, jnp.abs(u - v) - 0.35)), [a, b])
    check_op(lambda u, v: F.binary_cross_entropy(u, v), lambda u, v: -jnp.mean(v * jnp.log(u) + (1 - v) * jnp.log(1 - u)),
             [p, y], differentiable=[True, False])
    check_op(lambda u, v, w: F.binary_cross_entropy_with_logits(u, v, pos_weight=w),
             lambda u, v, w: -jnp.mean(w * v * jax.nn.log_sigmoid(u) + (1 - v) * jax.nn.log_sigmoid(-u)),
             [a, y, pw], differentiable=[True, False, False])
    logq = np.asarray(jax.nn.log_softmax(a), np.float32)
    target = np.array(jax.nn.softmax(b), np.float32)
    target[0, 0] = 0.0
    check_op(lambda u, v: F.kl_div(u, v, reduction="batchmean"),
             lambda u, v: jnp.sum(jnp.where(v > 0, v * (jnp.log(jnp.where(v > 0, v, 1.0)) - u), 0.0)) / 5, [logq, target],
             differentiable=[True, False])
    check_op(lambda u, v: F.nll_loss(u, v), lambda u, v: -jnp.mean(jnp.take_along_axis(u, v[:, None], 1)),
             [logq, np.array([0, 3, 1, 1, 2], dtype=np.int64)], differentiable=[True, False])


CONV_CASES = [
    dict(x=(2, 3, 9, 8), w=(4, 3, 3, 3), stride=1, padding=1, dilation=1, groups=1),
    dict(x=(2, 4, 9, 7), w=(6, 2, 3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
    dict(x=(1, 4, 6, 6), w=(4, 1, 3, 3), stride=2, padding=1, dilation=1, groups=4),
    dict(x=(3, 5, 4, 4), w=(7, 5, 1, 1), stride=1, padding=0, dilation=1, groups=1),
    # 40 output channels a group: the forward product runs in blocks of 32 channels and one of 8.
    dict(x=(2, 6, 7, 7), w=(80, 3, 3, 3), stride=1, padding=1, dilation=1, groups=2),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c['x']}-{c['w']}-g{c['groups']}")
def test_conv2d(case, rng):
    x = rng.standard_normal(case["x"]).astype(np.float32)
    w = rng.standard_normal(case["w"]).astype(np.float32)
    b = rng.standard_normal(case["w"][0]).astype(np.float32)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    s, p, d = pair(case["stride"]), pair(case["padding"]), pair(case["dilation"])

    def ref(xv, wv, bv):
        out = jax.lax.conv_general_dilated(xv, wv, s, [(p[0], p[0]), (p[1], p[1])], rhs_dilation=d,
                                           feature_group_count=case["groups"], dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return out + bv[None, :, None, None]

    check_op(lambda xv, wv, bv: F.conv2d(xv, wv, bv, case["stride"], case["padding"], case["dilation"], case["groups"]),
             ref, [x, w, b], rtol=1e-4, atol=1e-4, grad_rtol=1e-3, grad_atol=1e-3)


@pytest.mark.parametrize("case", CONV_CASES[:2], ids=["3x3-pad1", "strided-dilated"])
def test_unfold(case, rng):
    x = rng.standard_normal(case["x"]).astype(np.float32)
    k = case["w"][2:]
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    s, p, d = pair(case["stride"]), pair(case["padding"]), pair(case["dilation"])

    def ref(xv):
        patches = jax.lax.conv_general_dilated_patches(xv, k, s, [(p[0], p[0]), (p[1], p[1])], rhs_dilation=d,
                                                       dimension_numbers=("NCHW", "OIHW", "NCHW"))
        return patches.reshape(patches.shape[0], patches.shape[1], -1)

    check_op(lambda xv: F.unfold(xv, k, case["dilation"], case["padding"], case["stride"]), ref, [x])


def _jax_pool(x, k, s, p, op, init):
    return jax.lax.reduce_window(x, init, op, (1, 1, *k), (1, 1, *s), [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])


def test_pooling(rng):
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    check_op(lambda t: F.max_pool2d(t, 3, 2, 1), lambda v: _jax_pool(v, (3, 3), (2, 2), (1, 1), jax.lax.max, -jnp.inf), [x])
    check_op(lambda t: F.max_pool2d(t, 2), lambda v: _jax_pool(v, (2, 2), (2, 2), (0, 0), jax.lax.max, -jnp.inf), [x])
    check_op(lambda t: F.avg_pool2d(t, 3, 2, 1),
             lambda v: _jax_pool(v, (3, 3), (2, 2), (1, 1), jax.lax.add, 0.0) / 9.0, [x])
    counts = _jax_pool(jnp.ones((1, 1, 9, 8)), (3, 3), (2, 2), (1, 1), jax.lax.add, 0.0)
    check_op(lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False),
             lambda v: _jax_pool(v, (3, 3), (2, 2), (1, 1), jax.lax.add, 0.0) / counts, [x])
    check_op(lambda t: F.adaptive_avg_pool2d(t, 1), lambda v: v.mean((2, 3), keepdims=True), [x])
    check_op(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), lambda v: v.reshape(2, 3, 3, 3, 4, 2).mean((3, 5)), [x[:, :, :9, :8]])


def test_batch_and_layer_norm(rng):
    x = (rng.standard_normal((4, 3, 5, 2)) * 2 + 1).astype(np.float32)
    w = rng.uniform(0.5, 1.5, 3).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)

    def bn(xv, wv, bv):
        m = xv.mean((0, 2, 3), keepdims=True)
        v = xv.var((0, 2, 3), keepdims=True)
        return (xv - m) / jnp.sqrt(v + 1e-5) * wv[None, :, None, None] + bv[None, :, None, None]

    check_op(lambda xv, wv, bv: F.batch_norm(xv, None, None, wv, bv, training=True), bn, [x, w, b], rtol=1e-4, atol=1e-4)
    rm, rv = fg.zeros(3), fg.ones(3)
    F.batch_norm(fg.tensor(x), rm, rv, training=True, momentum=0.2)
    np.testing.assert_allclose(rm.numpy(), 0.2 * x.mean((0, 2, 3)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), 0.8 + 0.2 * x.var((0, 2, 3), ddof=1), rtol=1e-5)
    check_op(lambda xv: F.batch_norm(xv, rm, rv, training=False),
             lambda xv: (xv - rm.numpy()[None, :, None, None]) / jnp.sqrt(rv.numpy()[None, :, None, None] + 1e-5), [x], rtol=1e-4, atol=1e-5)
    lw = rng.uniform(0.5, 1.5, (5, 2)).astype(np.float32)
    lb = rng.standard_normal((5, 2)).astype(np.float32)

    def ln(xv, wv, bv):
        m = xv.mean((-2, -1), keepdims=True)
        v = xv.var((-2, -1), keepdims=True)
        return (xv - m) / jnp.sqrt(v + 1e-5) * wv + bv

    check_op(lambda xv, wv, bv: F.layer_norm(xv, (5, 2), wv, bv), ln, [x, lw, lb], rtol=1e-4, atol=1e-4)


def test_norms_over_long_rows_and_offset_data(rng):
    """Planes and rows longer than one summation block (1,024) and not a multiple of the lane
    width, data far from zero (|mean| >> std, where one-pass variances lose digits), and enough
    rows that layer norm's parameter gradients are summed from several row blocks."""
    x = (rng.standard_normal((6, 3, 40, 31)) + 50).astype(np.float32)
    w = rng.uniform(0.5, 1.5, 3).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)

    def bn(xv, wv, bv):
        m = xv.mean((0, 2, 3), keepdims=True)
        v = ((xv - m) ** 2).mean((0, 2, 3), keepdims=True)
        return (xv - m) / jnp.sqrt(v + 1e-5) * wv[None, :, None, None] + bv[None, :, None, None]

    check_op(lambda xv, wv, bv: F.batch_norm(xv, None, None, wv, bv, training=True), bn, [x, w, b],
             rtol=1e-3, atol=1e-3, grad_rtol=1e-3, grad_atol=2e-3)
    rm, rv = fg.zeros(3), fg.ones(3)
    F.batch_norm(fg.tensor(x), rm, rv, training=True, momentum=1.0)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(rm.numpy(), x64.mean((0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(rv.numpy(), x64.var((0, 2, 3), ddof=1), rtol=1e-4)

    rows = (rng.standard_normal((37, 1100)) * 3 - 20).astype(np.float32)
    lw = rng.uniform(0.5, 1.5, 1100).astype(np.float32)
    lb = rng.standard_normal(1100).astype(np.float32)

    def ln(xv, wv=None, bv=None):
        m = xv.mean(-1, keepdims=True)
        v = ((xv - m) ** 2).mean(-1, keepdims=True)
        y = (xv - m) / jnp.sqrt(v + 1e-5)
        return y if wv is None else y * wv + bv

    check_op(lambda xv, wv, bv: F.layer_norm(xv, (1100,), wv, bv), ln, [rows, lw, lb],
             rtol=1e-4, atol=1e-4, grad_rtol=1e-3, grad_atol=1e-3)
    check_op(lambda xv: F.layer_norm(xv, (1100,)), ln, [rows], rtol=1e-4, atol=1e-4)


def test_dropout_seeded_and_scaled():
    x = fg.ones(10000)
    fg.manual_seed(3)
    a = F.dropout(x, 0.25).numpy()
    fg.manual_seed(3)
    b = F.dropout(x, 0.25).numpy()
    np.testing.assert_array_equal(a, b)
    assert abs((a == 0).mean() - 0.25) < 0.02
    np.testing.assert_allclose(a[a != 0], 1 / 0.75)
    np.testing.assert_array_equal(F.dropout(x, 0.25, training=False).numpy(), np.ones(10000))
    with pytest.raises(ValueError, match="p"):
        F.dropout(x, 1.5)


@pytest.mark.parametrize("call,op,name", [
    (lambda x, w: F.conv2d(x, w, dilation=0), "conv2d", "dilation"),
    (lambda x, w: F.conv_transpose2d(x, w, stride=0), "conv_transpose2d", "stride"),
    (lambda x, w: F.conv_transpose2d(x, w, dilation=(1, 0)), "conv_transpose2d", "dilation"),
    (lambda x, w: F.max_pool2d(x, 2, dilation=(0, 1)), "max_pool2d", "dilation"),
    (lambda x, w: F.adaptive_avg_pool2d(x, (0, 2)), "adaptive_avg_pool2d", "output_size"),
    (lambda x, w: F.unfold(x, 3, dilation=(0, 1)), "unfold", "dilation"),
], ids=["conv2d-dilation", "conv_transpose2d-stride", "conv_transpose2d-dilation", "max_pool2d-dilation",
        "adaptive_avg_pool2d-output_size", "unfold-dilation"])
def test_zero_sizes_are_rejected_naming_the_argument(call, op, name):
    x = fg.tensor(np.ones((1, 2, 6, 6), np.float32))
    w = fg.tensor(np.ones((2, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match=rf"{op}: argument `{name}` expected values >= 1"):
        call(x, w)


def test_binary_cross_entropy_rejects_values_outside_zero_one():
    probs, target = fg.tensor([0.2, 0.7]), fg.tensor([0.0, 1.0])
    with pytest.raises(ValueError, match=r"binary_cross_entropy.*input.*\[0, 1\].*1\.5"):
        F.binary_cross_entropy(fg.tensor([0.2, 1.5]), target)
    with pytest.raises(ValueError, match=r"binary_cross_entropy.*target.*\[0, 1\].*-0\.5"):
        fg.nn.BCELoss()(probs, fg.tensor([-0.5, 1.0]))
    with pytest.raises(ValueError, match=r"input.*NaN"):
        F.binary_cross_entropy(fg.tensor([float("nan"), 0.5]), target)
    # The bounds themselves are probabilities: log(0) is clamped at -100, as in PyTorch.
    loss = F.binary_cross_entropy(fg.tensor([0.0, 1.0]), fg.tensor([1.0, 1.0]), reduction="sum")
    assert loss.item() == pytest.approx(100.0)
