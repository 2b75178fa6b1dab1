"""KL divergences between distributions of the same family, in closed form, and ``register_kl`` for
others."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .beta import Beta, Dirichlet
from .binomial import Binomial
from .continuous_more import Cauchy, Gumbel, HalfNormal, Pareto
from .continuous import Normal, Uniform
from .counts import Geometric, Poisson
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution, Independent
from .gamma import Exponential, Gamma
from .heavy_tailed import Laplace
from .multivariate_normal import MultivariateNormal, multivariate_normal_kl
from .. import functional as F
from .._core import Tensor


# (type of p, type of q) -> KL function, filled by register_kl.
_REGISTERED: dict[tuple[type, type], Callable[[Any, Any], Tensor]] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[Callable[[Any, Any], Tensor]], Callable[[Any, Any], Tensor]]:
    """A decorator registering ``fn(p, q)`` as KL(p || q) for instances of ``type_p`` and
    ``type_q`` (subclasses too); :func:`kl_divergence` tries registered pairs first, the most
    specific match winning, so a registration overrides a built-in closed form."""
    def decorate(fn: Callable[[Any, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
        _REGISTERED[type_p, type_q] = fn
        return fn
    return decorate


def _registered(p: Distribution, q: Distribution) -> Optional[Callable[[Any, Any], Tensor]]:
    """The registered function for the most specific pair of types matching ``p`` and ``q``."""
    matches = [(type(p).__mro__.index(tp) + type(q).__mro__.index(tq), fn)
               for (tp, tq), fn in _REGISTERED.items() if isinstance(p, tp) and isinstance(q, tq)]
    return min(matches, key=lambda m: m[0])[1] if matches else None


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) for each batch entry, for two Normals, Uniforms, Bernoullis, Categoricals,
    OneHotCategoricals, Gammas (Chi2s among them), Exponentials, Betas, Dirichlets, Laplaces,
    Poissons, Geometrics, MultivariateNormals, Cauchys, Gumbels, HalfNormals, Paretos or Binomials
    (of equal total counts), or two Independents over such a pair (summed over their event
    axes); pairs given to :func:`register_kl` first."""
    registered = _registered(p, q)
    if registered is not None:
        return registered(p, q)
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
    if isinstance(p, (Categorical, OneHotCategorical)) and type(q) is type(p):
        return (p.probs * (p.logits - q.logits)).sum(-1)
    if isinstance(p, Gamma) and isinstance(q, Gamma):
        return _gamma_kl(p.concentration, p.rate, q.concentration, q.rate)
    if isinstance(p, Exponential) and isinstance(q, Exponential):
        ratio = q.rate / p.rate
        return ratio - ratio.log() - 1
    if isinstance(p, Beta) and isinstance(q, Beta):
        return _beta_kl(p, q)
    if isinstance(p, Dirichlet) and isinstance(q, Dirichlet):
        p_total, q_total = p.concentration.sum(-1), q.concentration.sum(-1)
        difference = p.concentration - q.concentration
        expected_log = p.concentration.digamma() - p_total.digamma().unsqueeze(-1)
        return (p_total.lgamma() - q_total.lgamma() - (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
                + (difference * expected_log).sum(-1))
    if isinstance(p, Laplace) and isinstance(q, Laplace):
        ratio = p.scale / q.scale
        distance = (p.loc - q.loc).abs()
        return -ratio.log() + distance / q.scale + ratio * (-distance / p.scale).exp() - 1
    if isinstance(p, Poisson) and isinstance(q, Poisson):
        return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)
    if isinstance(p, Geometric) and isinstance(q, Geometric):
        return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits
    if isinstance(p, MultivariateNormal) and isinstance(q, MultivariateNormal):
        return multivariate_normal_kl(p, q)
    if isinstance(p, Cauchy) and isinstance(q, Cauchy):
        return ((p.scale + q.scale) ** 2 + (p.loc - q.loc) ** 2).log() - (4 * p.scale * q.scale).log()
    if isinstance(p, Gumbel) and isinstance(q, Gumbel):
        return _gumbel_kl(p, q)
    if isinstance(p, HalfNormal) and isinstance(q, HalfNormal):
        ratio = (p.scale / q.scale) ** 2
        return 0.5 * (ratio - 1 - ratio.log())
    if isinstance(p, Pareto) and isinstance(q, Pareto):
        from .. import where

        alpha_ratio = q.alpha / p.alpha
        value = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
        return where(p.scale < q.scale, float("inf"), value)
    if isinstance(p, Binomial) and isinstance(q, Binomial):
        if not bool((p.total_count == q.total_count).all()):
            raise NotImplementedError("kl_divergence: Binomials with different total counts")
        return p.total_count * (p.probs * (p.logits - q.logits)
                                + F.softplus(q.logits) - F.softplus(p.logits))
    if isinstance(p, Independent) and isinstance(q, Independent):
        if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
            raise NotImplementedError("kl_divergence: Independents over different numbers of event axes")
        return p._sum_reinterpreted(kl_divergence(p.base_dist, q.base_dist))
    raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} and {type(q).__name__}")


def _gumbel_kl(p: Gumbel, q: Gumbel) -> Tensor:
    ratio = p.scale / q.scale
    q_loc, p_loc = q.loc / q.scale, p.loc / q.scale
    euler = 0.57721566490153286060
    tail = (q_loc + (1 + ratio).lgamma() - p_loc).exp()
    return -ratio.log() - q_loc + p_loc + ratio * euler + tail - (1 + euler)


def _gamma_kl(p_shape: Tensor, p_rate: Tensor, q_shape: Tensor, q_rate: Tensor) -> Tensor:
    return (q_shape * (p_rate / q_rate).log() + q_shape.lgamma() - p_shape.lgamma()
            + (p_shape - q_shape) * p_shape.digamma() + (q_rate - p_rate) * p_shape / p_rate)


def _beta_kl(p: Beta, q: Beta) -> Tensor:
    p_total = p.concentration1 + p.concentration0
    q_total = q.concentration1 + q.concentration0
    return (q.concentration1.lgamma() + q.concentration0.lgamma() + p_total.lgamma()
            - p.concentration1.lgamma() - p.concentration0.lgamma() - q_total.lgamma()
            + (p.concentration1 - q.concentration1) * p.concentration1.digamma()
            + (p.concentration0 - q.concentration0) * p.concentration0.digamma()
            + (q_total - p_total) * p_total.digamma())
