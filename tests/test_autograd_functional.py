"""``ferrograd.autograd.functional`` (vjp, jvp, jacobian, hessian, hvp, vhp) against JAX on CPU.

Inputs are float32. Tolerances: 1e-5 relative / 5e-6 absolute for first derivatives (vjp, jvp,
jacobian: the same float32 arithmetic in another order; the absolute part covers tanh' = 1 - tanh^2
near saturation, where a last-bit difference in tanh cancels to a few 1e-6), 2e-4 / 2e-5 for second
derivatives and anything differentiated through a recorded backward pass (longer chains of float32
rounding). JAX references run under ``jax.jit``: compiled once, they are several times faster than
JAX's op-by-op dispatch, which keeps the file quick.
Also checks PyTorch's output conventions (tuples in give tuples out), ``create_graph``,
``strict`` and the error messages.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
from ferrograd.autograd import functional as AF

jax.config.update("jax_platforms", "cpu")

FIRST: Any = dict(rtol=1e-5, atol=5e-6)
SECOND: Any = dict(rtol=2e-4, atol=2e-5)


def _np(t: Any) -> np.ndarray:
    assert isinstance(t, fg.Tensor)
    return t.detach().numpy()


def _randn(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(np.float32)


# A vector-valued function of two inputs and its JAX twin: two outputs of different shapes.
def f2(x: fg.Tensor, w: fg.Tensor) -> tuple[fg.Tensor, fg.Tensor]:
    return (x @ w).tanh() * 2.0, (x.sin() * x).sum(dim=1)


def j2(x: jnp.ndarray, w: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    return jnp.tanh(x @ w) * 2.0, (jnp.sin(x) * x).sum(axis=1)


# The scalar function whose Hessians are checked.
def s2(x: fg.Tensor, w: fg.Tensor) -> fg.Tensor:
    return (x @ w).tanh().sum() + (x ** 3).sum()


def js2(x: jnp.ndarray, w: jnp.ndarray) -> jnp.ndarray:
    return jnp.tanh(x @ w).sum() + (x ** 3).sum()


def test_the_module_is_reachable_as_in_pytorch() -> None:
    import ferrograd.autograd.functional as dotted

    assert dotted is AF is fg.autograd.functional
    assert fg.autograd.functional.hessian is AF.hessian


def test_vjp_single_and_tuple_inputs_and_outputs(rng: np.random.Generator) -> None:
    x_np, w_np = _randn(rng, 3, 4), _randn(rng, 4, 2)
    v0, v1 = _randn(rng, 3, 2), _randn(rng, 3)
    x, w = fg.tensor(x_np), fg.tensor(w_np)

    out, grads = AF.vjp(f2, (x, w), (fg.tensor(v0), fg.tensor(v1)))

    @jax.jit
    def reference(x: jnp.ndarray, w: jnp.ndarray, v0: jnp.ndarray, v1: jnp.ndarray) -> tuple:
        value, pullback = jax.vjp(j2, x, w)
        return value, pullback((v0, v1))

    expected_out, (ex, ew) = reference(x_np, w_np, v0, v1)
    assert isinstance(out, tuple) and isinstance(grads, tuple) and len(out) == 2 and len(grads) == 2
    np.testing.assert_allclose(_np(out[0]), np.asarray(expected_out[0]), **FIRST)
    np.testing.assert_allclose(_np(out[1]), np.asarray(expected_out[1]), **FIRST)
    np.testing.assert_allclose(_np(grads[0]), np.asarray(ex), **FIRST)
    np.testing.assert_allclose(_np(grads[1]), np.asarray(ew), **FIRST)
    assert not any(t.requires_grad for t in (*out, *grads))
    assert x.grad is None and not x.requires_grad  # the caller's tensors are untouched

    # A single Tensor in and out gives Tensors; a one-element output needs no v.
    out, g = AF.vjp(lambda x: (x @ fg.tensor(w_np)).tanh(), x, fg.tensor(v0))
    expected = jax.jit(lambda x, v: jax.vjp(lambda x: jnp.tanh(x @ w_np), x)[1](v)[0])(x_np, v0)
    assert isinstance(out, fg.Tensor) and isinstance(g, fg.Tensor)
    np.testing.assert_allclose(_np(g), np.asarray(expected), **FIRST)
    out, g = AF.vjp(lambda x: (x.exp() * x).sum(), x)
    np.testing.assert_allclose(_np(out), np.sum(np.exp(x_np) * x_np), rtol=1e-5)
    np.testing.assert_allclose(_np(g), np.exp(x_np) * (x_np + 1), **FIRST)


def test_jvp_single_and_tuple_inputs_and_outputs(rng: np.random.Generator) -> None:
    x_np, w_np = _randn(rng, 3, 4), _randn(rng, 4, 2)
    tx, tw = _randn(rng, 3, 4), _randn(rng, 4, 2)
    out, tangents = AF.jvp(f2, (fg.tensor(x_np), fg.tensor(w_np)), (fg.tensor(tx), fg.tensor(tw)))
    expected_out, expected = jax.jit(lambda *a: jax.jvp(j2, a[:2], a[2:]))(x_np, w_np, tx, tw)
    assert isinstance(tangents, tuple) and len(tangents) == 2
    for got, want in zip(out, expected_out):
        np.testing.assert_allclose(_np(got), np.asarray(want), **FIRST)
    for got, want in zip(tangents, expected):
        np.testing.assert_allclose(_np(got), np.asarray(want), **SECOND)
    assert not any(t.requires_grad for t in (*out, *tangents))

    # One input, one output: Tensors out (the jvp has the output's shape, not the input's).
    out, t = AF.jvp(lambda x: (x @ fg.tensor(w_np)).sigmoid(), fg.tensor(x_np), fg.tensor(tx))
    _, expected_t = jax.jit(lambda x, t: jax.jvp(lambda x: jax.nn.sigmoid(x @ w_np), (x,), (t,)))(x_np, tx)
    assert isinstance(t, fg.Tensor) and list(t.shape) == [3, 2]
    np.testing.assert_allclose(_np(t), np.asarray(expected_t), **SECOND)
    # A one-element input needs no v (the tangent is 1).
    _, t = AF.jvp(lambda x: fg.cat([x.exp(), x * 3.0]), fg.tensor(np.array([0.5], np.float32)))
    np.testing.assert_allclose(_np(t), [np.exp(0.5), 3.0], **FIRST)


def test_jacobian_shapes_and_values_for_single_and_tuple_inputs_and_outputs(rng: np.random.Generator) -> None:
    x_np, w_np = _randn(rng, 3, 4), _randn(rng, 4, 2)
    x, w = fg.tensor(x_np), fg.tensor(w_np)
    jx, jw = jnp.asarray(x_np), jnp.asarray(w_np)

    # Tensor in, Tensor out: shape out.shape + in.shape.
    jac = AF.jacobian(lambda x: (x @ fg.tensor(w_np)).tanh(), x)
    assert isinstance(jac, fg.Tensor) and list(jac.shape) == [3, 2, 3, 4]
    np.testing.assert_allclose(_np(jac), np.asarray(jax.jit(jax.jacrev(lambda x: jnp.tanh(x @ w_np)))(jx)), **FIRST)

    # Tuple in, Tensor out: a tuple over inputs.
    jac = AF.jacobian(lambda x, w: (x @ w).tanh(), (x, w))
    expected = jax.jit(jax.jacrev(lambda x, w: jnp.tanh(x @ w), argnums=(0, 1)))(jx, jw)
    assert isinstance(jac, tuple) and [list(j.shape) for j in jac] == [[3, 2, 3, 4], [3, 2, 4, 2]]
    for got, want in zip(jac, expected):
        np.testing.assert_allclose(_np(got), np.asarray(want), **FIRST)

    # Tensor in, tuple out: a tuple over outputs.
    jac = AF.jacobian(lambda x: f2(x, fg.tensor(w_np)), x)
    expected = jax.jit(jax.jacrev(lambda x: j2(x, jw)))(jx)
    assert isinstance(jac, tuple) and [list(j.shape) for j in jac] == [[3, 2, 3, 4], [3, 3, 4]]
    for got, want in zip(jac, expected):
        np.testing.assert_allclose(_np(got), np.asarray(want), **FIRST)

    # Tuple in, tuple out: jac[i][j] = d output i / d input j. vectorize=True gives the same.
    expected = jax.jit(jax.jacrev(j2, argnums=(0, 1)))(jx, jw)
    for vectorize in (False, True):
        jac = AF.jacobian(f2, (x, w), vectorize=vectorize)
        assert isinstance(jac, tuple) and all(isinstance(row, tuple) and len(row) == 2 for row in jac)
        for got_row, want_row in zip(jac, expected):
            for got, want in zip(got_row, want_row):
                assert list(got.shape) == list(want.shape)
                np.testing.assert_allclose(_np(got), np.asarray(want), **FIRST)
                assert not got.requires_grad

    # A 0-d output gives the gradient's shape.
    jac = AF.jacobian(lambda x: (x * x).sum(), x)
    assert list(jac.shape) == [3, 4]
    np.testing.assert_allclose(_np(jac), 2 * x_np, **FIRST)


def test_hessian_of_one_and_of_two_inputs(rng: np.random.Generator) -> None:
    x_np, w_np = _randn(rng, 2, 3), _randn(rng, 3, 2)
    x, w = fg.tensor(x_np), fg.tensor(w_np)

    h = AF.hessian(lambda x: s2(x, fg.tensor(w_np)), x)
    expected = jax.jit(jax.hessian(lambda x: js2(x, jnp.asarray(w_np))))(jnp.asarray(x_np))
    assert isinstance(h, fg.Tensor) and list(h.shape) == [2, 3, 2, 3] and not h.requires_grad
    np.testing.assert_allclose(_np(h), np.asarray(expected), **SECOND)

    h = AF.hessian(s2, (x, w))
    expected = jax.jit(jax.hessian(js2, argnums=(0, 1)))(jnp.asarray(x_np), jnp.asarray(w_np))
    assert isinstance(h, tuple) and all(isinstance(row, tuple) and len(row) == 2 for row in h)
    assert [[list(b.shape) for b in row] for row in h] == [[[2, 3, 2, 3], [2, 3, 3, 2]], [[3, 2, 2, 3], [3, 2, 3, 2]]]
    for got_row, want_row in zip(h, expected):
        for got, want in zip(got_row, want_row):
            np.testing.assert_allclose(_np(got), np.asarray(want), **SECOND)
    # Symmetric across the blocks.
    np.testing.assert_allclose(_np(h[0][1]), _np(h[1][0]).transpose(2, 3, 0, 1), **SECOND)


def test_hvp_and_vhp_match_the_hessian_times_v(rng: np.random.Generator) -> None:
    x_np, w_np = _randn(rng, 2, 3), _randn(rng, 3, 2)
    vx, vw = _randn(rng, 2, 3), _randn(rng, 3, 2)
    (hxx, hxw), (hwx, hww) = jax.jit(jax.hessian(js2, argnums=(0, 1)))(jnp.asarray(x_np), jnp.asarray(w_np))
    hxx, hxw, hwx, hww = (np.asarray(b).reshape(6, 6) for b in (hxx, hxw, hwx, hww))
    expected_x = (hxx @ vx.reshape(-1) + hxw @ vw.reshape(-1)).reshape(2, 3)
    expected_w = (hwx @ vx.reshape(-1) + hww @ vw.reshape(-1)).reshape(3, 2)
    value = np.tanh(x_np @ w_np).sum() + (x_np ** 3).sum()

    for fn in (AF.hvp, AF.vhp):
        out, (gx, gw) = fn(s2, (fg.tensor(x_np), fg.tensor(w_np)), (fg.tensor(vx), fg.tensor(vw)))
        np.testing.assert_allclose(_np(out), value, **FIRST)
        np.testing.assert_allclose(_np(gx), expected_x, **SECOND, err_msg=fn.__name__)
        np.testing.assert_allclose(_np(gw), expected_w, **SECOND, err_msg=fn.__name__)
        assert not (out.requires_grad or gx.requires_grad or gw.requires_grad)

        # One Tensor in: Tensors out.
        out, g = fn(lambda x: s2(x, fg.tensor(w_np)), fg.tensor(x_np), fg.tensor(vx))
        assert isinstance(g, fg.Tensor)
        np.testing.assert_allclose(_np(g), (hxx @ vx.reshape(-1)).reshape(2, 3), **SECOND, err_msg=fn.__name__)


def test_create_graph_results_can_be_differentiated_again(rng: np.random.Generator) -> None:
    x_np, w_np, v_np = _randn(rng, 2, 3), _randn(rng, 3, 2), _randn(rng, 2, 3)
    jw = jnp.asarray(w_np)

    def single(x: fg.Tensor) -> fg.Tensor:
        return s2(x, fg.tensor(w_np))

    def jsingle(x: jnp.ndarray) -> jnp.ndarray:
        return js2(x, jw)

    # The vjp (a gradient) differentiated w.r.t. the caller's input: a Hessian-vector product.
    x = fg.tensor(x_np, requires_grad=True)
    out, g = AF.vjp(single, x, create_graph=True)
    assert out.requires_grad and g.requires_grad
    (hv,) = fg.autograd.grad((g * fg.tensor(v_np)).sum(), x)
    expected = jax.jit(jax.grad(lambda x: jnp.vdot(jax.grad(jsingle)(x), v_np)))(jnp.asarray(x_np))
    np.testing.assert_allclose(_np(hv), np.asarray(expected), **SECOND)

    # The Hessian differentiated again (a third derivative).
    x = fg.tensor(x_np, requires_grad=True)
    h = AF.hessian(single, x, create_graph=True)
    assert h.requires_grad
    h.square().sum().backward()
    expected = jax.jit(jax.grad(lambda x: jnp.sum(jax.hessian(jsingle)(x) ** 2)))(jnp.asarray(x_np))
    np.testing.assert_allclose(_np(x.grad), np.asarray(expected), **SECOND)

    # The jvp w.r.t. the input and w.r.t. the tangent v (it is linear in v: the gradient is J^T 1).
    x = fg.tensor(x_np, requires_grad=True)
    v = fg.tensor(v_np, requires_grad=True)
    _, t = AF.jvp(lambda x: (x @ fg.tensor(w_np)).tanh(), x, v, create_graph=True)
    gx, gv = fg.autograd.grad(t.sum(), (x, v))

    def jax_t(x: jnp.ndarray, v: jnp.ndarray) -> jnp.ndarray:
        return jnp.sum(jax.jvp(lambda x: jnp.tanh(x @ jw), (x,), (v,))[1])

    ex, ev = jax.jit(jax.grad(jax_t, argnums=(0, 1)))(jnp.asarray(x_np), jnp.asarray(v_np))
    np.testing.assert_allclose(_np(gx), np.asarray(ex), **SECOND)
    np.testing.assert_allclose(_np(gv), np.asarray(ev), **SECOND)

    # Without create_graph, inputs that require grad are detached: the results have no graph.
    _, g = AF.vhp(single, x, v)
    assert not g.requires_grad


def test_grad_mode_does_not_matter(rng: np.random.Generator) -> None:
    x_np = _randn(rng, 4)
    with fg.no_grad():
        _, g = AF.vjp(lambda x: x.tanh().sum(), fg.tensor(x_np))
        h = AF.hessian(lambda x: (x ** 3).sum(), fg.tensor(x_np))
    np.testing.assert_allclose(_np(g), 1 - np.tanh(x_np) ** 2, **FIRST)
    np.testing.assert_allclose(_np(h), np.diag(6 * x_np), **SECOND)
    assert fg.is_grad_enabled()


def test_independent_inputs_give_zeros_or_raise_with_strict(rng: np.random.Generator) -> None:
    x, y = fg.tensor(_randn(rng, 3)), fg.tensor(_randn(rng, 2))

    def uses_x_only(x: fg.Tensor, y: fg.Tensor) -> fg.Tensor:
        return (x * x).sum()

    _, (gx, gy) = AF.vjp(uses_x_only, (x, y))
    np.testing.assert_array_equal(_np(gy), np.zeros(2, np.float32))
    jac = AF.jacobian(uses_x_only, (x, y))
    np.testing.assert_array_equal(_np(jac[1]), np.zeros(2, np.float32))
    h = AF.hessian(uses_x_only, (x, y))
    np.testing.assert_allclose(_np(h[0][0]), 2 * np.eye(3), **FIRST)
    for block in (h[0][1], h[1][0], h[1][1]):
        np.testing.assert_array_equal(_np(block), np.zeros(block.shape, np.float32))
    _, (hx, hy) = AF.hvp(uses_x_only, (x, y), (fg.ones_like(x), fg.ones_like(y)))
    np.testing.assert_allclose(_np(hx), 2 * np.ones(3), **FIRST)
    np.testing.assert_array_equal(_np(hy), np.zeros(2, np.float32))

    with pytest.raises(RuntimeError, match=r"vjp: .*independent of input 1.*strict=True"):
        AF.vjp(uses_x_only, (x, y), strict=True)
    with pytest.raises(RuntimeError, match=r"jacobian: output 0 .*independent of input 1.*strict=True"):
        AF.jacobian(uses_x_only, (x, y), strict=True)
    with pytest.raises(RuntimeError, match=r"hessian: .*input 1.*strict=True"):
        AF.hessian(uses_x_only, (x, y), strict=True)
    with pytest.raises(RuntimeError, match=r"vhp: .*input 1.*strict=True"):
        AF.vhp(uses_x_only, (x, y), (fg.ones_like(x), fg.ones_like(y)), strict=True)
    with pytest.raises(RuntimeError, match=r"jvp: .*strict=True"):
        AF.jvp(uses_x_only, (x, y), (fg.ones_like(x), fg.ones_like(y)), strict=True)
    # An output that does not depend on the inputs at all, and a linear function's Hessian.
    with pytest.raises(RuntimeError, match=r"vjp: output 0 .*does not require gradients"):
        AF.vjp(lambda x: fg.ones(3), x, fg.ones(3), strict=True)
    with pytest.raises(RuntimeError, match=r"hessian: the Jacobian .*independent of the input.*strict=True"):
        AF.hessian(lambda x: (x * 2.0).sum(), x, strict=True)
    np.testing.assert_array_equal(_np(AF.hessian(lambda x: (x * 2.0).sum(), x)), np.zeros((3, 3), np.float32))
    # The same calls pass with every input used.
    AF.vjp(lambda x, y: (x * x).sum() + y.exp().sum(), (x, y), strict=True)
    AF.hessian(lambda x, y: (x * x).sum() * y.exp().sum(), (x, y), strict=True)


def test_bad_arguments_raise_naming_the_argument(rng: np.random.Generator) -> None:
    x = fg.tensor(_randn(rng, 3))
    with pytest.raises(TypeError, match=r"vjp: argument `func` expected a callable, got int"):
        AF.vjp(3, x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"hessian: argument `func` expected a callable, got str"):
        AF.hessian("f", x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"jacobian: argument `inputs` expected a Tensor or a tuple of Tensors, "
                                         r"got ndarray"):
        AF.jacobian(lambda x: x, np.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"jvp: argument `inputs` expected a Tensor or a tuple of Tensors, "
                                         r"got float at index 1"):
        AF.jvp(lambda x, y: x, (x, 1.0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"vjp: argument `inputs` expected floating-point tensors, got dtype int64"):
        AF.vjp(lambda x: x, fg.tensor([1, 2, 3]), fg.ones(3))
    with pytest.raises(TypeError, match=r"vjp: the user-provided function's output expected a Tensor or a tuple "
                                        r"of Tensors, got float"):
        AF.vjp(lambda x: 1.0, x)
    with pytest.raises(RuntimeError, match=r"vjp: argument `v` expected shape \[3\], got \[4\]"):
        AF.vjp(lambda x: x.exp(), x, fg.ones(4))
    with pytest.raises(RuntimeError, match=r"vjp: argument `v` expected shape \[3\] for output 1, got \[2\]"):
        AF.vjp(lambda x: (x, x * 2.0), x, (fg.ones(3), fg.ones(2)))
    with pytest.raises(RuntimeError, match=r"vjp: argument `v` expected a tuple of 2 tensors \(one per output\), "
                                           r"got 1"):
        AF.vjp(lambda x: (x, x * 2.0), x, (fg.ones(3),))
    with pytest.raises(RuntimeError, match=r"vjp: argument `v` expected a tensor shaped as the outputs .* got None "
                                           r"for outputs of shapes \[\[3\]\]"):
        AF.vjp(lambda x: x.exp(), x)
    with pytest.raises(RuntimeError, match=r"jvp: argument `v` expected a tensor shaped as the inputs .* got None"):
        AF.jvp(lambda x: x.exp(), x)
    with pytest.raises(RuntimeError, match=r"hvp: argument `v` expected shape \[3\], got \[3, 1\]"):
        AF.hvp(lambda x: x.exp().sum(), x, fg.ones(3, 1))
    with pytest.raises(TypeError, match=r"vhp: argument `v` expected floating-point tensors, got dtype int64"):
        AF.vhp(lambda x: x.exp().sum(), x, fg.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match=r"hessian: the user-provided function expected to return a "
                                           r"single-element Tensor, got shape \[3\]"):
        AF.hessian(lambda x: x.exp(), x)
    with pytest.raises(RuntimeError, match=r"vhp: the user-provided function expected to return a single Tensor, "
                                           r"got a tuple of 2"):
        AF.vhp(lambda x: (x.sum(), x.sum()), x, fg.ones(3))
    with pytest.raises(ValueError, match=r"jacobian: argument `strategy` expected one of "
                                         r"\['reverse-mode', 'forward-mode'\], got 'backward'"):
        AF.jacobian(lambda x: x, x, strategy="backward")
    with pytest.raises(RuntimeError, match=r"jacobian: arguments `strict=True` and `vectorize=True` are not "
                                           r"supported together"):
        AF.jacobian(lambda x: x, x, strict=True, vectorize=True)


def test_create_graph_differentiates_with_respect_to_a_view_of_the_input() -> None:
    # As in PyTorch, with create_graph=True an input that requires grad is passed to func as a view
    # of itself (so results keep their graph back to it); a func that also closes over the original
    # tensor sees it as a constant: d/da sum(a * x) = x.
    x = fg.tensor(np.arange(3, dtype=np.float32), requires_grad=True)
    _, g = AF.vjp(lambda a: (a * x).sum(), x, create_graph=True)
    np.testing.assert_allclose(_np(g), [0.0, 1.0, 2.0])
