"""Relaxed (Concrete / Gumbel-softmax) Bernoulli and one-hot categorical distributions at a
``temperature``: reparametrised draws in (0, 1) and on the simplex that approach hard samples as
the temperature falls, with ``torch.distributions``' densities; and MixtureSameFamily, a
categorical mixture of one batched component distribution."""

from __future__ import annotations

import math
from typing import Optional, Union

from .. import functional as F
from .._core import Tensor
from .continuous_more import uniform_draws
from .discrete import Categorical, probs_and_logits
from .distribution import EPS, TINY, Distribution, Shape, as_tensor

Number = Union[Tensor, float]


class RelaxedBernoulli(Distribution):
    """sigmoid((logits + L) / temperature) for logistic noise L."""

    has_rsample = True

    def __init__(self, temperature: Number, probs: Optional[Number] = None, logits: Optional[Number] = None) -> None:
        self.probs, self.logits = probs_and_logits("RelaxedBernoulli", probs, logits)
        self.temperature = as_tensor(temperature, self.logits)
        super().__init__(tuple(self.logits.shape))

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import rand

        u = rand(*self._extended_shape(sample_shape), device=self.logits.device).clamp(EPS, 1 - EPS)
        noise = u.log() - (-u).log1p()
        return ((self.logits + noise) / self.temperature).sigmoid().clamp(EPS, 1 - EPS)

    def log_prob(self, value: Tensor) -> Tensor:
        y = as_tensor(value, self.logits)
        x = y.log() - (-y).log1p()
        difference = self.logits - x * self.temperature
        return self.temperature.log() + difference - 2 * F.softplus(difference) - y.log() - (-y).log1p()


class RelaxedOneHotCategorical(Distribution):
    """softmax((logits + G) / temperature) over the last axis, for Gumbel noise G."""

    has_rsample = True

    def __init__(self, temperature: Number, probs: Optional[Tensor] = None, logits: Optional[Tensor] = None) -> None:
        self._categorical = Categorical(probs=probs, logits=logits)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        self.temperature = as_tensor(temperature, self.logits)
        super().__init__(self._categorical.batch_shape, (self._categorical.num_categories,))

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        u = uniform_draws(self, sample_shape, self.logits)
        gumbels = -(-u.log()).log()
        return F.softmax((self.logits + gumbels) / self.temperature, -1).clamp(min=TINY)

    def log_prob(self, value: Tensor) -> Tensor:
        y = as_tensor(value, self.logits)
        k = self._categorical.num_categories
        log_y = y.log()
        score = self.logits - log_y * self.temperature
        score = (score - F.logsumexp(score, -1, keepdim=True)).sum(-1)
        log_scale = math.lgamma(k) + (k - 1) * self.temperature.log()
        return score + log_scale - log_y.sum(-1)


class MixtureSameFamily(Distribution):
    """A mixture whose component ``k`` is entry ``k`` of the last batch axis of
    ``component_distribution``, drawn with the probabilities of ``mixture_distribution`` (a
    Categorical over that axis)."""

    def __init__(self, mixture_distribution: Categorical, component_distribution: Distribution) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(f"MixtureSameFamily: argument `mixture_distribution` expected a Categorical, got "
                             f"{type(mixture_distribution).__name__}")
        components = component_distribution.batch_shape
        if not components or components[-1] != mixture_distribution.num_categories:
            raise ValueError(f"MixtureSameFamily: the last batch axis of `component_distribution` ({components}) "
                             f"expected {mixture_distribution.num_categories} components, one per mixture category")
        self.mixture_distribution, self.component_distribution = mixture_distribution, component_distribution
        super().__init__(components[:-1], component_distribution.event_shape)

    def _pad(self, value: Tensor) -> Tensor:
        """``value`` with a component axis before its event axes."""
        return value.unsqueeze(-1 - len(self.event_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.mixture_distribution.logits)
        per_component = self.component_distribution.log_prob(self._pad(value))
        return F.logsumexp(per_component + self.mixture_distribution.logits, -1)

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import no_grad

        with no_grad():
            choice = self.mixture_distribution.sample(sample_shape)  # sample_shape + batch
            draws = self.component_distribution.sample(sample_shape)  # sample_shape + batch + [K] + event
            event_rank = len(self.event_shape)
            index = choice.reshape(*choice.shape, 1, *([1] * event_rank))
            index = index.expand(*choice.shape, 1, *self.event_shape)
            return draws.gather(len(choice.shape), index).squeeze(len(choice.shape))

    @property
    def mean(self) -> Tensor:
        """Σ_k w_k mean_k."""
        weights = self._weights()
        return (weights * self.component_distribution.mean).sum(-1 - len(self.event_shape))

    @property
    def variance(self) -> Tensor:
        """Σ_k w_k (var_k + mean_k²) - mean²."""
        weights = self._weights()
        axis = -1 - len(self.event_shape)
        means = self.component_distribution.mean
        second = (weights * (self.component_distribution.variance + means**2)).sum(axis)
        return second - self.mean**2

    def _weights(self) -> Tensor:
        probs = self.mixture_distribution.probs
        return probs.reshape(*probs.shape, *([1] * len(self.event_shape)))
