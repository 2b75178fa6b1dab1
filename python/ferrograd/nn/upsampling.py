"""Resizing layers."""

from __future__ import annotations

from typing import Optional, Sequence, Union

from .._core import Tensor
from .. import functional as F
from .module import Module


class Upsample(Module):
    """Nearest-neighbour upsampling by whole factors (``size`` or ``scale_factor``)."""

    def __init__(self, size: Optional[Union[int, Sequence[int]]] = None,
                 scale_factor: Optional[Union[float, Sequence[float]]] = None, mode: str = "nearest") -> None:
        super().__init__()
        if mode != "nearest":
            raise ValueError(f"Upsample: argument `mode` expected 'nearest', got {mode!r}")
        self.size, self.scale_factor, self.mode = size, scale_factor, mode

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, self.size, self.scale_factor, self.mode)

    def extra_repr(self) -> str:
        return f"size={self.size}, scale_factor={self.scale_factor}, mode={self.mode!r}"
