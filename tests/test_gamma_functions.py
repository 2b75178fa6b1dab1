"""lgamma, digamma, polygamma, mvlgamma and erfinv against scipy in float64: values within one
float32 rounding of the true value (they are evaluated in double and rounded once), PyTorch's
conventions at the poles, and gradients against the closed-form derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special as sp

import ferrograd as fg


def _assert_within_rounding(got: np.ndarray, want: np.ndarray, ulps: float = 1.0, floor: float = 1e-12) -> None:
    """|got - want| within ``ulps`` float32 spacings of the true value (plus ``floor``, for values
    that are zero to double precision)."""
    want32 = want.astype(np.float32)
    spacing = np.spacing(np.abs(want32)).astype(np.float64)
    assert np.array_equal(np.isfinite(got), np.isfinite(want)), (got, want)
    finite = np.isfinite(want)
    error = np.abs(got[finite].astype(np.float64) - want[finite])
    worst = np.argmax(error - ulps * spacing[finite])
    assert (error <= ulps * spacing[finite] + floor).all(), (
        f"worst at x-index {worst}: got {got[finite][worst]!r}, want {want[finite][worst]!r}")


def _arguments(rng: np.random.Generator) -> np.ndarray:
    """Small and large, positive and negative non-integer arguments, in float32."""
    x = np.concatenate([rng.uniform(-30, 30, 400), rng.uniform(1e-4, 3, 200), 10.0 ** rng.uniform(-6, 6, 100),
                        -rng.uniform(1e-3, 1e3, 100), [0.5, 1.0, 2.0, 1.4616321, -0.5, -3.75, 1e-30, 3e5]])
    x = x.astype(np.float32)
    return x[~((x <= 0) & (x == np.floor(x)))]


def test_lgamma_and_digamma_are_within_a_rounding_of_scipy(rng: np.random.Generator) -> None:
    x = _arguments(rng)
    x64 = x.astype(np.float64)
    _assert_within_rounding(fg.lgamma(fg.tensor(x)).numpy(), sp.gammaln(x64))
    _assert_within_rounding(fg.special.gammaln(fg.tensor(x)).numpy(), sp.gammaln(x64))
    _assert_within_rounding(fg.digamma(fg.tensor(x)).numpy(), sp.digamma(x64))
    _assert_within_rounding(fg.special.psi(fg.tensor(x)).numpy(), sp.digamma(x64))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_polygamma_is_within_a_rounding_of_scipy(n: int, rng: np.random.Generator) -> None:
    x = _arguments(rng)
    x = x[x > -40]  # scipy's polygamma of negative arguments of high order loses its accuracy there
    want = sp.polygamma(n, x.astype(np.float64))
    # Values past float32's range are infinite in both.
    want = np.where(np.abs(want) > np.finfo(np.float32).max, np.sign(want) * np.inf, want)
    _assert_within_rounding(fg.polygamma(n, fg.tensor(x)).numpy(), want, ulps=2.0)
    np.testing.assert_array_equal(fg.tensor(x).polygamma(n).numpy(), fg.polygamma(n, fg.tensor(x)).numpy())
    np.testing.assert_array_equal(fg.polygamma(0, fg.tensor(x)).numpy(), fg.digamma(fg.tensor(x)).numpy())


def test_trigamma_of_large_negative_arguments_uses_the_reflection() -> None:
    x = np.array([-1000.5, -8388607.5, -12345.25], dtype=np.float32)
    _assert_within_rounding(fg.polygamma(1, fg.tensor(x)).numpy(), sp.polygamma(1, x.astype(np.float64)), ulps=2.0)


def test_poles_and_infinities_follow_pytorch() -> None:
    inf, nan = np.inf, np.nan
    x = fg.tensor([0.0, -0.0, -1.0, -7.0, -inf, inf, nan])
    np.testing.assert_array_equal(fg.lgamma(x).numpy(), [inf, inf, inf, inf, inf, inf, nan])
    np.testing.assert_array_equal(fg.digamma(x).numpy(), [-inf, inf, nan, nan, nan, inf, nan])
    # (-1)^(n+1) inf at a pole; +inf gives (-1)^(n+1) 0 (PyTorch's float kernel gives NaN there for n >= 2).
    np.testing.assert_array_equal(fg.polygamma(1, x).numpy(), [inf, inf, inf, inf, nan, 0.0, nan])
    np.testing.assert_array_equal(fg.polygamma(2, x).numpy(), [-inf, -inf, -inf, -inf, nan, -0.0, nan])
    assert np.signbit(fg.polygamma(2, fg.tensor([inf])).numpy()).all()
    np.testing.assert_array_equal(fg.erfinv(fg.tensor([1.0, -1.0, 1.5, -2.0, 0.0, -0.0, nan])).numpy(),
                                  [inf, -inf, nan, nan, 0.0, -0.0, nan])
    assert np.signbit(fg.erfinv(fg.tensor([-0.0])).numpy()).all()


def test_erfinv_is_within_a_rounding_of_scipy(rng: np.random.Generator) -> None:
    p = np.concatenate([rng.uniform(-1, 1, 500), 1 - 10.0 ** rng.uniform(-7.2, -1, 100),
                        10.0 ** rng.uniform(-30, -1, 50), [0.5, -0.9, np.float32(1) - np.float32(2.0**-24)]])
    p = p.astype(np.float32)
    _assert_within_rounding(fg.erfinv(fg.tensor(p)).numpy(), sp.erfinv(p.astype(np.float64)))
    _assert_within_rounding(fg.special.erfinv(fg.tensor(p)).numpy(), sp.erfinv(p.astype(np.float64)))


def test_integer_inputs_are_promoted_to_float32() -> None:
    x = fg.tensor([1, 2, 5])
    for fn in (fg.lgamma, fg.digamma, fg.erfinv, lambda t: fg.polygamma(2, t)):
        assert fn(x).dtype == fg.float32
    np.testing.assert_allclose(fg.lgamma(x).numpy(), sp.gammaln([1.0, 2.0, 5.0]), rtol=1e-7, atol=1e-7)


def test_gradients_are_the_next_function_of_the_family(rng: np.random.Generator) -> None:
    x = rng.uniform(0.1, 8, 50).astype(np.float32)
    x64 = x.astype(np.float64)
    cases = [(fg.lgamma, sp.digamma(x64)), (fg.digamma, sp.polygamma(1, x64)),
             (lambda t: fg.polygamma(2, t), sp.polygamma(3, x64))]
    for fn, derivative in cases:
        t = fg.tensor(x, requires_grad=True)
        fn(t).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), derivative, rtol=2e-6)
    p = rng.uniform(-0.99, 0.99, 50).astype(np.float32)
    t = fg.tensor(p, requires_grad=True)
    fg.erfinv(t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.sqrt(np.pi) / 2 * np.exp(sp.erfinv(p.astype(np.float64)) ** 2),
                               rtol=2e-6)


def test_second_derivative_of_lgamma_is_the_trigamma(rng: np.random.Generator) -> None:
    x = rng.uniform(0.2, 6, 20).astype(np.float32)
    t = fg.tensor(x, requires_grad=True)
    (first,) = fg.autograd.grad(t.lgamma().sum(), t, create_graph=True)
    (second,) = fg.autograd.grad(first.sum(), t)
    np.testing.assert_allclose(second.numpy(), sp.polygamma(1, x.astype(np.float64)), rtol=2e-6)


def test_mvlgamma_matches_scipy_and_checks_its_domain(rng: np.random.Generator) -> None:
    x = rng.uniform(2.5, 20, 30).astype(np.float32)
    for p in (1, 2, 5):
        want = np.array([sp.multigammaln(v, p) for v in x.astype(np.float64)])
        np.testing.assert_allclose(fg.mvlgamma(fg.tensor(x), p).numpy(), want, rtol=2e-6)
        np.testing.assert_allclose(fg.tensor(x).mvlgamma(p).numpy(), want, rtol=2e-6)
        np.testing.assert_allclose(fg.special.multigammaln(fg.tensor(x), p).numpy(), want, rtol=2e-6)
    with pytest.raises(ValueError, match=r"mvlgamma: every entry of `input` expected to exceed \(p - 1\) / 2 = 1.5"):
        fg.mvlgamma(fg.tensor([1.0, 4.0]), 4)
    with pytest.raises(ValueError, match="mvlgamma: argument `p` expected a positive int, got 0"):
        fg.mvlgamma(fg.tensor([3.0]), 0)


def test_in_place_forms_and_bad_orders() -> None:
    t = fg.tensor([0.5, 3.0])
    assert t.lgamma_() is t
    np.testing.assert_allclose(t.numpy(), sp.gammaln([0.5, 3.0]).astype(np.float32))
    t = fg.tensor([0.5, 3.0])
    t.polygamma_(1)
    np.testing.assert_allclose(t.numpy(), sp.polygamma(1, [0.5, 3.0]), rtol=1e-6)
    t = fg.tensor([0.25])
    t.erfinv_()
    assert t.item() == pytest.approx(sp.erfinv(0.25), rel=1e-6)
    with pytest.raises(RuntimeError, match="digamma_: in-place updates are not recorded by autograd"):
        fg.tensor([1.0], requires_grad=True).digamma_()
    with pytest.raises(ValueError, match="polygamma: argument `n` expected a non-negative order, got -1"):
        fg.polygamma(-1, fg.tensor([1.0]))
    with pytest.raises(TypeError, match="polygamma: argument `n` expected a non-negative int, got 1.5"):
        fg.polygamma(1.5, fg.tensor([1.0]))  # type: ignore[arg-type]


def test_regularized_incomplete_gamma_matches_scipy(rng: np.random.Generator) -> None:
    a = np.concatenate([rng.uniform(0.01, 5, 300), 10.0 ** rng.uniform(-2, 4, 200)]).astype(np.float32)
    x = (a * np.exp(rng.normal(0, 0.7, a.size))).astype(np.float32)
    a64, x64 = a.astype(np.float64), x.astype(np.float64)
    lower, upper = fg.igamma(fg.tensor(a), fg.tensor(x)).numpy(), fg.igammac(fg.tensor(a), fg.tensor(x)).numpy()
    # Within a float32 rounding of the true value, or 1e-12 absolutely where it is tiny.
    _assert_within_rounding(lower, sp.gammainc(a64, x64), ulps=2.0)
    _assert_within_rounding(upper, sp.gammaincc(a64, x64), ulps=2.0)
    np.testing.assert_array_equal(fg.special.gammainc(fg.tensor(a), fg.tensor(x)).numpy(), lower)
    np.testing.assert_array_equal(fg.special.gammaincc(fg.tensor(a), fg.tensor(x)).numpy(), upper)
    np.testing.assert_array_equal(fg.tensor(a).igammac(fg.tensor(x)).numpy(), upper)


def test_incomplete_gamma_edges_follow_pytorch() -> None:
    inf, nan = np.inf, np.nan
    a = fg.tensor([0.0, 0.0, -1.0, 1.0, 1.0, inf, inf, 2.0, nan, 1.0])
    x = fg.tensor([1.0, 0.0, 1.0, -1.0, 0.0, 1.0, inf, inf, 1.0, nan])
    np.testing.assert_array_equal(fg.igamma(a, x).numpy(), [1.0, nan, nan, nan, 0.0, 0.0, nan, 1.0, nan, nan])
    np.testing.assert_array_equal(fg.igammac(a, x).numpy(), [0.0, nan, nan, nan, 1.0, 1.0, nan, 0.0, nan, nan])


def test_incomplete_gamma_gradient_is_the_density() -> None:
    a = np.float32([0.5, 1.0, 3.0, 20.0])
    x = fg.tensor(np.float32([0.3, 0.0, 2.5, 18.0]), requires_grad=True)
    fg.igamma(fg.tensor(a), x).sum().backward()
    x64 = x.detach().numpy().astype(np.float64)
    density = np.exp((a - 1) * np.log(np.where(x64 > 0, x64, 1.0)) - x64 - sp.gammaln(a.astype(np.float64)))
    np.testing.assert_allclose(x.grad.numpy(), density, rtol=2e-6)
    y = fg.tensor(np.float32([2.0]), requires_grad=True)
    fg.igammac(fg.tensor([3.0]), y).sum().backward()
    assert y.grad.item() == pytest.approx(-(4.0 * np.exp(-2.0) / 2.0), rel=1e-6)
    with pytest.raises(NotImplementedError, match=r"igamma: no derivative with respect to `input` \(the shape a\)"):
        fg.igamma(fg.tensor([2.0], requires_grad=True), fg.tensor([1.0])).sum().backward()


def test_gamma_and_chi2_cdfs_use_the_incomplete_gamma() -> None:
    from scipy import stats

    x = np.float32([0.1, 1.0, 4.0, 12.0])
    np.testing.assert_allclose(fg.distributions.Gamma(2.5, 0.5).cdf(fg.tensor(x)).numpy(),
                               stats.gamma(2.5, scale=2.0).cdf(x), rtol=2e-6)
    np.testing.assert_allclose(fg.distributions.Chi2(3.0).cdf(fg.tensor(x)).numpy(), stats.chi2(3).cdf(x), rtol=2e-6)


def test_bessel_functions_are_within_a_rounding_of_scipy(rng: np.random.Generator) -> None:
    x = np.concatenate([rng.uniform(-30, 30, 400), 10.0 ** rng.uniform(-5, 1.9, 200) * rng.choice([-1, 1], 200),
                        [0.0, 29.999998, 30.000002, 85.0, 1e4, -1e6]]).astype(np.float32)
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        want = {"i0": sp.i0(x64), "i0e": sp.i0e(x64), "i1": sp.i1(x64), "i1e": sp.i1e(x64)}
        want = {name: np.where(np.abs(v) > np.finfo(np.float32).max, np.sign(v) * np.inf, v) for name, v in want.items()}
    for name, values in want.items():
        _assert_within_rounding(getattr(fg.special, name)(fg.tensor(x)).numpy(), values, ulps=2.0)
    np.testing.assert_array_equal(fg.i0(fg.tensor(x)).numpy(), fg.special.i0(fg.tensor(x)).numpy())
    edges = fg.tensor([np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(fg.special.i0(edges).numpy(), [np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(fg.special.i1(edges).numpy(), [np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(fg.special.i0e(edges).numpy(), [0.0, 0.0, np.nan])


def test_bessel_gradients(rng: np.random.Generator) -> None:
    x = np.concatenate([rng.uniform(-6, 6, 30), [0.0]]).astype(np.float32)
    x64 = x.astype(np.float64)
    safe = np.where(x64 == 0, 1.0, x64)
    derivatives = {
        "i0": sp.i1(x64),
        "i0e": sp.i1e(x64) - np.sign(x64) * sp.i0e(x64),
        "i1": np.where(x64 == 0, 0.5, sp.i0(x64) - sp.i1(x64) / safe),
        "i1e": np.where(x64 == 0, 0.5, sp.i0e(x64) - sp.i1e(x64) * (np.sign(x64) + 1 / safe)),
    }
    for name, derivative in derivatives.items():
        t = fg.tensor(x, requires_grad=True)
        getattr(fg.special, name)(t).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), derivative, rtol=3e-6, atol=1e-7, err_msg=name)
