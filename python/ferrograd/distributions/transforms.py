"""Invertible elementwise transforms and the distributions they induce
(``torch.distributions.transforms`` and ``TransformedDistribution``): a transform maps x to y,
inverts y back to x, and gives log |dy/dx|, which a TransformedDistribution subtracts from its
base's log-density (change of variables). Tanh-squashed Gaussians of reinforcement learning are
``TransformedDistribution(Normal(mu, sigma), [TanhTransform()])``."""

from __future__ import annotations

import math
from typing import Sequence, Union

from .. import functional as F
from .._core import Tensor
from .distribution import Distribution, Shape, as_tensor

Number = Union[Tensor, float]


class Transform:
    """An invertible map y = f(x), applied entry by entry."""

    def __call__(self, x: Tensor) -> Tensor:
        return self._call(x)

    def _call(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def inv(self, y: Tensor) -> Tensor:
        """x = f⁻¹(y)."""
        raise NotImplementedError

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log |dy/dx| at each entry."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ExpTransform(Transform):
    """y = exp(x)."""

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def inv(self, y: Tensor) -> Tensor:
        """log y."""
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """x."""
        return x


class AffineTransform(Transform):
    """y = loc + scale · x."""

    def __init__(self, loc: Number, scale: Number) -> None:
        self.loc, self.scale = loc, scale

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def inv(self, y: Tensor) -> Tensor:
        """(y - loc) / scale."""
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log |scale|, broadcast to x."""
        scale = as_tensor(self.scale, x)
        return scale.abs().log() + x * 0


class SigmoidTransform(Transform):
    """y = sigmoid(x)."""

    def _call(self, x: Tensor) -> Tensor:
        return x.sigmoid()

    def inv(self, y: Tensor) -> Tensor:
        """logit(y)."""
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log σ(x)(1 - σ(x)) = -softplus(-x) - softplus(x)."""
        return -F.softplus(-x) - F.softplus(x)


class TanhTransform(Transform):
    """y = tanh(x)."""

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def inv(self, y: Tensor) -> Tensor:
        """atanh(y)."""
        return y.atanh()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log(1 - tanh² x) = 2 (log 2 - x - softplus(-2x)), stable for large |x|."""
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class PowerTransform(Transform):
    """y = x^exponent for positive x."""

    def __init__(self, exponent: Number) -> None:
        self.exponent = exponent

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def inv(self, y: Tensor) -> Tensor:
        """y^(1 / exponent)."""
        return y.pow(1.0 / self.exponent)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log |exponent · y / x|."""
        return (as_tensor(self.exponent, x) * y / x).abs().log()


class AbsTransform(Transform):
    """y = |x| (not invertible: ``inv`` gives the positive root, and there is no Jacobian term)."""

    def _call(self, x: Tensor) -> Tensor:
        return x.abs()

    def inv(self, y: Tensor) -> Tensor:
        """y, the non-negative preimage."""
        return y


class SoftplusTransform(Transform):
    """y = log(1 + exp(x))."""

    def _call(self, x: Tensor) -> Tensor:
        return F.softplus(x)

    def inv(self, y: Tensor) -> Tensor:
        """log(exp(y) - 1) = y + log(-expm1(-y)), stable for large y."""
        return y + (-(-y).expm1()).log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """log sigmoid(x) = -softplus(-x)."""
        return -F.softplus(-x)


class ComposeTransform(Transform):
    """The transforms applied in order (the first to x first)."""

    def __init__(self, parts: Sequence[Transform]) -> None:
        self.parts = list(parts)

    def _call(self, x: Tensor) -> Tensor:
        for part in self.parts:
            x = part(x)
        return x

    def inv(self, y: Tensor) -> Tensor:
        """The inverses in reverse order."""
        for part in reversed(self.parts):
            y = part.inv(y)
        return y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """The sum of every step's term, each at its own input."""
        total = x * 0
        for part in self.parts:
            out = part(x)
            total = total + part.log_abs_det_jacobian(x, out)
            x = out
        return total


#: The identity map (an empty composition), as ``torch.distributions.transforms.identity_transform``.
identity_transform = ComposeTransform([])


class TransformedDistribution(Distribution):
    """The distribution of ``transforms(x)`` for x drawn from ``base_distribution``: draws pass
    through the transforms (reparametrised when the base's are), and
    log p(y) = log p_base(x) - Σ log |dy/dx| at x = transforms⁻¹(y), summed over the base's
    event axes."""

    def __init__(self, base_distribution: Distribution, transforms: Union[Transform, Sequence[Transform]]) -> None:
        parts = [transforms] if isinstance(transforms, Transform) else list(transforms)
        self.base_dist, self.transforms = base_distribution, parts
        self._chain = ComposeTransform(parts)
        self.has_rsample = base_distribution.has_rsample
        super().__init__(base_distribution.batch_shape, base_distribution.event_shape)

    def rsample(self, sample_shape: Shape = ()) -> Tensor:
        return self._chain(self.base_dist.rsample(sample_shape))

    def sample(self, sample_shape: Shape = ()) -> Tensor:
        return self._chain(self.base_dist.sample(sample_shape)).detach()

    def log_prob(self, value: Tensor) -> Tensor:
        x = self._chain.inv(value)
        correction = self._chain.log_abs_det_jacobian(x, value)
        if self.event_shape:
            correction = correction.sum(tuple(range(-len(self.event_shape), 0)))
        return self.base_dist.log_prob(x) - correction

    def cdf(self, value: Tensor) -> Tensor:
        """The base's cdf at the inverse, for increasing transforms."""
        return self.base_dist.cdf(self._chain.inv(value))  # type: ignore[attr-defined]
