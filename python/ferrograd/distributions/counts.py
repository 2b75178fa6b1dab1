"""Poisson and Geometric distributions over counts 0, 1, 2, ..., with ``torch.distributions``'
formulas. Their draws carry no gradient (``has_rsample`` is False)."""

from __future__ import annotations

from typing import Optional, Union

from .. import functional as F
from .._core import Tensor
from .._poisson_draws import draw_poisson
from .discrete import probs_and_logits
from .distribution import TINY, Distribution, Shape, as_tensor

Number = Union[Tensor, float]


class Poisson(Distribution):
    """The Poisson distribution with ``rate`` λ >= 0 (mass λ^k e^(-λ) / k!)."""

    def __init__(self, rate: Number) -> None:
        if isinstance(rate, (int, float)) and not rate >= 0:
            raise ValueError(f"Poisson: argument `rate` expected a non-negative value, got {rate}")
        self.rate = as_tensor(rate)
        super().__init__(tuple(self.rate.shape))

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        return draw_poisson("Poisson.sample", self.rate.expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.rate)
        # k log λ with 0 log 0 = 0, so a zero rate gives mass 1 to k = 0.
        k_log_rate = (value * self.rate.log()).masked_fill(value == 0, 0.0)
        return k_log_rate - self.rate - (value + 1).lgamma()

    @property
    def mean(self) -> Tensor:
        """The mean λ."""
        return self.rate

    @property
    def mode(self) -> Tensor:
        """The mode floor(λ)."""
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        """The variance λ."""
        return self.rate


class Geometric(Distribution):
    """The number of failures before the first success of Bernoulli trials with success
    probability ``probs`` (or ``sigmoid(logits)``)."""

    def __init__(self, probs: Optional[Number] = None, logits: Optional[Number] = None) -> None:
        if isinstance(probs, (int, float)) and not 0 < probs <= 1:
            raise ValueError(f"Geometric: argument `probs` expected a value in (0, 1], got {probs}")
        self.probs, self.logits = probs_and_logits("Geometric", probs, logits)
        super().__init__(tuple(self.probs.shape))

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import no_grad, rand

        with no_grad():
            shape = self._extended_shape(sample_shape)
            u = rand(*shape, device=self.probs.device).clamp(min=TINY)
            return (u.log() / (-self.probs.expand(*shape)).log1p()).floor()

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.probs)
        # k log(1 - p), 0 where k = 0 (so p = 1 gives mass 1 to k = 0).
        failures = (value * (-self.probs).log1p()).masked_fill(value == 0, 0.0)
        return failures + self.probs.log()

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / self.probs

    @property
    def mean(self) -> Tensor:
        """The mean 1 / p - 1."""
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        """The mode, 0."""
        return self.probs * 0

    @property
    def variance(self) -> Tensor:
        """The variance (1 / p - 1) / p."""
        return (1.0 / self.probs - 1.0) / self.probs
