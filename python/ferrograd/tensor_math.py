"""PyTorch's elementwise math, logic and reductions that the core lacks: ``~ & | ^`` and
``logical_*``; the function forms of ``remainder``, ``fmod`` and ``floor_divide`` (the core computes
them, and ``% //``) and ``div`` with a rounding mode; the casts ``int()``, ``bool()`` and
``type()``; ``trunc``, ``frac``, ``clamp_min`` / ``clamp_max``; ``logsumexp``, ``amax`` /
``amin``, ``isclose``, ``nan_to_num``; and ``f"{t:.3f}"``.

Results that carry gradients are composed from the core's differentiable ops on the tensor's
device. Integer bitwise operations, which carry none, are computed exactly by numpy on the host
and moved back to the input's device. ``install()`` attaches the methods to :class:`Tensor`; the
package exports the function forms (``fg.remainder(a, b)``).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from . import _core
from ._core import Tensor
from .dtypes import FLOATING_DTYPES
from .tensor_methods import _axis, _host

_DTYPES = (*FLOATING_DTYPES, "int64", "int32", "uint8", "bool")
_LARGEST_FLOAT32 = float(np.finfo(np.float32).max)
_Dims = Union[int, Sequence[int], None]


def _dtype(value: Any) -> str:
    """A tensor's dtype, or the type name of a Python number (``"bool"``, ``"int"``, ``"float"``)."""
    return value.dtype if isinstance(value, Tensor) else type(value).__name__


def _is_float(value: Any) -> bool:
    return _dtype(value) in FLOATING_DTYPES or isinstance(value, float)


def _floating(t: Tensor) -> Tensor:
    """``t`` as float32 unless it is floating already (PyTorch promotes integers in float math)."""
    return t if t.dtype in FLOATING_DTYPES else t.float()


def _on_host(compute: Callable[..., Any], *operands: Any) -> Tensor:
    """``compute`` applied by numpy to the operands' values (Python numbers as they are), as a
    tensor on the first tensor operand's device."""
    device = next(x for x in operands if isinstance(x, Tensor)).device
    result = compute(*(_host(x) if isinstance(x, Tensor) else x for x in operands))
    return Tensor.from_numpy(np.asarray(result)).to(device)


# Logic: bool tensors compose on the device (bool * bool is `and`, bool + bool is `or`); integers
# get PyTorch's bitwise semantics from numpy, which keeps their dtypes as PyTorch does.

_BITWISE = {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}


def _check_integral(op: str, *operands: Any) -> None:
    for x in operands:
        if not (isinstance(x, (int, np.integer)) or (isinstance(x, Tensor) and x.dtype not in FLOATING_DTYPES)):
            raise TypeError(f"{op}: expected bool or integer operands, got dtype {_dtype(x)}")


def _bitwise(op: str, a: Any, b: Any) -> Tensor:
    """``a & b``, ``a | b`` or ``a ^ b`` (``op`` "and", "or", "xor"); one operand is a tensor."""
    _check_integral(f"bitwise_{op}", a, b)
    if _dtype(a) == _dtype(b) == "bool":
        return a * b if op == "and" else a + b if op == "or" else a != b
    return _on_host(_BITWISE[op], a, b)


def _invert(self: Tensor) -> Tensor:
    """``~self``: logical not for bools, bitwise not for integers (``~x == -x - 1``)."""
    _check_integral("bitwise_not", self)
    return self == 0 if self.dtype == "bool" else _on_host(np.invert, self)


def logical_not(self: Tensor) -> Tensor:
    """Where the entries are zero (bool)."""
    return self == 0


def logical_and(self: Tensor, other: Any) -> Tensor:
    """Where both ``self`` and ``other`` are nonzero (bool)."""
    return (self != 0) * (other != 0)


def logical_or(self: Tensor, other: Any) -> Tensor:
    """Where ``self`` or ``other`` is nonzero (bool)."""
    return (self != 0) + (other != 0)


def logical_xor(self: Tensor, other: Any) -> Tensor:
    """Where exactly one of ``self`` and ``other`` is nonzero (bool)."""
    return (self != 0) != (other != 0)


# Division with rounding. The core computes floor division and both remainders exactly, for floats
# (from the exact fmod, not the rounded quotient: 1 // 0.1 is 9, as in PyTorch) and for integers (in
# int64, division by zero raising). A truncating float division is trunc of the rounded quotient,
# as PyTorch's is; a truncating integer division subtracts the exact remainder first.

def _tensor(value: Any) -> Tensor:
    """A Python number as a 0-d tensor (int64 for ints, float32 for floats); tensors as they are."""
    return value if isinstance(value, Tensor) else Tensor.from_numpy(np.asarray(value, np.int64 if isinstance(value, int) else np.float32))


def _trunc_float(x: Tensor) -> Tensor:
    return _core.where_(x < 0, x.ceil(), x.floor())


def remainder(input: Any, other: Any) -> Tensor:
    """The remainder of ``input / other`` with the divisor's sign, as Python's ``%``
    (``input - other * floor(input / other)``). Integer division by zero raises."""
    return _tensor(input).remainder(other)


def fmod(input: Any, other: Any) -> Tensor:
    """The remainder of ``input / other`` with the dividend's sign, as C's ``fmod``
    (``input - other * trunc(input / other)``). Integer division by zero raises."""
    return _tensor(input).fmod(other)


def floor_divide(input: Any, other: Any) -> Tensor:
    """``input // other``: the quotient rounded down, integer for integer operands."""
    return _tensor(input).floor_divide(other)


def div(self: Tensor, other: Any, rounding_mode: Optional[str] = None) -> Tensor:
    """``self / other``: true division (float) without ``rounding_mode``; with ``'trunc'`` or
    ``'floor'`` the quotient rounded toward zero or down, integer for integer operands."""
    if rounding_mode not in (None, "trunc", "floor"):
        raise ValueError(f"div: argument `rounding_mode` expected None, 'trunc' or 'floor', got {rounding_mode!r}")
    if rounding_mode is None:
        return self / other
    if rounding_mode == "floor":
        return self.floor_divide(other)
    if _is_float(self) or _is_float(other):
        return _trunc_float(self / other)
    return (self - self.fmod(other)).floor_divide(other)


def _operator(name: str, symbol: str, compute: Callable[[Any, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    """The method ``name``: ``self <symbol> other``, or ``other <symbol> self`` for ``__r*__``."""
    reflected = name.startswith("__r")

    def method(self: Tensor, other: Any) -> Tensor:
        return compute(other, self) if reflected else compute(self, other)

    method.__name__ = name
    method.__doc__ = f"``other {symbol} self``." if reflected else f"``self {symbol} other``."
    return method


# Casts and dtype queries.

def _to_int(self: Tensor) -> Tensor:
    """``self`` as int32 (floats are truncated toward zero)."""
    return self.to("int32")


def _to_bool(self: Tensor) -> Tensor:
    """``self`` as bool (nonzero entries, NaN included, are True)."""
    return self.to("bool")


def _type(self: Tensor, dtype: Optional[str] = None) -> Any:
    """Without ``dtype``: the dtype's name (``"float32"``). With one: ``self`` cast to it."""
    if dtype is None:
        return self.dtype
    if dtype not in _DTYPES:
        raise ValueError(f"type: argument `dtype` expected one of {list(_DTYPES)}, got {dtype!r}")
    return self.to(dtype)


def is_floating_point(self: Tensor) -> bool:
    """Whether the dtype is float32, float16 or bfloat16."""
    return self.dtype in FLOATING_DTYPES


def get_default_dtype() -> str:
    """The dtype of tensors made from Python floats: ``"float32"``."""
    return "float32"


# Elementwise functions (integer inputs are promoted to float32, as in PyTorch).

def trunc(self: Tensor) -> Tensor:
    """The entries rounded toward zero (zero gradient); integer tensors are copied."""
    return _trunc_float(self) if self.dtype in FLOATING_DTYPES else self.clone()


def frac(self: Tensor) -> Tensor:
    """``self - trunc(self)``: the fractional part, with the sign of ``self``."""
    return self - trunc(self)


Bound = Union[float, int, Tensor, None]
# The compiled clamp (scalar bounds on floating tensors), saved before install() replaces it.
_core_clamp: Callable[..., Tensor] = Tensor.clamp


def _bound_tensor(bound: Any, like: Tensor, name: str) -> Tensor:
    if isinstance(bound, Tensor):
        return bound
    if isinstance(bound, bool) or not isinstance(bound, (int, float, np.integer, np.floating)):
        raise TypeError(f"clamp: argument `{name}` expected a number, a Tensor or None, got {type(bound).__name__}")
    return _core.full([], float(bound), like.dtype, str(like.device), False)


def clamp(self: Tensor, min: Bound = None, max: Bound = None) -> Tensor:
    """The entries clamped to [min, max] (``torch.clamp``). Scalar bounds on floating tensors
    run the native clamp. Tensor bounds broadcast against ``self`` and act as
    ``minimum(maximum(self, min), max)``, with PyTorch's gradients (split half and half where
    an entry equals its bound). Integer tensors with integer bounds stay integer; a float bound
    promotes them to float32, as in PyTorch."""
    tensor_bounds = isinstance(min, Tensor) or isinstance(max, Tensor)
    if not tensor_bounds:
        if self.dtype in FLOATING_DTYPES:
            return _core_clamp(self, min, max)
        if any(isinstance(b, (float, np.floating)) for b in (min, max)):
            return _core_clamp(self.float(), min, max)
    if min is None and max is None:
        raise ValueError("clamp: at least one of the arguments `min` and `max` must not be None, got both None")
    out = self
    if min is not None:
        out = out.maximum(_bound_tensor(min, out, "min"))
    if max is not None:
        out = out.minimum(_bound_tensor(max, out, "max"))
    return out


def clamp_min(self: Tensor, min: Union[float, Tensor]) -> Tensor:
    """The entries raised to at least ``min``."""
    return self.clamp(min, None)


def clamp_max(self: Tensor, max: Union[float, Tensor]) -> Tensor:
    """The entries lowered to at most ``max``."""
    return self.clamp(None, max)


def clip(self: Tensor, min: Bound = None, max: Bound = None) -> Tensor:
    """The entries clamped to [min, max] (``clamp``; bounds may be numbers or tensors)."""
    return self.clamp(min, max)


def sign(t: Tensor) -> Tensor:
    """Elementwise sign: -1, 0 or 1 (zero gradient)."""
    return t.sign()


def rsqrt(t: Tensor) -> Tensor:
    """Elementwise ``1 / sqrt(t)``."""
    return t.rsqrt()


def square(t: Tensor) -> Tensor:
    """Elementwise ``t * t``."""
    return t.square()


# Reductions over one or several dimensions.

def _axes(t: Tensor, dim: _Dims, op: str) -> tuple[int, ...]:
    """``dim`` (an int, a sequence, or None / () for every dimension) as sorted distinct axes."""
    if dim is None or (not isinstance(dim, int) and len(dim) == 0):
        return tuple(range(t.ndim))
    axes = sorted(_axis(t, d, op) for d in ([dim] if isinstance(dim, int) else dim))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: argument `dim` expected distinct dimensions, got {dim}")
    return tuple(axes)


def _extremes(t: Tensor, axes: tuple[int, ...], largest: bool) -> Tensor:
    """The largest (or smallest) entries of ``t`` over ``axes``, kept as size 1, without autograd."""
    out = t.detach()
    for axis in axes:
        out = (out.max(axis, True) if largest else out.min(axis, True))[0]
    return out


def _reduced(out: Tensor, self: Tensor, axes: tuple[int, ...], keepdim: bool) -> Tensor:
    """``out`` (reduced over ``axes`` with size 1 kept) without those axes unless ``keepdim``; a
    0-d ``self`` (reduced as shape [1]) gives a 0-d result."""
    if self.ndim == 0 or not keepdim:
        return out.reshape([s for i, s in enumerate(out.shape) if i not in axes])
    return out


def logsumexp(self: Tensor, dim: _Dims, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(self)))`` over ``dim`` (an int or a tuple), computed stably by shifting by
    the largest entry; its gradient is the softmax. Rows of -inf give -inf, not NaN, and so do
    empty ones. Several dimensions are moved last and merged for the core's one-axis op."""
    x = _floating(self)
    x = x.reshape(1) if x.ndim == 0 else x
    axes = _axes(x, dim, "logsumexp")
    kept_shape = [1 if d in axes else size for d, size in enumerate(x.shape)]
    if math.prod(x.shape[d] for d in axes) == 0:
        return _reduced(_core.full(kept_shape, -math.inf, x.dtype, x.device, False), self, axes, keepdim)
    rest = [d for d in range(x.ndim) if d not in axes]
    merged = x.permute(*rest, *axes).reshape(*[x.shape[d] for d in rest], -1) if len(axes) > 1 else x
    out = _core.logsumexp(merged, -1 if len(axes) > 1 else axes[0], True)
    return _reduced(out.reshape(kept_shape), self, axes, keepdim)


def _extreme(self: Tensor, dim: _Dims, keepdim: bool, largest: bool, op: str) -> Tensor:
    x = self.reshape(1) if self.ndim == 0 else self
    axes = _axes(x, dim, op)
    out = _extremes(x, axes, largest)
    if self.requires_grad and _core.is_grad_enabled():
        # Tied entries share the gradient equally, as in PyTorch: it flows through their mean,
        # added as (mean - mean) so the value stays the exact extreme. An infinite extreme (where
        # inf - inf is NaN) is that mean itself.
        ties = x.detach() == out
        mean = (_core.where_(ties, x, 0.0) * (ties / ties.sum(axes, True))).sum(axes, True)
        out = _core.where_(out.isfinite(), out + (mean - mean.detach()), mean)
    return _reduced(out, self, axes, keepdim)


def amax(self: Tensor, dim: _Dims = (), keepdim: bool = False) -> Tensor:
    """The largest entries over ``dim`` (an int or a tuple; every dimension when empty). Tied
    entries share the gradient equally."""
    return _extreme(self, dim, keepdim, True, "amax")


def amin(self: Tensor, dim: _Dims = (), keepdim: bool = False) -> Tensor:
    """The smallest entries over ``dim`` (an int or a tuple; every dimension when empty). Tied
    entries share the gradient equally."""
    return _extreme(self, dim, keepdim, False, "amin")


# Comparisons and cleanup.

def isclose(self: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Where ``|self - other| <= atol + rtol * |other|`` or the entries are equal (infinities
    included); NaNs are close to each other with ``equal_nan`` (bool)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"isclose: argument `other` expected a Tensor, got {type(other).__name__}")
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: arguments `rtol` and `atol` expected non-negative values, got {rtol} and {atol}")
    a, b = self.detach(), other.detach()
    error = (a - b).abs()
    close = (a == b) + error.isfinite() * (error <= atol + rtol * b.abs())
    return close + a.isnan() * b.isnan() if equal_nan else close


def nan_to_num(self: Tensor, nan: float = 0.0, posinf: Optional[float] = None,
               neginf: Optional[float] = None) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and the
    largest and smallest finite float32); the gradient flows to the other entries."""
    if self.dtype not in FLOATING_DTYPES:
        return self.clone()
    out = _core.where_(self == math.inf, _LARGEST_FLOAT32 if posinf is None else posinf, self)
    out = _core.where_(self == -math.inf, -_LARGEST_FLOAT32 if neginf is None else neginf, out)
    return _core.where_(self.isnan(), nan, out)


def _format(self: Tensor, format_spec: str) -> str:
    """``format(t, spec)``: a one-element tensor formats its value (``f"{loss:.4f}"``); an empty
    spec gives ``str(t)``."""
    if not format_spec:
        return str(self)
    if self.numel() != 1:
        raise TypeError(f"__format__: format spec {format_spec!r} expected a one-element tensor, "
                        f"got shape {list(self.shape)}")
    return format(self.detach().reshape([]).tolist(), format_spec)


METHODS = (logical_not, logical_and, logical_or, logical_xor, div, is_floating_point,
           trunc, frac, clamp, clamp_min, clamp_max, clip, logsumexp, amax, amin, isclose, nan_to_num)
# Attributes not named as their functions (builtins' names would be shadowed here), and the operators.
RENAMED = {"int": _to_int, "bool": _to_bool, "type": _type, "__format__": _format, "__invert__": _invert}
_OPERATORS: dict[str, tuple[str, Callable[[Any, Any], Tensor]]] = {
    "and": ("&", partial(_bitwise, "and")),
    "or": ("|", partial(_bitwise, "or")),
    "xor": ("^", partial(_bitwise, "xor")),
}
OPERATORS = {name: _operator(name, symbol, compute) for op, (symbol, compute) in _OPERATORS.items()
             for name in (f"__{op}__", f"__r{op}__")}


def install() -> None:
    """Attaches the methods and operators above to :class:`Tensor`."""
    for method in METHODS:
        setattr(Tensor, method.__name__, method)
    for name, attribute in {**RENAMED, **OPERATORS}.items():
        setattr(Tensor, name, attribute)
