"""ferrograd.distributions against scipy.stats (densities, masses, entropies, cdfs), closed-form
KL divergences, sample moments, and the pathwise gradients of reparametrised draws."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import ferrograd as fg

D = fg.distributions


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(23)


def test_normal_and_uniform_match_scipy(rng) -> None:
    loc = rng.standard_normal((3, 4)).astype(np.float32)
    scale = rng.uniform(0.5, 2, 4).astype(np.float32)
    v = rng.standard_normal((2, 3, 4)).astype(np.float32)
    normal = D.Normal(fg.tensor(loc), fg.tensor(scale))
    assert normal.batch_shape == (3, 4) and normal.event_shape == ()
    ref = stats.norm(loc, scale)
    np.testing.assert_allclose(normal.log_prob(fg.tensor(v)).numpy(), ref.logpdf(v), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(normal.cdf(fg.tensor(v)).numpy(), ref.cdf(v), atol=1e-6)
    np.testing.assert_allclose(normal.entropy().numpy(), ref.entropy(), rtol=1e-6)
    np.testing.assert_allclose(normal.stddev.numpy(), np.broadcast_to(scale, (3, 4)), rtol=1e-6)
    low = rng.uniform(-1, 0, 3).astype(np.float32)
    high = low + rng.uniform(0.5, 2, 3).astype(np.float32)
    uniform = D.Uniform(fg.tensor(low), fg.tensor(high))
    inside, outside = (low + 0.25).astype(np.float32), (high + 0.25).astype(np.float32)
    np.testing.assert_allclose(uniform.log_prob(fg.tensor(inside)).numpy(), stats.uniform(low, high - low).logpdf(inside),
                               rtol=1e-6)
    assert np.all(np.isneginf(uniform.log_prob(fg.tensor(outside)).numpy()))
    np.testing.assert_allclose(uniform.entropy().numpy(), np.log(high - low), rtol=1e-6)
    np.testing.assert_allclose(uniform.variance.numpy(), (high - low) ** 2 / 12, rtol=1e-6)


@pytest.mark.parametrize("given", ["probs", "logits"])
def test_bernoulli_and_categorical_match_scipy(rng, given: str) -> None:
    p = rng.uniform(0.05, 0.95, 5).astype(np.float32)
    x = rng.integers(0, 2, (2, 5)).astype(np.float32)
    bern = D.Bernoulli(probs=fg.tensor(p)) if given == "probs" else D.Bernoulli(logits=fg.tensor(np.log(p / (1 - p))))
    np.testing.assert_allclose(bern.log_prob(fg.tensor(x)).numpy(), stats.bernoulli(p).logpmf(x), rtol=1e-5)
    np.testing.assert_allclose(bern.entropy().numpy(), stats.bernoulli(p).entropy(), rtol=1e-5)
    weights = rng.uniform(0.1, 1, (3, 6)).astype(np.float32)
    probs = weights / weights.sum(1, keepdims=True)
    cat = D.Categorical(probs=fg.tensor(weights)) if given == "probs" else D.Categorical(logits=fg.tensor(np.log(weights) + 2))
    assert cat.batch_shape == (3,) and cat.num_categories == 6
    idx = rng.integers(0, 6, (4, 3))
    np.testing.assert_allclose(cat.log_prob(fg.tensor(idx)).numpy(), np.log(probs[np.arange(3), idx]), rtol=1e-5)
    np.testing.assert_allclose(cat.entropy().numpy(), [stats.entropy(row) for row in probs], rtol=1e-5)
    with pytest.raises(ValueError, match="Categorical: expected exactly one of `probs` and `logits`"):
        D.Categorical()


def test_kl_divergences_match_their_closed_forms(rng) -> None:
    mu_p, mu_q = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    s_p, s_q = rng.uniform(0.5, 2, 4).astype(np.float32), rng.uniform(0.5, 2, 4).astype(np.float32)
    kl = D.kl_divergence(D.Normal(fg.tensor(mu_p), fg.tensor(s_p)), D.Normal(fg.tensor(mu_q), fg.tensor(s_q)))
    expected = np.log(s_q / s_p) + (s_p**2 + (mu_p - mu_q) ** 2) / (2 * s_q**2) - 0.5
    np.testing.assert_allclose(kl.numpy(), expected, rtol=1e-5, atol=1e-6)
    diag = D.kl_divergence(D.Independent(D.Normal(fg.tensor(mu_p), fg.tensor(s_p)), 1),
                           D.Independent(D.Normal(fg.tensor(mu_q), fg.tensor(s_q)), 1))
    np.testing.assert_allclose(diag.numpy(), expected.sum(), rtol=1e-5)
    p, q = rng.dirichlet(np.ones(5), 2).astype(np.float32), rng.dirichlet(np.ones(5), 2).astype(np.float32)
    kl_cat = D.kl_divergence(D.Categorical(probs=fg.tensor(p)), D.Categorical(probs=fg.tensor(q)))
    np.testing.assert_allclose(kl_cat.numpy(), (p * np.log(p / q)).sum(1), rtol=1e-4, atol=1e-6)
    a, b = np.float32([0.2, 0.7]), np.float32([0.5, 0.1])
    kl_b = D.kl_divergence(D.Bernoulli(probs=fg.tensor(a)), D.Bernoulli(probs=fg.tensor(b)))
    np.testing.assert_allclose(kl_b.numpy(), a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b)), rtol=1e-5)
    zero, one = fg.tensor(np.float32([0.0, 0.0])), fg.tensor(np.float32([1.0, 1.0]))
    kl_u = D.kl_divergence(D.Uniform(zero, one), D.Uniform(zero - 0.5, one))
    np.testing.assert_allclose(kl_u.numpy(), np.log(1.5))
    assert np.all(np.isinf(D.kl_divergence(D.Uniform(zero - 0.5, one), D.Uniform(zero, one)).numpy()))
    with pytest.raises(NotImplementedError, match="no closed form for Normal and Uniform"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Uniform(zero, one))


def test_samples_have_the_moments_and_reparametrised_gradients(rng) -> None:
    """200,000 seeded draws land within a few standard errors of each law's mean and variance;
    the pathwise gradient of mean(rsample) is 1 for loc and the draws' mean of eps for scale."""
    fg.manual_seed(0)
    n = 200_000
    loc, scale = fg.tensor(np.float32([1.0, -2.0]), requires_grad=True), fg.tensor(np.float32([0.5, 3.0]), requires_grad=True)
    normal = D.Normal(loc, scale)
    draws = normal.rsample((n,))
    assert tuple(draws.shape) == (n, 2)
    values = draws.detach().numpy()
    assert np.all(np.abs(values.mean(0) - [1.0, -2.0]) < 5 * np.float32([0.5, 3.0]) / np.sqrt(n))
    np.testing.assert_allclose(values.std(0), [0.5, 3.0], rtol=0.01)
    draws.mean(0).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [1.0, 1.0], rtol=1e-6)
    eps = (values - np.float32([1.0, -2.0])) / np.float32([0.5, 3.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.mean(0), atol=1e-5)
    u = D.Uniform(-1.0, 3.0).sample((n,)).numpy()
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.02
    b = D.Bernoulli(probs=fg.tensor(np.float32([0.1, 0.8]))).sample((n,)).numpy()
    np.testing.assert_allclose(b.mean(0), [0.1, 0.8], atol=0.01)
    probs = np.float32([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])
    c = D.Categorical(probs=fg.tensor(probs)).sample((n,)).numpy()
    assert c.shape == (n, 2)
    for row in range(2):
        np.testing.assert_allclose(np.bincount(c[:, row], minlength=3) / n, probs[row], atol=0.01)
    with pytest.raises(NotImplementedError, match="Categorical has no reparametrised sampler"):
        D.Categorical(probs=fg.tensor(probs)).rsample()
