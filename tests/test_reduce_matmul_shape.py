"""Parity of reductions, matrix products, view/copy ops and indexing with JAX (float32)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
from reference import check_op

REDUCTIONS = [
    ("sum_all", lambda t: t.sum(), jnp.sum),
    ("sum_axis", lambda t: t.sum(1), lambda x: jnp.sum(x, 1)),
    ("sum_axes_keep", lambda t: t.sum((0, 2), keepdim=True), lambda x: jnp.sum(x, (0, 2), keepdims=True)),
    ("mean_neg", lambda t: t.mean(-1), lambda x: jnp.mean(x, -1)),
    ("var_unbiased", lambda t: t.var(1), lambda x: jnp.var(x, 1, ddof=1)),
    ("var_biased_all", lambda t: t.var(correction=0), jnp.var),
    ("max_dim", lambda t: t.max(2)[0], lambda x: jnp.max(x, 2)),
    ("min_dim_keep", lambda t: t.min(0, keepdim=True)[0], lambda x: jnp.min(x, 0, keepdims=True)),
    ("max_all", lambda t: t.max(), jnp.max),
]


@pytest.mark.parametrize("name,fg_fn,jax_fn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions(name, fg_fn, jax_fn, rng):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    check_op(fg_fn, jax_fn, [x], rtol=1e-5, atol=1e-5)


# Large enough (over 2^18 elements) for the parallel paths: memory-order sums of contiguous data,
# row-wise gathers of permuted views, and jointly coalesced rows of broadcast operands.
LARGE_STRIDED = [
    ("bias_grad_sum", lambda t: t.sum((0, 2, 3)), lambda x: jnp.sum(x, (0, 2, 3))),
    ("inner_and_outer_sum", lambda t: t.sum((0, 3), keepdim=True), lambda x: jnp.sum(x, (0, 3), keepdims=True)),
    ("permuted_view_sum", lambda t: t.permute(3, 1, 0, 2).sum((1, 3)), lambda x: jnp.sum(jnp.transpose(x, (3, 1, 0, 2)), (1, 3))),
    ("transposed_copy", lambda t: t.transpose(2, 3).contiguous() * 2.0, lambda x: jnp.swapaxes(x, 2, 3) * 2.0),
    ("channel_broadcast_mul", lambda t: t * t.mean((0, 2, 3), keepdim=True), lambda x: x * jnp.mean(x, (0, 2, 3), keepdims=True)),
    ("row_broadcast_sub", lambda t: t - t[0:1, :, :, 0:1], lambda x: x - x[0:1, :, :, 0:1]),
]


@pytest.mark.parametrize("name,fg_fn,jax_fn", LARGE_STRIDED, ids=[r[0] for r in LARGE_STRIDED])
def test_large_strided_reductions_and_broadcasts(name, fg_fn, jax_fn, rng):
    x = rng.standard_normal((16, 8, 48, 50)).astype(np.float32)
    # Sums of up to 38,400 terms: float32 accumulation order differs from JAX's.
    check_op(fg_fn, jax_fn, [x], rtol=1e-4, atol=2e-3, grad_rtol=1e-4, grad_atol=2e-3)


def test_argmax_argmin_match_numpy(rng):
    x = rng.standard_normal((6, 7)).astype(np.float32)
    t = fg.tensor(x)
    np.testing.assert_array_equal(t.argmax(1).numpy(), x.argmax(1))
    np.testing.assert_array_equal(t.argmin(0).numpy(), x.argmin(0))
    assert t.argmax().item() == x.argmax()
    assert t.argmax(1).dtype == "int64"


def test_long_sum_is_accurate():
    x = np.full(1_000_003, 0.1, dtype=np.float32)
    np.testing.assert_allclose(fg.tensor(x).sum().item(), np.sum(x.astype(np.float64)), rtol=1e-6)


MATMUL_SHAPES = [((5, 7), (7, 3)), ((7,), (7, 3)), ((5, 7), (7,)), ((7,), (7,)),
                 ((2, 5, 7), (7, 3)), ((2, 1, 5, 7), (3, 7, 4)), ((64, 130), (130, 257))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, rng):
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    check_op(lambda x, y: x @ y, jnp.matmul, [a, b], rtol=1e-4, atol=1e-4)


def test_matmul_of_transposed_views(rng):
    a = rng.standard_normal((7, 5)).astype(np.float32)
    b = rng.standard_normal((3, 7)).astype(np.float32)
    check_op(lambda x, y: x.T @ y.T, lambda x, y: x.T @ y.T, [a, b], rtol=1e-4, atol=1e-4)


def test_matmul_shape_error_names_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\[2, 3\].*\[4, 5\]"):
        fg.zeros(2, 3) @ fg.zeros(4, 5)


SHAPE_OPS = [
    ("reshape", lambda t: t.reshape(4, -1) * 2, lambda x: x.reshape(4, -1) * 2),
    ("permute", lambda t: t.permute(2, 0, 1).exp(), lambda x: jnp.exp(jnp.transpose(x, (2, 0, 1)))),
    ("transpose_reshape", lambda t: t.transpose(0, 2).reshape(-1), lambda x: jnp.swapaxes(x, 0, 2).reshape(-1)),
    ("flatten", lambda t: t.flatten(1), lambda x: x.reshape(3, -1)),
    ("unsqueeze_expand", lambda t: t.unsqueeze(1).expand(3, 2, 4, 5), lambda x: jnp.broadcast_to(x[:, None], (3, 2, 4, 5))),
    ("slice_step", lambda t: t[:, 1::2, ::3], lambda x: x[:, 1::2, ::3]),
    ("int_index", lambda t: t[1, :, -1], lambda x: x[1, :, -1]),
    ("ellipsis_none", lambda t: t[..., None, 2], lambda x: x[..., None, 2]),
    ("tensor_index", lambda t: t[:, fg.tensor([3, 0, 3])], lambda x: x[:, jnp.array([3, 0, 3])]),
    ("cat", lambda t: fg.cat([t, t * 2], 1), lambda x: jnp.concatenate([x, x * 2], 1)),
    ("stack", lambda t: fg.stack([t, t.exp()], -1), lambda x: jnp.stack([x, jnp.exp(x)], -1)),
    ("squeeze", lambda t: t[:, :1].squeeze(1), lambda x: x[:, 0]),
]


@pytest.mark.parametrize("name,fg_fn,jax_fn", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_ops(name, fg_fn, jax_fn, rng):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    check_op(fg_fn, jax_fn, [x])


def test_gather_index_select_scatter_add(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    idx = np.array([[0, 3], [2, 2], [1, 0]], dtype=np.int64)
    check_op(lambda t, i: t.gather(1, i), lambda v, i: jnp.take_along_axis(v, i, 1), [x, idx], differentiable=[True, False])
    rows = np.array([2, 0, 2], dtype=np.int64)
    check_op(lambda t, i: t.index_select(0, i), lambda v, i: v[i], [x, rows], differentiable=[True, False])
    src = rng.standard_normal((3, 2)).astype(np.float32)
    check_op(
        lambda t, s, i: t.scatter_add(1, i, s),
        lambda v, s, i: v.at[jnp.arange(3)[:, None], i].add(s),
        [x, src, idx],
        differentiable=[True, True, False],
    )
    with pytest.raises(ValueError, match="index"):
        fg.tensor(x).gather(1, fg.tensor(np.array([[4, 0], [0, 0], [0, 0]])))


def test_pad_one_hot_embedding(rng):
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    check_op(lambda t: fg.functional.pad(t, (1, 2, 0, 1), value=0.5),
             lambda v: jnp.pad(v, ((0, 0), (0, 1), (1, 2)), constant_values=0.5), [x])
    np.testing.assert_array_equal(fg.functional.one_hot(fg.tensor([2, 0, 1]), 3).numpy(), np.eye(3)[[2, 0, 1]])
    w = rng.standard_normal((5, 3)).astype(np.float32)
    ids = np.array([[4, 0], [1, 4]], dtype=np.int64)
    check_op(lambda i, t: fg.functional.embedding(i, t), lambda i, v: v[i], [ids, w], differentiable=[False, True])


def test_setitem_and_errors():
    t = fg.zeros(3, 4)
    t[1, 1:3] = 5.0
    expected = np.zeros((3, 4), np.float32)
    expected[1, 1:3] = 5
    np.testing.assert_array_equal(t.numpy(), expected)
    leaf = fg.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in place"):
        leaf[0] = 1.0
    with pytest.raises(IndexError, match="out of bounds"):
        t[5]
    with pytest.raises(ValueError, match="reshape"):
        t.reshape(5, -1)


def test_empty_operands_of_matmul_and_cat():
    a, b = np.ones((2, 3, 0), np.float32), np.ones((0, 4), np.float32)
    np.testing.assert_array_equal((fg.tensor(a) @ fg.tensor(b)).numpy(), a @ b)
    e = np.ones((1, 0), np.int32)
    assert fg.cat([fg.tensor(e), fg.tensor(e)], 0).shape == (2, 0)
    assert fg.tensor(np.array(7)).shape == ()  # 0-d arrays stay 0-d


def test_bool_mask_indexing_matches_numpy_and_carries_gradients(rng):
    a = rng.normal(size=(2, 3, 4)).astype(np.float32)
    t = fg.tensor(a, requires_grad=True)
    full, rows, columns = a > 0, a[:, :, 0] > 0, a[0, 0] > 0
    for key, want in [(fg.tensor(full), a[full]), (full, a[full]), (fg.tensor(rows), a[rows]),
                      ((slice(None), fg.tensor(rows[0])), a[:, rows[0]]), ((Ellipsis, columns), a[..., columns]),
                      ((0, fg.tensor(full[0])), a[0][full[0]]), (fg.tensor(np.zeros(2, bool)), a[np.zeros(2, bool)])]:
        got = t[key].detach().numpy()
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    weights = rng.normal(size=int(full.sum())).astype(np.float32)
    (t[fg.tensor(full)] * fg.tensor(weights)).sum().backward()
    expected = np.zeros_like(a)
    expected[full] = weights
    np.testing.assert_array_equal(t.grad.numpy(), expected)
    with pytest.raises(IndexError, match="a bool mask index must have the shape of the dimensions it covers"):
        t[fg.tensor(full[:, :2])]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 3"):
        t[0, fg.tensor(full)]
