"""PyTorch-style datasets and loaders (``torch.utils.data``) over tensors and Python objects.

``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split`` and a ``DataLoader`` that
batches any map-style or iterable dataset through ``default_collate``. A loader over a ferrograd
:class:`ferrograd.data.Dataset` (files decoded into Rust memory) runs the native prefetching
loader instead. ``fit`` / ``evaluate`` / ``predict`` take a ``TensorDataset`` of ``(inputs,
labels)``, a ``Subset`` of one, or a ``DataLoader`` over either, and run them in Rust.
"""

from .collate import default_collate
from .datasets import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                       random_split)
from .loader import DataLoader


def get_worker_info() -> None:
    """None: batches are built in the calling process (``num_workers`` changes nothing), which is
    what PyTorch returns outside a worker process."""
    return None
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset", "StackDataset", "random_split", "DataLoader",
           "default_collate", "Sampler", "WeightedRandomSampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "get_worker_info"]
