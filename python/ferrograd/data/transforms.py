"""Per-sample transforms for :class:`ferrograd.data.DataLoader` and ``Dataset.get_batch``.

They run in Rust on the batch's worker threads, after uint8 images are scaled to [0, 1], in the
order given. Random ones draw from ferrograd's seeded Philox generator: the loader's seed (or the
global generator), so the same seed and epoch give the same augmented batch.

- ``Normalize(mean, std)``: ``(x - mean[c]) / std[c]`` per channel (per feature for tables).
- ``RandomCrop(size, padding=0)``: zero-pad every border, keep a random ``size`` window.
- ``RandomHorizontalFlip(p=0.5)``: mirror left-right with probability ``p``.
- ``RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3/4, 4/3))``: torchvision's sampling
  (10 tries, then a center crop), resized bilinearly to ``size``.
- ``Cutout(size)``: zero a ``size`` x ``size`` square at a random centre, clipped at the borders.

``size`` is an int (square) or ``(height, width)``. All are subclasses of ``Transform``.
"""

from __future__ import annotations

from .._core import Cutout, Normalize, RandomCrop, RandomHorizontalFlip, RandomResizedCrop, Transform

__all__ = ["Transform", "Normalize", "RandomCrop", "RandomHorizontalFlip", "RandomResizedCrop", "Cutout"]
