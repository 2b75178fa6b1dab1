"""Bernoulli and Categorical distributions, given by probabilities or by logits, with
``torch.distributions``' formulas (log-probabilities from the logits, which stay finite where a
probability rounds to 0 or 1)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from .. import functional as F
from .._core import Tensor
from .distribution import EPS, TINY, Distribution, Shape, as_tensor


def _one_of(name: str, probs: object, logits: object) -> None:
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: expected exactly one of `probs` and `logits`")


def probs_and_logits(name: str, probs: object, logits: object) -> tuple[Tensor, Tensor]:
    """Success probabilities and their logits from exactly one of them; probabilities are clamped
    within float32's epsilon of 0 and 1 before the logit, as PyTorch does."""
    _one_of(name, probs, logits)
    if probs is not None:
        p = as_tensor(probs)
        clamped = p.clamp(EPS, 1 - EPS)
        return p, clamped.log() - (-clamped).log1p()
    lg = as_tensor(logits)
    return lg.sigmoid(), lg


class _IndicatorMoments(Distribution):
    """The moments of 0/1 indicators that are 1 with probability ``probs``."""

    probs: Tensor

    @property
    def mean(self) -> Tensor:
        """The mean, the probabilities."""
        return self.probs

    @property
    def variance(self) -> Tensor:
        """The variance p (1 - p) of each indicator."""
        return self.probs * (1 - self.probs)


class Bernoulli(_IndicatorMoments):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0."""

    def __init__(self, probs: Optional[Tensor] = None, logits: Optional[Tensor] = None) -> None:
        self.probs, self.logits = probs_and_logits("Bernoulli", probs, logits)
        super().__init__(tuple(self.logits.shape))

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import bernoulli

        return bernoulli(self.probs.detach().expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.logits)
        shape = np.broadcast_shapes(tuple(self.logits.shape), tuple(value.shape))
        logits, value = self.logits.expand(*shape), value.expand(*shape)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Categorical(Distribution):
    """One of K categories (the last axis of ``probs`` or ``logits``); ``probs`` need not sum to
    1 (they are normalised), ``logits`` are normalised to log-probabilities."""

    def __init__(self, probs: Optional[Tensor] = None, logits: Optional[Tensor] = None) -> None:
        _one_of("Categorical", probs, logits)
        if probs is not None:
            raw = as_tensor(probs)
            if raw.ndim < 1:
                raise ValueError("Categorical: argument `probs` expected at least one dimension (the categories)")
            self.probs = raw / raw.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(TINY, 1.0).log()
        else:
            raw = as_tensor(logits)
            if raw.ndim < 1:
                raise ValueError("Categorical: argument `logits` expected at least one dimension (the categories)")
            self.logits = raw - F.logsumexp(raw, -1, keepdim=True)
            self.probs = self.logits.exp()
        self.num_categories = int(self.probs.shape[-1])
        super().__init__(tuple(self.probs.shape[:-1]))

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import multinomial

        rows = self.probs.detach().reshape(-1, self.num_categories)
        n = 1
        for s in sample_shape:
            n *= int(s)
        draws = multinomial(rows, n, replacement=True)  # [rows, n]
        return draws.t().reshape(*sample_shape, *self.batch_shape)

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.logits).to("int64")
        shape = list(value.shape)
        logits = self.logits.expand(*shape, self.num_categories) if shape else self.logits
        return logits.gather(-1, value.unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> Tensor:
        return -(self.probs * self.logits).sum(-1)

    @property
    def mean(self) -> Tensor:
        """The mean of each distribution of the batch."""
        return self.probs.sum(-1) * float("nan")

    @property
    def variance(self) -> Tensor:
        """The variance of each distribution of the batch."""
        return self.probs.sum(-1) * float("nan")


class OneHotCategorical(_IndicatorMoments):
    """A Categorical whose draws are one-hot vectors over the last axis (event shape (K,))."""

    def __init__(self, probs: Optional[Tensor] = None, logits: Optional[Tensor] = None) -> None:
        self._categorical = Categorical(probs=probs, logits=logits)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        super().__init__(self._categorical.batch_shape, (self._categorical.num_categories,))

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        indices = self._categorical.sample(sample_shape)
        return F.one_hot(indices, self._categorical.num_categories).to("float32")

    def log_prob(self, value: Tensor) -> Tensor:
        return self._categorical.log_prob(as_tensor(value, self.probs).argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()
