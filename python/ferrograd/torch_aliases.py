"""PyTorch's other names for ops the package has (``torch.multiply`` for ``mul``, ``greater`` for
``gt``, ``absolute`` for ``abs`` ...), the in-place form ``name_`` of every elementwise method
whose result keeps the tensor's shape (``t.cos_()``, ``t.clamp_min_(0)``), and the complex-number
API as it reads on real tensors (``conj`` is the tensor itself, ``is_complex()`` is False,
``adjoint`` and ``mH`` are the transposes, ``angle`` is 0 or pi).

``install()`` attaches the methods that :class:`Tensor` lacks (existing ones are kept); the
function forms below are exported by the package."""

from __future__ import annotations

import math
from typing import Any, Callable

from ._core import Tensor, where_ as where
from .tensor_in_place import _in_place

# PyTorch's alternative name -> the method it is another name for.
ALIASES = {
    "absolute": "abs", "negative": "neg", "multiply": "mul", "divide": "div", "true_divide": "div",
    "subtract": "sub", "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le",
    "not_equal": "ne", "fix": "trunc", "ger": "outer", "bitwise_and": "__and__", "bitwise_or": "__or__",
    "bitwise_xor": "__xor__", "bitwise_not": "__invert__",
}

# Methods whose result has the tensor's shape, so ``name_`` can write it back in place.
IN_PLACE = (
    "abs", "absolute", "neg", "negative", "acos", "asin", "atan", "acosh", "asinh", "atanh", "arccos", "arcsin",
    "arctan", "arccosh", "arcsinh", "arctanh", "atan2", "arctan2", "cos", "cosh", "sin", "sinh", "tan", "ceil",
    "floor", "round", "trunc", "fix", "frac", "clamp_min", "clamp_max", "clip", "erf", "erfc", "expm1", "log1p",
    "log2", "log10", "reciprocal", "rsqrt", "sign", "sgn", "square", "cumsum", "cumprod", "eq", "ne", "lt", "le",
    "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or",
    "logical_xor", "logical_not", "floor_divide", "fmod", "remainder", "hypot", "nan_to_num", "addcdiv",
    "addcmul", "addmm", "baddbmm", "tril", "triu", "renorm", "heaviside", "multiply", "divide", "true_divide",
    "subtract", "xlogy", "sinc", "exp2", "logit", "deg2rad", "rad2deg", "copysign", "float_power", "ldexp",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "i0", "addbmm", "addmv", "addr", "bitwise_left_shift",
    "bitwise_right_shift", "gcd", "lcm", "nextafter", "index_reduce", "conj_physical",
)


def _in_place_form(name: str) -> Callable[..., Tensor]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        grad_source = next((a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)), None)
        return _in_place(self, f"{name}_", grad_source, lambda: getattr(self, name)(*args, **kwargs))

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"``{name}`` written into the tensor in place (see ``Tensor.{name}``)."
    return method


def _alias(alias: str, target: str) -> Callable[..., Tensor]:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return getattr(self, target)(*args, **kwargs)

    method.__name__ = method.__qualname__ = alias
    method.__doc__ = f"Another name for ``Tensor.{target}``, as in PyTorch."
    return method


def _function(name: str) -> Callable[..., Tensor]:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)`` as a function, as ``torch.{name}``."
    return function


# The complex-number API on real tensors.

def conj(self: Tensor) -> Tensor:
    """The complex conjugate: a real tensor itself."""
    return self


def is_complex(self: Tensor) -> bool:
    """Whether the dtype is complex: never, ferrograd's dtypes are real."""
    return False


def isreal(self: Tensor) -> Tensor:
    """Whether each entry is real: all True for real dtypes."""
    return (self == self) | (self != self)


def angle(self: Tensor) -> Tensor:
    """The argument of each entry: 0 for positive values and zeros, pi for negative ones, NaN for
    NaN (PyTorch's rule on real tensors); no gradient flows through it."""
    x = self.detach().float() if not self.is_floating_point() else self.detach()
    return where(x < 0, math.pi, where(x != x, x, x * 0))


def adjoint(self: Tensor) -> Tensor:
    """The conjugate transpose of the last two axes: their transpose for real tensors."""
    return self.transpose(-2, -1)


def _conjugate_transpose(self: Tensor) -> Tensor:
    """``mH``: the transpose of the last two axes (real tensors are their own conjugates)."""
    return self.transpose(-2, -1)


def _hermitian(self: Tensor) -> Tensor:
    """``H``: the transpose of a matrix (real tensors are their own conjugates)."""
    if self.ndim != 2:
        raise RuntimeError(f"H: expected a 2-D tensor (a matrix), got {self.ndim} dimensions")
    return self.transpose(0, 1)


def _where_method(self: Tensor, condition: Tensor, other: Any) -> Tensor:
    """``self`` where ``condition`` holds, else ``other`` (``torch.where(condition, self, other)``)."""
    return where(condition, self, other)


COMPLEX_API: dict[str, Callable[..., Any]] = {
    "conj": conj, "resolve_conj": conj, "resolve_neg": conj, "conj_physical": conj, "is_complex": is_complex,
    "is_conj": is_complex, "is_neg": is_complex, "isreal": isreal, "angle": angle, "adjoint": adjoint,
}

absolute = _function("absolute")
negative = _function("negative")
multiply = _function("multiply")
divide = _function("divide")
true_divide = _function("true_divide")
subtract = _function("subtract")
greater = _function("greater")
greater_equal = _function("greater_equal")
less = _function("less")
less_equal = _function("less_equal")
not_equal = _function("not_equal")
fix = _function("fix")
ger = _function("ger")
bitwise_and = _function("bitwise_and")
bitwise_or = _function("bitwise_or")
bitwise_xor = _function("bitwise_xor")
bitwise_not = _function("bitwise_not")
resolve_conj = _function("resolve_conj")
resolve_neg = _function("resolve_neg")
conj_physical = _function("conj_physical")


# The in-place function forms ``torch.abs_(t)`` ... of the tensor methods (those Tensor has).
IN_PLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_", "asinh_",
    "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "i0_", "ldexp_", "log10_", "log1p_", "log2_",
    "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_",
    "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_", "fill_",
    "detach_", "index_put_", "gcd_", "lcm_", "addmv_", "conj_physical_",
)


def in_place_functions() -> dict[str, Callable[..., Tensor]]:
    """``torch.<name>_(input, ...)`` for each in-place method the tensor has (after ``install``)."""
    return {name: _function(name) for name in IN_PLACE_FUNCTIONS if hasattr(Tensor, name)}


def rsub(input: Tensor, other: Any, alpha: float = 1) -> Tensor:
    """``other - alpha * input`` (the reversed subtraction, as ``torch.rsub``)."""
    scaled = input if alpha == 1 else input * alpha
    return other - scaled


def scalar_tensor(s: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding ``s`` (float32 unless ``dtype`` says otherwise)."""
    from . import tensor

    out = tensor(float(s) if dtype is None else s, dtype=dtype or "float32", requires_grad=requires_grad)
    return out if device is None else out.to(device)


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether the two tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def detach(input: Tensor) -> Tensor:
    """``input.detach()`` as a function: the same values, outside autograd."""
    return input.detach()


def fill(input: Tensor, value: Any) -> Tensor:
    """A new tensor shaped and typed as ``input`` holding ``value`` everywhere (``torch.fill``)."""
    return input.detach().clone().fill_(value)


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0.0) -> Tensor:
    """``F.pad(input, pad, "constant", value)``: pads the last axes by ``pad`` (pairs from the last
    axis inward)."""
    from .functional import pad as pad_fn

    return pad_fn(input, list(pad), "constant", value)


def install() -> None:
    """Attaches the aliases, the complex API and then the in-place forms that :class:`Tensor`
    lacks."""
    for alias, target in ALIASES.items():
        if not hasattr(Tensor, alias):
            setattr(Tensor, alias, _alias(alias, target))
    for name, method in COMPLEX_API.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, method)
    if not hasattr(Tensor, "where"):
        setattr(Tensor, "where", _where_method)
    for name, prop in (("mH", _conjugate_transpose), ("H", _hermitian)):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, property(prop, doc=prop.__doc__))
    for name in IN_PLACE:
        if not hasattr(Tensor, f"{name}_"):
            setattr(Tensor, f"{name}_", _in_place_form(name))
