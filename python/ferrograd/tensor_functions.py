"""PyTorch's function forms of Tensor methods (``fg.exp(x)`` for ``x.exp()``), so code written
against ``torch.*`` reads the same."""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from . import functional as F
from ._core import Tensor
from .tensor_methods import ValuesIndices


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a :class:`Tensor`."""
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    """The number of entries of ``t``."""
    return t.numel()


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor with a copy of ``array``'s values (float64 narrowed to float32)."""
    from . import tensor

    return tensor(array)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with batch broadcasting."""
    return a.matmul(b)


def exp(t: Tensor) -> Tensor:
    """Elementwise e^t."""
    return t.exp()


def sin(t: Tensor) -> Tensor:
    """Elementwise sine."""
    return t.sin()


def cos(t: Tensor) -> Tensor:
    """Elementwise cosine."""
    return t.cos()


def floor(t: Tensor) -> Tensor:
    """Elementwise rounding down (zero gradient)."""
    return t.floor()


def ceil(t: Tensor) -> Tensor:
    """Elementwise rounding up (zero gradient)."""
    return t.ceil()


def round(t: Tensor, decimals: int = 0) -> Tensor:
    """Elementwise rounding to the nearest integer, ties to even (zero gradient); with
    ``decimals``, to that many decimal places (negative: to tens, hundreds ...), by scaling with
    ``10^|decimals|`` as PyTorch does."""
    if not decimals:
        return t.round()
    scale = 10.0 ** (decimals if decimals > 0 else -decimals)
    return (t * scale).round() / scale if decimals > 0 else (t / scale).round() * scale


def log1p(t: Tensor) -> Tensor:
    """Elementwise log(1 + t), accurate for small t."""
    return t.log1p()


def expm1(t: Tensor) -> Tensor:
    """Elementwise exp(t) - 1, accurate for small t."""
    return t.expm1()


def tan(t: Tensor) -> Tensor:
    """Elementwise tangent (integers are promoted to float32)."""
    return t.tan()


def log2(t: Tensor) -> Tensor:
    """Elementwise base-2 logarithm (integers are promoted to float32)."""
    return t.log2()


def log10(t: Tensor) -> Tensor:
    """Elementwise base-10 logarithm (integers are promoted to float32)."""
    return t.log10()


def erf(t: Tensor) -> Tensor:
    """Elementwise error function (integers are promoted to float32)."""
    return t.erf()


def erfc(t: Tensor) -> Tensor:
    """Elementwise complementary error function 1 - erf(t), accurate where erf(t) nears 1 (integers are promoted to float32)."""
    return t.erfc()


def asin(t: Tensor) -> Tensor:
    """Elementwise arcsine (integers are promoted to float32)."""
    return t.asin()


def acos(t: Tensor) -> Tensor:
    """Elementwise arccosine (integers are promoted to float32)."""
    return t.acos()


def atan(t: Tensor) -> Tensor:
    """Elementwise arctangent (integers are promoted to float32)."""
    return t.atan()


def sinh(t: Tensor) -> Tensor:
    """Elementwise hyperbolic sine (integers are promoted to float32)."""
    return t.sinh()


def cosh(t: Tensor) -> Tensor:
    """Elementwise hyperbolic cosine (integers are promoted to float32)."""
    return t.cosh()


def asinh(t: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic sine (integers are promoted to float32)."""
    return t.asinh()


def acosh(t: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic cosine (integers are promoted to float32)."""
    return t.acosh()


def atanh(t: Tensor) -> Tensor:
    """Elementwise inverse hyperbolic tangent (integers are promoted to float32)."""
    return t.atanh()


def atan2(input: Tensor, other: Any) -> Tensor:
    """Elementwise atan2(input, other): the angle of the point (other, input), in (-pi, pi]."""
    return input.atan2(other)


def log(t: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return t.log()


def sqrt(t: Tensor) -> Tensor:
    """Elementwise square root."""
    return t.sqrt()


def abs(t: Tensor) -> Tensor:
    """Elementwise absolute value."""
    return t.abs()


def sigmoid(t: Tensor) -> Tensor:
    """Elementwise logistic function."""
    return t.sigmoid()


def tanh(t: Tensor) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return t.tanh()


def relu(t: Tensor) -> Tensor:
    """Elementwise max(t, 0)."""
    return t.relu()


def softmax(t: Tensor, dim: int = -1) -> Tensor:
    """Softmax along ``dim``."""
    return F.softmax(t, dim)


def log_softmax(t: Tensor, dim: int = -1) -> Tensor:
    """Log-softmax along ``dim``."""
    return F.log_softmax(t, dim)


def clamp(t: Tensor, min: Optional[Union[float, Tensor]] = None, max: Optional[Union[float, Tensor]] = None) -> Tensor:
    """The entries clamped to [min, max]; bounds may be numbers or tensors that broadcast."""
    return t.clamp(min, max)


def sum(t: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
        dtype: Optional[str] = None) -> Tensor:
    """The sum over ``dim`` (all entries when None); ``axis`` is NumPy's name for ``dim`` and
    ``dtype`` converts the entries first."""
    return t.sum(dim, keepdim, axis=axis, dtype=dtype)  # type: ignore[call-arg]


def mean(t: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         dtype: Optional[str] = None) -> Tensor:
    """The mean over ``dim`` (all entries when None); ``axis`` is NumPy's name for ``dim`` and
    ``dtype`` converts the entries first."""
    return t.mean(dim, keepdim, axis=axis, dtype=dtype)  # type: ignore[call-arg]


def var(t: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False) -> Tensor:
    """The variance over ``dim`` with ``correction`` (1: unbiased)."""
    return t.var(dim, correction, keepdim)


def std(t: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False) -> Tensor:
    """The standard deviation over ``dim`` with ``correction`` (1: unbiased)."""
    return t.std(dim, correction, keepdim)


def var_mean(t: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False,
             unbiased: Optional[bool] = None) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim``, as ``torch.var_mean``."""
    return t.var(dim, correction, keepdim, unbiased), t.mean(dim, keepdim)


def std_mean(t: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False,
             unbiased: Optional[bool] = None) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim``, as ``torch.std_mean``."""
    return t.std(dim, correction, keepdim, unbiased), t.mean(dim, keepdim)


def norm(t: Tensor, p: Union[float, str] = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm (see :meth:`Tensor.norm`)."""
    return t.norm(p, dim, keepdim)


def argmax(t: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """Indices of the largest entries along ``dim`` (of the flattened tensor when None)."""
    return t.argmax(dim, keepdim)


def argmin(t: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """Indices of the smallest entries along ``dim`` (of the flattened tensor when None)."""
    return t.argmin(dim, keepdim)


def flatten(t: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``t`` with dimensions ``start_dim``..``end_dim`` merged."""
    return t.flatten(start_dim, end_dim)


def reshape(t: Tensor, shape: Sequence[int]) -> Tensor:
    """``t`` with a new shape (a view where the layout allows)."""
    return t.reshape(*shape)


def transpose(t: Tensor, dim0: int, dim1: int) -> Tensor:
    """``t`` with two dimensions swapped (a view)."""
    return t.transpose(dim0, dim1)


def permute(t: Tensor, dims: Sequence[int]) -> Tensor:
    """``t`` with its dimensions reordered (a view)."""
    return t.permute(*dims)


def squeeze(t: Tensor, dim: Optional[Union[int, Sequence[int]]] = None) -> Tensor:
    """``t`` without its size-1 dimensions (or only those of ``dim``, an int or a tuple)."""
    return t.squeeze(dim)


def unsqueeze(t: Tensor, dim: int) -> Tensor:
    """``t`` with a size-1 dimension inserted at ``dim``."""
    return t.unsqueeze(dim)


def flip(t: Tensor, dims: Union[int, Sequence[int]]) -> Tensor:
    """The entries in reverse order along each of ``dims``."""
    return t.flip(dims)


def tril(t: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions."""
    return t.tril(diagonal)


def triu(t: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions."""
    return t.triu(diagonal)


def cumsum(t: Tensor, dim: int) -> Tensor:
    """Running sums along ``dim``."""
    return t.cumsum(dim)


def cumprod(t: Tensor, dim: int) -> Tensor:
    """Running products along ``dim``."""
    return t.cumprod(dim)


def prod(t: Tensor, dim: Optional[int] = None, keepdim: bool = False, dtype: Optional[str] = None) -> Tensor:
    """The product of all entries, or along ``dim``."""
    return t.prod(dim, keepdim, dtype)


def mode(t: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The most frequent value along ``dim`` and the index of its last occurrence."""
    return ValuesIndices(*t.mode(dim, keepdim))


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two vectors."""
    return a.outer(b)


def chunk(t: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces along ``dim``."""
    return t.chunk(chunks, dim)


def split(t: Tensor, split_size_or_sections: Union[int, Sequence[int]], dim: int = 0) -> tuple[Tensor, ...]:
    """Consecutive pieces along ``dim`` (see :meth:`Tensor.split`)."""
    return t.split(split_size_or_sections, dim)


def sort(t: Tensor, dim: int = -1, descending: bool = False) -> ValuesIndices:
    """The entries sorted along ``dim`` and their indices."""
    return t.sort(dim, descending)


def argsort(t: Tensor, dim: int = -1, descending: bool = False) -> Tensor:
    """Indices that sort the entries along ``dim``."""
    return t.argsort(dim, descending)


def topk(t: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (or smallest) entries along ``dim`` and their indices."""
    return t.topk(k, dim, largest, sorted)


def isnan(t: Tensor) -> Tensor:
    """Where the entries are NaN."""
    return t.isnan()


def isinf(t: Tensor) -> Tensor:
    """Where the entries are infinite."""
    return t.isinf()


def isfinite(t: Tensor) -> Tensor:
    """Where the entries are finite."""
    return t.isfinite()


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether ``|a - b| <= atol + rtol * |b|`` everywhere."""
    return a.allclose(b, rtol, atol, equal_nan)


def equal(a: Tensor, b: Tensor) -> bool:
    """Whether both tensors have the same shape and values."""
    return a.equal(b)


def maximum(a: Tensor, b: Tensor) -> Tensor:
    """The elementwise larger of ``a`` and ``b``."""
    return a.maximum(b)


def minimum(a: Tensor, b: Tensor) -> Tensor:
    """The elementwise smaller of ``a`` and ``b``."""
    return a.minimum(b)


def _dim_or_other(name: str, dim_or_other: Any, dim: Optional[int], other: Optional[Tensor]) -> Any:
    """The one of the positional argument and the ``dim`` / ``other`` keywords that was given."""
    for keyword, value in (("dim", dim), ("other", other)):
        if value is not None:
            if dim_or_other is not None:
                raise TypeError(f"{name}(): argument `{keyword}` given twice (positionally as {dim_or_other!r} and "
                                f"by keyword)")
            dim_or_other = value
    return dim_or_other


def max(t: Tensor, dim_or_other: Any = None, keepdim: bool = False, *, dim: Optional[int] = None,
        other: Optional[Tensor] = None) -> Any:
    """The largest entry (``max(t)``), the largest entries along a dimension with their indices
    (``max(t, dim)``), or the elementwise larger of two tensors (``max(t, other)``)."""
    dim_or_other = _dim_or_other("max", dim_or_other, dim, other)
    if isinstance(dim_or_other, Tensor):
        return t.maximum(dim_or_other)
    return t.max(dim_or_other, keepdim)


def min(t: Tensor, dim_or_other: Any = None, keepdim: bool = False, *, dim: Optional[int] = None,
        other: Optional[Tensor] = None) -> Any:
    """The smallest entry (``min(t)``), the smallest entries along a dimension with their indices
    (``min(t, dim)``), or the elementwise smaller of two tensors (``min(t, other)``)."""
    dim_or_other = _dim_or_other("min", dim_or_other, dim, other)
    if isinstance(dim_or_other, Tensor):
        return t.minimum(dim_or_other)
    return t.min(dim_or_other, keepdim)


# NumPy-style names PyTorch also accepts, as functions and as Tensor methods.
ARC_ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
               "arctanh": "atanh", "arctan2": "atan2"}
arcsin, arccos, arctan, arcsinh, arccosh, arctanh, arctan2 = asin, acos, atan, asinh, acosh, atanh, atan2


def install_aliases() -> None:
    """Attaches the NumPy-style names (``t.arcsin()``) to :class:`Tensor`."""
    for alias, name in ARC_ALIASES.items():
        setattr(Tensor, alias, getattr(Tensor, name))
