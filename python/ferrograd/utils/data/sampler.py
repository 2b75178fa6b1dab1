"""Samplers: iterables of dataset indices for ``DataLoader(sampler=...)``, and ``BatchSampler``'s
lists of them for ``DataLoader(batch_sampler=...)`` (``torch.utils.data``)."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Optional, Sequence, Union

import numpy as np

from ..._core import Tensor
from ..._generator import Generator

__all__ = ["Sampler", "WeightedRandomSampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler"]


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


class SequentialSampler(Sampler):
    """The indices ``0 .. len(data_source) - 1`` in order."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """The indices of ``data_source`` in a random order (a fresh permutation each pass), or with
    ``replacement`` ``num_samples`` indices drawn uniformly; from ``generator`` or else the global
    generator."""

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: Optional[int] = None,
                 generator: Optional[Generator] = None) -> None:
        if num_samples is not None and (isinstance(num_samples, bool) or not isinstance(num_samples, int)
                                        or num_samples <= 0):
            raise ValueError(f"RandomSampler: argument `num_samples` expected a positive int or None, got {num_samples!r}")
        self.data_source, self.replacement, self._num_samples = data_source, bool(replacement), num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        """Indices per pass: ``num_samples``, else the dataset's length."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        from ...creation import randint, randperm

        n = len(self.data_source)
        if self.replacement:
            return iter(int(i) for i in randint(0, n, (self.num_samples,), generator=self.generator).tolist())
        # Whole permutations, then the start of another when num_samples exceeds the length.
        order: list[int] = []
        while len(order) < self.num_samples:
            order.extend(int(i) for i in randperm(n, generator=self.generator).tolist())
        return iter(order[: self.num_samples])

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, a fresh permutation each pass."""

    def __init__(self, indices: Sequence[int], generator: Optional[Generator] = None) -> None:
        self.indices, self.generator = list(indices), generator

    def __iter__(self) -> Iterator[int]:
        from ...creation import randperm

        return iter(self.indices[int(i)] for i in randperm(len(self.indices), generator=self.generator).tolist())

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``), for ``DataLoader(batch_sampler=...)``."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"BatchSampler: argument `batch_size` expected a positive int, got {batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, bool(drop_last)

    def __iter__(self) -> Iterator[list[int]]:  # type: ignore[override]
        batch: list[int] = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = sampler_length(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def sampler_length(sampler: Any) -> int:
    """``len(sampler)``, or a TypeError naming the DataLoader argument."""
    try:
        return len(sampler)
    except TypeError:
        raise TypeError(f"DataLoader: argument `sampler` expected an iterable of indices with a length, got "
                        f"{type(sampler).__name__}") from None
