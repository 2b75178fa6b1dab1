"""`fg.special` against scipy in float64: values within float32 rounding (a few ulps), gradients
against the closed-form derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special as sp

import ferrograd as fg


def test_error_functions_keep_their_tails(rng: np.random.Generator) -> None:
    x = np.concatenate([rng.normal(0, 2, 200), [-9.0, -4.0, 0.0, 1e-6, 3.0, 5.0, 9.0]]).astype(np.float32)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(fg.special.erf(fg.tensor(x)).numpy(), sp.erf(x64), rtol=3e-7, atol=1e-30)
    # erfc of a large argument is tiny, not the 0 that 1 - erf would give.
    np.testing.assert_allclose(fg.special.erfc(fg.tensor(x)).numpy(), sp.erfc(x64), rtol=3e-6, atol=1e-37)
    assert fg.tensor([5.0]).erfc().item() == pytest.approx(sp.erfc(5.0), rel=3e-6)
    np.testing.assert_allclose(fg.special.ndtr(fg.tensor(x)).numpy(), sp.ndtr(x64), rtol=5e-6, atol=1e-37)


def test_logistic_family(rng: np.random.Generator) -> None:
    p = rng.uniform(0.01, 0.99, 50).astype(np.float32)
    x = rng.normal(0, 3, 50).astype(np.float32)
    np.testing.assert_allclose(fg.special.expit(fg.tensor(x)).numpy(), sp.expit(x.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(fg.special.logit(fg.tensor(p)).numpy(), sp.logit(p.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)
    clamped = fg.special.logit(fg.tensor([0.0, 0.5, 1.0]), eps=1e-3).numpy()
    np.testing.assert_allclose(clamped, [sp.logit(1e-3), 0.0, sp.logit(1 - 1e-3)], rtol=1e-4)
    np.testing.assert_allclose(fg.special.exp2(fg.tensor(x)).numpy(), np.exp2(x.astype(np.float64)), rtol=2e-6)


def test_xlogy_is_zero_where_x_is_zero() -> None:
    x, y = fg.tensor([0.0, 0.0, 2.0, 3.0]), fg.tensor([0.0, 5.0, 3.0, float("nan")])
    out = fg.special.xlogy(x, y).numpy()
    np.testing.assert_allclose(out[:3], sp.xlogy([0.0, 0.0, 2.0], [0.0, 5.0, 3.0]), rtol=1e-6)
    assert np.isnan(out[3])
    assert fg.special.xlogy(2.0, fg.tensor([4.0])).item() == pytest.approx(2 * np.log(4.0), rel=1e-6)
    with pytest.raises(TypeError, match="xlogy: expected a Tensor operand"):
        fg.special.xlogy(1.0, 2.0)


def test_sinc_and_the_reductions(rng: np.random.Generator) -> None:
    x = np.array([0.0, 0.5, -1.5, 2.25, 1e-3], np.float32)
    np.testing.assert_allclose(fg.special.sinc(fg.tensor(x)).numpy(), np.sinc(x.astype(np.float64)), rtol=1e-6,
                               atol=1e-7)
    m = rng.normal(0, 4, (3, 5)).astype(np.float32)
    np.testing.assert_allclose(fg.special.logsumexp(fg.tensor(m), 1).numpy(), sp.logsumexp(m.astype(np.float64), 1),
                               rtol=1e-6)
    np.testing.assert_allclose(fg.special.softmax(fg.tensor(m), 0).numpy(), sp.softmax(m.astype(np.float64), 0),
                               rtol=1e-5)
    np.testing.assert_allclose(fg.special.log_softmax(fg.tensor(m), 1).numpy(),
                               sp.log_softmax(m.astype(np.float64), 1), rtol=1e-5, atol=1e-6)


def test_gradients_match_closed_forms(rng: np.random.Generator) -> None:
    x = rng.uniform(-2, 2, 30).astype(np.float32)
    x64 = x.astype(np.float64)
    p = rng.uniform(0.05, 0.95, 30).astype(np.float32)
    cases = [
        (fg.special.erf, x, 2 / np.sqrt(np.pi) * np.exp(-x64**2)),
        (fg.special.erfc, x, -2 / np.sqrt(np.pi) * np.exp(-x64**2)),
        (fg.special.ndtr, x, np.exp(-x64**2 / 2) / np.sqrt(2 * np.pi)),
        (fg.special.logit, p, 1 / (p.astype(np.float64) * (1 - p.astype(np.float64)))),
        (fg.special.exp2, x, np.log(2) * np.exp2(x64)),
    ]
    for fn, values, derivative in cases:
        t = fg.tensor(values, requires_grad=True)
        fn(t).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), derivative, rtol=2e-5, atol=1e-7, err_msg=fn.__name__)


def test_atan2_takes_the_quadrant_from_both_signs() -> None:
    y = fg.tensor([1.0, 1.0, -1.0, -1.0, 0.0, 0.0])
    x = fg.tensor([1.0, -1.0, -1.0, 1.0, -1.0, 1.0])
    np.testing.assert_allclose(fg.atan2(y, x).numpy(), np.arctan2(y.numpy(), x.numpy()), rtol=1e-7)
    assert fg.arctan2(fg.tensor([1]), fg.tensor([0])).item() == pytest.approx(np.pi / 2)


def test_entr_xlog1py_spherical_j0_against_scipy(rng: np.random.Generator) -> None:
    from scipy import special as sp

    x = np.concatenate([[0.0, -1.0, 1e-30, np.nan], rng.random(20) * 5]).astype(np.float32)
    np.testing.assert_allclose(fg.special.entr(fg.tensor(x)).numpy(), sp.entr(x.astype(np.float64)), rtol=1e-6,
                               equal_nan=True)
    y = np.concatenate([[-1.0, 0.5, np.nan], rng.random(10) * 3 - 0.5]).astype(np.float32)
    w = np.concatenate([[0.0, 0.0, 0.0], rng.standard_normal(10)]).astype(np.float32)
    np.testing.assert_allclose(fg.special.xlog1py(fg.tensor(w), fg.tensor(y)).numpy(),
                               sp.xlog1py(w.astype(np.float64), y.astype(np.float64)), rtol=1e-6, atol=1e-7,
                               equal_nan=True)
    z = np.concatenate([[0.0], rng.standard_normal(20) * 10]).astype(np.float32)
    np.testing.assert_allclose(fg.special.spherical_bessel_j0(fg.tensor(z)).numpy(),
                               sp.spherical_jn(0, z.astype(np.float64)), rtol=1e-5, atol=1e-7)
    # Gradients: d(-x log x) = -log x - 1; d(sin x / x) = cos x / x - sin x / x^2.
    t = fg.tensor(np.array([0.5, 2.0, 3.0], np.float32), requires_grad=True)
    fg.special.entr(t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), -np.log([0.5, 2.0, 3.0]) - 1, rtol=1e-6)
    u = fg.tensor(np.array([0.5, 2.0, 3.0], np.float32), requires_grad=True)
    fg.special.spherical_bessel_j0(u).sum().backward()
    v = np.array([0.5, 2.0, 3.0])
    np.testing.assert_allclose(u.grad.numpy(), np.cos(v) / v - np.sin(v) / v ** 2, rtol=1e-5)


@pytest.mark.parametrize("decimals", [0, 1, 2, -1, -2])
def test_round_to_decimals_as_numpy(decimals: int, rng: np.random.Generator) -> None:
    x = np.concatenate([[2.5, -3.555, 1234.5, 0.125], rng.standard_normal(50) * 100]).astype(np.float32)
    np.testing.assert_array_equal(fg.round(fg.tensor(x), decimals=decimals).numpy(), np.round(x, decimals))
    np.testing.assert_array_equal(fg.special.round(fg.tensor(x), decimals).numpy(), np.round(x, decimals))


def test_normal_icdf_is_the_quantile() -> None:
    from scipy import stats

    p = np.array([1e-4, 0.025, 0.3, 0.5, 0.975], np.float32)
    q = fg.distributions.Normal(1.0, 2.0).icdf(fg.tensor(p)).numpy()
    np.testing.assert_allclose(q, stats.norm.ppf(p.astype(np.float64), 1.0, 2.0), rtol=2e-5)
    # The cdf (1 + erf) / 2, PyTorch's formula, keeps absolute, not relative, accuracy in the tail.
    cdf = fg.distributions.Normal(1.0, 2.0).cdf(fg.tensor(q)).numpy()
    np.testing.assert_allclose(cdf, p, atol=2e-6)
