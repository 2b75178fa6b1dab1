"""``finfo`` and ``iinfo``: the numerical limits of ferrograd's dtypes, as ``torch.finfo`` and
``torch.iinfo`` report them."""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import FLOATING_DTYPES

_INTEGER_DTYPES = ("int64", "int32", "int8", "uint8")


def _dtype_name(dtype: Any, default: str) -> str:
    name = default if dtype is None else str(getattr(dtype, "dtype", dtype))
    return name.replace("torch.", "")


class finfo:
    """Limits of a floating dtype (``float32`` by default, ``float16``, ``bfloat16``): ``bits``,
    ``eps`` (the gap from 1 to the next value), ``max``, ``min`` (the most negative value),
    ``tiny`` / ``smallest_normal``, ``resolution`` (10 to minus the decimal digits) and
    ``dtype``."""

    def __init__(self, dtype: Any = None) -> None:
        name = _dtype_name(dtype, "float32")
        if name not in FLOATING_DTYPES:
            raise TypeError(f"finfo: argument `dtype` expected one of {FLOATING_DTYPES}, got {name!r}")
        self.dtype = name
        if name == "bfloat16":
            # 8 exponent bits as float32, 7 stored mantissa bits.
            self.bits, self.eps, self.tiny, self.resolution = 16, 2.0 ** -7, 2.0 ** -126, 0.01
            self.max = float((2 - 2.0 ** -7) * 2.0 ** 127)
        else:
            info = np.finfo(np.float32 if name == "float32" else np.float16)
            self.bits, self.eps, self.tiny = int(info.bits), float(info.eps), float(info.smallest_normal)
            self.max, self.resolution = float(info.max), 10.0 ** -int(info.precision)
        self.min = -self.max
        self.smallest_normal = self.tiny

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.tiny:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (``int64``, ``int32``, ``int8``, ``uint8``): ``bits``, ``min``,
    ``max`` and ``dtype``."""

    def __init__(self, dtype: Any) -> None:
        name = _dtype_name(dtype, "int64")
        if name not in _INTEGER_DTYPES:
            raise TypeError(f"iinfo: argument `dtype` expected one of {_INTEGER_DTYPES}, got {name!r}")
        info = np.iinfo(getattr(np, name))
        self.dtype, self.bits, self.min, self.max = name, int(info.bits), int(info.min), int(info.max)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
