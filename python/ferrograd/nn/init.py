"""Parameter initialisations with PyTorch's definitions, drawn from the seeded global generator, or
from the :class:`ferrograd.Generator` passed as ``generator=``."""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from .. import _core
from .._core import Tensor
from .._generator import Generator, normal as _normal_draws, uniform as _uniform_draws
from ..autograd import no_grad


def _fans(t: Tensor) -> tuple[int, int]:
    shape = t.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fill(t: Tensor, values: Tensor) -> Tensor:
    with no_grad():
        t.copy_(values)
    return t


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``t`` with values from U(a, b) (drawn from ``generator`` when given)."""
    return _fill(t, _uniform_draws("uniform_", generator, t.shape, a, b))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``t`` with values from N(mean, std²) (drawn from ``generator`` when given)."""
    return _fill(t, _normal_draws("normal_", generator, t.shape, mean, std))


def constant_(t: Tensor, value: float) -> Tensor:
    """Fills ``t`` with ``value``."""
    return _fill(t, _core.full(list(t.shape), value, t.dtype, "cpu", False))


def zeros_(t: Tensor) -> Tensor:
    """Fills ``t`` with zeros in place; returns it."""
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    """Fills ``t`` with ones in place; returns it."""
    return constant_(t, 1.0)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Optional[Generator] = None) -> Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan) (He initialisation), drawn from ``generator`` when
    given."""
    fan_in, fan_out = _fans(t)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Optional[Generator] = None) -> Tensor:
    """N(0, std²) with std = gain / sqrt(fan), drawn from ``generator`` when given."""
    fan_in, fan_out = _fans(t)
    fan = fan_in if mode == "fan_in" else fan_out
    return normal_(t, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def xavier_uniform_(t: Tensor, gain: float = 1.0, generator: Optional[Generator] = None) -> Tensor:
    """U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot), drawn from ``generator``
    when given."""
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, generator)


def xavier_normal_(t: Tensor, gain: float = 1.0, generator: Optional[Generator] = None) -> Tensor:
    """N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out)), drawn from ``generator`` when
    given."""
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def default_layer_init(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv layers: kaiming_uniform(a=sqrt(5)) for the weight
    (bound 1/sqrt(fan_in)) and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _fans(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)


def trunc_normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Optional[Generator] = None) -> Tensor:
    """Fills ``t`` with N(mean, std²) values conditioned on lying in [a, b] (draws outside are
    redrawn from the seeded generator, or from ``generator`` when given)."""
    if not a < b:
        raise ValueError(f"trunc_normal_: arguments `a` and `b` expected a < b, got {a} and {b}")
    if std <= 0:
        raise ValueError(f"trunc_normal_: argument `std` expected a positive value, got {std}")
    count = t.numel()
    kept = np.empty(0, np.float32)
    while kept.size < count:
        draws = _normal_draws("trunc_normal_", generator, [max(2 * (count - kept.size), 16)], mean, std).numpy()
        kept = np.concatenate([kept, draws[(draws >= a) & (draws <= b)]])
    return _fill(t, _core.Tensor.from_numpy(np.ascontiguousarray(kept[:count].reshape(t.shape))))


def orthogonal_(t: Tensor, gain: float = 1.0, generator: Optional[Generator] = None) -> Tensor:
    """Fills ``t`` (viewed as [rows, numel / rows]) with a (semi-)orthogonal matrix scaled by
    ``gain``: the Q of a Gaussian matrix's QR decomposition, signs fixed by R's diagonal. The
    Gaussian matrix comes from ``generator`` when given."""
    if t.ndim < 2:
        raise ValueError(f"orthogonal_: expected a tensor with at least 2 dimensions, got shape {list(t.shape)}")
    rows = t.shape[0]
    cols = t.numel() // max(rows, 1)
    flat = _normal_draws("orthogonal_", generator, [rows, cols]).numpy().astype(np.float64)
    tall = flat if rows >= cols else flat.T
    q, r = np.linalg.qr(tall)
    q *= np.sign(np.diag(r))
    values = (q if rows >= cols else q.T) * gain
    return _fill(t, _core.Tensor.from_numpy(np.ascontiguousarray(values.reshape(t.shape), dtype=np.float32)))


def dirac_(t: Tensor, groups: int = 1) -> Tensor:
    """Fills the convolution weight ``t`` ([out, in, *kernel], 3-D to 5-D) with the Dirac delta:
    each of the first ``in`` output channels of every group passes its input channel through
    (a one at the kernel's centre), the rest are zeros, so the convolution is the identity on
    those channels."""
    if not 3 <= t.ndim <= 5 or groups < 1 or t.shape[0] % groups:
        raise ValueError(f"dirac_: expected a 3-D to 5-D weight whose first dimension divides into {groups} groups, "
                         f"got shape {list(t.shape)}")
    per_group = t.shape[0] // groups
    values = np.zeros(tuple(t.shape), dtype=np.float32)
    centre = tuple(k // 2 for k in t.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, t.shape[1])):
            values[(g * per_group + d, d, *centre)] = 1.0
    return _fill(t, _core.Tensor.from_numpy(values))


def sparse_(t: Tensor, sparsity: float, std: float = 0.01, generator: Optional[Generator] = None) -> Tensor:
    """Fills the 2-D ``t`` with N(0, std²) values and zeros ``ceil(sparsity * rows)`` randomly
    chosen entries of every column (Martens, 2010)."""
    if t.ndim != 2:
        raise ValueError(f"sparse_: expected a 2-D tensor, got shape {list(t.shape)}")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparse_: argument `sparsity` expected a fraction in [0, 1], got {sparsity}")
    rows, cols = (int(v) for v in t.shape)
    values = _normal_draws("sparse_", generator, [rows, cols]).numpy() * np.float32(std)
    zeros = math.ceil(sparsity * rows)
    order = _uniform_draws("sparse_", generator, [rows, cols]).numpy().argsort(axis=0, kind="stable")
    np.put_along_axis(values, order[:zeros], 0.0, axis=0)
    return _fill(t, _core.Tensor.from_numpy(np.ascontiguousarray(values, dtype=np.float32)))


def eye_(t: Tensor) -> Tensor:
    """Fills the 2-D ``t`` with the identity (ones on the diagonal)."""
    if t.ndim != 2:
        raise ValueError(f"eye_: expected a 2-D tensor, got shape {list(t.shape)}")
    return _fill(t, _core.Tensor.from_numpy(np.eye(*t.shape, dtype=np.float32)))


def _deprecated_alias(name: str, target: Any) -> Any:
    """PyTorch's older name ``name`` (no trailing underscore) for the in-place ``target``."""
    def alias(*args: Any, **kwargs: Any) -> Any:
        return target(*args, **kwargs)
    alias.__name__ = alias.__qualname__ = name
    alias.__doc__ = f"The older name of :func:`{target.__name__}`."
    return alias


uniform = _deprecated_alias("uniform", uniform_)
normal = _deprecated_alias("normal", normal_)
constant = _deprecated_alias("constant", constant_)
xavier_uniform = _deprecated_alias("xavier_uniform", xavier_uniform_)
xavier_normal = _deprecated_alias("xavier_normal", xavier_normal_)
kaiming_uniform = _deprecated_alias("kaiming_uniform", kaiming_uniform_)
kaiming_normal = _deprecated_alias("kaiming_normal", kaiming_normal_)
orthogonal = _deprecated_alias("orthogonal", orthogonal_)
sparse = _deprecated_alias("sparse", sparse_)
dirac = _deprecated_alias("dirac", dirac_)
eye = _deprecated_alias("eye", eye_)
