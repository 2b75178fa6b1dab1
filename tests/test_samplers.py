"""``torch.utils.data``'s samplers: sequential, random (with and without replacement), subset,
and batch samplers driving a DataLoader."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.utils.data import (BatchSampler, DataLoader, RandomSampler, SequentialSampler, SubsetRandomSampler,
                                  TensorDataset)


def _data(n: int = 10) -> TensorDataset:
    return TensorDataset(fg.tensor(np.arange(n, dtype=np.float32).reshape(n, 1)), fg.tensor(np.arange(n)))


def test_sequential_random_and_subset_samplers() -> None:
    data = _data()
    assert list(SequentialSampler(data)) == list(range(10))
    fg.manual_seed(0)
    first = list(RandomSampler(data))
    assert sorted(first) == list(range(10)) and first != list(range(10))
    fg.manual_seed(0)
    assert list(RandomSampler(data)) == first  # the global generator decides
    generator = fg.Generator().manual_seed(3)
    longer = list(RandomSampler(data, num_samples=25, generator=generator))
    assert len(longer) == 25 and sorted(longer[:10]) == list(range(10)) and sorted(longer[10:20]) == list(range(10))
    drawn = list(RandomSampler(data, replacement=True, num_samples=200))
    assert len(drawn) == 200 and set(drawn) <= set(range(10)) and len(set(drawn)) == 10
    subset = SubsetRandomSampler([7, 2, 9, 4])
    assert sorted(subset) == [2, 4, 7, 9] and len(subset) == 4
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(data, num_samples=0)


def test_batch_sampler_drives_the_loader() -> None:
    data = _data()
    batches = BatchSampler(SequentialSampler(data), batch_size=4, drop_last=False)
    assert list(batches) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(batches) == 3
    assert len(BatchSampler(SequentialSampler(data), 4, drop_last=True)) == 2
    loader = DataLoader(data, batch_sampler=BatchSampler(SubsetRandomSampler([1, 3, 5, 7, 9]), 2, False))
    seen = [y.numpy().tolist() for _, y in loader]
    assert len(loader) == 3 and sorted(sum(seen, [])) == [1, 3, 5, 7, 9]
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(data, batch_size=4, batch_sampler=batches)
    fg.manual_seed(1)
    sampled = DataLoader(data, batch_size=3, sampler=RandomSampler(data))
    assert sorted(sum((y.numpy().tolist() for _, y in sampled), [])) == list(range(10))


def test_chain_and_stack_datasets() -> None:
    from ferrograd.utils.data import ChainDataset, IterableDataset, StackDataset, get_worker_info

    class Count(IterableDataset):
        def __init__(self, n: int) -> None:
            self.n = n

        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(range(self.n))

    chained = ChainDataset([Count(2), Count(3)])
    assert list(chained) == [0, 1, 0, 1, 2]
    batches = [b.numpy().tolist() for b in DataLoader(chained, batch_size=2)]
    assert batches == [[0, 1], [0, 1], [2]]
    data = _data(4)
    stacked = StackDataset(data, data)
    assert len(stacked) == 4 and stacked[2][1][1].item() == 2
    named = StackDataset(a=data, b=list(range(4)))
    assert named[3]["b"] == 3
    with pytest.raises(ValueError, match="one length"):
        StackDataset(data, [1, 2])
    assert get_worker_info() is None
