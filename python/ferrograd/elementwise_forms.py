"""More of PyTorch's elementwise functions, as ``torch.*`` functions and Tensor methods: ``exp2``,
``logit``, ``xlogy``, ``sinc`` (shared with ``fg.special``), ``deg2rad`` / ``rad2deg``,
``copysign``, ``fmax`` / ``fmin`` (NaN-ignoring), ``float_power``, ``logaddexp2``,
``isposinf`` / ``isneginf``, ``ldexp``, and on the host ``frexp``, ``nextafter``, ``gcd``, ``lcm``
and the bit shifts. The composed ones are differentiable and run on the input's device; the host
ones return tensors on the input's device without gradient.

``float_power`` computes in float32, the package having no float64 (PyTorch's result is float64).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Union

import numpy as np

from .special import exp2, logit, sinc, xlogy
from ._core import Tensor, where_ as _where
from .tensor_methods import _host

Operand = Union[Tensor, float, int]


def _tensor_pair(op: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:
    """Both operands as floating tensors on the first tensor's device."""
    like = input if isinstance(input, Tensor) else other
    if not isinstance(like, Tensor):
        raise TypeError(f"{op}: expected a Tensor operand, got {type(input).__name__} and {type(other).__name__}")
    pair = [v if isinstance(v, Tensor) else like.new_tensor(float(v)) for v in (input, other)]
    return pair[0] if pair[0].is_floating_point() else pair[0].float(), \
        pair[1] if pair[1].is_floating_point() else pair[1].float()


def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians."""
    return input * (math.pi / 180.0)


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees."""
    return input * (180.0 / math.pi)


def copysign(input: Operand, other: Operand) -> Tensor:
    """|input| with the sign of ``other`` (-0.0 counts as negative); the gradient reaches ``input``."""
    magnitude, signs = _tensor_pair("copysign", input, other)
    negative = (signs < 0) | ((signs == 0) & ((1.0 / signs) < 0))
    return _where(negative, -magnitude.abs(), magnitude.abs())


def fmax(input: Tensor, other: Operand) -> Tensor:
    """The larger of each pair, ignoring a NaN (NaN only where both are)."""
    a, b = _tensor_pair("fmax", input, other)
    return _where(a != a, b, _where(b != b, a, a.maximum(b)))


def fmin(input: Tensor, other: Operand) -> Tensor:
    """The smaller of each pair, ignoring a NaN (NaN only where both are)."""
    a, b = _tensor_pair("fmin", input, other)
    return _where(a != a, b, _where(b != b, a, a.minimum(b)))


def float_power(input: Operand, exponent: Operand) -> Tensor:
    """input ** exponent in floating point (float32 here: the package has no float64)."""
    base, power = _tensor_pair("float_power", input, exponent)
    return base.pow(power)


def logaddexp2(input: Tensor, other: Operand) -> Tensor:
    """log2(2^a + 2^b), without overflow."""
    a, b = _tensor_pair("logaddexp2", input, other)
    top = a.maximum(b)
    return top + (exp2(-(a - b).abs())).log1p() / math.log(2.0)


def isposinf(input: Tensor) -> Tensor:
    """Whether each entry is +inf."""
    return input == math.inf


def isneginf(input: Tensor) -> Tensor:
    """Whether each entry is -inf."""
    return input == -math.inf


def ldexp(input: Tensor, other: Operand) -> Tensor:
    """input * 2 ** other."""
    x, e = _tensor_pair("ldexp", input, other)
    return x * exp2(e)


class FrexpResult(NamedTuple):
    """``frexp``'s mantissas in [0.5, 1) in magnitude and int32 exponents, x = m * 2 ** e."""

    mantissa: Tensor
    exponent: Tensor


def _like(input: Tensor, values: np.ndarray) -> Tensor:
    """Host-computed ``values`` as a tensor on ``input``'s device."""
    return Tensor.from_numpy(np.ascontiguousarray(values)).to(input.device)


def frexp(input: Tensor) -> FrexpResult:
    """Each entry split into a mantissa and a power of two (on the host)."""
    if not input.is_floating_point():
        raise TypeError(f"frexp: argument `input` expected a floating-point tensor, got dtype {input.dtype}")
    mantissa, exponent = np.frexp(_host(input).astype(np.float32))
    return FrexpResult(_like(input, mantissa), _like(input, exponent.astype(np.int32)))


def nextafter(input: Tensor, other: Operand) -> Tensor:
    """The next float32 after each entry of ``input`` towards ``other`` (on the host)."""
    toward = _host(other).astype(np.float32) if isinstance(other, Tensor) else np.float32(other)
    return _like(input, np.nextafter(_host(input).astype(np.float32), toward))


def _integers(op: str, *operands: Any) -> list[np.ndarray]:
    arrays = [_host(v) if isinstance(v, Tensor) else np.asarray(v) for v in operands]
    for arg, array in zip(("input", "other"), arrays):
        if array.dtype.kind not in "iub":
            raise TypeError(f"{op}: argument `{arg}` expected an integer tensor, got dtype {array.dtype}")
    return arrays


def gcd(input: Tensor, other: Operand) -> Tensor:
    """The greatest common divisor of each pair of integers (on the host)."""
    a, b = _integers("gcd", input, other)
    return _like(input, np.gcd(a, b).astype(a.dtype))


def lcm(input: Tensor, other: Operand) -> Tensor:
    """The least common multiple of each pair of integers (on the host)."""
    a, b = _integers("lcm", input, other)
    return _like(input, np.lcm(a, b).astype(a.dtype))


def bitwise_left_shift(input: Tensor, other: Operand) -> Tensor:
    """input << other for integers (on the host)."""
    a, b = _integers("bitwise_left_shift", input, other)
    return _like(input, np.left_shift(a, b.astype(a.dtype)))


def bitwise_right_shift(input: Tensor, other: Operand) -> Tensor:
    """input >> other for integers, arithmetic for signed ones (on the host)."""
    a, b = _integers("bitwise_right_shift", input, other)
    return _like(input, np.right_shift(a, b.astype(a.dtype)))


FUNCTIONS = (exp2, logit, xlogy, sinc, deg2rad, rad2deg, copysign, fmax, fmin, float_power, logaddexp2, isposinf,
             isneginf, ldexp, frexp, nextafter, gcd, lcm, bitwise_left_shift, bitwise_right_shift)


def install() -> None:
    """Attaches the method forms that :class:`Tensor` lacks."""
    for function in FUNCTIONS:
        if not hasattr(Tensor, function.__name__):
            setattr(Tensor, function.__name__, function)
