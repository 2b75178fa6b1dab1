"""KL divergences between distributions of the same family, in closed form."""

from __future__ import annotations

from .continuous import Normal, Uniform
from .discrete import Bernoulli, Categorical
from .distribution import Distribution, Independent
from .._core import Tensor


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) for each batch entry, for two Normals, Uniforms, Bernoullis or Categoricals, or
    two Independents over such a pair (summed over their event axes)."""
    if isinstance(p, Normal) and isinstance(q, Normal):
        ratio = (p.scale / q.scale) ** 2
        return 0.5 * (ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - ratio.log())
    if isinstance(p, Uniform) and isinstance(q, Uniform):
        from .. import where

        outside = (q.low > p.low) | (q.high < p.high)
        return where(outside, float("inf"), ((q.high - q.low) / (p.high - p.low)).log())
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        return p.probs * (p.logits.sigmoid().log() - q.logits.sigmoid().log()) + \
            (1 - p.probs) * ((-p.logits).sigmoid().log() - (-q.logits).sigmoid().log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        return (p.probs * (p.logits - q.logits)).sum(-1)
    if isinstance(p, Independent) and isinstance(q, Independent):
        if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
            raise NotImplementedError("kl_divergence: Independents over different numbers of event axes")
        return p._sum_reinterpreted(kl_divergence(p.base_dist, q.base_dist))
    raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} and {type(q).__name__}")
