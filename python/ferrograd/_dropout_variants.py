"""Channel dropout (``dropout1d`` / ``dropout2d`` / ``dropout3d``) and alpha dropout
(``alpha_dropout``, ``feature_alpha_dropout``) as functions; the ``nn`` layers of the same
names call them. Masks come from the seeded generator through ``dropout``."""

from __future__ import annotations

from . import _core
from ._core import Tensor
from .tensor_in_place import in_place_result

# SELU's negative saturation value, -scale * alpha: what alpha dropout sets dropped entries to.
_SATURATION = -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717


def _probability(op: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: argument `p` expected a probability in [0, 1], got {p}")


def _keep_mask(shape: list[int], p: float, x: Tensor) -> Tensor:
    """1 / (1 - p) where kept and 0 where dropped (``dropout`` of ones), of ``shape``."""
    return _core.dropout(_core.full(shape, 1.0, x.dtype, x.device, False), p, True)


def _channel_dropout(op: str, x: Tensor, spatial: int, layouts: str, p: float, training: bool,
                     inplace: bool) -> Tensor:
    _probability(op, p)
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected a {layouts} input, got shape {list(x.shape)}")
    if not training or p == 0.0:
        return x
    planes = list(x.shape[:-spatial]) + [1] * spatial
    return in_place_result(x, x * _keep_mask(planes, p, x), inplace, op)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes whole channels of an [N, C, L] (or [C, L]) input with probability ``p`` while
    training, scaling the rest by 1 / (1 - p)."""
    return _channel_dropout("dropout1d", input, 1, "[N, C, L] or [C, L]", p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes whole channels of an [N, C, H, W] (or [C, H, W]) input with probability ``p``."""
    return _channel_dropout("dropout2d", input, 2, "[N, C, H, W] or [C, H, W]", p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes whole channels of an [N, C, D, H, W] (or [C, D, H, W]) input with probability ``p``."""
    return _channel_dropout("dropout3d", input, 3, "[N, C, D, H, W] or [C, D, H, W]", p, training, inplace)


def _alpha_dropout(op: str, x: Tensor, p: float, training: bool, inplace: bool, channels: bool) -> Tensor:
    _probability(op, p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return in_place_result(x, x * 0.0, inplace, op)
    a = ((1 - p) * (1 + p * _SATURATION**2)) ** -0.5
    shape = list(x.shape[:2]) + [1] * (x.ndim - 2) if channels and x.ndim > 2 else list(x.shape)
    keep = (_keep_mask(shape, p, x) != 0).to(x.dtype)
    out = (x * keep + _SATURATION * (1 - keep)) * a - a * _SATURATION * p
    return in_place_result(x, out, inplace, op)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for self-normalising (SELU) networks: dropped entries take SELU's negative
    saturation value, then an affine map restores zero mean and unit variance."""
    return _alpha_dropout("alpha_dropout", input, p, training, inplace, False)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of an [N, C, ...] input."""
    return _alpha_dropout("feature_alpha_dropout", input, p, training, inplace, True)
