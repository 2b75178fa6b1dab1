"""Binomial, NegativeBinomial and Multinomial distributions with ``torch.distributions``'
formulas (log-probabilities from the logits). Draws carry no gradient: Binomial halves the trial
count with beta-distributed order statistics (Knuth's recursion) until at most 64 trials are
left, which are summed as Bernoulli draws; NegativeBinomial draws Poisson counts at gamma rates;
Multinomial counts categorical draws."""

from __future__ import annotations

from typing import Optional, Union

import numpy as np

from .. import functional as F
from .._core import Tensor, where_ as _where
from .._poisson_draws import draw_poisson
from .discrete import Categorical, probs_and_logits
from .distribution import Distribution, Shape, as_tensor
from .gamma import standard_gamma

Number = Union[Tensor, float]
_DIRECT_TRIALS = 64


def _log_factorial(n: Tensor) -> Tensor:
    return (n + 1).lgamma()


def draw_binomial(trials: Tensor, probs: Tensor) -> Tensor:
    """Binomial counts for integer-valued float ``trials`` and ``probs`` of one shape."""
    from .. import no_grad, rand

    with no_grad():
        n, p = trials.detach().float(), probs.detach().float()
        counts = n * 0
        while bool((n > _DIRECT_TRIALS).any()):
            large = n > _DIRECT_TRIALS
            # The a-th smallest of n uniforms is Beta(a, n + 1 - a): compare it with p and recurse
            # into the trials below it (successes all) or above it.
            a = (n / 2).floor() + 1
            b = n + 1 - a
            x = standard_gamma(_where(large, a, 1.0))
            y = standard_gamma(_where(large, b, 1.0))
            order = x / (x + y)
            below = order >= p
            counts = counts + _where(large & ~below, a, 0.0)
            n = _where(large, _where(below, a - 1, b - 1), n)
            p = _where(large, _where(below, p / order, (p - order) / (1 - order)), p).clamp(0.0, 1.0)
        shape = list(n.shape)
        uniforms = rand(*shape, _DIRECT_TRIALS, device=n.device)
        taken = (uniforms < p.unsqueeze(-1)) & (_trial_positions(n) < n.unsqueeze(-1))
        return counts + taken.float().sum(-1)


def _trial_positions(n: Tensor) -> Tensor:
    return Tensor.from_numpy(np.arange(_DIRECT_TRIALS, dtype=np.float32)).to(n.device)


class Binomial(Distribution):
    """The number of successes in ``total_count`` trials of success probability ``probs`` (or
    ``sigmoid(logits)``)."""

    def __init__(self, total_count: Number = 1, probs: Optional[Number] = None,
                 logits: Optional[Number] = None) -> None:
        self.probs, self.logits = probs_and_logits("Binomial", probs, logits)
        self.total_count = as_tensor(total_count, self.probs).float()
        super().__init__(tuple(np.broadcast_shapes(tuple(self.total_count.shape), tuple(self.probs.shape))))

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return draw_binomial(self.total_count.expand(*shape), self.probs.expand(*shape))

    def log_prob(self, value: Tensor) -> Tensor:
        k = as_tensor(value, self.logits).float()
        n = self.total_count
        log_binomial = _log_factorial(n) - _log_factorial(k) - _log_factorial(n - k)
        return log_binomial + k * self.logits - n * F.softplus(self.logits)

    @property
    def mean(self) -> Tensor:
        """n p."""
        return (self.total_count * self.probs).expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """n p (1 - p)."""
        return (self.total_count * self.probs * (1 - self.probs)).expand(*self.batch_shape)


class NegativeBinomial(Distribution):
    """The number of successes before ``total_count`` failures, each trial a success with
    probability ``probs`` (or ``sigmoid(logits)``), as PyTorch defines it."""

    def __init__(self, total_count: Number, probs: Optional[Number] = None, logits: Optional[Number] = None) -> None:
        self.probs, self.logits = probs_and_logits("NegativeBinomial", probs, logits)
        self.total_count = as_tensor(total_count, self.probs).float()
        super().__init__(tuple(np.broadcast_shapes(tuple(self.total_count.shape), tuple(self.probs.shape))))

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import no_grad

        with no_grad():
            shape = self._extended_shape(sample_shape)
            rate = standard_gamma(self.total_count.detach().expand(*shape)) * self.logits.detach().exp()
            return draw_poisson("NegativeBinomial.sample", rate)

    def log_prob(self, value: Tensor) -> Tensor:
        k = as_tensor(value, self.logits).float()
        r = self.total_count
        unnormalised = r * F.logsigmoid(-self.logits) + k * F.logsigmoid(self.logits)
        normaliser = -(r + k).lgamma() + (1 + k).lgamma() + r.lgamma()
        # r + k = 0 (no trials at all): probability 1, where lgamma would be infinite.
        normaliser = normaliser.masked_fill((r + k) == 0, 0.0)
        return unnormalised - normaliser

    @property
    def mean(self) -> Tensor:
        """r p / (1 - p)."""
        return (self.total_count * self.logits.exp()).expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """r p / (1 - p)²."""
        return (self.mean / (1 - self.probs)).expand(*self.batch_shape)


class Multinomial(Distribution):
    """Counts over the categories of the last axis of ``probs`` (or ``logits``) after
    ``total_count`` independent categorical draws."""

    def __init__(self, total_count: int = 1, probs: Optional[Tensor] = None, logits: Optional[Tensor] = None) -> None:
        if isinstance(total_count, bool) or not isinstance(total_count, int) or total_count < 0:
            raise ValueError(f"Multinomial: argument `total_count` expected a non-negative int, got {total_count!r}")
        self._categorical = Categorical(probs=probs, logits=logits)
        self.total_count = total_count
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        super().__init__(self._categorical.batch_shape, (self._categorical.num_categories,))

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        if self.total_count == 0:
            return self.probs.detach().expand(*self._extended_shape(sample_shape)) * 0
        draws = self._categorical.sample((self.total_count, *sample_shape))
        return F.one_hot(draws, self._categorical.num_categories).float().sum(0)

    def log_prob(self, value: Tensor) -> Tensor:
        counts = as_tensor(value, self.logits).float()
        log_factorials = _log_factorial(counts.sum(-1)) - _log_factorial(counts).sum(-1)
        # counts · log p with 0 log 0 = 0.
        terms = (counts * self.logits).masked_fill(counts == 0, 0.0)
        return log_factorials + terms.sum(-1)

    @property
    def mean(self) -> Tensor:
        """n p."""
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        """n p (1 - p)."""
        return self.total_count * self.probs * (1 - self.probs)
