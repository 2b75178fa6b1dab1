"""``ferrograd.tensor_math``: logic and bitwise operators, remainder / fmod / rounding division,
casts, elementwise functions, ``logsumexp``, ``amax`` / ``amin``, ``isclose``, ``nan_to_num`` and
``format``. Values are checked against numpy (float64 where it matters), gradients against their
closed forms, and the semantics follow PyTorch's (checked there by hand): the remainder has the
divisor's sign, fmod the dividend's, ties share amax's gradient equally."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg

INF, NAN = math.inf, math.nan


# Logic and bitwise operators.

def test_bool_operators_are_logic(rng: np.random.Generator) -> None:
    x, y = rng.random((3, 4)) < 0.5, rng.random((3, 4)) < 0.5
    a, b = fg.tensor(x), fg.tensor(y)
    for out, expected in [(~a, ~x), (a & b, x & y), (a | b, x | y), (a ^ b, x ^ y), (a & True, x),
                          (False | a, x), (True ^ a, ~x), (a.logical_not(), ~x), (fg.logical_and(a, b), x & y),
                          (fg.logical_or(a, b), x | y), (a.logical_xor(b), x ^ y)]:
        assert out.dtype == "bool"
        np.testing.assert_array_equal(out.numpy(), expected)


def test_integer_operators_are_bitwise(rng: np.random.Generator) -> None:
    x, y = rng.integers(-1000, 1000, (5, 6)), rng.integers(-1000, 1000, (6,))
    a, b = fg.tensor(x), fg.tensor(y)
    np.testing.assert_array_equal((~a).numpy(), -x - 1)
    for out, expected in [(a & b, x & y), (a | b, x | y), (a ^ b, x ^ y), (a & 12, x & 12), (12 | a, x | 12),
                          (a ^ -7, x ^ -7)]:
        assert out.dtype == "int64" and out.shape == expected.shape
        np.testing.assert_array_equal(out.numpy(), expected)
    # Dtypes follow PyTorch: uint8 and int32 are kept, bool with an int becomes int64.
    small = fg.tensor([5, 250], dtype="uint8")
    assert (~small).dtype == "uint8" and (~small).tolist() == [250, 5]
    assert (fg.tensor([5, 6], dtype="int32") & 3).dtype == "int32"
    mixed = fg.tensor([True, False]) & fg.tensor([3, 3])
    assert mixed.dtype == "int64" and mixed.tolist() == [1, 0]


def test_logical_functions_take_any_dtype() -> None:
    x = fg.tensor([0.0, -1.5, NAN, 0.0])
    y = fg.tensor([2, 0, 0, 0])
    assert fg.logical_not(x).tolist() == [True, False, False, True]
    assert fg.logical_and(x, y).tolist() == [False, False, False, False]
    assert x.logical_or(y).tolist() == [True, True, True, False]
    assert fg.logical_xor(x, y).tolist() == [True, True, True, False]
    assert x.logical_and(1.0).tolist() == [False, True, True, False]


def test_bitwise_operators_reject_floats() -> None:
    f, i = fg.tensor([1.0, 2.0]), fg.tensor([1, 2])
    with pytest.raises(TypeError, match="bitwise_not: expected bool or integer operands, got dtype float32"):
        ~f
    with pytest.raises(TypeError, match="bitwise_and: expected bool or integer operands, got dtype float32"):
        i & f
    with pytest.raises(TypeError, match="bitwise_or: expected bool or integer operands, got dtype float$"):
        i | 2.0
    with pytest.raises(TypeError, match="bitwise_xor: expected bool or integer operands, got dtype float32"):
        1 ^ f


# Remainder, fmod and rounding division.

def test_integer_division_matches_python_and_c(rng: np.random.Generator) -> None:
    x = rng.integers(-50, 50, (4, 5))
    y = rng.choice([-7, -3, -1, 2, 5, 9], (5,))
    a, b = fg.tensor(x), fg.tensor(y)
    for out, expected in [(a % b, np.remainder(x, y)), (a // b, np.floor_divide(x, y)), (fg.fmod(a, b), np.fmod(x, y)),
                          (a.remainder(b), np.remainder(x, y)), (fg.floor_divide(a, b), x // y),
                          (fg.div(a, b, rounding_mode="floor"), x // y),
                          (a.div(b, rounding_mode="trunc"), np.fix(x / y).astype(np.int64)),
                          (a % 3, x % 3), (100 % b, 100 % y), (a // -4, x // -4), (100 // b, 100 // y)]:
        assert out.dtype == "int64"
        np.testing.assert_array_equal(out.numpy(), expected)
    # The remainder has the divisor's sign, fmod the dividend's.
    assert (fg.tensor([7, -7, 7, -7]) % fg.tensor([2, 2, -2, -2])).tolist() == [1, 1, -1, -1]
    assert fg.tensor([7, -7, 7, -7]).fmod(fg.tensor([2, 2, -2, -2])).tolist() == [1, -1, 1, -1]
    assert (fg.tensor([5], dtype="int32") // fg.tensor([True])).tolist() == [5]
    assert (fg.tensor([2**62 + 1]) // 3).tolist() == [(2**62 + 1) // 3]


def test_integer_division_by_zero_raises() -> None:
    t = fg.tensor([4, 6])
    for divide in [lambda: t // 0, lambda: t % fg.tensor([1, 0]), lambda: fg.fmod(t, 0), lambda: 5 % fg.tensor([0, 1]),
                   lambda: t.div(0, rounding_mode="trunc"), lambda: fg.remainder(t, 0)]:
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            divide()
    with pytest.raises(RuntimeError, match="^floor_divide: ZeroDivisionError: expected nonzero integer divisors"):
        t // 0


def test_float_division_matches_numpy(rng: np.random.Generator) -> None:
    # Quarters divided by small dyadic divisors: every step is exact, so the results must be too.
    x = rng.integers(-80, 80, (6, 7)) / 4.0
    y = rng.choice([-3.5, -2.0, -0.75, 0.5, 1.25, 4.0], (7,))
    a, b = fg.tensor(x), fg.tensor(y)
    for out, expected in [(a % b, np.remainder(x, y)), (fg.fmod(a, b), np.fmod(x, y)), (a // b, np.floor_divide(x, y)),
                          (a.div(b, rounding_mode="trunc"), np.trunc(x / y)), (a % 1.5, np.remainder(x, 1.5)),
                          (7.25 % b, np.remainder(7.25, y)), (-9.0 // b, np.floor_divide(-9.0, y)),
                          (fg.tensor([7, -7]) // 2.5, np.array([2.0, -3.0])), (fg.tensor([7, -7]) % 2.5, [2.0, 0.5])]:
        assert out.dtype == "float32"
        np.testing.assert_array_equal(out.numpy(), expected)
    # Random operands: within float32 rounding of the float64 results, with the right signs.
    x, y = rng.normal(0, 3, 500), rng.normal(0, 1, 500)
    a, b = fg.tensor(x), fg.tensor(y)
    x, y = x.astype(np.float32).astype(np.float64), y.astype(np.float32).astype(np.float64)
    rest, c_rest = (a % b).numpy(), fg.fmod(a, b).numpy()
    np.testing.assert_allclose(rest, np.remainder(x, y), atol=1e-5)
    np.testing.assert_allclose(c_rest, np.fmod(x, y), atol=1e-5)
    assert np.all((rest == 0) | (np.sign(rest) == np.sign(y)))
    assert np.all((c_rest == 0) | (np.sign(c_rest) == np.sign(x)))


def test_float_division_special_values() -> None:
    a = fg.tensor([5.0, -5.0, 0.0, INF])
    assert np.isnan((a % 0.0).numpy()).all() and np.isnan(fg.fmod(a, 0.0).numpy()).all()
    np.testing.assert_array_equal((a // 0.0).numpy(), [INF, -INF, NAN, INF])
    # An infinite divisor leaves finite dividends (moved to the divisor's sign by the remainder).
    np.testing.assert_array_equal((a % INF).numpy(), [5.0, INF, 0.0, NAN])
    np.testing.assert_array_equal(fg.fmod(a, -INF).numpy(), [5.0, -5.0, 0.0, NAN])


def test_float_division_is_exact_where_the_rounded_quotient_is_not(rng: np.random.Generator) -> None:
    """floor(a / b) of the exact quotient, as PyTorch and numpy compute it: the float32 quotient
    1 / 0.1 rounds to 10, but 0.1f (a little above 0.1) goes into 1 only 9 times."""
    one, tenth = fg.tensor([1.0]), fg.tensor([0.1])
    assert (one // tenth).item() == 9.0 and (1.0 // tenth).item() == 9.0
    rest = (one % tenth).item()
    assert rest == np.remainder(np.float32(1), np.float32(0.1)) and 0.0999 < rest < 0.1
    # Random float32 operands, among them quotients within rounding of an integer: bit-exact with
    # numpy's float32 floor_divide / remainder / fmod, which share the exact rule.
    x = rng.normal(0, 50, 4000).astype(np.float32)
    y = rng.choice([0.1, -0.1, 0.3, 0.7, -1.1, 3.0], 4000).astype(np.float32) * rng.uniform(0.5, 2, 4000).astype(np.float32)
    y[:1000] = x[:1000] / rng.integers(1, 30, 1000).astype(np.float32)  # near-integer quotients
    a, b = fg.tensor(x), fg.tensor(y)
    np.testing.assert_array_equal((a // b).numpy(), np.floor_divide(x, y))
    np.testing.assert_array_equal((a % b).numpy(), np.remainder(x, y))
    np.testing.assert_array_equal(fg.fmod(a, b).numpy(), np.fmod(x, y))
    assert ((a // b).numpy() != np.floor(x / y)).any()  # the rounded quotient would have been wrong


def test_float_functions_promote_integers_and_rounding_keeps_them() -> None:
    ints = fg.tensor([1, 2, 4])
    for name in ("exp", "log", "sqrt", "sin", "erf", "erfc", "atan", "asinh", "log2", "log10", "sigmoid", "tanh"):
        out = getattr(ints, name)()
        assert out.dtype == "float32", name
        np.testing.assert_allclose(out.numpy(), getattr(fg.tensor([1.0, 2.0, 4.0]), name)().numpy(), err_msg=name)
    for name in ("floor", "ceil", "round"):
        out = getattr(ints, name)()
        assert out.dtype == "int64" and out.tolist() == [1, 2, 4], name
    assert ints.clone().dtype == "int64"
    with pytest.raises(TypeError, match="float32"):
        ints.relu()


def test_remainder_and_fmod_gradients(rng: np.random.Generator) -> None:
    x = rng.uniform(-9, 9, 40).astype(np.float32)
    y = rng.uniform(0.5, 3, 40).astype(np.float32) * rng.choice([-1, 1], 40).astype(np.float32)
    for op, rounding in [(fg.remainder, np.floor), (fg.fmod, np.trunc)]:
        a, b = fg.tensor(x, requires_grad=True), fg.tensor(y, requires_grad=True)
        op(a, b).sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), np.ones(40))
        np.testing.assert_array_equal(b.grad.numpy(), -rounding(x.astype(np.float64) / y))
    a = fg.tensor([7.5, -7.5], requires_grad=True)
    (3.0 % a).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0])


def test_div_rejects_unknown_rounding_modes() -> None:
    assert fg.div(fg.tensor([7]), fg.tensor([2])).tolist() == [3.5]
    with pytest.raises(ValueError, match="div: argument `rounding_mode` expected None, 'trunc' or 'floor', got 'ro"):
        fg.tensor([1.0]).div(2, rounding_mode="round")


# Casts and dtype queries.

def test_casts_and_dtype_queries() -> None:
    t = fg.tensor([1.7, -1.7, 0.0, NAN])
    assert t[:3].int().dtype == "int32" and t[:3].int().tolist() == [1, -1, 0]
    assert t.bool().dtype == "bool" and t.bool().tolist() == [True, True, False, True]
    assert t.type() == "float32" and fg.tensor([1]).type() == "int64"
    assert t[:3].type(fg.int64).tolist() == [1, -1, 0]
    with pytest.raises(ValueError, match=r"type: argument `dtype` expected one of \['float32'.*got 'cuda'"):
        t.type("cuda")
    assert [fg.zeros(1, dtype=d).is_floating_point() for d in ("float32", "float16", "bfloat16")] == [True] * 3
    assert not fg.is_floating_point(fg.tensor([1])) and not fg.tensor([True]).is_floating_point()
    assert fg.get_default_dtype() == "float32" == fg.tensor(1.5).dtype


# Elementwise functions.

def test_elementwise_functions_match_numpy(rng: np.random.Generator) -> None:
    x = rng.uniform(-4, 4, (3, 5)).astype(np.float32)
    t = fg.tensor(x)
    x64 = x.astype(np.float64)
    np.testing.assert_array_equal(fg.trunc(t).numpy(), np.trunc(x))
    np.testing.assert_array_equal(t.frac().numpy(), x - np.trunc(x))
    np.testing.assert_allclose(fg.tan(t).numpy(), np.tan(x64), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(fg.log2(t.abs()).numpy(), np.log2(np.abs(x64)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(t.abs().log10().numpy(), np.log10(np.abs(x64)), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(fg.clamp_min(t, -1.0).numpy(), np.maximum(x, -1))
    np.testing.assert_array_equal(t.clamp_max(0.5).numpy(), np.minimum(x, 0.5))
    np.testing.assert_array_equal(fg.clip(t, -1, 2).numpy(), np.clip(x, -1, 2))
    np.testing.assert_array_equal(t.clip(max=2).numpy(), np.minimum(x, 2))
    np.testing.assert_array_equal(fg.sign(t).numpy(), np.sign(x))
    np.testing.assert_allclose(fg.rsqrt(t.abs()).numpy(), 1 / np.sqrt(np.abs(x64)), rtol=1e-6)
    np.testing.assert_allclose(fg.square(t).numpy(), x64**2, rtol=1e-6)
    # Integers are promoted to float32 by the float functions and kept by trunc.
    ints = fg.tensor([1, -2, 8])
    np.testing.assert_allclose(ints.tan().numpy(), np.tan([1.0, -2.0, 8.0]), rtol=1e-6)
    np.testing.assert_allclose(fg.log2(ints[2:]).numpy(), [3.0], rtol=1e-7)
    assert ints.trunc().dtype == "int64" and ints.trunc().tolist() == [1, -2, 8]


def test_elementwise_gradients(rng: np.random.Generator) -> None:
    x = rng.uniform(0.2, 1.3, 20).astype(np.float32)
    for op, derivative in [(fg.frac, lambda v: np.ones_like(v)), (fg.trunc, lambda v: np.zeros_like(v)),
                           (fg.tan, lambda v: 1 / np.cos(v) ** 2), (fg.log2, lambda v: 1 / (v * np.log(2))),
                           (fg.log10, lambda v: 1 / (v * np.log(10)))]:
        t = fg.tensor(x, requires_grad=True)
        op(t).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), derivative(x.astype(np.float64)), rtol=2e-5, err_msg=op.__name__)


# Reductions.

def _logsumexp(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    peak = x.max(axis=axis, keepdims=True)
    return (peak + np.log(np.exp(x - peak).sum(axis=axis, keepdims=True))).squeeze(axis)


@pytest.mark.parametrize("dim", [1, -1, 0, (0, 2), (2, 0, 1)])
def test_logsumexp_matches_numpy_and_its_gradient_is_softmax(rng: np.random.Generator, dim: int | tuple) -> None:
    x = (rng.normal(0, 3, (3, 4, 5)) + 1000).astype(np.float32)  # exp(x) alone would overflow
    t = fg.tensor(x, requires_grad=True)
    out = t.logsumexp(dim)
    axes = tuple(sorted(d % 3 for d in ((dim,) if isinstance(dim, int) else dim)))
    expected = _logsumexp(x.astype(np.float64), axes)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)
    assert fg.logsumexp(t, dim, keepdim=True).shape == tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    weights = rng.normal(size=out.shape)
    (out * fg.tensor(weights)).sum().backward()
    softmax = np.exp(x - np.expand_dims(expected, axes))
    np.testing.assert_allclose(t.grad.numpy(), softmax * np.expand_dims(weights, axes), rtol=2e-4, atol=1e-6)


def test_logsumexp_edge_cases() -> None:
    rows = fg.tensor([[-INF, -INF], [-INF, 0.0], [INF, 1.0]])
    np.testing.assert_array_equal(rows.logsumexp(1).numpy(), [-INF, 0.0, INF])
    assert fg.logsumexp(fg.tensor(2.0), 0).shape == () and fg.logsumexp(fg.tensor(2.0), 0).item() == 2.0
    np.testing.assert_array_equal(fg.logsumexp(fg.zeros(2, 0), 1).numpy(), [-INF, -INF])
    assert fg.logsumexp(fg.tensor([0, 0]), 0).item() == pytest.approx(math.log(2))
    with pytest.raises(IndexError, match=r"logsumexp: argument `dim` expected a value in \[-2, 1\], got 2"):
        fg.zeros(2, 3).logsumexp(2)


@pytest.mark.parametrize("dim", [0, -1, (0, 2), (), None])
def test_amax_amin_match_numpy(rng: np.random.Generator, dim: int | tuple | None) -> None:
    x = rng.normal(size=(3, 4, 5)).astype(np.float32)
    t = fg.tensor(x)
    axis = None if dim in ((), None) else dim
    np.testing.assert_array_equal(t.amax(dim).numpy(), np.amax(x, axis=axis))
    np.testing.assert_array_equal(fg.amin(t, dim).numpy(), np.amin(x, axis=axis))
    np.testing.assert_array_equal(fg.amax(t, dim, keepdim=True).numpy(), np.amax(x, axis=axis, keepdims=True))
    ints = rng.integers(-9, 9, (3, 4, 5))
    out = fg.tensor(ints).amin(dim)
    assert out.dtype == "int64"
    np.testing.assert_array_equal(out.numpy(), np.amin(ints, axis=axis))


def test_amax_ties_share_the_gradient_equally() -> None:
    x = fg.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    (x.amax(1) * fg.tensor([1.0, 6.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [2, 2, 2]], rtol=1e-7)
    x.grad = None
    x.amax().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])
    x.grad = None
    x.amin((0, 1), keepdim=True).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 0], [0, 0, 0]])
    # The value stays the exact extreme, infinite ones included.
    y = fg.tensor([0.1, 0.1, 0.1, -INF, INF, INF], requires_grad=True)
    assert y[:3].amax().item() == np.float32(0.1)
    top = y.amax()
    assert top.item() == INF
    top.backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 0, 0, 0, 0.5, 0.5])


def test_amax_errors() -> None:
    with pytest.raises(ValueError, match=r"amax: argument `dim` expected distinct dimensions, got \(1, -1\)"):
        fg.ones(2, 3).amax((1, -1))
    with pytest.raises(IndexError, match=r"amin: argument `dim` expected a value in \[-2, 1\], got 3"):
        fg.ones(2, 3).amin(3)
    assert fg.tensor(4.0).amax(0, keepdim=True).shape == ()


# Comparisons, cleanup and formatting.

def test_isclose_matches_numpy(rng: np.random.Generator) -> None:
    x = rng.normal(size=200).astype(np.float32)
    y = (x * (1 + rng.choice([0, 5e-6, 2e-5], 200)) + rng.choice([0, 5e-9, 5e-8], 200)).astype(np.float32)
    special_x = np.array([INF, INF, -INF, NAN, NAN, 1.0, 0.0], dtype=np.float32)
    special_y = np.array([INF, -INF, INF, NAN, 1.0, INF, 1e-9], dtype=np.float32)
    x, y = np.concatenate([x, special_x]), np.concatenate([y, special_y])
    for kwargs in [{}, {"rtol": 1e-3, "atol": 0.0}, {"equal_nan": True}]:
        out = fg.isclose(fg.tensor(x), fg.tensor(y), **kwargs)
        assert out.dtype == "bool"
        np.testing.assert_array_equal(out.numpy(), np.isclose(x, y, **kwargs))
    assert fg.tensor([1, 2]).isclose(fg.tensor([1, 3])).tolist() == [True, False]
    with pytest.raises(TypeError, match="isclose: argument `other` expected a Tensor, got float"):
        fg.tensor([1.0]).isclose(1.0)
    with pytest.raises(ValueError, match="isclose: arguments `rtol` and `atol` expected non-negative values, got -1"):
        fg.isclose(fg.tensor([1.0]), fg.tensor([1.0]), rtol=-1)


def test_nan_to_num() -> None:
    x = fg.tensor([NAN, INF, -INF, 1.5], requires_grad=True)
    out = fg.nan_to_num(x)
    largest = float(np.finfo(np.float32).max)
    assert out.tolist() == [0.0, largest, -largest, 1.5]
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, 1])
    assert x.nan_to_num(nan=-1.0, posinf=9.0, neginf=-9.0).tolist() == [-1.0, 9.0, -9.0, 1.5]
    assert fg.nan_to_num(fg.tensor([3, 4])).tolist() == [3, 4]


def test_format() -> None:
    assert f"{fg.tensor(1.23456):.3f}" == "1.235"
    assert f"{fg.tensor([2.5], requires_grad=True):+.1e}" == "+2.5e+00"
    assert f"{fg.tensor(7):03d}" == "007"
    t = fg.tensor([1.0, 2.0])
    assert f"{t}" == str(t) and format(fg.tensor(1.5)) == str(fg.tensor(1.5))
    with pytest.raises(TypeError, match=r"__format__: format spec '\.3f' expected a one-element tensor, got shape \[2"):
        f"{t:.3f}"
