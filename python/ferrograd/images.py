"""Image grids of samples (generated images, adversarial examples) and PNG output."""

from __future__ import annotations

import math
import os
from typing import Optional, Union

import numpy as np

from . import _core
from ._core import Tensor

ImageBatch = Union[Tensor, np.ndarray]


def make_grid(images: ImageBatch, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: Optional[tuple[float, float]] = None, pad_value: float = 0.0) -> np.ndarray:
    """Tiles a batch ``[B, C, H, W]`` into one ``[C, H', W']`` float image, ``nrow`` images per
    row with ``padding`` pixels between them, as ``torchvision.utils.make_grid``. With
    ``normalize``, values are rescaled from ``value_range`` (default: the batch's min and max)
    to [0, 1]."""
    x = images.detach().numpy() if isinstance(images, Tensor) else np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[0] == 0:
        raise ValueError(f"make_grid: argument `images` expected a non-empty [B, C, H, W] batch, got shape {x.shape}")
    if not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"make_grid: argument `nrow` expected a positive int, got {nrow!r}")
    x = x.astype(np.float32)
    if normalize:
        low, high = value_range if value_range is not None else (float(x.min()), float(x.max()))
        x = np.clip((x - low) / max(high - low, 1e-5), 0.0, 1.0)
    b, c, h, w = x.shape
    cols = min(nrow, b)
    rows = math.ceil(b / cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, np.float32)
    for i in range(b):
        r, k = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[:, top:top + h, left:left + w] = x[i]
    return grid


def save_image(image: ImageBatch, path: Union[str, "os.PathLike[str]"], **grid_options: object) -> None:
    """Writes a [0, 1] image ``[C, H, W]`` (or a batch, tiled with :func:`make_grid` and
    ``grid_options``) as a PNG file, atomically."""
    x = image.detach().numpy() if isinstance(image, Tensor) else np.asarray(image, dtype=np.float32)
    if x.ndim == 4 or grid_options:
        x = make_grid(x, **grid_options)  # type: ignore[arg-type]
    if x.ndim != 3 or x.shape[0] not in (1, 3, 4):
        raise ValueError(f"save_image: argument `image` expected [C, H, W] with C in (1, 3, 4), got shape {x.shape}")
    pixels = np.ascontiguousarray((np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(1, 2, 0))
    _core.save_png(os.fspath(path), pixels)
