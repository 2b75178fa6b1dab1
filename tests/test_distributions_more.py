"""Cauchy, HalfNormal, HalfCauchy, Gumbel, Weibull, Pareto, FisherSnedecor, VonMises, Binomial,
NegativeBinomial, Multinomial, RelaxedBernoulli, RelaxedOneHotCategorical and MixtureSameFamily
against scipy.stats (densities, masses, entropies, moments, cdfs) and closed forms, and their
seeded draws against each law (Kolmogorov-Smirnov, chi-squared or moments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

import ferrograd as fg

D = fg.distributions


def _t(values: object) -> fg.Tensor:
    return fg.tensor(np.asarray(values, dtype=np.float32))


CONTINUOUS = {
    "cauchy": (lambda: D.Cauchy(_t([0.5]), _t([2.0])), stats.cauchy(0.5, 2.0), True),
    "half_normal": (lambda: D.HalfNormal(_t([1.5])), stats.halfnorm(scale=1.5), True),
    "half_cauchy": (lambda: D.HalfCauchy(_t([0.7])), stats.halfcauchy(scale=0.7), True),
    "gumbel": (lambda: D.Gumbel(_t([1.0]), _t([2.0])), stats.gumbel_r(1.0, 2.0), True),
    "weibull": (lambda: D.Weibull(_t([2.0]), _t([1.5])), stats.weibull_min(1.5, scale=2.0), True),
    "pareto": (lambda: D.Pareto(_t([1.0]), _t([3.0])), stats.pareto(3.0, scale=1.0), True),
    "fisher_snedecor": (lambda: D.FisherSnedecor(_t([5.0]), _t([12.0])), stats.f(5.0, 12.0), False),
    "von_mises": (lambda: D.VonMises(_t([0.5]), _t([3.0])), stats.vonmises(3.0, loc=0.5), False),
}


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_continuous_laws_match_scipy(name: str, rng: np.random.Generator) -> None:
    make, law, has_cdf = CONTINUOUS[name]
    d = make()
    x = law.ppf(rng.uniform(0.02, 0.98, 30)).astype(np.float32).reshape(30, 1)
    np.testing.assert_allclose(d.log_prob(_t(x)).numpy(), law.logpdf(x), rtol=2e-5, atol=2e-6)
    if has_cdf:
        np.testing.assert_allclose(d.cdf(_t(x)).numpy(), law.cdf(x), rtol=2e-5, atol=2e-6)
        np.testing.assert_allclose(d.entropy().numpy(), [law.entropy()], rtol=2e-5)
    mean, variance = law.stats("mv")
    # PyTorch's conventions where a moment does not exist, and the von Mises circular variance.
    mean, variance = {"cauchy": (math.nan, math.inf), "half_cauchy": (math.inf, math.inf),
                      "von_mises": (0.5, 1 - special.i1(3.0) / special.i0(3.0))}.get(name, (mean, variance))
    np.testing.assert_allclose(d.mean.numpy(), [mean], rtol=2e-6, atol=1e-7, equal_nan=True)
    np.testing.assert_allclose(d.variance.numpy(), [variance], rtol=2e-5, atol=1e-7, equal_nan=True)
    fg.manual_seed(3)
    draws = d.sample((20_000,)).numpy().reshape(-1)
    assert np.isfinite(draws).all()
    assert stats.kstest(draws, law.cdf).pvalue > 1e-3


def test_reparametrised_draws_carry_gradients() -> None:
    scale = fg.tensor(np.float32([2.0]), requires_grad=True)
    fg.manual_seed(4)
    draws = D.Weibull(scale, 1.5).rsample((1000,))
    draws.mean().backward()
    # Each draw is scale * E^(1/k): its derivative in the scale is draw / scale.
    np.testing.assert_allclose(scale.grad.numpy(), draws.detach().numpy().mean() / 2.0, rtol=1e-5)
    df = fg.tensor(np.float32([6.0]), requires_grad=True)
    D.FisherSnedecor(df, 10.0).rsample((500,)).mean().backward()
    assert np.isfinite(df.grad.numpy()).all() and df.grad.item() != 0


@pytest.mark.parametrize("trials,p", [(5, 0.3), (300, 0.7), (5000, 0.02)])
def test_binomial_masses_and_draws(trials: int, p: float) -> None:
    d = D.Binomial(trials, probs=_t([p]))
    k = np.arange(0, trials + 1, max(1, trials // 40), dtype=np.float32).reshape(-1, 1)
    # lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) cancels in float32 (as in PyTorch): the
    # absolute error scales with lgamma(n + 1).
    np.testing.assert_allclose(d.log_prob(_t(k)).numpy(), stats.binom(trials, p).logpmf(k), rtol=2e-5,
                               atol=1e-7 * math.lgamma(trials + 1))
    fg.manual_seed(9)
    draws = d.sample((20_000,)).numpy().reshape(-1)
    assert (draws == np.floor(draws)).all() and draws.min() >= 0 and draws.max() <= trials
    mean, variance = trials * p, trials * p * (1 - p)
    assert abs(draws.mean() - mean) < 5 * math.sqrt(variance / draws.size)
    assert abs(draws.var() / variance - 1) < 0.05
    np.testing.assert_allclose(d.mean.numpy(), [mean], rtol=1e-6)
    np.testing.assert_allclose(d.variance.numpy(), [variance], rtol=1e-5)


def test_negative_binomial_and_multinomial() -> None:
    d = D.NegativeBinomial(4.0, probs=_t([0.35]))
    k = np.arange(0, 25, dtype=np.float32).reshape(-1, 1)
    # PyTorch counts successes before total_count failures: scipy's nbinom with p = 1 - probs.
    law = stats.nbinom(4.0, 0.65)
    np.testing.assert_allclose(d.log_prob(_t(k)).numpy(), law.logpmf(k), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(d.mean.numpy(), [law.mean()], rtol=1e-6)
    np.testing.assert_allclose(d.variance.numpy(), [law.var()], rtol=1e-5)
    fg.manual_seed(2)
    draws = d.sample((20_000,)).numpy().reshape(-1).astype(np.int64)
    counts = np.bincount(np.minimum(draws, 20), minlength=21)
    expected = np.append(law.pmf(np.arange(20)), law.sf(19)) * draws.size
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    probs = np.float32([0.2, 0.3, 0.5])
    m = D.Multinomial(10, probs=_t(probs))
    counts = np.float32([[2, 3, 5], [0, 0, 10], [1, 9, 0]])
    np.testing.assert_allclose(m.log_prob(_t(counts)).numpy(), stats.multinomial(10, probs).logpmf(counts),
                               rtol=2e-6)
    fg.manual_seed(5)
    draws = m.sample((5000,)).numpy()
    assert (draws.sum(-1) == 10).all()
    np.testing.assert_allclose(draws.mean(0), 10 * probs, atol=0.08)
    np.testing.assert_allclose(m.variance.numpy(), 10 * probs * (1 - probs), rtol=1e-6)
    with pytest.raises(ValueError, match="Multinomial: argument `total_count` expected a non-negative int"):
        D.Multinomial(-1, probs=_t(probs))


def test_relaxed_distributions_densities_and_draws() -> None:
    """Their densities integrate to one (Bernoulli over (0, 1); the two-category one-hot over
    its first coordinate; a temperature above 1 keeps them bounded at the ends), and their draws
    follow: low temperatures give nearly hard samples with the right frequencies."""
    from scipy import integrate

    relaxed = D.RelaxedBernoulli(1.5, probs=0.3)
    grid = np.linspace(1e-4, 1 - 1e-4, 20001, dtype=np.float32)
    density = np.exp(relaxed.log_prob(_t(grid)).numpy())
    assert integrate.trapezoid(density, grid) == pytest.approx(1.0, abs=2e-3)
    one_hot = D.RelaxedOneHotCategorical(1.5, probs=_t([0.3, 0.7]))
    pairs = np.stack([grid, 1 - grid], 1)
    # Density of the first coordinate: the simplex density times |d(y2)/d(y1)| = 1.
    density = np.exp(one_hot.log_prob(_t(pairs)).numpy())
    assert integrate.trapezoid(density, grid) == pytest.approx(1.0, abs=2e-3)
    fg.manual_seed(8)
    cold = D.RelaxedOneHotCategorical(0.05, probs=_t([0.2, 0.8])).rsample((20_000,)).numpy()
    assert np.allclose(cold.sum(-1), 1.0, atol=1e-5)
    assert abs((cold.argmax(-1) == 1).mean() - 0.8) < 0.015 and (cold.max(-1) > 0.9).mean() > 0.95
    logits = fg.tensor(np.float32([0.0]), requires_grad=True)
    D.RelaxedBernoulli(0.5, logits=logits).rsample((2000,)).mean().backward()
    assert logits.grad.item() > 0


def test_mixture_same_family() -> None:
    weights = np.float32([0.2, 0.5, 0.3])
    locs, scales = np.float32([-2.0, 0.0, 3.0]), np.float32([0.5, 1.0, 2.0])
    mixture = D.MixtureSameFamily(D.Categorical(probs=_t(weights)), D.Normal(_t(locs), _t(scales)))
    x = np.linspace(-5, 8, 27, dtype=np.float32)
    want = np.log(sum(w * stats.norm(m, s).pdf(x) for w, m, s in zip(weights, locs, scales)))
    np.testing.assert_allclose(mixture.log_prob(_t(x)).numpy(), want, rtol=2e-6, atol=1e-6)
    mean = float((weights * locs).sum())
    variance = float((weights * (scales**2 + locs**2)).sum() - mean**2)
    assert mixture.mean.item() == pytest.approx(mean, rel=1e-6)
    assert mixture.variance.item() == pytest.approx(variance, rel=1e-6)
    fg.manual_seed(6)
    draws = mixture.sample((20_000,)).numpy()
    cdf = lambda v: sum(w * stats.norm(m, s).cdf(v) for w, m, s in zip(weights, locs, scales))  # noqa: E731
    assert stats.kstest(draws, cdf).pvalue > 1e-3
    with pytest.raises(ValueError, match="MixtureSameFamily: the last batch axis of `component_distribution`"):
        D.MixtureSameFamily(D.Categorical(probs=_t(weights)), D.Normal(_t([0.0, 1.0]), _t([1.0, 1.0])))


def test_transformed_distributions_follow_the_change_of_variables(rng: np.random.Generator) -> None:
    from scipy import integrate

    T = D.transforms
    mu, sigma = 0.4, 0.8
    squashed = D.TransformedDistribution(D.Normal(mu, sigma), [T.TanhTransform()])
    y = rng.uniform(-0.99, 0.99, 50).astype(np.float32)
    x = np.arctanh(y.astype(np.float64))
    want = stats.norm(mu, sigma).logpdf(x) - np.log1p(-(y.astype(np.float64) ** 2))
    np.testing.assert_allclose(squashed.log_prob(_t(y)).numpy(), want, rtol=2e-5, atol=2e-5)
    grid = np.linspace(-0.99999, 0.99999, 40001)
    total = integrate.trapezoid(np.exp(squashed.log_prob(_t(grid)).numpy()), grid)
    assert total == pytest.approx(1.0, abs=2e-3)
    positive = np.abs(y) + 0.1
    chained = D.TransformedDistribution(D.Normal(mu, sigma), [T.AffineTransform(1.0, 2.0), T.ExpTransform()])
    # exp(1 + 2 X) is log-normal with mean 1 + 2 mu and scale 2 sigma.
    np.testing.assert_allclose(chained.log_prob(_t(positive)).numpy(),
                               stats.lognorm(2 * sigma, scale=np.exp(1 + 2 * mu)).logpdf(positive), rtol=2e-5)
    np.testing.assert_allclose(chained.cdf(_t(positive)).numpy(),
                               stats.lognorm(2 * sigma, scale=np.exp(1 + 2 * mu)).cdf(positive), rtol=2e-5)
    logistic = D.TransformedDistribution(D.Normal(0.0, 1.0), [T.SigmoidTransform(), T.PowerTransform(2.0)])
    u = rng.uniform(0.01, 0.99, 20).astype(np.float32)
    inner = np.sqrt(u.astype(np.float64))
    want = stats.norm().logpdf(np.log(inner / (1 - inner))) - np.log(inner * (1 - inner)) - np.log(2 * inner)
    np.testing.assert_allclose(logistic.log_prob(_t(u)).numpy(), want, rtol=2e-5, atol=2e-5)
    loc = fg.tensor(np.float32([0.3]), requires_grad=True)
    fg.manual_seed(1)
    draws = D.TransformedDistribution(D.Normal(loc, 1.0), T.TanhTransform()).rsample((1000,))
    assert float(draws.detach().abs().max().item()) < 1
    draws.mean().backward()
    assert 0 < loc.grad.item() < 1


def test_more_kl_divergences_match_integrals_and_sums() -> None:
    from scipy import integrate

    def by_quadrature(p_law, q_law, lo: float, hi: float) -> float:
        return integrate.quad(lambda v: p_law.pdf(v) * (p_law.logpdf(v) - q_law.logpdf(v)) if p_law.pdf(v) > 0 else 0.0,
                              lo, hi, limit=400)[0]

    cases = [
        (D.Cauchy(0.5, 1.0), D.Cauchy(-1.0, 2.5), stats.cauchy(0.5, 1.0), stats.cauchy(-1.0, 2.5), -np.inf, np.inf),
        (D.Gumbel(0.5, 1.0), D.Gumbel(-1.0, 2.0), stats.gumbel_r(0.5, 1.0), stats.gumbel_r(-1.0, 2.0), -np.inf,
         np.inf),
        (D.HalfNormal(1.0), D.HalfNormal(2.5), stats.halfnorm(scale=1.0), stats.halfnorm(scale=2.5), 0, np.inf),
        (D.Pareto(2.0, 3.0), D.Pareto(1.0, 1.5), stats.pareto(3.0, scale=2.0), stats.pareto(1.5, scale=1.0), 2.0,
         np.inf),
    ]
    for p, q, p_law, q_law, lo, hi in cases:
        with np.errstate(over="ignore"):  # scipy's Gumbel density far in its left tail
            want = by_quadrature(p_law, q_law, lo, hi)
        assert D.kl_divergence(p, q).item() == pytest.approx(want, rel=1e-4, abs=1e-6), type(p).__name__
    assert D.kl_divergence(D.Pareto(1.0, 3.0), D.Pareto(2.0, 3.0)).item() == math.inf
    k = np.arange(21)
    p_law, q_law = stats.binom(20, 0.3), stats.binom(20, 0.6)
    want = float(np.sum(p_law.pmf(k) * (p_law.logpmf(k) - q_law.logpmf(k))))
    got = D.kl_divergence(D.Binomial(20, probs=_t(0.3)), D.Binomial(20, probs=_t(0.6))).item()
    assert got == pytest.approx(want, rel=1e-5)
    with pytest.raises(NotImplementedError, match="Binomials with different total counts"):
        D.kl_divergence(D.Binomial(20, probs=_t(0.3)), D.Binomial(10, probs=_t(0.3)))
