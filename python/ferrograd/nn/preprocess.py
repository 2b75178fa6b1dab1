"""Input preprocessing inside the model."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import _core
from .._core import Tensor
from .module import Module


class Normalize(Module):
    """``(x - mean[c]) / std[c]`` over dim 1. Putting normalisation inside the model keeps inputs
    (and attack budgets ε) in the raw [0, 1] space, as robustness evaluations expect."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        if len(mean) != len(std) or not len(mean) or any(s <= 0 for s in std):
            raise ValueError(f"Normalize: expected equally long, non-empty mean and std with std > 0, got {list(mean)} and {list(std)}")
        self.mean, self.std = [float(m) for m in mean], [float(s) for s in std]

    def _stats(self, x: Tensor) -> tuple[Tensor, Tensor]:
        shape = [len(self.mean)] + [1] * (x.ndim - 2)
        return (Tensor.from_numpy(np.asarray(self.mean, dtype=np.float32).reshape(shape)).to(x.device),
                Tensor.from_numpy(np.asarray(self.std, dtype=np.float32).reshape(shape)).to(x.device))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != len(self.mean):
            raise ValueError(f"Normalize: expected {len(self.mean)} channels in dim 1, got input of shape {tuple(x.shape)}")
        mean, std = self._stats(x)
        return (x - mean) / std

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.normalize(self.mean, self.std)

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"
