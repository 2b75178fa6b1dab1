"""``ferrograd.testing``: :func:`assert_close`, PyTorch's tensor comparison for tests."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .._core import Tensor

__all__ = ["assert_close"]

# PyTorch's default (rtol, atol) per dtype; integer and bool tensors compare exactly.
_DEFAULT_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
                       "float64": (1e-7, 1e-7)}


def _dtype_name(value: Any) -> str:
    if isinstance(value, Tensor):
        return str(value.dtype).replace("ferrograd.", "")
    return str(np.asarray(value).dtype)


def _values(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return np.asarray(value.detach().float().numpy() if _dtype_name(value) in ("float16", "bfloat16")
                          else value.detach().numpy())
    return np.asarray(value)


def _compare(actual: Any, expected: Any, rtol: Optional[float], atol: Optional[float], equal_nan: bool,
             check_device: bool, check_dtype: bool, path: str) -> None:
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping) or set(actual) != set(expected):
            raise AssertionError(f"The mappings differ{path}: keys {sorted(map(str, actual))} vs {sorted(map(str, expected))}")
        for key in expected:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_device, check_dtype, f"{path}[{key!r}]")
        return
    if isinstance(expected, Sequence) and not isinstance(expected, (str, bytes)) and not isinstance(expected, Tensor):
        if not isinstance(actual, Sequence) or len(actual) != len(expected):
            raise AssertionError(f"The sequences differ in length{path}: {len(actual)} vs {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_device, check_dtype, f"{path}[{i}]")
        return
    where = f" at {path.lstrip()}" if path else ""
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        if check_device and actual.device != expected.device:
            raise AssertionError(f"The values{where} are on different devices: {actual.device} and {expected.device}")
        if check_dtype and actual.dtype != expected.dtype:
            raise AssertionError(f"The values{where} have different dtypes: {actual.dtype} and {expected.dtype}")
    a, e = _values(actual), _values(expected)
    if a.shape != e.shape:
        raise AssertionError(f"The values{where} have different shapes: {list(a.shape)} and {list(e.shape)}")
    default = _DEFAULT_TOLERANCES.get(_dtype_name(expected), (0.0, 0.0))
    r = default[0] if rtol is None else rtol
    t = default[1] if atol is None else atol
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=r, atol=t, equal_nan=equal_nan) if a.dtype.kind in "fc" or e.dtype.kind in "fc" \
        else a64 == e64
    if close.all():
        return
    bad = int((~close).sum())
    diff = np.abs(a64 - e64)
    diff[~np.isfinite(diff)] = np.inf
    worst = np.unravel_index(int(np.argmax(np.where(close, -1.0, diff))), a.shape) if a.ndim else ()
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(close, -1.0, diff / np.abs(e64))
    worst_rel = np.unravel_index(int(np.nanargmax(relative)), a.shape) if a.ndim else ()
    raise AssertionError(
        f"Tensor-likes are not close{where}!\n\n"
        f"Mismatched elements: {bad} / {a.size} ({100.0 * bad / max(a.size, 1):.1f}%)\n"
        f"Greatest absolute difference: {diff[worst]} at index {tuple(int(i) for i in worst)} (up to {t} allowed)\n"
        f"Greatest relative difference: {relative[worst_rel]} at index {tuple(int(i) for i in worst_rel)} "
        f"(up to {r} allowed)")


def assert_close(actual: Any, expected: Any, *, rtol: Optional[float] = None, atol: Optional[float] = None,
                 equal_nan: bool = False, check_device: bool = True, check_dtype: bool = True,
                 msg: Optional[str] = None) -> None:
    """Raises an AssertionError unless ``actual`` and ``expected`` (tensors, arrays, numbers, or
    sequences and mappings of them) are close: ``|actual - expected| <= atol + rtol * |expected|``
    elementwise, with PyTorch's default tolerances for the expected dtype (float32: 1.3e-6 and
    1e-5; float16: 1e-3 and 1e-5; bfloat16: 1.6e-2 and 1e-5; integers: exact). Tensors must also
    share device and dtype unless told otherwise; ``msg`` replaces the message."""
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: pass both `rtol` and `atol`, or neither")
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, "")
    except AssertionError as error:
        if msg is not None:
            raise AssertionError(msg) from None
        raise error
