"""Probability distributions with ``torch.distributions``' interface: ``sample`` / ``rsample``
(reparametrised, differentiable in the parameters), ``log_prob``, ``entropy``, ``mean``,
``variance``, batch and event shapes, and closed-form ``kl_divergence``."""

from .continuous import Normal, Uniform
from .discrete import Bernoulli, Categorical
from .distribution import Distribution, Independent
from .kl import kl_divergence

__all__ = ["Distribution", "Independent", "Normal", "Uniform", "Bernoulli", "Categorical", "kl_divergence"]
