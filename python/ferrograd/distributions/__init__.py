"""Probability distributions with ``torch.distributions``' interface: ``sample`` / ``rsample``
(reparametrised, differentiable in the parameters), ``log_prob``, ``entropy``, ``mean``,
``variance``, batch and event shapes, and closed-form ``kl_divergence``."""

from .beta import Beta, Dirichlet
from .binomial import Binomial, Multinomial, NegativeBinomial
from .continuous import Normal, Uniform
from .continuous_more import Cauchy, FisherSnedecor, Gumbel, HalfCauchy, HalfNormal, Pareto, VonMises, Weibull
from .counts import Geometric, Poisson
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution, Independent
from .gamma import Chi2, Exponential, Gamma
from .heavy_tailed import Laplace, LogNormal, StudentT
from .kl import kl_divergence
from .multivariate_normal import MultivariateNormal
from .relaxed import MixtureSameFamily, RelaxedBernoulli, RelaxedOneHotCategorical
from . import transforms
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform, PowerTransform, SigmoidTransform,
                         SoftplusTransform, TanhTransform, Transform, TransformedDistribution, identity_transform)
from .transformed_families import InverseGamma, Kumaraswamy, OneHotCategoricalStraightThrough
from .kl import register_kl
from .more_families import GeneralizedPareto, LowRankMultivariateNormal

__all__ = ["Distribution", "Independent", "Normal", "Uniform", "Bernoulli", "Categorical", "Gamma", "Chi2",
           "Exponential", "Beta", "Dirichlet", "Laplace", "StudentT", "LogNormal", "Poisson", "Geometric",
           "OneHotCategorical", "MultivariateNormal", "Binomial", "NegativeBinomial", "Multinomial", "Cauchy",
           "FisherSnedecor", "Gumbel", "HalfCauchy", "HalfNormal", "Pareto", "VonMises", "Weibull", "MixtureSameFamily",
           "RelaxedBernoulli", "RelaxedOneHotCategorical", "TransformedDistribution", "transforms", "kl_divergence",
           "AbsTransform", "AffineTransform", "ComposeTransform", "ExpTransform", "PowerTransform", "SigmoidTransform",
           "SoftplusTransform", "TanhTransform", "Transform", "identity_transform", "InverseGamma", "Kumaraswamy",
           "OneHotCategoricalStraightThrough", "register_kl", "GeneralizedPareto", "LowRankMultivariateNormal"]
