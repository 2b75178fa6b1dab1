"""Small functionals composed of ferrograd ops, with PyTorch's definitions: ``rms_norm``,
``softsign``, ``bilinear``, ``channel_shuffle``, ``pdist``, and 1-D adaptive pooling (through the
2-D ops on a unit axis)."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from . import _core
from ._adaptive_max_pool import adaptive_max_pool2d
from ._core import Tensor


def rms_norm(x: Tensor, normalized_shape: Union[int, Sequence[int]], weight: Optional[Tensor] = None,
             eps: Optional[float] = None) -> Tensor:
    """``x / sqrt(mean(x**2) + eps) * weight`` over the trailing ``normalized_shape`` axes
    (``eps`` defaults to float32's machine epsilon, as in PyTorch)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ValueError(f"rms_norm: argument `normalized_shape` {list(shape)} expected to end the input's shape "
                         f"{list(x.shape)}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    scale = ((x * x).mean(dim=axes, keepdim=True) + (1.1920928955078125e-07 if eps is None else eps)).rsqrt()
    out = x * scale
    return out * weight if weight is not None else out


def softsign(x: Tensor) -> Tensor:
    """``x / (1 + |x|)``."""
    return x / (x.abs() + 1)


def bilinear(x1: Tensor, x2: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """``y_k = x1 · weight[k] · x2 + bias[k]`` for inputs [..., in1] and [..., in2] and ``weight``
    [out, in1, in2]."""
    from .einsum import einsum

    if weight.ndim != 3 or x1.shape[-1] != weight.shape[1] or x2.shape[-1] != weight.shape[2]:
        raise ValueError(f"bilinear: expected inputs [..., {weight.shape[1] if weight.ndim == 3 else 'in1'}] and "
                         f"[..., {weight.shape[2] if weight.ndim == 3 else 'in2'}] for weight [out, in1, in2], got "
                         f"{list(x1.shape)}, {list(x2.shape)} and {list(weight.shape)}")
    out = einsum("...i,kij,...j->...k", x1, weight, x2)
    return out + bias if bias is not None else out


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet's channel shuffle: the C channels of [N, C, ...] as ``groups`` groups of C/groups,
    interleaved (channel g * (C/groups) + i moves to i * groups + g)."""
    if x.ndim < 3 or groups < 1 or x.shape[1] % groups:
        raise ValueError(f"channel_shuffle: expected an [N, C, ...] input whose C divides into `groups` {groups}, "
                         f"got shape {list(x.shape)}")
    n, c = x.shape[0], x.shape[1]
    rest = list(x.shape[2:])
    return x.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def _as_rows(x: Tensor, op: str) -> Tensor:
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: expected an input of shape [N, C, L] or [C, L], got {list(x.shape)}")
    return (x if x.ndim == 3 else x.unsqueeze(0)).unsqueeze(2)


def adaptive_avg_pool1d(x: Tensor, output_size: int) -> Tensor:
    """Average pooling of [N, C, L] (or [C, L]) to ``output_size`` positions over PyTorch's windows."""
    out = _core.adaptive_avg_pool2d(_as_rows(x, "adaptive_avg_pool1d"), (1, int(output_size))).squeeze(2)
    return out if x.ndim == 3 else out.squeeze(0)


def adaptive_max_pool1d(x: Tensor, output_size: int, return_indices: bool = False) -> Any:
    """Max pooling of [N, C, L] (or [C, L]) to ``output_size`` positions over PyTorch's windows;
    with ``return_indices`` also each maximum's position."""
    rows = _as_rows(x, "adaptive_max_pool1d")
    if not return_indices:
        out = adaptive_max_pool2d(rows, (1, int(output_size))).squeeze(2)
        return out if x.ndim == 3 else out.squeeze(0)
    values, indices = adaptive_max_pool2d(rows, (1, int(output_size)), True)
    values, indices = values.squeeze(2), indices.squeeze(2)
    return (values, indices) if x.ndim == 3 else (values.squeeze(0), indices.squeeze(0))


def pdist(x: Tensor, p: float = 2.0) -> Tensor:
    """The ``p``-norm distances between the rows of an [N, M] input, for each pair i < j in
    row-major order (``N (N - 1) / 2`` values)."""
    from .tensor_combining import cdist
    from .tensor_extras import triu_indices

    if x.ndim != 2:
        raise ValueError(f"pdist: expected an input of shape [N, M], got {list(x.shape)}")
    n = x.shape[0]
    pairs = triu_indices(n, n, 1, str(x.device))
    return cdist(x, x, p)[pairs[0], pairs[1]]
