"""The Distribution base class and Independent, with ``torch.distributions``' shapes: a draw of
``sample(sample_shape)`` has shape ``sample_shape + batch_shape + event_shape``."""

from __future__ import annotations

import math
from typing import Any, Sequence

from .._core import Tensor

Shape = Sequence[int]


class Distribution:
    """A batch of distributions. Subclasses give ``batch_shape``, ``event_shape``, ``rsample``
    (or ``sample``), ``log_prob``, ``entropy``, ``mean`` and ``variance``."""

    has_rsample = False

    def __init__(self, batch_shape: Shape = (), event_shape: Shape = ()) -> None:
        self.batch_shape = tuple(int(s) for s in batch_shape)
        self.event_shape = tuple(int(s) for s in event_shape)

    def _extended_shape(self, sample_shape: Shape = ()) -> tuple[int, ...]:
        return tuple(int(s) for s in sample_shape) + self.batch_shape + self.event_shape

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        """A draw of shape ``sample_shape + batch_shape + event_shape``, outside autograd."""
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        """A reparametrised draw: gradients flow to the parameters (pathwise derivative)."""
        raise NotImplementedError(f"{type(self).__name__} has no reparametrised sampler (has_rsample=False)")

    def log_prob(self, value: Tensor) -> Tensor:
        """The log density (or mass) of ``value``, one per batch entry."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """The entropy of each distribution of the batch."""
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        """The mean of each distribution of the batch."""
        raise NotImplementedError

    @property
    def variance(self) -> Tensor:
        """The variance of each distribution of the batch."""
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        """The standard deviation, ``variance ** 0.5``."""
        return self.variance.sqrt()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(batch_shape={self.batch_shape}, event_shape={self.event_shape})"


class Independent(Distribution):
    """Reinterprets the last ``reinterpreted_batch_ndims`` batch axes of ``base_distribution`` as
    event axes: ``log_prob`` and ``entropy`` sum over them (a diagonal Gaussian as
    ``Independent(Normal(mu, sigma), 1)``)."""

    def __init__(self, base_distribution: Distribution, reinterpreted_batch_ndims: int) -> None:
        batch = base_distribution.batch_shape
        if not 0 <= reinterpreted_batch_ndims <= len(batch):
            raise ValueError(f"Independent: argument `reinterpreted_batch_ndims` expected a value in [0, {len(batch)}], "
                             f"got {reinterpreted_batch_ndims}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, reinterpreted_batch_ndims
        split = len(batch) - reinterpreted_batch_ndims
        super().__init__(batch[:split], batch[split:] + base_distribution.event_shape)
        self.has_rsample = base_distribution.has_rsample

    def _sum_reinterpreted(self, t: Tensor) -> Tensor:
        n = self.reinterpreted_batch_ndims
        return t.sum(dim=tuple(range(-n, 0))) if n else t

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value: Tensor) -> Tensor:
        return self._sum_reinterpreted(self.base_dist.log_prob(value))

    def entropy(self) -> Tensor:
        return self._sum_reinterpreted(self.base_dist.entropy())

    @property
    def mean(self) -> Tensor:
        """The mean of each distribution of the batch."""
        return self.base_dist.mean

    @property
    def variance(self) -> Tensor:
        """The variance of each distribution of the batch."""
        return self.base_dist.variance


def as_tensor(value: Any, like: Any = None) -> Tensor:
    """``value`` as a float32 tensor (numbers become 0-d tensors on ``like``'s device)."""
    if isinstance(value, Tensor):
        return value
    from .. import tensor

    device = like.device if isinstance(like, Tensor) else "cpu"
    return tensor(float(value)).to(device)


HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
# float32's smallest normal number (draws and probabilities are kept at or above it, as PyTorch
# clamps them) and its machine epsilon (probabilities are kept within it of 0 and 1 before a logit).
TINY = 1.1754943508222875e-38
EPS = 1.1920928955078125e-07
