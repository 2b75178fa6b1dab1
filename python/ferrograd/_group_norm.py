"""Group and instance normalisation, run through the fused layer-norm kernel: the statistics of
each (sample, group) are those of a layer norm over that group's values."""

from __future__ import annotations

from typing import Optional

from . import _core
from ._core import Tensor


def group_norm(x: Tensor, num_groups: int, weight: Optional[Tensor] = None, bias: Optional[Tensor] = None,
               eps: float = 1e-5) -> Tensor:
    """Normalises each of ``num_groups`` channel groups of an [N, C, ...] input over its channels
    and positions (biased variance), then scales and shifts each channel by ``weight`` and
    ``bias`` [C]."""
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape [N, C, ...], got {list(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: argument `num_groups` expected a divisor of the {c} channels, got {num_groups}")
    grouped = x.reshape(n, num_groups, -1)
    out = _core.layer_norm(grouped, [grouped.shape[-1]], None, None, eps).reshape(*x.shape)
    per_channel = [1, c] + [1] * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(*per_channel)
    if bias is not None:
        out = out + bias.reshape(*per_channel)
    return out


def instance_norm(x: Tensor, weight: Optional[Tensor] = None, bias: Optional[Tensor] = None, eps: float = 1e-5) -> Tensor:
    """Normalises each channel of each sample of an [N, C, ...] input over its positions (the
    statistics of this batch; no running estimates)."""
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape [N, C, ...] with positions, got {list(x.shape)}")
    return group_norm(x, x.shape[1], weight, bias, eps)
