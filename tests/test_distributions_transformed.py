"""InverseGamma, Kumaraswamy and OneHotCategoricalStraightThrough (against scipy's inverse gamma
and numerical integrals of the Kumaraswamy density), the transforms exported under
``fg.distributions`` (Softplus and Abs among them), and ``register_kl``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st

import ferrograd as fg

D = fg.distributions


def test_inverse_gamma_matches_scipy() -> None:
    a, rate = np.array([3.0, 0.7, 5.0]), np.array([2.0, 1.5, 0.5])
    dist = D.InverseGamma(fg.tensor(a.astype(np.float32)), fg.tensor(rate.astype(np.float32)))
    x = np.array([0.5, 2.0, 0.1])
    np.testing.assert_allclose(dist.log_prob(fg.tensor(x.astype(np.float32))).numpy(),
                               st.invgamma.logpdf(x, a, scale=rate), rtol=1e-5)
    np.testing.assert_allclose(dist.entropy().numpy(), st.invgamma.entropy(a, scale=rate), rtol=1e-5)
    np.testing.assert_allclose(dist.mean.numpy(), [1.0, np.inf, 0.125], rtol=1e-6)
    np.testing.assert_allclose(dist.variance.numpy()[[0, 2]], st.invgamma.var(a[[0, 2]], scale=rate[[0, 2]]), rtol=1e-5)
    np.testing.assert_allclose(dist.mode.numpy(), rate / (a + 1), rtol=1e-6)
    fg.manual_seed(0)
    draws = dist.sample((20_000,)).numpy()
    for column in range(3):
        assert st.kstest(draws[:, column], st.invgamma(a[column], scale=rate[column]).cdf).pvalue > 1e-3
    concentration = fg.tensor([3.0], requires_grad=True)
    D.InverseGamma(concentration, 2.0).rsample((100,)).mean().backward()
    assert concentration.grad is not None and concentration.grad.item() < 0  # larger a, smaller 1/X


def test_kumaraswamy_against_its_density(rng: np.random.Generator) -> None:
    a, b = np.array([2.0, 0.5, 1.3]), np.array([3.0, 2.0, 0.8])
    dist = D.Kumaraswamy(fg.tensor(a.astype(np.float32)), fg.tensor(b.astype(np.float32)))

    def pdf(t: float, i: int) -> float:
        return a[i] * b[i] * t ** (a[i] - 1) * (1 - t ** a[i]) ** (b[i] - 1)

    x = np.array([0.3, 0.6, 0.9])
    np.testing.assert_allclose(dist.log_prob(fg.tensor(x.astype(np.float32))).numpy(),
                               [np.log(pdf(v, i)) for i, v in enumerate(x)], rtol=1e-5)
    for i in range(3):
        mean = si.quad(lambda t: t * pdf(t, i), 0, 1)[0]
        second = si.quad(lambda t: t * t * pdf(t, i), 0, 1)[0]
        entropy = si.quad(lambda t: -pdf(t, i) * np.log(pdf(t, i)), 0, 1, limit=200)[0]
        assert dist.mean.numpy()[i] == pytest.approx(mean, rel=1e-5)
        assert dist.variance.numpy()[i] == pytest.approx(second - mean ** 2, rel=1e-4)
        assert dist.entropy().numpy()[i] == pytest.approx(entropy, rel=1e-4, abs=1e-5)
    assert dist.mode.numpy()[0] == pytest.approx(((a[0] - 1) / (a[0] * b[0] - 1)) ** (1 / a[0]), rel=1e-6)
    assert np.isnan(dist.mode.numpy()[1])
    fg.manual_seed(1)
    draws = dist.sample((30_000,)).numpy()
    for i in range(3):
        cdf = lambda t, i=i: 1 - (1 - np.clip(t, 0, 1) ** a[i]) ** b[i]  # noqa: E731
        assert st.kstest(draws[:, i], cdf).pvalue > 1e-3


def test_straight_through_one_hot_draws() -> None:
    logits = fg.tensor([0.0, 1.0, -1.0], requires_grad=True)
    dist = D.OneHotCategoricalStraightThrough(logits=logits)
    fg.manual_seed(0)
    draws = dist.rsample((6,))
    values = draws.detach().numpy()
    assert set(np.unique(values)) <= {0.0, 1.0} and np.all(values.sum(1) == 1.0)
    (draws * fg.tensor([1.0, 2.0, 3.0])).sum().backward()
    # The gradient is that of 6 * sum(probs * w): softmax's Jacobian times w.
    probs = np.exp([0.0, 1.0, -1.0]) / np.exp([0.0, 1.0, -1.0]).sum()
    w = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(logits.grad.numpy(), 6 * probs * (w - probs @ w), rtol=1e-5)


def test_transforms_and_register_kl() -> None:
    softplus = D.SoftplusTransform()
    x = fg.tensor([-30.0, 0.0, 30.0])
    y = softplus(x)
    np.testing.assert_allclose(softplus.inv(y).numpy(), x.numpy(), rtol=1e-6)
    np.testing.assert_allclose(softplus.log_abs_det_jacobian(x, y).numpy(), -np.logaddexp(0, -x.numpy()), rtol=1e-6)
    assert D.AbsTransform()(fg.tensor([-2.0])).item() == 2.0
    assert D.identity_transform(x) is not None and np.all(D.identity_transform(x).numpy() == x.numpy())
    half = D.TransformedDistribution(D.Normal(0.0, 1.0), [D.AbsTransform()])
    assert half.sample((10,)).numpy().min() >= 0

    class Shifted(D.Normal):
        pass

    @D.register_kl(Shifted, D.Normal)
    def _shifted_kl(p: D.Normal, q: D.Normal) -> fg.Tensor:
        return p.loc * 0 + 7.0

    assert D.kl_divergence(Shifted(0.0, 1.0), D.Normal(1.0, 2.0)).item() == 7.0
    # Other Normals keep the closed form.
    assert D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(1.0, 2.0)).item() == pytest.approx(
        np.log(2.0) + (1 + 1) / 8 - 0.5, rel=1e-6)


def test_generalized_pareto_matches_scipy() -> None:
    loc, scale, xi = np.array([0.0, 1.0, -1.0]), np.array([1.0, 2.0, 0.5]), np.array([0.3, 0.0, -0.4])
    dist = D.GeneralizedPareto(fg.tensor(loc.astype(np.float32)), fg.tensor(scale.astype(np.float32)),
                               fg.tensor(xi.astype(np.float32)))
    for x in (np.array([0.5, 2.0, -0.5]), np.array([3.0, 1.0, 0.2])):
        np.testing.assert_allclose(dist.log_prob(fg.tensor(x.astype(np.float32))).numpy(),
                                   st.genpareto.logpdf(x, xi, loc, scale), rtol=1e-5)
        np.testing.assert_allclose(dist.cdf(fg.tensor(x.astype(np.float32))).numpy(), st.genpareto.cdf(x, xi, loc, scale),
                                   rtol=1e-5)
    # Outside the support: below loc, and past loc - scale / ξ for ξ < 0.
    assert np.all(np.isneginf(dist.log_prob(fg.tensor([-1.0, 0.0, 1.5])).numpy()))
    np.testing.assert_allclose(dist.mean.numpy(), st.genpareto.mean(xi, loc, scale), rtol=1e-6)
    np.testing.assert_allclose(dist.variance.numpy(), st.genpareto.var(xi, loc, scale), rtol=1e-5)
    np.testing.assert_allclose(dist.entropy().numpy(), st.genpareto.entropy(xi, loc, scale), rtol=1e-5)
    np.testing.assert_allclose(dist.icdf(fg.tensor([0.5, 0.5, 0.5])).numpy(), st.genpareto.ppf(0.5, xi, loc, scale),
                               rtol=1e-5)
    fg.manual_seed(0)
    draws = dist.sample((20_000,)).numpy()
    for i in range(3):
        assert st.kstest(draws[:, i], st.genpareto(xi[i], loc[i], scale[i]).cdf).pvalue > 1e-3


def test_low_rank_multivariate_normal(rng: np.random.Generator) -> None:
    W = rng.standard_normal((4, 2)).astype(np.float32)
    diagonal = np.array([0.5, 1.0, 2.0, 0.3], dtype=np.float32)
    loc = rng.standard_normal(4).astype(np.float32)
    dist = D.LowRankMultivariateNormal(fg.tensor(loc), fg.tensor(W), fg.tensor(diagonal))
    covariance = W.astype(np.float64) @ W.T + np.diag(diagonal)
    reference = st.multivariate_normal(loc, covariance)
    value = rng.standard_normal(4)
    assert dist.log_prob(fg.tensor(value.astype(np.float32))).item() == pytest.approx(reference.logpdf(value), rel=1e-5)
    assert dist.entropy().item() == pytest.approx(reference.entropy(), rel=1e-5)
    np.testing.assert_allclose(dist.variance.numpy(), np.diag(covariance), rtol=1e-6)
    np.testing.assert_allclose(dist.covariance_matrix.numpy(), covariance, rtol=1e-5, atol=1e-6)
    fg.manual_seed(1)
    draws = dist.sample((40_000,)).numpy()
    # Sampling error of a covariance entry: about sqrt(2 / n) of its size (n = 40,000).
    np.testing.assert_allclose(np.cov(draws.T), covariance, rtol=0.03, atol=0.05)
    factor = fg.tensor(W, requires_grad=True)
    D.LowRankMultivariateNormal(fg.tensor(loc), factor, fg.tensor(diagonal)).rsample((50,)).pow(2).sum().backward()
    assert factor.grad is not None and np.abs(factor.grad.numpy()).sum() > 0
    with pytest.raises(ValueError, match="LowRankMultivariateNormal: expected `cov_factor`"):
        D.LowRankMultivariateNormal(fg.tensor(loc), fg.tensor(W[:3]), fg.tensor(diagonal))
