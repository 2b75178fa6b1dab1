"""PyTorch's string paddings of convolutions: ``'valid'`` (none) and ``'same'`` (the output keeps
the input's size)."""

from __future__ import annotations

from typing import Sequence

from . import _core
from ._core import Tensor


def string_padding(op: str, padding: str, kernel: Sequence[int], stride: Sequence[int],
                   dilation: Sequence[int]) -> tuple[list[int], list[int]]:
    """(padding on both sides, extra padding at the end) per spatial axis. ``'same'`` pads
    ``dilation * (kernel - 1)`` along each axis, half of it (rounded down) at the start and the
    rest at the end, as PyTorch does; it needs stride 1."""
    if padding == "valid":
        return [0] * len(kernel), [0] * len(kernel)
    if padding != "same":
        raise ValueError(f"{op}: argument `padding` expected an int, a tuple of ints, 'same' or 'valid', "
                         f"got {padding!r}")
    if any(s != 1 for s in stride):
        raise ValueError(f"{op}: argument `padding` 'same' expected stride 1 (as in PyTorch, strided convolutions "
                         f"do not support it), got stride {tuple(stride)}")
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return [t // 2 for t in totals], [t % 2 for t in totals]


def pad_end(x: Tensor, extra: Sequence[int]) -> Tensor:
    """``x`` with ``extra[i]`` zeros appended along the i-th of its ``len(extra)`` last axes."""
    if not any(extra):
        return x
    return _core.pad(x, [(0, e) for e in reversed(extra)], 0.0)
