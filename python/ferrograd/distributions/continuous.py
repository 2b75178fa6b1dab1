"""Normal and Uniform distributions (reparametrised: ``rsample`` is differentiable in the
parameters), with ``torch.distributions``' formulas."""

from __future__ import annotations

import math
from typing import Union

import numpy as np

from .._core import Tensor
from .distribution import HALF_LOG_TWO_PI, Distribution, Shape, as_tensor

Number = Union[Tensor, float]


def _draw_shape(d: Distribution, sample_shape: Shape) -> list[int]:
    return list(d._extended_shape(sample_shape))


class Normal(Distribution):
    """The normal distribution N(``loc``, ``scale``²), batched over the broadcast of its
    parameters."""

    has_rsample = True

    def __init__(self, loc: Number, scale: Number) -> None:
        self.loc, self.scale = as_tensor(loc, scale), as_tensor(scale, loc)
        if isinstance(scale, (int, float)) and not scale > 0:
            raise ValueError(f"Normal: argument `scale` expected a positive value, got {scale}")
        super().__init__(np.broadcast_shapes(tuple(self.loc.shape), tuple(self.scale.shape)))

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import randn

        eps = randn(*_draw_shape(self, sample_shape), device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.loc)
        return -((value - self.loc) ** 2) / (2 * self.scale**2) - self.scale.log() - HALF_LOG_TWO_PI

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value)."""
        value = as_tensor(value, self.loc)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    def icdf(self, value: Tensor) -> Tensor:
        """The quantile ``loc + scale sqrt(2) erfinv(2 p - 1)``."""
        from ..gamma_functions import erfinv

        value = as_tensor(value, self.loc)
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + HALF_LOG_TWO_PI + self.scale.log().expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """The mean of each distribution of the batch."""
        return self.loc.expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """The variance of each distribution of the batch."""
        return (self.scale**2).expand(*self.batch_shape)


class Uniform(Distribution):
    """The uniform distribution on [``low``, ``high``)."""

    has_rsample = True

    def __init__(self, low: Number, high: Number) -> None:
        self.low, self.high = as_tensor(low, high), as_tensor(high, low)
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and not low < high:
            raise ValueError(f"Uniform: expected low < high, got {low} and {high}")
        super().__init__(np.broadcast_shapes(tuple(self.low.shape), tuple(self.high.shape)))

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        from .. import rand

        u = rand(*_draw_shape(self, sample_shape), device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        value = as_tensor(value, self.low)
        inside = ((value >= self.low) & (value < self.high)).to("float32")
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value), clamped to [0, 1]."""
        value = as_tensor(value, self.low)
        return ((value - self.low) / (self.high - self.low)).clamp(0.0, 1.0)

    def entropy(self) -> Tensor:
        return (self.high - self.low).log().expand(*self.batch_shape)

    @property
    def mean(self) -> Tensor:
        """The mean of each distribution of the batch."""
        return ((self.low + self.high) / 2).expand(*self.batch_shape)

    @property
    def variance(self) -> Tensor:
        """The variance of each distribution of the batch."""
        return ((self.high - self.low) ** 2 / 12).expand(*self.batch_shape)
