"""``embedding_bag``: sums, means or maxima of bags of embedding rows, as PyTorch defines them.
The bags (from a 2-D input, or a 1-D input cut at ``offsets``) are laid out on the host as a
padded [bags, longest] index matrix with a mask, so one lookup and one masked reduction over the
padded axis do the work, and autograd differentiates it (the lookup's backward adds into the
table's rows)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from . import _core
from ._core import Tensor


def _bags(ids: np.ndarray, offsets: Optional[np.ndarray], include_last_offset: bool) -> list[np.ndarray]:
    """The index arrays of each bag."""
    if ids.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: argument `offsets` expected None for a 2-D input (each row is a bag)")
        return list(ids)
    if ids.ndim != 1 or offsets is None or offsets.ndim != 1:
        raise ValueError(f"embedding_bag: expected a 2-D input, or a 1-D input with 1-D `offsets`, got input shape "
                         f"{list(ids.shape)} and offsets {None if offsets is None else list(offsets.shape)}")
    bounds = list(offsets.astype(np.int64)) + ([] if include_last_offset else [len(ids)])
    if any(b < 0 or b > len(ids) for b in bounds) or any(a > b for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"embedding_bag: argument `offsets` expected non-decreasing starts in [0, {len(ids)}], got "
                         f"{list(offsets)}")
    if bounds and bounds[0] != 0:
        raise ValueError(f"embedding_bag: argument `offsets` expected to start at 0, got {bounds[0]}")
    return [ids[a:b] for a, b in zip(bounds, bounds[1:])]


def embedding_bag(input: Tensor, weight: Tensor, offsets: Optional[Tensor] = None, mode: str = "mean",
                  per_sample_weights: Optional[Tensor] = None, include_last_offset: bool = False,
                  padding_idx: Optional[int] = None) -> Tensor:
    """One row per bag of ``weight``'s rows picked by ``input``: their sum, mean or elementwise
    maximum (``mode``). Entries equal to ``padding_idx`` are left out of their bag; an empty bag
    gives zeros. ``per_sample_weights`` (input's shape, ``mode="sum"`` only) scales each entry."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: argument `mode` expected 'sum', 'mean' or 'max', got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"embedding_bag: argument `per_sample_weights` expected mode 'sum', got mode {mode!r}")
    ids = input.detach().cpu().numpy().astype(np.int64)
    cuts = offsets.detach().cpu().numpy() if offsets is not None else None
    bags = _bags(ids, cuts, include_last_offset)
    starts = np.cumsum([0] + [len(b) for b in bags])[:-1]
    longest = max([len(b) for b in bags] + [1])
    index = np.zeros((len(bags), longest), np.int64)
    mask = np.zeros((len(bags), longest), bool)
    flat = np.zeros((len(bags), longest), np.int64)  # positions in the flattened input, for the weights
    for i, bag in enumerate(bags):
        index[i, :len(bag)] = bag
        mask[i, :len(bag)] = bag != padding_idx if padding_idx is not None else True
        flat[i, :len(bag)] = starts[i] + np.arange(len(bag))
    device = str(weight.device)
    rows = _core.embedding(_core.Tensor.from_numpy(index).to(device), weight)  # [bags, longest, dim]
    keep = _core.Tensor.from_numpy(mask).to(device).unsqueeze(-1)
    if mode == "max":
        from . import where

        best = where(keep, rows, float("-inf")).amax(1)
        present = _core.Tensor.from_numpy(np.asarray(mask.any(1))).to(device).unsqueeze(-1)
        return where(present, best, 0.0)
    scale = keep.to(weight.dtype)
    if per_sample_weights is not None:
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: argument `per_sample_weights` expected shape {list(input.shape)}, got "
                             f"{list(per_sample_weights.shape)}")
        picked = per_sample_weights.reshape(-1).index_select(0, _core.Tensor.from_numpy(flat.reshape(-1)).to(device))
        scale = scale * picked.reshape(len(bags), longest, 1)
    total = (rows * scale).sum(1)
    if mode == "sum":
        return total
    counts = np.maximum(mask.sum(1), 1).astype(np.float32)
    return total / _core.Tensor.from_numpy(counts).to(device).unsqueeze(-1)
