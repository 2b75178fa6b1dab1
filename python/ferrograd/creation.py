"""Tensor factories under PyTorch's names: ranges, identity matrices, ``*_like`` and random integers
and permutations drawn from the generator that :func:`ferrograd.manual_seed` seeds."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _core
from ._core import Tensor
from ._generator import Generator, uniform


def _shape(shape: Any) -> tuple[int, ...]:
    """Sizes given as ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])``, as ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _placed(values: np.ndarray, dtype: Optional[str], device: str, requires_grad: bool) -> Tensor:
    from . import tensor

    return tensor(values, dtype).to(device).requires_grad_(requires_grad)


def arange(start: float, end: Optional[float] = None, step: float = 1, dtype: Optional[str] = None,
           device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (0 when only one bound is given) up to, not including, ``end`` in steps
    of ``step``; int64 when all three are integers, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: argument `step` expected a nonzero value, got 0")
    integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    return _placed(np.arange(start, end, step, dtype=np.int64 if integral else np.float64), dtype, device, requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Optional[str] = None, device: str = "cpu",
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 unless given)."""
    if steps < 0:
        raise ValueError(f"linspace: argument `steps` expected a non-negative count, got {steps}")
    return _placed(np.linspace(start, end, steps), dtype, device, requires_grad)


def eye(n: int, m: Optional[int] = None, dtype: str = "float32", device: str = "cpu",
        requires_grad: bool = False) -> Tensor:
    """An ``n`` x ``m`` (default ``n`` x ``n``) matrix with ones on the diagonal."""
    if n < 0 or (m is not None and m < 0):
        raise ValueError(f"eye: arguments `n` and `m` expected non-negative sizes, got {n} and {m}")
    return _placed(np.eye(n, m), dtype, device, requires_grad)


def empty(*shape: Any, dtype: str = "float32", device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape``; its entries are zeros (never uninitialised memory)."""
    from . import zeros

    return zeros(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Optional[str] = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with ``t``'s shape and device, and its dtype unless given."""
    return _core.full(list(t.shape), float(fill_value), dtype or t.dtype, t.device, requires_grad)


def empty_like(t: Tensor, dtype: Optional[str] = None, requires_grad: bool = False) -> Tensor:
    """A tensor with ``t``'s shape and device, and its dtype unless given; its entries are zeros
    (never uninitialised memory)."""
    return _core.full(list(t.shape), 0.0, dtype or t.dtype, t.device, requires_grad)


def rand_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Uniform values in [0, 1) with ``t``'s shape and device (see :func:`ferrograd.rand`)."""
    return _core.rand(list(t.shape), 0.0, 1.0, requires_grad, t.device)


def randn_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Standard normal values with ``t``'s shape and device (see :func:`ferrograd.randn`)."""
    return _core.randn(list(t.shape), 0.0, 1.0, requires_grad, t.device)


def randint(low: int, high: Optional[int] = None, size: Any = (), dtype: str = "int64",
            device: str = "cpu", *, generator: Optional[Generator] = None) -> Tensor:
    """Integers uniform in [``low``, ``high``) (``randint(high, size)`` starts at 0), from the seeded
    generator, or from ``generator`` (a :class:`ferrograd.Generator`): the same values on every
    device."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: arguments `low` and `high` expected low < high, got {low} and {high}")
    shape = [int(size)] if isinstance(size, (int, np.integer)) else [int(s) for s in size]
    if not -(2**24) <= low < high <= 2**24:
        raise ValueError(f"randint: arguments `low` and `high` expected bounds within ±2^24 (integers float32 holds "
                         f"exactly), got {low} and {high}")
    span = high - low
    # floor(u * span) < span for u < 1, but u * span can round up to span: clamp it back. The
    # int64 cast truncates, which is the floor for these non-negative draws.
    draws = (uniform("randint", generator, shape, device=device) * float(span)).clamp(None, float(span - 1))
    return (draws.to("int64") + low).to(dtype)


def randperm(n: int, dtype: str = "int64", device: str = "cpu", *, generator: Optional[Generator] = None) -> Tensor:
    """A random permutation of 0..n-1 from the seeded generator, or from ``generator`` (a
    :class:`ferrograd.Generator`): the order of ``n`` uniform draws."""
    if n < 0:
        raise ValueError(f"randperm: argument `n` expected a non-negative count, got {n}")
    draws = uniform("randperm", generator, [n]).numpy()
    return _placed(np.argsort(draws, kind="stable"), dtype, device, False)
