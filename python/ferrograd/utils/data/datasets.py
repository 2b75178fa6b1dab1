"""Map-style and iterable datasets: the base classes, ``TensorDataset``, ``Subset``,
``ConcatDataset``, ``ChainDataset``, ``StackDataset`` and ``random_split``."""

from __future__ import annotations

import bisect
import math
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np

from ..._core import Tensor
from ..._generator import Generator


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__``. ``a + b``
    concatenates two datasets."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset:
    """A dataset read as a stream: subclasses define ``__iter__``. A DataLoader batches
    consecutive items and cannot shuffle it."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


def _as_tensor(value: Any, position: int) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        from ... import tensor

        return tensor(value)
    raise TypeError(f"TensorDataset: argument {position} expected a Tensor or a numpy array, got {type(value).__name__}")


class TensorDataset(Dataset):
    """Rows of tensors of equal length: sample ``i`` is ``(t[i] for t in tensors)``. Numpy arrays
    are copied into tensors."""

    def __init__(self, *tensors: Union[Tensor, np.ndarray]) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor, got none")
        self.tensors: tuple[Tensor, ...] = tuple(_as_tensor(t, i) for i, t in enumerate(tensors))
        lengths = [t.shape[0] if t.ndim > 0 else None for t in self.tensors]
        if any(n != lengths[0] for n in lengths) or lengths[0] is None:
            raise ValueError(f"TensorDataset: every tensor needs the same first dimension, got shapes "
                             f"{[list(t.shape) for t in self.tensors]}")

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]
        n = len(dataset)
        bad = [i for i in self.indices if not -n <= i < n]
        if bad:
            raise IndexError(f"Subset: argument `indices` expected positions in [{-n}, {n - 1}], got {bad[0]}")

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """``datasets`` one after another."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: argument `datasets` expected at least one dataset, got none")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __getitem__(self, index: int) -> Any:
        total = len(self)
        if not -total <= index < total:
            raise IndexError(f"ConcatDataset: index {index} out of range for {total} samples")
        index %= total
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])


class ChainDataset(IterableDataset):
    """Iterable datasets streamed one after another."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)

    def __iter__(self) -> Iterator[Any]:
        for dataset in self.datasets:
            yield from dataset

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset):
    """Equally long datasets read side by side: item ``i`` is the tuple of their items ``i``, or,
    given as keywords, the dict of them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if bool(args) == bool(kwargs):
            raise ValueError("StackDataset: pass the datasets either positionally or as keywords, not both or neither")
        self.datasets: Union[tuple[Any, ...], dict[str, Any]] = tuple(args) if args else dict(kwargs)
        parts = self.datasets if isinstance(self.datasets, tuple) else tuple(self.datasets.values())
        lengths = {len(d) for d in parts}
        if len(lengths) != 1:
            raise ValueError(f"StackDataset: the datasets expected one length, got {sorted(lengths)}")
        self._length = lengths.pop()

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {key: d[index] for key, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


def _split_sizes(total: int, lengths: Sequence[Union[int, float]]) -> list[int]:
    if lengths and all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0):
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: argument `lengths` expected non-negative fractions, got {list(lengths)}")
        sizes = [int(math.floor(total * x)) for x in lengths]
        # The remainder goes one sample each to the first splits, as PyTorch does.
        for i in range(total - sum(sizes)):
            sizes[i % len(sizes)] += 1
        return sizes
    sizes = [int(x) for x in lengths]
    if any(s != x or s < 0 for s, x in zip(sizes, lengths)) or sum(sizes) != total:
        raise ValueError(f"random_split: argument `lengths` expected counts summing to the dataset's length {total} "
                         f"or fractions summing to 1, got {list(lengths)}")
    return sizes


def random_split(dataset: Any, lengths: Sequence[Union[int, float]], generator: Optional[Generator] = None, *,
                 seed: Optional[int] = None) -> list[Subset]:
    """Splits ``dataset`` into non-overlapping random subsets of the given sizes (counts summing to
    its length, or fractions summing to 1). The permutation comes from ``generator`` (a
    :class:`ferrograd.Generator`, as in PyTorch), or from a fresh stream seeded with ``seed``
    (keyword only), either way without touching the global generator; with neither, from the
    seeded global generator (``ferrograd.manual_seed``)."""
    from ...creation import randperm

    if generator is not None and not isinstance(generator, Generator):
        hint = " (pass an int seed as seed=...)" if isinstance(generator, int) else ""
        raise TypeError(f"random_split: argument `generator` expected a ferrograd.Generator or None, got "
                        f"{generator!r}{hint}")
    if generator is not None and seed is not None:
        raise ValueError(f"random_split: arguments `generator` and `seed` expected at most one of them, got both "
                         f"({generator!r} and {seed!r})")
    sizes = _split_sizes(len(dataset), lengths)
    if seed is not None:
        # A generator seeded with `seed` draws what the global generator drew after manual_seed(seed).
        generator = Generator().manual_seed(seed)
    order = randperm(len(dataset), generator=generator).tolist()
    splits, start = [], 0
    for size in sizes:
        splits.append(Subset(dataset, order[start:start + size]))
        start += size
    return splits
