"""Activation layers, Dropout, Dropout2d, Flatten and Unflatten.

``inplace=True`` (where PyTorch's layer takes it) writes the result into the input where no
gradient depends on it, else returns the out-of-place result: ferrograd's in-place rule, as
:func:`ferrograd.functional.relu` describes."""

from __future__ import annotations

from typing import Sequence

from .. import _core
from .._core import Tensor
from .. import functional as F
from .._dropout_variants import _alpha_dropout, _channel_dropout
from .module import Module


class ReLU(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("relu")


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("leaky_relu", a=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("gelu_tanh" if self.approximate == "tanh" else "gelu")

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("sigmoid")


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("tanh")


class SiLU(Module):
    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x, self.inplace)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("silu")


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("softplus", a=self.beta, b=self.threshold)


class Softmax(Module):
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("softmax", dim=self.dim)


class LogSoftmax(Module):
    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.activation("log_softmax", dim=self.dim)


class Dropout(Module):
    """Inverted dropout while training; the identity in eval mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: argument `p` expected a probability in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.dropout(self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Flattens axes ``start_dim..end_dim`` (by default all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def _to_layer(self) -> _core.Layer:
        return _core.Layer.flatten(self.start_dim, self.end_dim)


class Unflatten(Module):
    """Splits axis ``dim`` into ``unflattened_size`` (the inverse of :class:`Flatten`)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(int(s) for s in unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        axis = self.dim % x.ndim if -x.ndim <= self.dim < x.ndim else self.dim
        if not 0 <= axis < x.ndim:
            raise ValueError(f"Unflatten: argument `dim` expected a dimension of a {x.ndim}-d input, got {self.dim}")
        shape = list(x.shape)
        return x.reshape(*shape[:axis], *self.unflattened_size, *shape[axis + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class _ChannelDropout(Module):
    """Channel dropout while training (:func:`ferrograd.functional.dropout2d` and its 1-D and
    3-D forms); the identity in eval mode."""

    _spatial = 2
    _layouts = "[N, C, H, W] or [C, H, W]"

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: argument `p` expected a probability in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        return _channel_dropout(type(self).__name__, x, self._spatial, self._layouts, self.p, self.training,
                               self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout1d(_ChannelDropout):
    """Channel dropout over [N, C, L] (or [C, L]) inputs."""

    _spatial = 1
    _layouts = "[N, C, L] or [C, L]"


class Dropout2d(_ChannelDropout):
    """Channel dropout over [N, C, H, W] (or [C, H, W]) inputs."""


class Dropout3d(_ChannelDropout):
    """Channel dropout over [N, C, D, H, W] (or [C, D, H, W]) inputs."""

    _spatial = 3
    _layouts = "[N, C, D, H, W] or [C, D, H, W]"


class AlphaDropout(_ChannelDropout):
    """Dropout for self-normalising (SELU) networks while training
    (:func:`ferrograd.functional.alpha_dropout`); the identity in eval mode.
    ``FeatureAlphaDropout`` drops whole channels."""

    _channels = False

    def forward(self, x: Tensor) -> Tensor:
        return _alpha_dropout(type(self).__name__, x, self.p, self.training, self.inplace, self._channels)


class FeatureAlphaDropout(AlphaDropout):
    """Alpha dropout of whole channels of [N, C, ...] inputs."""

    _channels = True


class Softsign(Module):
    """``x / (1 + |x|)``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softsign(x)


class Softmax2d(Module):
    """Softmax over the channels of [N, C, H, W] (or [C, H, W]) inputs, at each position."""

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a [N, C, H, W] or [C, H, W] input, got shape {list(x.shape)}")
        return F.softmax(x, -3)


class ELU(Module):
    """``x`` for x > 0, else ``alpha * (exp(x) - 1)``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Hardtanh(Module):
    """``x`` clamped to [min_val, max_val] (gradient 1 strictly inside)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if not min_val < max_val:
            raise ValueError(f"Hardtanh: arguments `min_val` and `max_val` expected min_val < max_val, got {min_val} and {max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Module):
    """``min(max(x, 0), 6)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.relu6(x, self.inplace)


class Hardsigmoid(Module):
    """``relu6(x + 3) / 6``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.hardsigmoid(x, self.inplace)


class Hardswish(Module):
    """``x * relu6(x + 3) / 6`` (MobileNetV3)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.hardswish(x, self.inplace)


class Mish(Module):
    """``x * tanh(softplus(x))``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.mish(x, self.inplace)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, computed stably."""

    def forward(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x)


class PReLU(Module):
    """``x`` where x > 0, else ``weight * x`` with learned slopes: one shared
    (``num_parameters=1``) or one per channel (axis 1), starting at ``init``; the parameter is
    named ``weight``, as in PyTorch's state dicts. (The count is ``weight.numel()``: the name
    ``num_parameters`` is :meth:`Module.num_parameters`, every module's count of trainable scalars.)"""

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        if not (isinstance(num_parameters, int) and num_parameters >= 1):
            raise ValueError(f"PReLU: argument `num_parameters` expected an int >= 1, got {num_parameters!r}")
        self.weight = _core.full([num_parameters], float(init), "float32", "cpu", True)

    def forward(self, x: Tensor) -> Tensor:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.weight.numel()}"
