"""Parity of elementwise ops and activations with JAX, forward and backward (float32).

Tolerances: 1e-5 relative for exact ops; transcendental ops differ from XLA's in the last ulps,
so they use 1e-5 absolute / 1e-4 relative on values and 10x that on gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
from reference import check_op

UNARY = [
    ("neg", lambda t: -t, lambda x: -x, None),
    ("exp", lambda t: t.exp(), jnp.exp, None),
    ("log", lambda t: t.log(), jnp.log, "positive"),
    ("sqrt", lambda t: t.sqrt(), jnp.sqrt, "positive"),
    ("abs", lambda t: t.abs(), jnp.abs, None),
    ("square", lambda t: t.square(), jnp.square, None),
    ("relu", lambda t: fg.functional.relu(t), jax.nn.relu, None),
    ("leaky_relu", lambda t: fg.functional.leaky_relu(t, 0.1), lambda x: jax.nn.leaky_relu(x, 0.1), None),
    ("sigmoid", lambda t: t.sigmoid(), jax.nn.sigmoid, None),
    ("tanh", lambda t: t.tanh(), jnp.tanh, None),
    ("gelu_erf", lambda t: fg.functional.gelu(t), lambda x: jax.nn.gelu(x, approximate=False), None),
    ("gelu_tanh", lambda t: fg.functional.gelu(t, approximate="tanh"), lambda x: jax.nn.gelu(x, approximate=True), None),
    ("silu", lambda t: fg.functional.silu(t), jax.nn.silu, None),
    ("softplus", lambda t: fg.functional.softplus(t), jax.nn.softplus, None),
    ("softplus_beta", lambda t: fg.functional.softplus(t, beta=2.0, threshold=3.0),
     lambda x: jnp.where(2 * x > 3, x, jnp.log1p(jnp.exp(2 * x)) / 2), None),
    ("clamp", lambda t: t.clamp(-0.5, 0.7), lambda x: jnp.clip(x, -0.5, 0.7), None),
    ("pow_scalar", lambda t: t ** 3, lambda x: x ** 3, None),
    ("pow_frac", lambda t: t ** 0.5, lambda x: x ** 0.5, "positive"),
    ("sign", lambda t: t.sign(), jnp.sign, None),
    ("sin", lambda t: t.sin(), jnp.sin, None),
    ("cos", lambda t: t.cos(), jnp.cos, None),
    ("floor", lambda t: t.floor(), jnp.floor, None),
    ("ceil", lambda t: fg.ceil(t), jnp.ceil, None),
    ("round", lambda t: t.round(), jnp.round, None),
    ("log1p", lambda t: t.log1p(), jnp.log1p, "positive"),
    ("expm1", lambda t: fg.expm1(t), jnp.expm1, None),
    ("erf", lambda t: fg.erf(t), jax.scipy.special.erf, None),
    ("erfc", lambda t: t.erfc(), jax.scipy.special.erfc, None),
    ("tan", lambda t: fg.tan(t), jnp.tan, "unit"),
    ("asin", lambda t: fg.asin(t), jnp.arcsin, "unit"),
    ("acos", lambda t: t.arccos(), jnp.arccos, "unit"),
    ("atan", lambda t: fg.arctan(t), jnp.arctan, None),
    ("sinh", lambda t: t.sinh(), jnp.sinh, None),
    ("cosh", lambda t: fg.cosh(t), jnp.cosh, None),
    ("asinh", lambda t: t.asinh(), jnp.arcsinh, None),
    ("acosh", lambda t: fg.acosh(t), jnp.arccosh, "above_one"),
    ("atanh", lambda t: t.atanh(), jnp.arctanh, "unit"),
    ("log2", lambda t: fg.log2(t), jnp.log2, "positive"),
    ("log10", lambda t: t.log10(), jnp.log10, "positive"),
]


def test_round_takes_ties_to_even_and_log1p_expm1_keep_small_values() -> None:
    halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.7], dtype=np.float32)
    assert fg.tensor(halves).round().tolist() == np.round(halves).tolist() == [-2, -2, -0, 0, 2, 2, 4]
    tiny = np.array([1e-8, -3e-9], dtype=np.float32)
    np.testing.assert_allclose(fg.tensor(tiny).log1p().numpy(), np.log1p(tiny.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(fg.tensor(tiny).expm1().numpy(), np.expm1(tiny.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("name,fg_fn,jax_fn,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, fg_fn, jax_fn, domain, rng):
    x = rng.standard_normal((7, 33)).astype(np.float32) * 2
    if domain == "positive":
        x = np.abs(x) + 0.1
    elif domain == "above_one":
        x = np.abs(x) + 1.1
    elif domain == "unit":  # inside (-0.9, 0.9), away from the poles of the derivatives
        x = np.tanh(x * 0.4).astype(np.float32) * 0.9
    # Keep inputs off the kinks where the derivative is a convention, not a value.
    x = np.where(np.abs(x) < 1e-3, 0.5, x).astype(np.float32)
    x = np.where(np.abs(np.abs(x) - 0.6) < 0.1, 0.2, x).astype(np.float32)
    check_op(fg_fn, jax_fn, [x], rtol=1e-4, atol=1e-5)


BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / b, lambda a, b: a / b),
    ("maximum", lambda a, b: a.maximum(b), jnp.maximum),
    ("minimum", lambda a, b: a.minimum(b), jnp.minimum),
    ("pow", lambda a, b: a.abs() ** b, lambda a, b: jnp.abs(a) ** b),
    ("atan2", lambda a, b: fg.atan2(a, b), jnp.arctan2),
]

SHAPES = [((4, 5), (4, 5)), ((3, 1, 5), (4, 1)), ((5,), (2, 3, 5)), ((), (3, 2))]


@pytest.mark.parametrize("name,fg_fn,jax_fn", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_binary_broadcasting(name, fg_fn, jax_fn, shapes, rng):
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    if name == "div":
        b = np.where(np.abs(b) < 0.3, 1.0, b).astype(np.float32)
    check_op(fg_fn, jax_fn, [a, b], rtol=1e-4, atol=1e-5)


def test_scalar_operands_and_reflected(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    check_op(lambda t: (2.0 - t) * 3 + 1 / (t.abs() + 1), lambda v: (2.0 - v) * 3 + 1 / (jnp.abs(v) + 1), [x])


def test_comparisons_and_where(rng):
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((5,)).astype(np.float32)
    ta, tb = fg.tensor(a), fg.tensor(b)
    for op in ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"]:
        np.testing.assert_array_equal(getattr(ta, op)(tb).numpy(), getattr(a, op)(b))
    assert (ta > 0).dtype == "bool"
    check_op(lambda x, y: fg.where(x > y, x, y * 2), lambda x, y: jnp.where(x > y, x, y * 2), [a, b])


def test_where_takes_each_value_bit_for_bit_through_every_layout(rng):
    """Dense rows (branch-free select), one condition per row (row copies) and strided operands
    (the general walk), with NaN, -0.0 and infinities passed through unchanged."""
    x = rng.standard_normal((64, 3, 7, 9)).astype(np.float32)
    y = rng.standard_normal((64, 3, 7, 9)).astype(np.float32)
    x.flat[:3] = [np.nan, -0.0, np.inf]
    y.flat[3:6] = [np.nan, -0.0, -np.inf]
    per_row = rng.random((64, 1, 1, 1)) > 0.5
    dense = rng.random(x.shape) > 0.5
    flipped = (dense.transpose(0, 1, 3, 2), x.transpose(0, 1, 3, 2), y[..., ::-1, :].transpose(0, 1, 3, 2))
    for c, a, b in [(dense, x, y), (per_row, x, y), flipped]:
        got = fg.where(fg.tensor(np.ascontiguousarray(c)), fg.tensor(np.ascontiguousarray(a)), fg.tensor(b.copy()))
        np.testing.assert_array_equal(got.numpy().view(np.uint32), np.where(c, a, b).view(np.uint32))
    # Strided views straight from ferrograd: a transposed operand and a broadcast condition.
    ta, tb = fg.tensor(x).transpose(2, 3), fg.tensor(y).transpose(2, 3)
    got = fg.where(fg.tensor(per_row), ta, tb).numpy()
    want = np.where(per_row, x.transpose(0, 1, 3, 2), y.transpose(0, 1, 3, 2))
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_maximum_ties_split_gradient():
    a = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = fg.tensor([1.0, 5.0, 0.0], requires_grad=True)
    a.maximum(b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 1.0, 0.0])


def test_relu_and_clamp_pass_nan_and_negative_zero_as_pytorch_does():
    """NaN propagates through relu and clamp (a diverging model's NaN must not turn into zeros),
    relu keeps -0, and relu's gradient passes at a NaN input and stops at zero and below:
    PyTorch's rules (`x < 0 ? 0 : x`, gradient `x <= 0 ? 0 : g`), written out here in numpy. The
    fused Linear + ReLU and Conv2d + ReLU of a Sequential follow the same rules."""
    x_np = np.array([np.nan, -0.0, 0.0, -1.5, 2.0, np.inf, -np.inf, 0.25], dtype=np.float32)
    g_np = np.linspace(1.0, 8.0, x_np.size).astype(np.float32)
    x = fg.tensor(x_np, requires_grad=True)
    y = fg.functional.relu(x)
    y.backward(fg.tensor(g_np))
    want = np.where(x_np < 0, np.float32(0), x_np)
    np.testing.assert_array_equal(y.detach().numpy(), want)
    np.testing.assert_array_equal(np.signbit(y.detach().numpy()), np.signbit(want))
    assert np.signbit(y.detach().numpy()[1])  # relu(-0) is -0
    np.testing.assert_array_equal(x.grad.numpy(), np.where(x_np <= 0, np.float32(0), g_np))
    assert x.grad.numpy()[0] == g_np[0]  # the NaN input passes its gradient

    c = fg.tensor(x_np, requires_grad=True)
    clamped = c.clamp(-1.0, 1.0)
    clamped.backward(fg.tensor(g_np))
    np.testing.assert_array_equal(clamped.detach().numpy(), np.array([np.nan, -0.0, 0.0, -1, 1, 1, -1, 0.25], np.float32))
    np.testing.assert_array_equal(c.grad.numpy(), np.where((x_np >= -1) & (x_np <= 1), g_np, np.float32(0)))

    linear = fg.nn.Linear(1, 1)
    with fg.no_grad():
        linear.weight.copy_(np.ones((1, 1), np.float32))
        linear.bias.copy_(np.zeros(1, np.float32))
    fused_in = fg.tensor(x_np.reshape(-1, 1), requires_grad=True)
    out = fg.nn.Sequential(linear, fg.nn.ReLU())(fused_in)
    assert out.grad_fn == "linear_relu"
    out.backward(fg.tensor(g_np.reshape(-1, 1)))
    np.testing.assert_array_equal(out.detach().numpy().ravel(), np.where(x_np < 0, 0, x_np + 0.0))
    np.testing.assert_array_equal(fused_in.grad.numpy().ravel(), np.where(x_np + 0.0 <= 0, np.float32(0), g_np))

    img = fg.tensor(x_np.reshape(1, 1, 2, 4), requires_grad=True)
    conv = fg.nn.Conv2d(1, 1, 1)
    with fg.no_grad():
        conv.weight.copy_(np.ones((1, 1, 1, 1), np.float32))
        conv.bias.copy_(np.zeros(1, np.float32))
    conv_out = fg.nn.Sequential(conv, fg.nn.ReLU())(img)
    assert conv_out.grad_fn == "conv2d_relu"
    np.testing.assert_array_equal(conv_out.detach().numpy().ravel(), np.where(x_np < 0, 0, x_np + 0.0))


def test_integer_and_bool_operands_follow_pytorch_promotion():
    """Two integer operands stay int64 (bools: `+` is or, `*` is and), an integer beside a float32
    operand and a division give float32, and sums of integers or bools count in int64, as torch
    does; gradients reach the float operand."""
    rng = np.random.default_rng(5)
    a = rng.integers(-50, 50, (3, 4))
    b = rng.integers(-50, 50, (4,))
    ta, tb = fg.tensor(a), fg.tensor(b)
    for op, want in [(lambda x, y: x + y, a + b), (lambda x, y: x - y, a - b), (lambda x, y: x * y, a * b),
                     (lambda x, y: x.maximum(y), np.maximum(a, b)), (lambda x, y: x.minimum(y), np.minimum(a, b))]:
        got = op(ta, tb)
        assert got.dtype == "int64"
        np.testing.assert_array_equal(got.numpy(), want)
    assert (ta + 7).tolist() == (a + 7).tolist() and (ta * 2).dtype == "int64"
    small = fg.tensor(a.astype(np.int32)) + fg.tensor(b.astype(np.uint8) % 7)
    assert small.dtype == "int64" and small.tolist() == (a + (b.astype(np.uint8) % 7)).tolist()
    divided = ta / fg.tensor(np.full(4, 4))
    assert divided.dtype == "float32"
    np.testing.assert_array_equal(divided.numpy(), (a / 4).astype(np.float32))
    np.testing.assert_array_equal((ta * 0.5).numpy(), (a * np.float32(0.5)).astype(np.float32))
    x = fg.tensor(rng.normal(size=(3, 4)).astype(np.float32), requires_grad=True)
    (x * ta).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), a.astype(np.float32))
    m, n = fg.tensor(a > 0), fg.tensor(b > 0)
    assert (m + n).dtype == "bool" and (m + n).tolist() == ((a > 0) | (b > 0)).tolist()
    assert (m * n).tolist() == ((a > 0) & (b > 0)).tolist()
    assert (m + 1).dtype == "int64" and (m + 1).tolist() == ((a > 0) + 1).tolist()
    with pytest.raises(TypeError, match="sub: expected dtype int64 or float32 \\(bools do not subtract\\), got bool"):
        m - n
    powers = fg.tensor(np.abs(a) % 5) ** fg.tensor(b % 4)
    assert powers.dtype == "int64" and powers.tolist() == ((np.abs(a) % 5) ** (b % 4)).tolist()
    assert (ta ** 2).dtype == "int64" and (ta ** 2).tolist() == (a ** 2).tolist()
    assert (ta ** 0.5).dtype == "float32"
    np.testing.assert_allclose((fg.tensor(np.abs(a)) ** 0.5).numpy(), np.abs(a) ** 0.5, rtol=1e-6)
    with pytest.raises(ValueError, match="pow: argument `exponent` expected non-negative integers.*got -1"):
        ta ** -1
    # Labels and counts: extrema keep the dtype, positions are int64, negation keeps the dtype.
    a32 = fg.tensor(a.astype(np.int32))
    assert a32.max().dtype == "int32" and a32.max().item() == a.max() and int(ta.max()) + 1 == a.max() + 1
    values, positions = ta.max(1)
    assert values.tolist() == a.max(1).tolist() and positions.tolist() == a.argmax(1).tolist()
    assert ta.min(0)[0].tolist() == a.min(0).tolist() and ta.argmin().item() == a.argmin()
    assert ta.argmax(0).dtype == "int64" and ta.argmax(0).tolist() == a.argmax(0).tolist()
    assert (-a32).dtype == "int32" and (-a32).tolist() == (-a).tolist()
    assert ta.abs().tolist() == np.abs(a).tolist() and ta.sign().tolist() == np.sign(a).tolist()
    assert m.max().item() == 1 and m.max().dtype == "bool"
    with pytest.raises(TypeError, match="neg: expected dtype an integer or float type \\(not bool\\), got bool"):
        -m
    pred, labels = fg.tensor(np.array([1, 2, 3, 0])), fg.tensor(np.array([1, 0, 3, 0]))
    correct = (pred == labels).sum()
    assert correct.dtype == "int64" and correct.item() == 3
    assert ta.sum().item() == a.sum() and ta.sum(1).tolist() == a.sum(1).tolist()
    assert m.sum(0, keepdim=True).tolist() == (a > 0).sum(0, keepdims=True).tolist()
    assert fg.tensor(np.zeros((0, 3), np.int64)).sum(0).tolist() == [0, 0, 0]
    mixed = ta.half() + ta  # half and int64: half, computed in float32 and rounded once
    assert mixed.dtype == "float16"
    np.testing.assert_array_equal(mixed.float().numpy(), (a.astype(np.float16) + a).astype(np.float16))
