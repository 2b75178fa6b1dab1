"""``DataLoader``: batches of a dataset, optionally shuffled, as PyTorch's loader yields them."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Optional

import numpy as np

from ... import _core
from ..._generator import Generator
from .collate import default_collate
from .datasets import IterableDataset, TensorDataset
from .sampler import sampler_length


class DataLoader:
    """Iterates over ``dataset`` in batches of ``batch_size`` (``None``: single samples, not
    collated), shuffled at every pass with ``shuffle=True`` (from the seeded global generator,
    ``ferrograd.manual_seed``, or from ``generator``, a :class:`ferrograd.Generator`), the last
    short batch dropped with ``drop_last=True``, each batch built by ``collate_fn`` (default
    :func:`default_collate`).

    A ``TensorDataset`` is batched by one ``index_select`` per tensor; a ferrograd
    :class:`ferrograd.data.Dataset` runs the native loader (``x`` float32, uint8 images scaled to
    [0, 1]; ``y`` int64), which prepares the next batch on a Rust thread. ``num_workers`` and
    ``pin_memory`` are accepted for PyTorch code and change nothing: batches are built in this
    process. ``sampler`` (keyword, as PyTorch's; excludes ``shuffle``) is an iterable of indices
    with a length, e.g. a :class:`WeightedRandomSampler`, iterated afresh at every pass;
    ``batch_sampler`` (e.g. a :class:`BatchSampler`) yields whole batches of indices instead and
    excludes ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``. A loader with either batches
    in Python (``fit`` cannot run it in Rust).
    """

    def __init__(self, dataset: Any, batch_size: Optional[int] = 1, shuffle: bool = False, drop_last: bool = False,
                 collate_fn: Optional[Callable[[list[Any]], Any]] = None, num_workers: int = 0,
                 pin_memory: bool = False, generator: Optional[Generator] = None, *,
                 sampler: Optional[Iterable[int]] = None, batch_sampler: Optional[Iterable[list[int]]] = None) -> None:
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: argument `batch_sampler` excludes batch_size, shuffle, sampler and "
                                 "drop_last (the batch sampler decides them)")
            sampler_length(batch_sampler)
        if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool)
                                       or batch_size < 1):
            raise ValueError(f"DataLoader: argument `batch_size` expected a positive int or None, got {batch_size!r}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: argument `generator` expected a ferrograd.Generator or None, got "
                            f"{generator!r}")
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: argument `num_workers` expected an int >= 0, got {num_workers!r}")
        self.iterable = isinstance(dataset, IterableDataset)
        if self.iterable and shuffle:
            raise ValueError("DataLoader: argument `shuffle` expected False for an IterableDataset (a stream has no "
                             "order to shuffle), got True")
        if sampler is not None and (shuffle or self.iterable):
            raise ValueError(f"DataLoader: argument `sampler` expected None with "
                             f"{'an IterableDataset' if self.iterable else 'shuffle=True'} (they exclude each other), "
                             f"got {type(sampler).__name__}")
        if sampler is not None:
            sampler_length(sampler)
        if not self.iterable and not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: argument `dataset` expected a dataset with __getitem__ and __len__, or an "
                            f"IterableDataset, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.pin_memory = bool(pin_memory)
        self.generator = generator
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if batch_sampler is not None and self.iterable:
            raise ValueError("DataLoader: argument `batch_sampler` expected None for an IterableDataset")

    def __len__(self) -> int:
        if self.iterable:
            raise TypeError(f"DataLoader over an IterableDataset ({type(self.dataset).__name__}) has no length")
        if self.batch_sampler is not None:
            return sampler_length(self.batch_sampler)
        n = len(self.dataset) if self.sampler is None else sampler_length(self.sampler)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def draw_seed(self) -> int:
        """A shuffling seed for one pass, drawn from ``generator`` or else the global generator (0
        without shuffling)."""
        if not self.shuffle:
            return 0
        from ...creation import randint

        return int(randint(0, 2**24, (), generator=self.generator).item())

    def _order(self) -> list[int]:
        if self.sampler is not None:
            return [int(i) for i in self.sampler]
        n = len(self.dataset)
        if not self.shuffle:
            return list(range(n))
        from ...creation import randperm

        return randperm(n, generator=self.generator).tolist()

    def _batches_of_positions(self) -> Iterator[list[int]]:
        if self.batch_sampler is not None:
            yield from ([int(i) for i in batch] for batch in self.batch_sampler)
            return
        order = self._order()
        size = self.batch_size or 1
        for start in range(0, len(order), size):
            batch = order[start:start + size]
            if len(batch) < size and self.drop_last:
                return
            yield batch

    def __iter__(self) -> Iterator[Any]:
        from .native import native_loader

        if self.iterable:
            yield from self._iterate_stream()
            return
        if isinstance(self.dataset, _core.Dataset):
            native = native_loader(self)
            if native is not None:
                yield from native
                return
        collate = self.collate_fn or default_collate
        for positions in self._batches_of_positions():
            if self.batch_size is None:
                yield self.dataset[positions[0]]
            elif isinstance(self.dataset, TensorDataset) and self.collate_fn is None:
                yield [t.index_select(0, _positions_on(positions, t)) for t in self.dataset.tensors]
            else:
                yield collate([self.dataset[i] for i in positions])

    def _iterate_stream(self) -> Iterator[Any]:
        if self.batch_size is None:
            yield from self.dataset
            return
        collate = self.collate_fn or default_collate
        batch: list[Any] = []
        for item in self.dataset:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)


def _positions_on(positions: list[int], like: Any) -> Any:
    return _core.Tensor.from_numpy(np.asarray(positions, dtype=np.int64)).to(like.device)
