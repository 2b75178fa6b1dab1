"""Tensor attributes as PyTorch spells them: ``device`` as a :class:`ferrograd.device`,
``is_cuda``, ``data``, and ``max`` / ``min`` along a dimension returning ``(values, indices)``
with those names. ``install()`` attaches them when the package loads."""

from __future__ import annotations

from typing import Any, Optional

from ._core import Tensor
from .dtypes import device
from .tensor_methods import ValuesIndices

# The compiled class's own attributes, which the versions below wrap.
_DEVICE_NAME = Tensor.device
_MAX = Tensor.max
_MIN = Tensor.min


def _device(self: Tensor) -> device:
    """The device the tensor lives on (``"cpu"`` or ``"cuda:N"``), as a :class:`ferrograd.device`."""
    # The core's names are valid already: skip the parsing `device()` does for users' strings.
    return str.__new__(device, _DEVICE_NAME.__get__(self))


def _is_cuda(self: Tensor) -> bool:
    """True for a tensor on a CUDA device."""
    return _device(self).type == "cuda"


def _data(self: Tensor) -> Tensor:
    """The same values cut from autograd (``detach()``), as PyTorch's ``.data``."""
    return self.detach()


def tensor_max(self: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Any:
    """Without ``dim``: the largest entry. With ``dim``: ``(values, indices)`` of the largest
    entries along it (the first at ties), with those field names."""
    out = _MAX(self, dim, keepdim)
    return ValuesIndices(*out) if isinstance(out, tuple) else out


def tensor_min(self: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Any:
    """Without ``dim``: the smallest entry. With ``dim``: ``(values, indices)`` of the smallest
    entries along it (the first at ties), with those field names."""
    out = _MIN(self, dim, keepdim)
    return ValuesIndices(*out) if isinstance(out, tuple) else out


def install() -> None:
    """Attaches the attributes above to :class:`Tensor`."""
    setattr(Tensor, "device", property(_device))
    setattr(Tensor, "is_cuda", property(_is_cuda))
    setattr(Tensor, "data", property(_data))
    tensor_max.__name__, tensor_min.__name__ = "max", "min"
    setattr(Tensor, "max", tensor_max)
    setattr(Tensor, "min", tensor_min)
