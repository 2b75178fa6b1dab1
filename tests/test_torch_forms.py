"""``ferrograd.tensor_torch_forms``: PyTorch's ``torch.*`` function forms and the matching Tensor
methods. Forward values are compared with numpy on random inputs, gradients with JAX (float32) on
the same function, and malformed arguments must raise PyTorch's exception type with a message
naming the argument, what was expected and what was given."""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ferrograd as fg

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", False)
jnp = jax.numpy

# float32 results against numpy (float64 where it computes in float64).
TOL = dict(rtol=1e-5, atol=1e-6)
GRAD_TOL = dict(rtol=1e-4, atol=1e-5)


def f32(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


def check_grads(fg_fn: Callable[..., fg.Tensor], jax_fn: Callable[..., Any], *arrays: np.ndarray,
                tol: dict[str, float] = GRAD_TOL) -> None:
    """The gradients of ``sum(w * fn(*arrays))`` (random ``w``) from ferrograd and from JAX agree."""
    tensors = [fg.tensor(a, requires_grad=True) for a in arrays]
    out = fg_fn(*tensors)
    weights = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
    (out * fg.tensor(weights)).sum().backward()
    expected = jax.grad(lambda *xs: (jax_fn(*xs) * weights).sum(), argnums=tuple(range(len(arrays))))(
        *[jnp.asarray(a, jnp.float32) for a in arrays])
    np.testing.assert_allclose(out.detach().numpy(), np.asarray(jax_fn(*arrays)), **tol)
    for t, g in zip(tensors, expected):
        assert t.grad is not None
        np.testing.assert_allclose(t.grad.numpy(), np.asarray(g), **tol)


# Arithmetic and comparisons.

def test_add_sub_mul_with_alpha(rng: np.random.Generator) -> None:
    x, y = f32(rng, 3, 4), f32(rng, 4)
    a, b = fg.tensor(x), fg.tensor(y)
    np.testing.assert_allclose(fg.add(a, b).numpy(), x + y, **TOL)
    np.testing.assert_allclose(fg.add(a, b, alpha=2.5).numpy(), x + 2.5 * y, **TOL)
    np.testing.assert_allclose(fg.sub(a, b, alpha=-3).numpy(), x + 3 * y, **TOL)
    np.testing.assert_allclose(fg.sub(2.0, a).numpy(), 2.0 - x, **TOL)
    np.testing.assert_allclose(fg.mul(a, b).numpy(), x * y, **TOL)
    np.testing.assert_allclose(fg.add(a, 1.5, alpha=2).numpy(), x + 3.0, **TOL)
    check_grads(lambda p, q: fg.add(p, q, alpha=2.5), lambda p, q: p + 2.5 * q, x, y)
    check_grads(lambda p, q: fg.sub(p, q, alpha=0.5), lambda p, q: p - 0.5 * q, x, y)
    check_grads(fg.mul, lambda p, q: p * q, x, y)


def test_pow_with_scalar_and_tensor_exponents(rng: np.random.Generator) -> None:
    x = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    e = rng.uniform(-1.5, 2.5, (3, 4)).astype(np.float32)
    np.testing.assert_allclose(fg.pow(fg.tensor(x), 3).numpy(), x ** 3, rtol=1e-5)
    np.testing.assert_allclose(fg.pow(fg.tensor(x), fg.tensor(e)).numpy(), x ** e, rtol=1e-5)
    np.testing.assert_allclose(fg.pow(2.0, fg.tensor(e)).numpy(), 2.0 ** e, rtol=1e-5)
    check_grads(fg.pow, lambda p, q: p ** q, x, e)
    check_grads(lambda p: fg.pow(p, 2.5), lambda p: p ** 2.5, x)
    check_grads(lambda q: fg.pow(3.0, q), lambda q: 3.0 ** q, e)


def test_comparisons_any_all_reciprocal_sgn(rng: np.random.Generator) -> None:
    x, y = rng.integers(-2, 3, (4, 5)).astype(np.float32), rng.integers(-2, 3, (5,)).astype(np.float32)
    a, b = fg.tensor(x), fg.tensor(y)
    for fn, op in [(fg.eq, np.equal), (fg.ne, np.not_equal), (fg.lt, np.less), (fg.le, np.less_equal),
                   (fg.gt, np.greater), (fg.ge, np.greater_equal)]:
        out = fn(a, b)
        assert out.dtype == "bool"
        np.testing.assert_array_equal(out.numpy(), op(x, y))
        np.testing.assert_array_equal(fn(a, 0.0).numpy(), op(x, 0.0))
    assert fg.any(a).item() == bool(np.any(x)) and fg.all(a).item() == bool(np.all(x))
    np.testing.assert_array_equal(fg.any(a, 1).numpy(), np.any(x, 1))
    np.testing.assert_array_equal(fg.all(a, 0, keepdim=True).numpy(), np.all(x, 0, keepdims=True))
    np.testing.assert_array_equal(fg.any(a > 10, dim=0).numpy(), np.zeros(5, bool))
    z = f32(rng, 6) + 3.0
    np.testing.assert_allclose(fg.reciprocal(fg.tensor(z)).numpy(), 1 / z, rtol=1e-6)
    assert fg.reciprocal(fg.tensor([2, 4])).tolist() == [0.5, 0.25]
    np.testing.assert_array_equal(fg.sgn(a).numpy(), np.sign(x))
    # The builtins are untouched where they are used as builtins.
    assert any([0, 1]) and not all([0, 1]) and pow(2, 3) == 8


def test_hypot_is_stable(rng: np.random.Generator) -> None:
    x, y = f32(rng, 3, 4), f32(rng, 4)
    np.testing.assert_allclose(fg.hypot(fg.tensor(x), fg.tensor(y)).numpy(), np.hypot(x, y), **TOL)
    big = np.array([3e30, 1e-30, 0.0, math.inf, -4.0], np.float32)
    other = np.array([4e30, 1e-30, 0.0, 1.0, math.nan], np.float32)
    out = fg.hypot(fg.tensor(big), fg.tensor(other)).numpy()
    np.testing.assert_allclose(out[:4], np.hypot(big, other)[:4].astype(np.float64), rtol=1e-6)
    assert math.isnan(out[4])
    check_grads(fg.hypot, jnp.hypot, x, y)
    zero = fg.tensor([0.0, 3.0], requires_grad=True)
    fg.hypot(zero, fg.tensor([0.0, 4.0])).sum().backward()
    np.testing.assert_allclose(zero.grad.numpy(), [0.0, 0.6], rtol=1e-6)


def test_logaddexp_is_stable(rng: np.random.Generator) -> None:
    x, y = f32(rng, 3, 4) * 10, f32(rng, 3, 4) * 10
    np.testing.assert_allclose(fg.logaddexp(fg.tensor(x), fg.tensor(y)).numpy(), np.logaddexp(x, y), **TOL)
    a = np.array([1000.0, -1000.0, -math.inf, math.inf, -math.inf, 2.0], np.float32)
    b = np.array([999.0, -1001.0, -math.inf, math.inf, 3.0, 2.0], np.float32)
    np.testing.assert_allclose(fg.logaddexp(fg.tensor(a), fg.tensor(b)).numpy(), np.logaddexp(a, b), rtol=1e-6)
    check_grads(fg.logaddexp, jnp.logaddexp, x, y)
    # Equal entries share the gradient: sigmoid(0) = 1/2 each.
    p, q = fg.tensor([1.5], requires_grad=True), fg.tensor([1.5], requires_grad=True)
    fg.logaddexp(p, q).sum().backward()
    assert p.grad.tolist() == [0.5] and q.grad.tolist() == [0.5]


def test_lerp_addcmul_addcdiv(rng: np.random.Generator) -> None:
    x, y, w = f32(rng, 3, 4), f32(rng, 3, 4), rng.uniform(0, 1, (4,)).astype(np.float32)
    np.testing.assert_allclose(fg.lerp(fg.tensor(x), fg.tensor(y), 0.3).numpy(), x + 0.3 * (y - x), **TOL)
    check_grads(fg.lerp, lambda p, q, r: p + r * (q - p), x, y, w)
    check_grads(lambda p, q: fg.lerp(p, q, 0.25), lambda p, q: p + 0.25 * (q - p), x, y)
    z = rng.uniform(1, 2, (3, 1)).astype(np.float32)
    np.testing.assert_allclose(fg.addcmul(fg.tensor(x), fg.tensor(y), fg.tensor(z), value=-2).numpy(),
                               x - 2 * y * z, **TOL)
    np.testing.assert_allclose(fg.addcdiv(fg.tensor(x), fg.tensor(y), fg.tensor(z), value=0.5).numpy(),
                               x + 0.5 * y / z, **TOL)
    check_grads(lambda p, q, r: fg.addcmul(p, q, r, value=1.5), lambda p, q, r: p + 1.5 * q * r, x, y, z)
    check_grads(lambda p, q, r: fg.addcdiv(p, q, r, value=-0.7), lambda p, q, r: p - 0.7 * q / r, x, y, z)
    t = fg.tensor(x)
    np.testing.assert_allclose(t.addcmul(fg.tensor(y), fg.tensor(z)).numpy(), x + y * z, **TOL)


# Indexing.

def test_masked_select(rng: np.random.Generator) -> None:
    x, m = f32(rng, 3, 4), rng.random(4) < 0.5
    out = fg.masked_select(fg.tensor(x), fg.tensor(m))
    np.testing.assert_array_equal(out.numpy(), x[np.broadcast_to(m, x.shape)])
    np.testing.assert_array_equal(fg.tensor(x).masked_select(fg.tensor(x > 0)).numpy(), x[x > 0])
    check_grads(lambda p: fg.masked_select(p, fg.tensor(x > 0)), lambda p: p[x > 0], x)


def test_take_along_dim(rng: np.random.Generator) -> None:
    x = f32(rng, 3, 5)
    idx = rng.integers(0, 5, (3, 2))
    out = fg.take_along_dim(fg.tensor(x), fg.tensor(idx), 1)
    np.testing.assert_array_equal(out.numpy(), np.take_along_axis(x, idx, 1))
    flat = rng.integers(0, 15, (4,))
    np.testing.assert_array_equal(fg.take_along_dim(fg.tensor(x), fg.tensor(flat)).numpy(), x.reshape(-1)[flat])
    # Broadcasting in the other dimensions: [3, 5] with [1, 2] and [3, 1, 4] with [3, 2, 1].
    row = rng.integers(0, 5, (1, 2))
    np.testing.assert_array_equal(fg.take_along_dim(fg.tensor(x), fg.tensor(row), -1).numpy(),
                                  np.take_along_axis(x, np.broadcast_to(row, (3, 2)), 1))
    y = f32(rng, 3, 1, 4)
    cols = rng.integers(0, 3, (3, 2, 1))
    np.testing.assert_array_equal(fg.tensor(y).take_along_dim(fg.tensor(cols), 0).numpy(),
                                  np.take_along_axis(np.broadcast_to(y, (3, 2, 4)), np.broadcast_to(cols, (3, 2, 4)), 0))
    check_grads(lambda p: fg.take_along_dim(p, fg.tensor(idx), 1), lambda p: jnp.take_along_axis(p, idx, 1), x)


def test_select_narrow_index_select(rng: np.random.Generator) -> None:
    x = f32(rng, 3, 4, 5)
    t = fg.tensor(x)
    np.testing.assert_array_equal(fg.select(t, 1, -1).numpy(), x[:, -1])
    np.testing.assert_array_equal(t.select(2, 3).numpy(), x[:, :, 3])
    np.testing.assert_array_equal(fg.narrow(t, 2, 1, 3).numpy(), x[:, :, 1:4])
    np.testing.assert_array_equal(fg.narrow(t, 0, fg.tensor(1), 2).numpy(), x[1:3])
    np.testing.assert_array_equal(fg.index_select(t, 1, fg.tensor([3, 0, 0])).numpy(), x[:, [3, 0, 0]])


def test_index_fill(rng: np.random.Generator) -> None:
    x = f32(rng, 3, 5)
    expected = x.copy()
    expected[:, [1, 4]] = -2.5
    np.testing.assert_array_equal(fg.index_fill(fg.tensor(x), 1, fg.tensor([1, -1]), -2.5).numpy(), expected)
    ints = fg.tensor(np.arange(6).reshape(2, 3))
    filled = ints.index_fill(0, fg.tensor(1), 7)
    assert filled.dtype == "int64" and filled.tolist() == [[0, 1, 2], [7, 7, 7]]
    # Gradients flow to the kept entries and to a tensor value (once per filled entry).
    p, v = fg.tensor(x, requires_grad=True), fg.tensor(2.0, requires_grad=True)
    fg.index_fill(p, 0, fg.tensor([0, 2]), v).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.array([[0.0] * 5, [1.0] * 5, [0.0] * 5]))
    assert v.grad.item() == 10.0


def test_masked_fill_and_scatter(rng: np.random.Generator) -> None:
    x = f32(rng, 3, 4)
    mask = x > 0.3
    np.testing.assert_array_equal(fg.masked_fill(fg.tensor(x), fg.tensor(mask), 9.0).numpy(), np.where(mask, 9.0, x))
    check_grads(lambda p: fg.masked_fill(p, fg.tensor(mask), 1.0), lambda p: jnp.where(mask, 1.0, p), x)
    idx = np.array([[2, 0, 1, 2]])
    src = f32(rng, 1, 4)
    expected = x.copy()
    expected[idx[0], np.arange(4)] = src[0]
    np.testing.assert_array_equal(fg.scatter(fg.tensor(x), 0, fg.tensor(idx), fg.tensor(src)).numpy(), expected)
    expected[idx[0], np.arange(4)] = 5.0
    np.testing.assert_array_equal(fg.scatter(fg.tensor(x), 0, fg.tensor(idx), 5.0).numpy(), expected)
    np.testing.assert_array_equal(fg.scatter(fg.tensor(x), 0, fg.tensor(idx), value=5.0).numpy(), expected)


# Shapes.

def test_tile_and_broadcast_to(rng: np.random.Generator) -> None:
    x = f32(rng, 2, 3)
    t = fg.tensor(x)
    for dims in [(2,), (2, 3), (2, 1, 2), (1, 0)]:
        np.testing.assert_array_equal(fg.tile(t, dims).numpy(), np.tile(x, dims))
    np.testing.assert_array_equal(t.tile(2, 2).numpy(), np.tile(x, (2, 2)))
    np.testing.assert_array_equal(t.tile((3,)).numpy(), np.tile(x, 3))
    check_grads(lambda p: fg.tile(p, (2, 1, 3)), lambda p: jnp.tile(p, (2, 1, 3)), x)
    col = f32(rng, 3, 1)
    np.testing.assert_array_equal(fg.broadcast_to(fg.tensor(col), (2, 3, 4)).numpy(), np.broadcast_to(col, (2, 3, 4)))
    np.testing.assert_array_equal(fg.tensor(col).broadcast_to(3, -1).numpy(), col)
    np.testing.assert_array_equal(fg.tensor(col).broadcast_to((2, -1, 5)).numpy(), np.broadcast_to(col, (2, 3, 5)))


def test_movedim_swapaxes_unflatten(rng: np.random.Generator) -> None:
    x = f32(rng, 2, 3, 4, 5)
    t = fg.tensor(x)
    for source, destination in [(0, -1), (-1, 0), ((0, 1), (2, 0)), ([3, 1], [0, 1]), ((), ())]:
        np.testing.assert_array_equal(fg.movedim(t, source, destination).numpy(), np.moveaxis(x, source, destination))
    np.testing.assert_array_equal(t.movedim(1, 3).numpy(), np.moveaxis(x, 1, 3))
    np.testing.assert_array_equal(t.moveaxis(1, 3).numpy(), np.moveaxis(x, 1, 3))
    check_grads(lambda p: fg.movedim(p, (0, 3), (1, 2)), lambda p: jnp.moveaxis(p, (0, 3), (1, 2)), x)
    np.testing.assert_array_equal(fg.swapaxes(t, 0, -1).numpy(), np.swapaxes(x, 0, -1))
    np.testing.assert_array_equal(t.swapdims(1, 2).numpy(), np.swapaxes(x, 1, 2))
    assert t.swapaxes(1, 2).shape == (2, 4, 3, 5)
    np.testing.assert_array_equal(fg.unflatten(t, 2, (2, 2)).numpy(), x.reshape(2, 3, 2, 2, 5))
    np.testing.assert_array_equal(t.unflatten(-1, (-1, 1)).numpy(), x.reshape(2, 3, 4, 5, 1))
    assert fg.unflatten(t, 0, [1, -1]).shape == (1, 2, 3, 4, 5)


def test_rot90(rng: np.random.Generator) -> None:
    x = f32(rng, 2, 3, 4)
    for k in range(-2, 6):
        for dims in [(0, 1), (1, 0), (2, 0), (-1, 1)]:
            np.testing.assert_array_equal(fg.rot90(fg.tensor(x), k, dims).numpy(), np.rot90(x, k, dims))
    np.testing.assert_array_equal(fg.tensor(x).rot90().numpy(), np.rot90(x))
    check_grads(lambda p: fg.rot90(p, 1, (1, 2)), lambda p: jnp.rot90(p, 1, (1, 2)), x)


def test_tensor_split_hsplit_vsplit(rng: np.random.Generator) -> None:
    x = f32(rng, 7, 6)
    t = fg.tensor(x)
    for spec in [3, 1, 7, 9, [2, 5], [0, 3, 3, 10], [-2], (1, 4)]:
        for dim in (0, 1):
            got = fg.tensor_split(t, spec, dim)
            expected = np.array_split(x, spec, dim)
            assert len(got) == len(expected), (spec, dim)
            for g, e in zip(got, expected):
                np.testing.assert_array_equal(g.numpy(), e)
    np.testing.assert_array_equal(t.tensor_split(fg.tensor([1, 3]), 1)[1].numpy(), x[:, 1:3])
    for got, expected in zip(fg.hsplit(t, 3), np.hsplit(x, 3)):
        np.testing.assert_array_equal(got.numpy(), expected)
    for got, expected in zip(t.vsplit([2, 4]), np.vsplit(x, [2, 4])):
        np.testing.assert_array_equal(got.numpy(), expected)
    v = f32(rng, 6)
    for got, expected in zip(fg.hsplit(fg.tensor(v), 2), np.hsplit(v, 2)):
        np.testing.assert_array_equal(got.numpy(), expected)


def test_dstack_column_stack_cartesian_prod(rng: np.random.Generator) -> None:
    a, b = f32(rng, 3), f32(rng, 3)
    m, n = f32(rng, 3, 2), f32(rng, 3, 2)
    np.testing.assert_array_equal(fg.dstack([fg.tensor(a), fg.tensor(b)]).numpy(), np.dstack([a, b]))
    np.testing.assert_array_equal(fg.dstack([fg.tensor(m), fg.tensor(n)]).numpy(), np.dstack([m, n]))
    np.testing.assert_array_equal(fg.dstack([fg.tensor(1.0), fg.tensor(2.0)]).numpy(), np.dstack([1.0, 2.0]))
    np.testing.assert_array_equal(fg.column_stack([fg.tensor(a), fg.tensor(m), fg.tensor(b)]).numpy(),
                                  np.column_stack([a, m, b]))
    u, v, w = np.array([1, 2, 3]), np.array([4, 5]), np.array([6, 7])
    got = fg.cartesian_prod(fg.tensor(u), fg.tensor(v), fg.tensor(w))
    np.testing.assert_array_equal(got.numpy(), np.array(list(itertools.product(u, v, w))))
    np.testing.assert_array_equal(fg.cartesian_prod(fg.tensor(u)).numpy(), u)


def test_diff(rng: np.random.Generator) -> None:
    x = f32(rng, 4, 6)
    t = fg.tensor(x)
    for n in range(0, 8):
        for dim in (0, 1, -1):
            np.testing.assert_allclose(fg.diff(t, n, dim).numpy(), np.diff(x, n, dim), **TOL)
    pre, post = f32(rng, 4, 2), f32(rng, 4, 1)
    np.testing.assert_allclose(fg.diff(t, 2, prepend=fg.tensor(pre), append=fg.tensor(post)).numpy(),
                               np.diff(x, 2, prepend=pre, append=post), **TOL)
    np.testing.assert_allclose(t.diff(dim=0, prepend=1.5).numpy(), np.diff(x, axis=0, prepend=1.5), **TOL)
    flags = rng.random(7) < 0.5
    np.testing.assert_array_equal(fg.diff(fg.tensor(flags)).numpy(), np.diff(flags))
    check_grads(lambda p: fg.diff(p, 2, 1), lambda p: jnp.diff(p, 2, 1), x)
    check_grads(lambda p, q: fg.diff(p, 1, 1, prepend=q), lambda p, q: jnp.diff(p, 1, 1, prepend=q), x, pre)


# Products and distances.

def test_dot_mv_addmm_baddbmm(rng: np.random.Generator) -> None:
    u, v = f32(rng, 5), f32(rng, 5)
    np.testing.assert_allclose(fg.dot(fg.tensor(u), fg.tensor(v)).item(), float(u @ v), rtol=1e-5)
    assert fg.tensor([1, 2, 3]).dot(fg.tensor([4, 5, 6])).item() == 32
    check_grads(fg.dot, jnp.dot, u, v)
    m = f32(rng, 3, 5)
    np.testing.assert_allclose(fg.mv(fg.tensor(m), fg.tensor(v)).numpy(), m @ v, **TOL)
    check_grads(fg.mv, lambda p, q: p @ q, m, v)
    c, a, b = f32(rng, 1, 4), f32(rng, 3, 5), f32(rng, 5, 4)
    np.testing.assert_allclose(fg.addmm(fg.tensor(c), fg.tensor(a), fg.tensor(b), beta=0.5, alpha=2).numpy(),
                               0.5 * c + 2 * a @ b, **TOL)
    check_grads(lambda p, q, r: fg.addmm(p, q, r, beta=-1.5, alpha=0.5), lambda p, q, r: -1.5 * p + 0.5 * (q @ r),
                c, a, b)
    check_grads(fg.addmm, lambda p, q, r: p + q @ r, c, a, b)
    nan_input = fg.tensor(np.full((3, 4), np.nan, np.float32))
    np.testing.assert_allclose(fg.addmm(nan_input, fg.tensor(a), fg.tensor(b), beta=0).numpy(), a @ b, **TOL)
    np.testing.assert_allclose(fg.tensor(c).addmm(fg.tensor(a), fg.tensor(b)).numpy(), c + a @ b, **TOL)
    bc, b1, b2 = f32(rng, 3, 1), f32(rng, 2, 3, 4), f32(rng, 2, 4, 5)
    np.testing.assert_allclose(fg.baddbmm(fg.tensor(bc), fg.tensor(b1), fg.tensor(b2), alpha=3).numpy(),
                               bc + 3 * b1 @ b2, **TOL)
    check_grads(lambda p, q, r: fg.baddbmm(p, q, r, beta=2, alpha=-1), lambda p, q, r: 2 * p - q @ r, bc, b1, b2)


def test_cross(rng: np.random.Generator) -> None:
    a, b = f32(rng, 4, 3), f32(rng, 4, 3)
    np.testing.assert_allclose(fg.cross(fg.tensor(a), fg.tensor(b)).numpy(), np.cross(a, b), **TOL)
    np.testing.assert_allclose(fg.tensor(a).cross(fg.tensor(b), dim=-1).numpy(), np.cross(a, b), **TOL)
    # Without dim: the first dimension of size 3 ([3, 3, 2] crosses along dimension 0).
    p, q = f32(rng, 3, 3, 2), f32(rng, 3, 3, 2)
    np.testing.assert_allclose(fg.cross(fg.tensor(p), fg.tensor(q)).numpy(), np.cross(p, q, axis=0), **TOL)
    np.testing.assert_allclose(fg.cross(fg.tensor(p), fg.tensor(q), 1).numpy(), np.cross(p, q, axis=1), **TOL)
    # Broadcasting [4, 3] with [3].
    np.testing.assert_allclose(fg.cross(fg.tensor(a), fg.tensor(b[0]), dim=1).numpy(), np.cross(a, b[0]), **TOL)
    check_grads(lambda x, y: fg.cross(x, y, dim=1), lambda x, y: jnp.cross(x, y, axis=1), a, b)


def test_kron_and_dist(rng: np.random.Generator) -> None:
    for sa, sb in [((2, 3), (4, 5)), ((3,), (2, 2)), ((2, 1, 3), (2, 2)), ((), (3,))]:
        a, b = f32(rng, *sa), f32(rng, *sb)
        np.testing.assert_allclose(fg.kron(fg.tensor(a), fg.tensor(b)).numpy(), np.kron(a, b), **TOL)
    a, b = f32(rng, 2, 3), f32(rng, 4, 2)
    check_grads(fg.kron, jnp.kron, a, b)
    np.testing.assert_allclose(fg.tensor(a).kron(fg.tensor(b)).numpy(), np.kron(a, b), **TOL)
    x, y = f32(rng, 3, 4), f32(rng, 4)
    diff = (x - y).astype(np.float64)
    for p in (2, 1, 3.5, math.inf):
        expected = np.linalg.norm(diff.reshape(-1), p)
        np.testing.assert_allclose(fg.dist(fg.tensor(x), fg.tensor(y), p).item(), expected, rtol=1e-5)
    np.testing.assert_allclose(fg.tensor(x).dist(fg.tensor(y)).item(), np.linalg.norm(diff), rtol=1e-5)
    check_grads(fg.dist, lambda p, q: jnp.sqrt(((p - q) ** 2).sum()), x, y)
    check_grads(lambda p, q: fg.dist(p, q, 3.0), lambda p, q: (jnp.abs(p - q) ** 3).sum() ** (1 / 3), x, y)


def test_methods_are_added_without_replacing_existing_ones() -> None:
    from ferrograd import tensor_methods, tensor_structure

    assert fg.Tensor.narrow is tensor_methods.narrow and fg.Tensor.scatter is tensor_structure.scatter
    assert fg.Tensor.lerp is tensor_methods.lerp and fg.Tensor.masked_fill is tensor_methods.masked_fill
    for name in ("unflatten", "swapaxes", "movedim", "tile", "broadcast_to", "dot", "mv", "addmm", "cross"):
        assert callable(getattr(fg.Tensor, name)), name


# Malformed arguments.

m, v = fg.ones(2, 3), fg.ones(3)
ERROR_CASES: list[tuple[type[Exception], str, Callable[[], Any]]] = [
    (TypeError, r"add: argument `input` expected a Tensor, got int", lambda: fg.add(1, 2)),
    (RuntimeError, r"masked_select: argument `mask` expected dtype bool, got float32",
     lambda: fg.masked_select(m, m)),
    (RuntimeError, r"masked_fill: argument `mask` expected dtype bool, got int64",
     lambda: fg.masked_fill(m, fg.tensor([1, 0, 1]), 0.0)),
    (RuntimeError, r"masked_select: expected shapes that broadcast together, got \[2, 3\] and \[2\]",
     lambda: fg.masked_select(m, fg.tensor([True, False]))),
    (RuntimeError, r"take_along_dim: argument `indices` expected an int64 or int32 tensor, got dtype float32",
     lambda: fg.take_along_dim(m, v, 1)),
    (RuntimeError, r"take_along_dim: arguments `input` and `indices` expected the same number of dimensions, "
                   r"got 2 and 1", lambda: fg.take_along_dim(m, fg.tensor([0]), 1)),
    (IndexError, r"take_along_dim: argument `dim` expected a value in \[-2, 1\], got 2",
     lambda: fg.take_along_dim(m, fg.tensor([[0]]), 2)),
    (IndexError, r"select: argument `index` expected a value in \[-3, 2\] for dimension 1 of shape \[2, 3\], got 3",
     lambda: fg.select(m, 1, 3)),
    (IndexError, r"select: argument `dim` expected a value in \[-2, 1\], got 5", lambda: m.select(5, 0)),
    (IndexError, r"index_fill: argument `index` expected values in \[-3, 2\] for dimension 1, got values from 0 "
                 r"to 3", lambda: fg.index_fill(m, 1, fg.tensor([0, 3]), 1.0)),
    (RuntimeError, r"index_fill: argument `value` expected a number or a 0-d tensor, got shape \[2\]",
     lambda: fg.index_fill(m, 1, fg.tensor([0]), fg.ones(2))),
    (RuntimeError, r"tile: argument `dims` expected non-negative counts, got \[2, -1\]",
     lambda: fg.tile(m, (2, -1))),
    (RuntimeError, r"broadcast_to: argument `size` expected a shape that \[2, 3\] broadcasts to, got \[2, 4\]",
     lambda: fg.broadcast_to(m, (2, 4))),
    (RuntimeError, r"broadcast_to: argument `size` expected a shape that \[2, 3\] broadcasts to, got \[3\]",
     lambda: m.broadcast_to(3)),
    (RuntimeError, r"movedim: arguments `source` and `destination` expected the same number of dimensions, "
                   r"got \[0, 1\] and \[0\]", lambda: fg.movedim(m, (0, 1), 0)),
    (IndexError, r"movedim: argument `destination` expected a value in \[-2, 1\], got 2",
     lambda: fg.movedim(m, 0, 2)),
    (RuntimeError, r"movedim: argument `source` expected distinct dimensions, got \(0, -2\)",
     lambda: fg.movedim(m, (0, -2), (0, 1))),
    (IndexError, r"swapaxes: argument `axis1` expected a value in \[-2, 1\], got 2", lambda: fg.swapaxes(m, 0, 2)),
    (RuntimeError, r"unflatten: argument `sizes` expected sizes whose product is 3 \(the size of dimension 1; at "
                   r"most one -1\), got \[2, -1\]", lambda: fg.unflatten(m, 1, (2, -1))),
    (RuntimeError, r"unflatten: .* got \[\]", lambda: m.unflatten(0, ())),
    (RuntimeError, r"unflatten: argument `input` expected a tensor of at least 1 dimension, got a 0-d tensor",
     lambda: fg.unflatten(fg.tensor(1.0), 0, (1,))),
    (RuntimeError, r"rot90: argument `dims` expected 2 dimensions, got \[0, 1, 2\]",
     lambda: fg.rot90(m, 1, (0, 1, 2))),
    (RuntimeError, r"rot90: argument `dims` expected two different dimensions, got \[1, -1\]",
     lambda: fg.rot90(m, 1, (1, -1))),
    (RuntimeError, r"rot90: argument `input` expected a tensor of at least 2 dimensions, got shape \[3\]",
     lambda: fg.rot90(v)),
    (RuntimeError, r"tensor_split: argument `indices_or_sections` expected a positive number of sections, got 0",
     lambda: fg.tensor_split(m, 0)),
    (RuntimeError, r"tensor_split: argument `input` expected a tensor of at least 1 dimension, got a 0-d tensor",
     lambda: fg.tensor_split(fg.tensor(1.0), 2)),
    (RuntimeError, r"hsplit: argument `indices_or_sections` expected a number of sections dividing the size 3 of "
                   r"dimension 1, got 2", lambda: fg.hsplit(m, 2)),
    (RuntimeError, r"vsplit: argument `input` expected a tensor of at least 2 dimensions, got shape \[3\]",
     lambda: fg.vsplit(v, 3)),
    (RuntimeError, r"dstack: argument `tensors` expected a non-empty sequence of tensors, got an empty one",
     lambda: fg.dstack([])),
    (TypeError, r"column_stack: argument `tensors\[1\]` expected a Tensor, got list",
     lambda: fg.column_stack([v, [1.0]])),
    (RuntimeError, r"cartesian_prod: argument `tensors\[1\]` expected a 1-D tensor, got shape \[2, 3\]",
     lambda: fg.cartesian_prod(v, m)),
    (RuntimeError, r"diff: argument `n` expected a non-negative order, got -1", lambda: fg.diff(v, -1)),
    (RuntimeError, r"diff: argument `append` expected the shape of `input` \[2, 3\] apart from dimension 1, "
                   r"got \[3, 1\]", lambda: fg.diff(m, append=fg.ones(3, 1))),
    (RuntimeError, r"dot: arguments `input` and `other` expected 1-D tensors, got shapes \[2, 3\] and \[3\]",
     lambda: fg.dot(m, v)),
    (RuntimeError, r"dot: arguments `input` and `other` expected the same number of entries, got 3 and 2",
     lambda: v.dot(fg.ones(2))),
    (RuntimeError, r"dot: arguments `input` and `other` expected the same dtype, got float32 and int64",
     lambda: fg.dot(v, fg.tensor([1, 2, 3]))),
    (RuntimeError, r"mv: arguments `input` and `vec` expected a \[n, m\] matrix and a \[m\] vector, got shapes "
                   r"\[2, 3\] and \[2\]", lambda: fg.mv(m, fg.ones(2))),
    (RuntimeError, r"addmm: arguments `mat1` and `mat2` expected \[n, k\] and \[k, m\] matrices, got shapes "
                   r"\[2, 3\] and \[2, 3\]", lambda: fg.addmm(m, m, m)),
    (RuntimeError, r"addmm: argument `input` expected a shape that broadcasts to \[2, 2\], got \[2, 3\]",
     lambda: fg.addmm(m, m, m.t())),
    (RuntimeError, r"addmm: argument `input` expected a shape that broadcasts to \[2, 2\], got \[4\]",
     lambda: fg.addmm(fg.ones(4), m, m.t())),
    (RuntimeError, r"baddbmm: arguments `batch1` and `batch2` expected \[B, n, k\] and \[B, k, m\] tensors, got "
                   r"shapes \[1, 2, 3\] and \[2, 3, 2\]", lambda: fg.baddbmm(m, fg.ones(1, 2, 3), fg.ones(2, 3, 2))),
    (RuntimeError, r"cross: argument `dim` expected a dimension of size 3, got dimension 0 of size 2 "
                   r"\(shape \[2, 3\]\)", lambda: fg.cross(m, m, 0)),
    (RuntimeError, r"cross: expected a dimension of size 3 when `dim` is None, got shape \[2, 2\]",
     lambda: fg.cross(fg.ones(2, 2), fg.ones(2, 2))),
    (RuntimeError, r"addcdiv: argument `tensor2` expected a floating-point tensor \(integer division is not "
                   r"supported\), got dtype int64", lambda: fg.addcdiv(v, v, fg.tensor([1, 2, 3]))),
    (TypeError, r"hypot: argument `other` expected a Tensor, got float", lambda: fg.hypot(v, 2.0)),
    (RuntimeError, r"dist: expected shapes that broadcast together, got \[2, 3\] and \[2\]",
     lambda: fg.dist(m, fg.ones(2))),
    (TypeError, r"scatter: expected exactly one of the arguments `src` and `value`, got neither",
     lambda: fg.scatter(m, 0, fg.tensor([[0]]))),
]


@pytest.mark.parametrize("error, message, call", ERROR_CASES, ids=[c[1].split(":")[0] for c in ERROR_CASES])
def test_errors_name_the_argument(error: type[Exception], message: str, call: Callable[[], Any]) -> None:
    with pytest.raises(error, match=message):
        call()


# Any shapes, dtypes and values may be rejected, but only with the documented exception types.

DOCUMENTED = (ValueError, TypeError, IndexError, RuntimeError, NotImplementedError)
_dtypes = st.sampled_from([np.float32, np.int64, np.int32, np.uint8, np.bool_])
_arrays = _dtypes.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)))
FUZZ_CALLS: list[Callable[[fg.Tensor, fg.Tensor], Any]] = [
    lambda a, b: fg.add(a, b, alpha=2), lambda a, b: fg.pow(a, b), lambda a, b: fg.any(a, 1),
    lambda a, b: fg.masked_select(a, b), lambda a, b: fg.take_along_dim(a, b, 0), lambda a, b: fg.take_along_dim(a, b),
    lambda a, b: fg.tile(a, (2, 1)), lambda a, b: fg.broadcast_to(a, (2, 3)), lambda a, b: fg.movedim(a, 0, -1),
    lambda a, b: fg.swapaxes(a, 0, 1), lambda a, b: fg.unflatten(a, 0, (2, -1)), lambda a, b: fg.select(a, 1, 1),
    lambda a, b: fg.index_fill(a, 0, b, 1.0), lambda a, b: fg.masked_fill(a, b, 0.0), lambda a, b: fg.addcdiv(a, a, b),
    lambda a, b: fg.hypot(a, b), lambda a, b: fg.logaddexp(a, b), lambda a, b: fg.dot(a, b), lambda a, b: fg.mv(a, b),
    lambda a, b: fg.addmm(a, a, b), lambda a, b: fg.baddbmm(a, a, b), lambda a, b: fg.cross(a, b),
    lambda a, b: fg.diff(a, 2, 0, prepend=b), lambda a, b: fg.rot90(a, 1), lambda a, b: fg.kron(a, b),
    lambda a, b: fg.tensor_split(a, b), lambda a, b: fg.hsplit(a, 2), lambda a, b: fg.vsplit(a, [1]),
    lambda a, b: fg.dstack([a, b]), lambda a, b: fg.column_stack([a, b]), lambda a, b: fg.cartesian_prod(a, b),
    lambda a, b: fg.dist(a, b),
]


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(x=_arrays, y=_arrays, which=st.integers(0, len(FUZZ_CALLS) - 1))
def test_fuzz_raises_only_documented_errors(x: np.ndarray, y: np.ndarray, which: int) -> None:
    try:
        FUZZ_CALLS[which](fg.tensor(x), fg.tensor(y))
    except DOCUMENTED:
        pass
