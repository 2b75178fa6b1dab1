"""The gamma-based distributions (Gamma, Chi2, Exponential, Beta, Dirichlet) and Laplace,
StudentT and LogNormal against scipy.stats: densities, entropies, moments, cdfs, closed-form KL
divergences against numerical integrals, seeded draws against each law's cdf
(Kolmogorov–Smirnov), and the reparametrised gamma gradient against the derivative of scipy's
gamma quantile."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
from scipy import integrate, special, stats

import ferrograd as fg

D = fg.distributions


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(29)


def _t(values: object) -> fg.Tensor:
    return fg.tensor(np.asarray(values, dtype=np.float32))


def test_gamma_chi2_and_exponential_match_scipy(rng: np.random.Generator) -> None:
    alpha, rate = np.float32([0.3, 1.0, 4.5, 60.0]), np.float32([2.0, 0.5, 1.0, 3.0])
    x = rng.uniform(0.05, 30, 4).astype(np.float32)
    gamma, law = D.Gamma(_t(alpha), _t(rate)), stats.gamma(alpha, scale=1 / rate)
    np.testing.assert_allclose(gamma.log_prob(_t(x)).numpy(), law.logpdf(x), rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(gamma.entropy().numpy(), law.entropy(), rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(gamma.mean.numpy(), law.mean(), rtol=1e-6)
    np.testing.assert_allclose(gamma.variance.numpy(), law.var(), rtol=1e-6)
    np.testing.assert_allclose(gamma.mode.numpy(), np.maximum((alpha - 1) / rate, 0), rtol=1e-6)
    chi2 = D.Chi2(_t([1.0, 3.0, 10.0]))
    np.testing.assert_allclose(chi2.log_prob(_t([0.5, 2.0, 9.0])).numpy(),
                               stats.chi2([1, 3, 10]).logpdf([0.5, 2.0, 9.0]), rtol=2e-5)
    np.testing.assert_allclose(chi2.df.numpy(), [1.0, 3.0, 10.0])
    exponential, law = D.Exponential(_t(rate)), stats.expon(scale=1 / rate)
    np.testing.assert_allclose(exponential.log_prob(_t(x)).numpy(), law.logpdf(x), rtol=2e-6, atol=1e-5)
    np.testing.assert_allclose(exponential.cdf(_t(x)).numpy(), law.cdf(x), rtol=2e-6)
    np.testing.assert_allclose(exponential.icdf(_t([0.1, 0.5, 0.9, 0.99])).numpy(),
                               law.ppf([0.1, 0.5, 0.9, 0.99]), rtol=2e-6)
    np.testing.assert_allclose(exponential.entropy().numpy(), law.entropy(), rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(exponential.variance.numpy(), law.var(), rtol=1e-6)


def test_beta_and_dirichlet_match_scipy(rng: np.random.Generator) -> None:
    a, b = np.float32([0.5, 2.0, 7.0]), np.float32([3.0, 2.0, 0.8])
    x = np.float32([0.1, 0.5, 0.95])
    beta, law = D.Beta(_t(a), _t(b)), stats.beta(a, b)
    np.testing.assert_allclose(beta.log_prob(_t(x)).numpy(), law.logpdf(x), rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(beta.entropy().numpy(), law.entropy(), rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(beta.mean.numpy(), law.mean(), rtol=1e-6)
    np.testing.assert_allclose(beta.variance.numpy(), law.var(), rtol=1e-5)
    alpha = np.float32([[0.5, 2.0, 1.5], [4.0, 4.0, 9.0]])
    point = np.float32([0.2, 0.3, 0.5])
    dirichlet = D.Dirichlet(_t(alpha))
    assert dirichlet.batch_shape == (2,) and dirichlet.event_shape == (3,)
    np.testing.assert_allclose(dirichlet.log_prob(_t(point)).numpy(),
                               [stats.dirichlet(row).logpdf(point) for row in alpha], rtol=2e-5)
    np.testing.assert_allclose(dirichlet.entropy().numpy(), [stats.dirichlet(row).entropy() for row in alpha],
                               rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(dirichlet.mean.numpy(), [stats.dirichlet(row).mean() for row in alpha], rtol=1e-6)
    np.testing.assert_allclose(dirichlet.variance.numpy(), [stats.dirichlet(row).var() for row in alpha], rtol=1e-5)


def test_laplace_student_t_and_log_normal_match_scipy(rng: np.random.Generator) -> None:
    x = rng.normal(0, 3, 5).astype(np.float32)
    laplace, law = D.Laplace(_t([1.0]), _t([2.0])), stats.laplace(1.0, 2.0)
    np.testing.assert_allclose(laplace.log_prob(_t(x)).numpy(), law.logpdf(x), rtol=2e-6)
    np.testing.assert_allclose(laplace.cdf(_t(x)).numpy(), law.cdf(x), rtol=2e-6)
    np.testing.assert_allclose(laplace.entropy().numpy(), law.entropy(), rtol=2e-6)
    np.testing.assert_allclose(laplace.variance.numpy(), law.var(), rtol=1e-6)
    df = np.float32([0.8, 1.5, 3.0, 30.0])
    student = D.StudentT(_t(df), 1.0, 2.0)
    law = stats.t(df.astype(np.float64), 1.0, 2.0)
    np.testing.assert_allclose(student.log_prob(_t(x[:4])).numpy(), law.logpdf(x[:4]), rtol=2e-5)
    np.testing.assert_allclose(student.entropy().numpy(), law.entropy(), rtol=2e-5)
    np.testing.assert_array_equal(np.isnan(student.mean.numpy()), [True, False, False, False])
    variance = student.variance.numpy()
    assert np.isnan(variance[0]) and variance[1] == np.inf
    np.testing.assert_allclose(variance[2:], law.var()[2:], rtol=1e-6)
    positive = np.abs(x) + 0.1
    log_normal, law = D.LogNormal(_t([0.5]), _t([0.7])), stats.lognorm(0.7, scale=np.exp(0.5))
    np.testing.assert_allclose(log_normal.log_prob(_t(positive)).numpy(), law.logpdf(positive), rtol=2e-5)
    np.testing.assert_allclose(log_normal.cdf(_t(positive)).numpy(), law.cdf(positive), rtol=2e-5)
    np.testing.assert_allclose(log_normal.entropy().numpy(), law.entropy(), rtol=2e-6)
    np.testing.assert_allclose(log_normal.mean.numpy(), law.mean(), rtol=2e-6)
    np.testing.assert_allclose(log_normal.variance.numpy(), law.var(), rtol=2e-5)


def _kl_by_quadrature(p: Callable[[float], float], q: Callable[[float], float], lo: float, hi: float) -> float:
    def integrand(x: float) -> float:
        px = p(x)
        return px * (np.log(px) - np.log(q(x))) if px > 0 else 0.0

    return integrate.quad(integrand, lo, hi, limit=400, epsabs=1e-12, epsrel=1e-10)[0]


def test_kl_divergences_match_numerical_integrals() -> None:
    cases = [
        (D.Gamma(2.5, 1.5), D.Gamma(4.0, 0.7), stats.gamma(2.5, scale=1 / 1.5), stats.gamma(4.0, scale=1 / 0.7),
         0, np.inf),
        (D.Chi2(3.0), D.Chi2(5.0), stats.chi2(3), stats.chi2(5), 0, np.inf),
        (D.Exponential(2.0), D.Exponential(0.5), stats.expon(scale=0.5), stats.expon(scale=2.0), 0, np.inf),
        (D.Beta(2.0, 3.0), D.Beta(0.7, 1.2), stats.beta(2, 3), stats.beta(0.7, 1.2), 0, 1),
        (D.Laplace(0.5, 1.0), D.Laplace(-1.0, 2.5), stats.laplace(0.5, 1.0), stats.laplace(-1.0, 2.5), -np.inf,
         np.inf),
    ]
    for p, q, p_law, q_law, lo, hi in cases:
        want = _kl_by_quadrature(p_law.pdf, q_law.pdf, lo, hi)
        assert D.kl_divergence(p, q).item() == pytest.approx(want, rel=2e-5, abs=1e-6), type(p).__name__
    # A Dirichlet over two categories is the Beta of its first coordinate.
    dirichlet = D.kl_divergence(D.Dirichlet(_t([2.0, 3.0])), D.Dirichlet(_t([0.7, 1.2])))
    assert dirichlet.item() == pytest.approx(D.kl_divergence(D.Beta(2.0, 3.0), D.Beta(0.7, 1.2)).item(), rel=1e-5)


@pytest.mark.parametrize("name", ["gamma_small", "gamma_one", "gamma_large", "chi2", "exponential", "beta",
                                  "dirichlet", "laplace", "student_t", "log_normal"])
def test_seeded_draws_follow_the_law(name: str) -> None:
    """20,000 draws pass a Kolmogorov–Smirnov test against the law's cdf (p > 0.001 for these
    seeds; a sampler off by a few percent anywhere fails it), and the same seed gives the same draws."""
    cases = {
        "gamma_small": (lambda: D.Gamma(0.2, 3.0), stats.gamma(0.2, scale=1 / 3).cdf),
        "gamma_one": (lambda: D.Gamma(1.0, 1.0), stats.gamma(1.0).cdf),
        "gamma_large": (lambda: D.Gamma(250.0, 0.5), stats.gamma(250.0, scale=2.0).cdf),
        "chi2": (lambda: D.Chi2(4.0), stats.chi2(4).cdf),
        "exponential": (lambda: D.Exponential(3.0), stats.expon(scale=1 / 3).cdf),
        "beta": (lambda: D.Beta(0.5, 3.0), stats.beta(0.5, 3.0).cdf),
        "dirichlet": (lambda: D.Dirichlet(_t([0.5, 2.0, 1.0])), stats.beta(2.0, 1.5).cdf),
        "laplace": (lambda: D.Laplace(1.0, 2.0), stats.laplace(1.0, 2.0).cdf),
        "student_t": (lambda: D.StudentT(3.0, 1.0, 2.0), stats.t(3.0, 1.0, 2.0).cdf),
        "log_normal": (lambda: D.LogNormal(0.5, 0.7), stats.lognorm(0.7, scale=np.exp(0.5)).cdf),
    }
    make, cdf = cases[name]
    fg.manual_seed(11)
    draws = make().sample((20_000,)).numpy()
    fg.manual_seed(11)
    np.testing.assert_array_equal(make().sample((20_000,)).numpy(), draws)
    if name == "dirichlet":
        np.testing.assert_allclose(draws.sum(-1), 1.0, rtol=1e-6)
        draws = draws[:, 1]  # the marginal of a coordinate is Beta(α_i, Σα - α_i)
    assert np.isfinite(draws).all()
    assert stats.kstest(draws, cdf).pvalue > 1e-3


def test_reparametrised_gamma_draws_move_with_their_quantile() -> None:
    """Each draw's gradient in α is the derivative of scipy's gamma quantile at the draw's level
    (a central difference of gammaincinv), and the gradient in the rate is -z / rate."""
    fg.manual_seed(3)
    alpha = fg.tensor(np.float32([0.05, 0.4, 1.0, 3.0, 40.0]), requires_grad=True)
    rate = fg.tensor(np.float32([1.0, 2.0, 0.5, 1.0, 4.0]), requires_grad=True)
    draws = D.Gamma(alpha, rate).rsample()
    draws.sum().backward()
    a = alpha.detach().numpy().astype(np.float64)
    r = rate.detach().numpy().astype(np.float64)
    z = draws.detach().numpy().astype(np.float64) * r  # the standard gamma draws
    level = special.gammainc(a, z)
    step = 1e-6 * a
    quantile_slope = (special.gammaincinv(a + step, level) - special.gammaincinv(a - step, level)) / (2 * step)
    np.testing.assert_allclose(alpha.grad.numpy(), quantile_slope / r, rtol=2e-4)
    np.testing.assert_allclose(rate.grad.numpy(), -z / r**2, rtol=2e-6)


def test_pathwise_gradients_have_the_right_expectation() -> None:
    """Averaged over 100,000 draws, d mean(draws) / d parameter is the derivative of the mean:
    1 / rate for a Gamma's α, β / (α + β)² for a Beta's α, and -α_j / (Σα)² + [i = j] / Σα for a
    Dirichlet coordinate (within a few Monte Carlo standard errors)."""
    fg.manual_seed(5)
    n = 100_000
    alpha = fg.tensor(np.float32([0.7, 3.0]), requires_grad=True)
    D.Gamma(alpha, 2.0).rsample((n,)).mean(0).sum().backward()
    np.testing.assert_allclose(alpha.grad.numpy(), [0.5, 0.5], rtol=0.02)
    a1 = fg.tensor(np.float32(2.0), requires_grad=True)
    D.Beta(a1, 3.0).rsample((n,)).mean().backward()
    assert a1.grad.item() == pytest.approx(3.0 / 25.0, rel=0.03)
    concentration = fg.tensor(np.float32([1.0, 2.0, 3.0]), requires_grad=True)
    D.Dirichlet(concentration).rsample((n,)).mean(0)[0].backward()
    np.testing.assert_allclose(concentration.grad.numpy(), [5 / 36, -1 / 36, -1 / 36], rtol=0.05, atol=2e-3)


def test_bad_parameters_raise_naming_the_argument() -> None:
    with pytest.raises(ValueError, match="Gamma: argument `concentration` expected a positive value, got 0"):
        D.Gamma(0.0, 1.0)
    with pytest.raises(ValueError, match="Beta: argument `concentration0` expected a positive value, got -1"):
        D.Beta(1.0, -1.0)
    with pytest.raises(ValueError, match="Dirichlet: argument `concentration` expected at least one dimension"):
        D.Dirichlet(fg.tensor(1.0))
    with pytest.raises(ValueError, match="StudentT: argument `df` expected a positive value, got 0"):
        D.StudentT(0.0)
    with pytest.raises(NotImplementedError, match="standard_gamma_grad: no derivative"):
        alpha = fg.tensor(np.float32([2.0]), requires_grad=True)
        draws = D.Gamma(alpha, 1.0).rsample()
        (first,) = fg.autograd.grad(draws.sum(), alpha, create_graph=True)
        first.sum().backward()
