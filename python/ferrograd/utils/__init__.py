"""PyTorch's ``torch.utils`` spellings: :mod:`ferrograd.utils.data` (datasets and loaders)."""

from . import data

__all__ = ["data"]
