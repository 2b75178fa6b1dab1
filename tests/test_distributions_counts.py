"""Poisson, Geometric, OneHotCategorical and MultivariateNormal against scipy.stats (masses,
densities, entropies, moments), their KL divergences against sums and closed forms in float64,
seeded draws against each law (chi-squared goodness of fit for counts, moments for the
multivariate normal), ``fg.poisson``, and the pathwise gradient of multivariate normal draws."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import ferrograd as fg

D = fg.distributions


def _t(values: object) -> fg.Tensor:
    return fg.tensor(np.asarray(values, dtype=np.float32))


def test_poisson_and_geometric_match_scipy() -> None:
    rates, k = np.float32([0.5, 3.0, 40.0, 0.0]), np.float32([0.0, 2.0, 45.0, 0.0])
    poisson = D.Poisson(_t(rates))
    np.testing.assert_allclose(poisson.log_prob(_t(k)).numpy(), stats.poisson(rates).logpmf(k), rtol=2e-6)
    np.testing.assert_allclose(poisson.mode.numpy(), np.floor(rates))
    np.testing.assert_allclose(poisson.variance.numpy(), rates)
    probs, k = np.float32([0.2, 0.7, 1.0]), np.float32([3.0, 0.0, 0.0])
    geometric, law = D.Geometric(probs=_t(probs)), stats.geom(probs.astype(np.float64), loc=-1)
    with np.errstate(divide="ignore", invalid="ignore"):  # scipy's moments at p = 1
        entropy, mean, variance = law.entropy(), law.mean(), law.var()
    np.testing.assert_allclose(geometric.log_prob(_t(k)).numpy(), law.logpmf(k), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(geometric.entropy().numpy()[:2], entropy[:2], rtol=2e-6)
    np.testing.assert_allclose(geometric.mean.numpy(), mean, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(geometric.variance.numpy(), variance, rtol=1e-6, atol=1e-7)
    from_logits = D.Geometric(logits=_t([0.3]))
    np.testing.assert_allclose(from_logits.probs.numpy(), 1 / (1 + np.exp(-0.3)), rtol=1e-6)


@pytest.mark.parametrize("rate", [0.4, 4.0, 9.99, 10.0, 35.0, 2000.0])
def test_poisson_draws_fit_the_mass_function(rate: float) -> None:
    """Both samplers (products of uniforms below 10, transformed rejection from 10) pass a
    chi-squared test of 40,000 seeded draws against the Poisson masses."""
    fg.manual_seed(17)
    draws = fg.poisson(fg.full((40_000,), rate)).numpy()
    assert draws.dtype == np.float32 and (draws == np.floor(draws)).all() and draws.min() >= 0
    law = stats.poisson(rate)
    lo, hi = int(law.ppf(1e-4)), int(law.ppf(1 - 1e-4))
    edges = np.arange(lo, hi + 2) - 0.5
    observed = np.histogram(np.clip(draws, lo, hi), edges)[0]
    expected = np.diff(law.cdf(edges)) * draws.size
    expected[0] += law.cdf(lo - 0.5) * draws.size
    expected[-1] += law.sf(hi + 0.5) * draws.size
    # Merge sparse bins so every expected count is at least 5.
    merged_observed, merged_expected, o, e = [], [], 0.0, 0.0
    for ob, ex in zip(observed, expected):
        o, e = o + ob, e + ex
        if e >= 5:
            merged_observed.append(o)
            merged_expected.append(e)
            o, e = 0.0, 0.0
    merged_observed[-1] += o
    merged_expected[-1] += e
    assert stats.chisquare(merged_observed, merged_expected).pvalue > 1e-3


def test_poisson_sampling_is_seeded_and_checks_its_rates() -> None:
    rates = _t([[0.0, 1.0], [12.0, 300.0]])
    fg.manual_seed(2)
    first = fg.poisson(rates)
    fg.manual_seed(2)
    np.testing.assert_array_equal(fg.poisson(rates).numpy(), first.numpy())
    assert first[0, 0].item() == 0.0
    generator = fg.Generator().manual_seed(9)
    again = fg.Generator().manual_seed(9)
    np.testing.assert_array_equal(fg.poisson(rates, generator).numpy(), fg.poisson(rates, again).numpy())
    with pytest.raises(ValueError, match="poisson: argument `input` expected non-negative rates, got a smallest value of -1"):
        fg.poisson(_t([1.0, -1.0]))
    with pytest.raises(TypeError, match="poisson: argument `input` expected a floating-point tensor"):
        fg.poisson(fg.tensor([1, 2]))
    assert D.Poisson(_t([2.0, 50.0])).sample((7,)).shape == (7, 2)


def test_geometric_draws_fit_the_mass_function() -> None:
    fg.manual_seed(8)
    draws = D.Geometric(probs=0.3).sample((30_000,)).numpy()
    counts = np.bincount(np.minimum(draws.astype(np.int64), 15), minlength=16)
    law = stats.geom(0.3, loc=-1)
    expected = np.append(law.pmf(np.arange(15)), law.sf(14)) * draws.size
    assert stats.chisquare(counts, expected).pvalue > 1e-3


def test_kl_divergences_of_counts_match_sums() -> None:
    k = np.arange(0, 400)
    p, q = stats.poisson(3.5), stats.poisson(6.0)
    want = float(np.sum(p.pmf(k) * (p.logpmf(k) - q.logpmf(k))))
    assert D.kl_divergence(D.Poisson(3.5), D.Poisson(6.0)).item() == pytest.approx(want, rel=1e-5)
    p, q = stats.geom(0.3, loc=-1), stats.geom(0.6, loc=-1)
    want = float(np.sum(p.pmf(k) * (p.logpmf(k) - q.logpmf(k))))
    assert D.kl_divergence(D.Geometric(probs=0.3), D.Geometric(probs=0.6)).item() == pytest.approx(want, rel=1e-5)
    a, b = np.float64([0.2, 0.5, 0.3]), np.float64([0.6, 0.1, 0.3])
    got = D.kl_divergence(D.OneHotCategorical(probs=_t(a)), D.OneHotCategorical(probs=_t(b))).item()
    assert got == pytest.approx(float(np.sum(a * np.log(a / b))), rel=1e-5)


def test_one_hot_categorical_draws_and_masses() -> None:
    probs = np.float32([[0.2, 0.5, 0.3], [0.7, 0.2, 0.1]])
    d = D.OneHotCategorical(probs=_t(probs))
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    fg.manual_seed(1)
    draws = d.sample((20_000,)).numpy()
    assert draws.shape == (20_000, 2, 3) and (draws.sum(-1) == 1).all()
    np.testing.assert_allclose(draws.mean(0), probs, atol=0.015)
    np.testing.assert_allclose(d.log_prob(_t([[0, 1, 0], [1, 0, 0]])).numpy(), np.log([0.5, 0.7]), rtol=1e-6)
    np.testing.assert_allclose(d.entropy().numpy(), stats.entropy(probs, axis=-1), rtol=1e-6)
    np.testing.assert_allclose(d.variance.numpy(), probs * (1 - probs), rtol=1e-6)


COVARIANCE = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
LOC = np.array([1.0, -1.0, 0.5])


@pytest.mark.parametrize("given", ["covariance_matrix", "precision_matrix", "scale_tril"])
def test_multivariate_normal_matches_scipy(given: str, rng: np.random.Generator) -> None:
    matrix = {"covariance_matrix": COVARIANCE, "precision_matrix": np.linalg.inv(COVARIANCE),
              "scale_tril": np.linalg.cholesky(COVARIANCE)}[given]
    d = D.MultivariateNormal(_t(LOC), **{given: _t(matrix)})
    law = stats.multivariate_normal(LOC, COVARIANCE)
    x = rng.normal(0, 1.5, (4, 3)).astype(np.float32)
    np.testing.assert_allclose(d.log_prob(_t(x)).numpy(), law.logpdf(x), rtol=2e-5)
    assert d.entropy().item() == pytest.approx(law.entropy(), rel=2e-6)
    np.testing.assert_allclose(d.covariance_matrix.numpy(), COVARIANCE, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(COVARIANCE), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(d.variance.numpy(), np.diag(COVARIANCE), rtol=1e-5)


def test_multivariate_normal_batches_draws_and_kl() -> None:
    """A batch of two locations sharing one covariance: draws of shape (n, 2, 3) with the right
    moments, log-densities broadcast over draws, a closed-form KL equal to the float64 formula,
    and pathwise gradients: d mean(draws) / d loc = 1 per coordinate."""
    loc = fg.tensor(np.float32([LOC, -LOC]), requires_grad=True)
    d = D.MultivariateNormal(loc, covariance_matrix=_t(COVARIANCE))
    assert d.batch_shape == (2,) and d.event_shape == (3,)
    fg.manual_seed(6)
    draws = d.rsample((50_000,))
    values = draws.detach().numpy()
    np.testing.assert_allclose(values.mean(0), [LOC, -LOC], atol=0.03)
    np.testing.assert_allclose(np.cov(values[:, 0].T), COVARIANCE, atol=0.05)
    draws.mean(0).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), np.ones((2, 3)), rtol=1e-5)
    assert d.log_prob(draws[:5].detach()).shape == (5, 2)
    other_cov = np.diag([0.5, 1.5, 2.0])
    q = D.MultivariateNormal(_t(np.zeros(3)), covariance_matrix=_t(other_cov))
    inverse = np.linalg.inv(other_cov)
    for row, mu in enumerate([LOC, -LOC]):
        want = 0.5 * (np.trace(inverse @ COVARIANCE) + mu @ inverse @ mu - 3
                      + np.log(np.linalg.det(other_cov) / np.linalg.det(COVARIANCE)))
        assert D.kl_divergence(d, q)[row].item() == pytest.approx(want, rel=2e-5)


def test_multivariate_normal_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="MultivariateNormal: expected exactly one of `covariance_matrix`"):
        D.MultivariateNormal(_t(LOC))
    with pytest.raises(ValueError, match=r"MultivariateNormal: expected a 3 x 3 matrix .* got shape \[2, 2\]"):
        D.MultivariateNormal(_t(LOC), covariance_matrix=_t(np.eye(2)))
    with pytest.raises(ValueError, match="Poisson: argument `rate` expected a non-negative value, got -2"):
        D.Poisson(-2.0)
    with pytest.raises(ValueError, match=r"Geometric: argument `probs` expected a value in \(0, 1\], got 0"):
        D.Geometric(probs=0.0)
