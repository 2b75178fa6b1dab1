"""Randomized smoothing: the binomial bounds against scipy, and certification of an affine
classifier against a reference that replays the same Philox noise."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from ferrograd.attacks import ABSTAIN, Smooth, certified_accuracy
from ferrograd.attacks.smoothing import binomial_test, lower_confidence_bound

stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("k,n", [(990, 1000), (50, 100), (1, 10), (10000, 10000), (9200, 10000), (0, 50)])
def test_bounds_and_tests_equal_scipys(k: int, n: int) -> None:
    expected = stats.beta.ppf(0.001, k, n - k + 1) if k else 0.0
    assert lower_confidence_bound(k, n, 0.001) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert binomial_test(k, n) == pytest.approx(stats.binomtest(k, n, 0.5).pvalue, rel=1e-9)


def _affine(seed: int = 0) -> tuple[nn.Module, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((2, 6)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    model = nn.Linear(6, 2)
    with fg.no_grad():
        model.weight.copy_(fg.tensor(w))
        model.bias.copy_(fg.tensor(b))
    return model, w, b


def _replayed_counts(generator: fg.Generator, x: np.ndarray, n: int, batch: int, sigma: float, w: np.ndarray,
                     b: np.ndarray) -> np.ndarray:
    counts = np.zeros(2, dtype=np.int64)
    while n > 0:
        size = min(batch, n)
        noisy = x[None] + fg.randn(size, *x.shape, generator=generator).numpy() * np.float32(sigma)
        counts += np.bincount((noisy @ w.T + b).argmax(1), minlength=2)
        n -= size
    return counts


def test_certify_equals_the_replayed_reference_and_its_radius_is_sound() -> None:
    """For an affine classifier the smoothed classifier's exact L2 robustness radius is the
    distance to its decision boundary; the certified radius must be below it, and close."""
    model, w, b = _affine()
    direction = (w[1] - w[0]) / np.linalg.norm(w[1] - w[0])
    offset = (b[1] - b[0]) / np.linalg.norm(w[1] - w[0])
    x = (0.6 - offset) * direction.astype(np.float32)  # signed distance 0.6 on class 1's side
    distance = float((x @ (w[1] - w[0]) + b[1] - b[0]) / np.linalg.norm(w[1] - w[0]))
    assert distance == pytest.approx(0.6, rel=1e-5)
    sigma, n0, n, alpha, batch = 0.5, 100, 5000, 0.001, 512
    label, radius = Smooth(model, 2, sigma, seed=3).certify(x, n0, n, alpha, batch)
    replay = fg.Generator().manual_seed(3)
    guess = int(np.argmax(_replayed_counts(replay, x, n0, batch, sigma, w, b)))
    successes = int(_replayed_counts(replay, x, n, batch, sigma, w, b)[guess])
    expected = sigma * stats.norm.ppf(stats.beta.ppf(alpha, successes, n - successes + 1))
    assert label == guess == 1
    assert radius == pytest.approx(expected, rel=1e-7)
    assert 0.8 * distance < radius < distance


def test_predict_abstains_on_the_boundary_and_certify_dataset() -> None:
    model, w, b = _affine()
    normal = (w[1] - w[0]) / np.linalg.norm(w[1] - w[0])
    offset = (b[1] - b[0]) / np.linalg.norm(w[1] - w[0])
    on_boundary = (-offset * normal).astype(np.float32)
    smooth = Smooth(model, 2, 0.5, seed=0)
    assert smooth.predict(on_boundary, n=2000, alpha=0.001) == ABSTAIN
    assert smooth.certify(on_boundary, 100, 2000, 0.001) == (ABSTAIN, 0.0)
    far = (on_boundary + 3.0 * normal).astype(np.float32)
    assert smooth.predict(far, n=2000, alpha=0.001) == 1
    x = np.stack([on_boundary + t * normal for t in (-2.0, -0.5, 0.5, 2.0)]).astype(np.float32)
    y = np.array([0, 0, 1, 0])
    result = smooth.certify_dataset(x, n0=100, n=2000, labels=y)
    np.testing.assert_array_equal(result["prediction"], [0, 0, 1, 1])
    np.testing.assert_array_equal(result["correct"], [True, True, True, False])
    accuracies = [certified_accuracy(result, r) for r in (0.0, 0.25, 1.0, 3.0)]
    assert accuracies == sorted(accuracies, reverse=True) and accuracies[0] == 0.75 and accuracies[-1] == 0.0
    with pytest.raises(ValueError, match="sigma"):
        Smooth(model, 2, 0.0)
