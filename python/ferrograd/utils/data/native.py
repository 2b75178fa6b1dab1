"""The native (Rust) form of a ``TensorDataset`` of ``(inputs, labels)`` and of loaders over it,
which ``fit`` / ``evaluate`` / ``predict`` run without Python in the loop."""

from __future__ import annotations

from typing import Any, Optional

from ... import _core
from .datasets import Subset, TensorDataset


def native_dataset(dataset: Any) -> Optional[_core.Dataset]:
    """A ferrograd Dataset with the same samples, or None where there is none: a native Dataset
    itself, a ``TensorDataset(inputs, labels)`` with float or uint8 inputs ``[N, ...]`` (2-D to
    4-D) and integer labels ``[N]``, or a ``Subset`` of either."""
    if isinstance(dataset, _core.Dataset):
        return dataset
    if isinstance(dataset, Subset):
        base = native_dataset(dataset.dataset)
        return None if base is None else base.subset([i % len(dataset.dataset) for i in dataset.indices])
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) == 2:
        inputs, labels = dataset.tensors
        if inputs.dtype in ("float32", "float16", "bfloat16", "uint8") and 2 <= inputs.ndim <= 4 \
                and labels.dtype in ("int64", "int32", "uint8") and labels.ndim == 1:
            from ...data import from_numpy

            features = inputs.detach().cpu()
            features = features if features.dtype in ("float32", "uint8") else features.float()
            return from_numpy(features.numpy(), labels.cpu().numpy())
    return None


def native_loader(loader: Any) -> Optional[_core.DataLoader]:
    """The native DataLoader for a :class:`DataLoader` whose dataset has a native form and that
    batches with the default collation and has no sampler, else None."""
    from .loader import DataLoader

    if not isinstance(loader, DataLoader) or loader.collate_fn is not None or loader.batch_size is None \
            or getattr(loader, "sampler", None) is not None or getattr(loader, "batch_sampler", None) is not None:
        return None
    dataset = native_dataset(loader.dataset)
    if dataset is None:
        return None
    return _core.DataLoader(dataset, loader.batch_size, shuffle=loader.shuffle, drop_last=loader.drop_last,
                            seed=loader.draw_seed(), as_tensors=True)
