"""Randomized smoothing (Cohen, Rosenfeld and Kolter, 2019): certified L2 robustness. The smoothed
classifier ``g(x) = argmax_c P(f(x + N(0, σ² I)) = c)`` is estimated by Monte Carlo over the base
model ``f``; if the top class's probability is at least ``p_A`` (a Clopper-Pearson lower bound at
confidence ``1 - alpha``), ``g`` provably keeps its prediction within the L2 radius
``σ Φ⁻¹(p_A)``. The noise comes from a seeded Philox :class:`ferrograd.Generator`; the base model
runs in Rust, batch by batch, without gradients."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Optional

import numpy as np

from .._core import Tensor
from .._generator import Generator
from ..autograd import no_grad

#: The value ``predict`` and ``certify`` return when the smoothed classifier abstains.
ABSTAIN = -1


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``, summed in log space from the pmf at ``k``
    (successive pmf ratios ``(n - j) / (j + 1) * p / (1 - p)``)."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_first = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                 + k * math.log(p) + (n - k) * math.log1p(-p))
    j = np.arange(k, n, dtype=np.float64)
    steps = np.log((n - j) / (j + 1)) + math.log(p) - math.log1p(-p)
    logs = np.concatenate([[log_first], log_first + np.cumsum(steps)])
    top = logs.max()
    return float(min(1.0, math.exp(top) * np.exp(logs - top).sum()))


def lower_confidence_bound(successes: int, trials: int, alpha: float) -> float:
    """The one-sided Clopper-Pearson lower bound on a binomial proportion at confidence
    ``1 - alpha``: the ``p`` with ``P(X >= successes | trials, p) = alpha`` (found by bisection; 0
    for no successes). It equals the ``alpha`` quantile of Beta(successes, trials - successes + 1)."""
    if successes <= 0:
        return 0.0
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (low + high)
        if binomial_upper_tail(successes, trials, mid) < alpha:
            low = mid
        else:
            high = mid
    return low


def binomial_test(successes: int, trials: int) -> float:
    """The two-sided p-value of ``successes`` out of ``trials`` under a fair coin."""
    if trials == 0:
        return 1.0
    extreme = max(successes, trials - successes)
    return min(1.0, 2.0 * binomial_upper_tail(extreme, trials, 0.5))


class Smooth:
    """The smoothed version of ``model`` (a classifier over ``num_classes`` classes, inputs in
    their natural range, normalisation inside the model) under Gaussian noise of std ``sigma``.
    ``predict`` and ``certify`` take one input (no batch axis), as Cohen et al.'s code does;
    ``certify_dataset`` runs ``certify`` over a dataset."""

    def __init__(self, model: Any, num_classes: int, sigma: float, seed: int = 0) -> None:
        if num_classes < 2 or not sigma > 0:
            raise ValueError(f"Smooth: expected num_classes >= 2 and sigma > 0, got {num_classes} and {sigma}")
        self.model, self.num_classes, self.sigma = model, int(num_classes), float(sigma)
        self.generator = Generator().manual_seed(seed)

    def _counts(self, x: np.ndarray, n: int, batch_size: int) -> np.ndarray:
        """How often the base model predicts each class over ``n`` noisy copies of ``x``."""
        from .. import randn

        counts = np.zeros(self.num_classes, dtype=np.int64)
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                remaining = n
                while remaining > 0:
                    size = min(batch_size, remaining)
                    noise = randn(size, *x.shape, generator=self.generator).numpy() * np.float32(self.sigma)
                    logits = self.model(Tensor.from_numpy(np.ascontiguousarray(x[None] + noise, dtype=np.float32)))
                    predictions = logits.argmax(1).numpy()
                    counts += np.bincount(predictions, minlength=self.num_classes)[: self.num_classes]
                    remaining -= size
        finally:
            self.model.train(was_training)
        return counts

    @staticmethod
    def _input(x: Any) -> np.ndarray:
        return np.asarray(x.numpy() if isinstance(x, Tensor) else x, dtype=np.float32)

    def predict(self, x: Any, n: int, alpha: float, batch_size: int = 1000) -> int:
        """The smoothed prediction for one input ``x``, or ``ABSTAIN`` when a two-sided binomial
        test cannot tell the top two classes apart at level ``alpha`` over ``n`` samples."""
        counts = self._counts(self._input(x), n, batch_size)
        first, second = np.argsort(-counts, kind="stable")[:2]
        if binomial_test(int(counts[first]), int(counts[first] + counts[second])) > alpha:
            return ABSTAIN
        return int(first)

    def certify(self, x: Any, n0: int, n: int, alpha: float, batch_size: int = 1000) -> tuple[int, float]:
        """``(class, radius)``: the top class of ``n0`` selection samples and the L2 radius within
        which the smoothed prediction is certified with probability ``1 - alpha``, from ``n``
        fresh samples; ``(ABSTAIN, 0.0)`` when the bound on its probability is below 1/2."""
        point = self._input(x)
        guess = int(np.argmax(self._counts(point, n0, batch_size)))
        successes = int(self._counts(point, n, batch_size)[guess])
        bound = lower_confidence_bound(successes, n, alpha)
        if bound < 0.5:
            return ABSTAIN, 0.0
        return guess, self.sigma * NormalDist().inv_cdf(min(bound, 1.0 - 1e-16))

    def certify_dataset(self, data: Any, n0: int = 100, n: int = 10000, alpha: float = 0.001, batch_size: int = 1000,
                        labels: Optional[np.ndarray] = None) -> dict[str, np.ndarray]:
        """``certify`` for every input of ``data`` (a Dataset, ``(X, y)`` arrays, or ``X`` with
        ``labels``): arrays ``prediction``, ``radius`` and ``correct`` (prediction equals the
        label). ``certified_accuracy(result, r)`` reads off the accuracy certified at radius r."""
        from ..training.inputs import as_dataset

        ds = as_dataset((data, labels) if isinstance(data, np.ndarray) else data, "data", "Smooth.certify_dataset")
        inputs, targets = ds.get_batch(list(range(len(ds))))
        results = [self.certify(row, n0, n, alpha, batch_size) for row in np.asarray(inputs)]
        prediction = np.array([r[0] for r in results], dtype=np.int64)
        return {"prediction": prediction, "radius": np.array([r[1] for r in results]),
                "correct": prediction == np.asarray(targets)}


def certified_accuracy(result: dict[str, np.ndarray], radius: float) -> float:
    """The fraction of inputs certified correct at L2 ``radius`` in a ``certify_dataset`` result."""
    return float((result["correct"] & (result["radius"] >= radius)).mean()) if len(result["correct"]) else 0.0
