"""``ferrograd.backends.cudnn``: PyTorch's cuDNN switches, accepted for source compatibility.

ferrograd does not use cuDNN: its CUDA convolutions are its own implicit-GEMM kernels (float32
on CUDA cores, or bfloat16 tensor cores under autocast), with one tile configuration chosen by
shape. So ``benchmark``, ``deterministic``, ``enabled`` and ``allow_tf32`` change nothing; they
are checked (bools only), stored and read back, and :func:`is_available` is False.
"""

from __future__ import annotations

import sys
import types
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Optional

__all__ = ["is_available", "version", "flags"]

# PyTorch's defaults.
_settings = {"benchmark": False, "deterministic": False, "enabled": True, "allow_tf32": True}

if TYPE_CHECKING:
    # Served by the properties of `_CudnnModule` below; declared here for type checkers.
    benchmark: bool
    deterministic: bool
    enabled: bool
    allow_tf32: bool


def _checked(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"backends.cudnn.{name}: expected a bool, got {value!r} ({type(value).__name__})")
    return value


def is_available() -> bool:
    """False: ferrograd has no cuDNN path (its convolutions are its own kernels)."""
    return False


def version() -> Optional[int]:
    """None: no cuDNN library is loaded (``torch.backends.cudnn.version()`` without cuDNN)."""
    return None


@contextmanager
def flags(enabled: bool = False, benchmark: bool = False, deterministic: bool = False,
          allow_tf32: bool = True) -> Iterator[None]:
    """Sets the four switches for the ``with`` block and restores them after it, as
    ``torch.backends.cudnn.flags`` (same defaults); like the switches, it changes no computation."""
    new = {name: _checked(name, value) for name, value in
           (("enabled", enabled), ("benchmark", benchmark), ("deterministic", deterministic),
            ("allow_tf32", allow_tf32))}
    saved = dict(_settings)
    _settings.update(new)
    try:
        yield
    finally:
        _settings.update(saved)


def _switch(name: str, doc: str) -> property:
    def get(_module: types.ModuleType) -> bool:
        return _settings[name]

    def put(_module: types.ModuleType, value: bool) -> None:
        _settings[name] = _checked(name, value)

    return property(get, put, doc=doc)


class _CudnnModule(types.ModuleType):
    """This module, with its switches as checked properties."""

    benchmark = _switch("benchmark", """No effect in ferrograd (default False). In PyTorch it lets cuDNN time
        several convolution algorithms and keep the fastest; ferrograd's convolutions have one kernel each,
        configured by shape, so there is nothing to time.""")
    deterministic = _switch("deterministic", """No effect in ferrograd (default False). In PyTorch it restricts
        cuDNN to deterministic convolution algorithms; ferrograd's convolution kernels sum in a fixed order
        already and use no cuDNN.""")
    enabled = _switch("enabled", """No effect in ferrograd (default True). In PyTorch False turns cuDNN off;
        ferrograd never uses cuDNN.""")
    allow_tf32 = _switch("allow_tf32", """No effect in ferrograd (default True). In PyTorch it lets cuDNN
        convolutions use TF32 tensor cores; ferrograd's convolutions never use TF32 (for float32 matrix
        products see ``ferrograd.backends.cuda.matmul.allow_tf32``).""")


sys.modules[__name__].__class__ = _CudnnModule
