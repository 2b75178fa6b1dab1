"""Resizing layers: Upsample, PixelShuffle and PixelUnshuffle."""

from __future__ import annotations

from typing import Optional, Sequence, Union

from .._core import Tensor
from .. import functional as F
from .module import Module


class Upsample(Module):
    """Resizing by ``size`` or ``scale_factor`` with ``F.interpolate``'s modes (``'nearest'``,
    ``'nearest-exact'``, ``'linear'``, ``'bilinear'``, ``'trilinear'``, ``'bicubic'``, ``'area'``)."""

    def __init__(self, size: Optional[Union[int, Sequence[int]]] = None,
                 scale_factor: Optional[Union[float, Sequence[float]]] = None, mode: str = "nearest",
                 align_corners: Optional[bool] = None) -> None:
        super().__init__()
        if mode not in F.INTERPOLATION_MODES:
            raise ValueError(f"Upsample: argument `mode` expected one of {list(F.INTERPOLATION_MODES)}, got {mode!r}")
        self.size, self.scale_factor, self.mode, self.align_corners = size, scale_factor, mode, align_corners

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        corners = "" if self.align_corners is None else f", align_corners={self.align_corners}"
        return f"size={self.size}, scale_factor={self.scale_factor}, mode={self.mode!r}{corners}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour 2-D upsampling (PyTorch's older name for ``Upsample(mode="nearest")``)."""

    def __init__(self, size: Optional[Union[int, Sequence[int]]] = None,
                 scale_factor: Optional[Union[float, Sequence[float]]] = None) -> None:
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear 2-D upsampling with ``align_corners=True`` (PyTorch's older layer)."""

    def __init__(self, size: Optional[Union[int, Sequence[int]]] = None,
                 scale_factor: Optional[Union[float, Sequence[float]]] = None) -> None:
        super().__init__(size, scale_factor, "bilinear", align_corners=True)


class PixelShuffle(Module):
    """``[N, C r^2, H, W]`` to ``[N, C, H r, W r]`` (sub-pixel upsampling)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``[N, C, H r, W r]`` to ``[N, C r^2, H, W]`` (the inverse of :class:`PixelShuffle`)."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x: Tensor) -> Tensor:
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleaves the channels of ``groups`` channel groups (ShuffleNet)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: Tensor) -> Tensor:
        return F.channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
