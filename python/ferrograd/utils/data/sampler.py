"""Samplers: iterables of dataset indices for ``DataLoader(sampler=...)`` (``torch.utils.data``)."""

from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np

from ..._core import Tensor
from ..._generator import Generator

__all__ = ["Sampler", "WeightedRandomSampler"]


class Sampler:
    """Base class of samplers: an iterable of dataset indices with a length."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))``, each drawn with probability proportional
    to its weight (with replacement by default), as ``torch.utils.data.WeightedRandomSampler``.
    Each pass draws afresh from ``generator`` (a :class:`ferrograd.Generator`) or else the global
    generator seeded by ``ferrograd.manual_seed``."""

    def __init__(self, weights: Union[Sequence[float], Tensor, np.ndarray], num_samples: int,
                 replacement: bool = True, generator: Optional[Generator] = None) -> None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: argument `num_samples` expected a positive int, got "
                             f"{num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: argument `replacement` expected a bool, got {replacement!r}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"WeightedRandomSampler: argument `generator` expected a ferrograd.Generator or None, got "
                            f"{generator!r}")
        values = weights.detach().cpu().numpy() if isinstance(weights, Tensor) else np.asarray(weights)
        if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.number):
            raise ValueError(f"WeightedRandomSampler: argument `weights` expected a non-empty 1-d sequence of numbers, "
                             f"got shape {list(values.shape)} of {values.dtype}")
        values = values.astype(np.float64)
        if not (np.isfinite(values) & (values >= 0)).all() or values.sum() <= 0:
            raise ValueError("WeightedRandomSampler: argument `weights` expected finite, non-negative weights with a "
                             "positive sum")
        if not replacement and num_samples > int((values > 0).sum()):
            raise ValueError(f"WeightedRandomSampler: argument `num_samples` expected at most "
                             f"{int((values > 0).sum())} (the positive weights) without replacement, got {num_samples}")
        self.weights = Tensor.from_numpy(values)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        from ...random_sampling import multinomial

        drawn = multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        return iter(int(i) for i in drawn.tolist())

    def __len__(self) -> int:
        return self.num_samples


def sampler_length(sampler: Any) -> int:
    """``len(sampler)``, or a TypeError naming the DataLoader argument."""
    try:
        return len(sampler)
    except TypeError:
        raise TypeError(f"DataLoader: argument `sampler` expected an iterable of indices with a length, got "
                        f"{type(sampler).__name__}") from None
