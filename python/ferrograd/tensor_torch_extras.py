"""More of PyTorch's tensor API: in-place forms of common ops (``masked_fill_``, ``index_put_``,
``scatter_add_``, ``index_fill_``, ``lerp_``, ``pow_``, ``exp_`` ... ``detach_``), a few small
methods (``new_empty``, ``ndimension``, ``byte``), and the functions ``unique``, ``bincount``,
``searchsorted``, ``bucketize``, ``quantile`` / ``nanquantile``, ``kthvalue``, ``median``,
``histc``, ``cummax`` / ``cummin``, ``logcumsumexp``, ``aminmax``, ``renorm``, ``randint_like``
and ``logspace``.

In-place methods compute the out-of-place result with existing ops and write it through
``copy_`` (so views see the write), with the same rule as the other in-place methods: they refuse
(RuntimeError) where autograd would need to record the update. Positions (indices, counts, bucket
numbers) are found on the host with numpy and carry no gradient; values that PyTorch
differentiates (quantiles, k-th values, running maxima, ``logcumsumexp``, ``renorm``) are gathered
or composed with the core's differentiable ops, so gradients flow to the chosen entries.
The shape-changing in-place methods (``squeeze_``, ``unsqueeze_``, ``t_``, ``transpose_``) are not
provided: the core cannot change a tensor's shape or strides in place.
``install()`` attaches the methods that :class:`Tensor` lacks.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Literal, NamedTuple, Optional

import numpy as np

from . import _core
from ._core import Tensor
from .creation import _placed
from .dtypes import FLOATING_DTYPES
from .tensor_in_place import _in_place
from .tensor_counting import _on
from .tensor_methods import ValuesIndices, _axis, _host
from .tensor_torch_forms import _require_tensor, index_fill

_INTEGER_DTYPES = ("int64", "int32", "uint8", "int8")
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


class MinMax(NamedTuple):
    """``min`` and ``max`` of a tensor, as returned by :func:`aminmax`."""

    min: Tensor
    max: Tensor


def _need_float(t: Tensor, op: str, arg: str = "input") -> None:
    if t.dtype not in FLOATING_DTYPES:
        raise TypeError(f"{op}: argument `{arg}` expected a floating-point tensor, got dtype {t.dtype}")


def _scalar(value: Any, op: str, arg: str) -> float:
    """A Python number from ``value`` (a number or a one-element tensor)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"{op}: argument `{arg}` expected a number or a 0-d tensor, got a tensor of shape "
                             f"{list(value.shape)}")
        return float(value.item())
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        return float(value)
    raise TypeError(f"{op}: argument `{arg}` expected a number, got {type(value).__name__}")


# In-place forms.

def masked_fill_(self: Tensor, mask: Tensor, value: Any) -> Tensor:
    """Sets the entries where the bool ``mask`` (broadcast to ``self``) holds to ``value``, in place."""
    _require_tensor("masked_fill_", "mask", mask)
    fill = _scalar(value, "masked_fill_", "value")
    return _in_place(self, "masked_fill_", value, lambda: self.masked_fill(mask, fill))


def _index_tensors(self: Tensor, indices: Any, op: str) -> tuple[Tensor, ...]:
    if isinstance(indices, Tensor) or not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}: argument `indices` expected a tuple of index tensors, got {type(indices).__name__}")
    if len(indices) == 0 or len(indices) > self.ndim:
        raise ValueError(f"{op}: argument `indices` expected 1 to {self.ndim} index tensors (one per leading "
                         f"dimension), got {len(indices)}")
    for i, index in enumerate(indices):
        _require_tensor(op, f"indices[{i}]", index)
        if index.dtype not in ("int64", "int32", "bool"):
            raise TypeError(f"{op}: argument `indices[{i}]` expected an integer or bool tensor, got dtype "
                            f"{index.dtype}")
    return tuple(indices)


def index_put(self: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """A copy of ``self`` with ``values`` written at ``self[indices]`` (``indices`` a tuple of index
    tensors, one per leading dimension); with ``accumulate`` added there instead, duplicates
    summing. Gradients flow to ``self`` and ``values``."""
    idx = _index_tensors(self, indices, "index_put")
    if any(i.dtype == "bool" for i in idx):
        if accumulate:
            raise ValueError("index_put: argument `indices` expected integer tensors when `accumulate` is True, "
                             "got a bool mask")
        out = self.clone()
        out[idx] = values
        return out
    host = [_host(i).astype(np.int64) for i in idx]
    try:
        host = list(np.broadcast_arrays(*host))
    except ValueError:
        raise ValueError("index_put: argument `indices` expected index tensors that broadcast together, got shapes "
                         f"{[list(i.shape) for i in idx]}") from None
    lead = [int(s) for s in self.shape[:len(idx)]]
    for i, (h, size) in enumerate(zip(host, lead)):
        if h.size and (h.min() < -size or h.max() >= size):
            raise IndexError(f"index_put: argument `indices[{i}]` expected values in [{-size}, {size}), got values "
                             f"from {int(h.min())} to {int(h.max())}")
    linear = np.ravel_multi_index(tuple(np.mod(h, s) for h, s in zip(host, lead)), lead).reshape(-1)
    rest = [int(s) for s in self.shape[len(idx):]]
    target_shape = [*host[0].shape, *rest] if host else rest
    source = values if isinstance(values, Tensor) else _core.full([], float(values), self.dtype, str(self.device),
                                                                   False)
    try:
        source = source.expand(*target_shape) if target_shape else source.reshape([])
    except Exception:
        raise ValueError(f"index_put: argument `values` expected a shape that broadcasts to {target_shape}, got "
                         f"{list(source.shape)}") from None
    source = source.reshape(linear.shape[0], *rest)
    flat = self.reshape(int(np.prod(lead)), *rest)
    index = _on(linear.reshape(-1, *([1] * len(rest))), self).expand(linear.shape[0], *rest).contiguous()
    written = flat.scatter_add if accumulate else flat.scatter
    return written(0, index, source.contiguous()).reshape(*self.shape)


def index_put_(self: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """:func:`index_put` written into ``self`` in place."""
    return _in_place(self, "index_put_", values, lambda: index_put(self, indices, values, accumulate))


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Adds ``src[i][j]...`` into ``self`` at the position ``index`` names along ``dim``, in place;
    as in PyTorch, ``index`` may be smaller than ``src``, whose leading block is then used."""
    axis = _axis(self, dim, "scatter_add_")
    _require_tensor("scatter_add_", "index", index)
    _require_tensor("scatter_add_", "src", src)
    if index.ndim != src.ndim or any(i > s for i, s in zip(index.shape, src.shape)):
        raise ValueError(f"scatter_add_: argument `index` expected a shape no larger than `src` "
                         f"{list(src.shape)} in every dimension, got {list(index.shape)}")
    part = src
    for d, (i, s) in enumerate(zip(index.shape, src.shape)):
        if i < s:
            part = part.narrow(d, 0, i)
    return _in_place(self, "scatter_add_", src, lambda: self.scatter_add(axis, index, part.contiguous()))


def index_fill_(self: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """Sets the slices at ``index`` along ``dim`` to ``value``, in place (``index_fill`` written
    into ``self``)."""
    return _in_place(self, "index_fill_", value, lambda: index_fill(self, dim, index, value))


def lerp_(self: Tensor, end: Tensor, weight: Any) -> Tensor:
    """``self += weight * (end - self)`` in place."""
    _require_tensor("lerp_", "end", end)
    grad_source = weight if isinstance(weight, Tensor) and weight.requires_grad else end
    return _in_place(self, "lerp_", grad_source, lambda: self.lerp(end, weight))


def pow_(self: Tensor, exponent: Any) -> Tensor:
    """``self **= exponent`` in place."""
    return _in_place(self, "pow_", exponent, lambda: self.pow(exponent))


def _unary(name: str, compute: Callable[[Tensor], Tensor], doc: str) -> Callable[[Tensor], Tensor]:
    def method(self: Tensor) -> Tensor:
        return _in_place(self, name, None, lambda: compute(self))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    return method


exp_ = _unary("exp_", lambda t: t.exp(), "Replaces each entry with its exponential, in place.")
log_ = _unary("log_", lambda t: t.log(), "Replaces each entry with its natural logarithm, in place.")
sqrt_ = _unary("sqrt_", lambda t: t.sqrt(), "Replaces each entry with its square root, in place.")
abs_ = _unary("abs_", lambda t: t.abs(), "Replaces each entry with its absolute value, in place.")
neg_ = _unary("neg_", lambda t: t.neg(), "Negates each entry, in place.")
relu_ = _unary("relu_", lambda t: t.relu(), "Replaces negative entries with 0, in place.")
sigmoid_ = _unary("sigmoid_", lambda t: t.sigmoid(), "Replaces each entry with its logistic sigmoid, in place.")
tanh_ = _unary("tanh_", lambda t: t.tanh(), "Replaces each entry with its hyperbolic tangent, in place.")


def detach_(self: Tensor) -> Tensor:
    """Stops ``self`` requiring grad and returns it. The core can do this for a leaf only; for a
    tensor computed by a recorded op it raises, pointing to ``detach()``."""
    if not self.requires_grad:
        return self
    if not self.is_leaf:
        raise RuntimeError("detach_: a non-leaf tensor cannot be detached in place here (the core cannot "
                           "rewrite its autograd history); use `t = t.detach()` instead")
    return self.requires_grad_(False)


# Small methods.

def new_empty(self: Tensor, *size: Any, dtype: Optional[str] = None, device: Optional[str] = None,
              requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` with ``self``'s dtype and device unless given; its entries are zeros."""
    return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def ndimension(self: Tensor) -> int:
    """The number of dimensions (``dim()``)."""
    return self.dim()


def byte(self: Tensor) -> Tensor:
    """A uint8 copy of this tensor."""
    return self.to("uint8")


def short(self: Tensor) -> Tensor:
    """Always raises: ferrograd has no int16 dtype."""
    raise TypeError("short: ferrograd has no int16 dtype (supported integer dtypes: int64, int32, uint8); use "
                    ".int() or .long()")


# Counting and searching (no gradients).

def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: Optional[int] = None) -> Any:
    """The distinct entries in ascending order (see :meth:`Tensor.unique`), with optional inverse
    positions and counts (int64)."""
    return _require_tensor("unique", "input", input).unique(sorted, return_inverse, return_counts, dim)


def bincount(input: Tensor, weights: Optional[Tensor] = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ... occurs in a 1-D integer tensor (see :meth:`Tensor.bincount`)."""
    return _require_tensor("bincount", "input", input).bincount(weights, minlength)


def _side(right: bool, side: Optional[str], op: str) -> Literal["left", "right"]:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise ValueError(f"{op}: argument `side` expected 'left' or 'right', got {side!r}")
    if right and side == "left":
        raise ValueError(f"{op}: arguments `side` and `right` disagree: got side='left' and right=True")
    return "right" if side == "right" else "left"


def _search_values(values: Any, like: Tensor, op: str) -> tuple[np.ndarray, bool]:
    if isinstance(values, Tensor):
        return _host(values), False
    if isinstance(values, (bool, int, float, np.integer, np.floating)):
        return np.asarray(values), True
    raise TypeError(f"{op}: argument `input` expected a Tensor or a number, got {type(values).__name__}")


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: Optional[str] = None, sorter: Optional[Tensor] = None) -> Tensor:
    """For each value of ``input``, the index where it would be inserted into ``sorted_sequence``
    (sorted along its last dimension) to keep it sorted: before equal entries (``side='left'``)
    or after them (``right=True`` / ``side='right'``). An N-D ``sorted_sequence`` searches each
    row for the matching row of ``input``. int64 (int32 with ``out_int32``)."""
    seq = _require_tensor("searchsorted", "sorted_sequence", sorted_sequence)
    where = _side(right, side, "searchsorted")
    values, scalar = _search_values(input, seq, "searchsorted")
    if seq.ndim == 0:
        raise ValueError("searchsorted: argument `sorted_sequence` expected at least 1 dimension, got a 0-d tensor")
    rows = _host(seq)
    if sorter is not None:
        order = _host(_require_tensor("searchsorted", "sorter", sorter)).astype(np.int64)
        if order.shape != rows.shape:
            raise ValueError(f"searchsorted: argument `sorter` expected shape {list(rows.shape)}, got "
                             f"{list(order.shape)}")
        rows = np.take_along_axis(rows, order, axis=-1)
    if rows.ndim == 1:
        found = np.searchsorted(rows, values, side=where)
    else:
        if scalar or values.ndim != rows.ndim or values.shape[:-1] != rows.shape[:-1]:
            raise ValueError(f"searchsorted: argument `input` expected leading dimensions {list(rows.shape[:-1])} "
                             f"(those of `sorted_sequence`), got shape {list(values.shape)}")
        flat_rows = rows.reshape(-1, rows.shape[-1])
        flat_values = values.reshape(-1, values.shape[-1])
        found = np.stack([np.searchsorted(r, v, side=where) for r, v in zip(flat_rows, flat_values)]
                         ).reshape(values.shape) if flat_rows.shape[0] else np.zeros(values.shape, np.int64)
    return _on(np.asarray(found, dtype=np.int32 if out_int32 else np.int64), seq)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` among the 1-D sorted ``boundaries``: the i with
    ``boundaries[i-1] < x <= boundaries[i]`` (``right=True``: ``boundaries[i-1] <= x < boundaries[i]``)."""
    edges = _require_tensor("bucketize", "boundaries", boundaries)
    if edges.ndim != 1:
        raise ValueError(f"bucketize: argument `boundaries` expected a 1-D tensor, got shape {list(edges.shape)}")
    values, _ = _search_values(input, edges, "bucketize")
    found = np.searchsorted(_host(edges), values, side=_side(right, None, "bucketize"))
    like = input if isinstance(input, Tensor) else edges
    return _on(np.asarray(found, dtype=np.int32 if out_int32 else np.int64), like)


def histc(input: Tensor, bins: int = 100, min: float = 0.0, max: float = 0.0) -> Tensor:
    """A histogram of ``bins`` equal-width bins over [``min``, ``max``] (the data's range when both
    are equal; widened by 1 each side when that is a single value); entries outside are ignored,
    the last bin includes ``max``. Float (the input's dtype, float32 for integers)."""
    t = _require_tensor("histc", "input", input)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise ValueError(f"histc: argument `bins` expected a positive integer, got {bins!r}")
    low, high = float(min), float(max)
    if low > high:
        raise ValueError(f"histc: arguments `min` and `max` expected min <= max, got {low} and {high}")
    values = _host(t).astype(np.float64).reshape(-1)
    if low == high and values.size:
        finite = values[np.isfinite(values)]
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"histc: range of [{low}, {high}] is not finite")
    counts, _ = np.histogram(values[np.isfinite(values)], bins=int(bins), range=(low, high))
    out = _on(counts.astype(np.float32), t)
    return out.to(t.dtype) if t.dtype in FLOATING_DTYPES else out


# Order statistics (differentiable values).

def _quantile(input: Tensor, q: Any, dim: Optional[int], keepdim: bool, interpolation: str, op: str,
              ignore_nan: bool) -> Tensor:
    t = _require_tensor(op, "input", input)
    _need_float(t, op)
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}: argument `interpolation` expected one of {list(_INTERPOLATIONS)}, got "
                         f"{interpolation!r}")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise ValueError(f"{op}: argument `q` expected a number or a 0-d or 1-D tensor, got shape "
                             f"{list(q.shape)}")
        qs, scalar_q = _host(q).astype(np.float64).reshape(-1), q.ndim == 0
    elif isinstance(q, (int, float, np.integer, np.floating)) and not isinstance(q, bool):
        qs, scalar_q = np.array([float(q)]), True
    elif isinstance(q, (list, tuple)):
        qs, scalar_q = np.asarray(q, dtype=np.float64).reshape(-1), False
    else:
        raise TypeError(f"{op}: argument `q` expected a number, a list or a tensor, got {type(q).__name__}")
    if qs.size and not ((qs >= 0) & (qs <= 1)).all():
        raise ValueError(f"{op}: argument `q` expected values in [0, 1], got {qs.tolist()}")
    x = t.reshape(-1) if dim is None else (t.reshape(1) if t.ndim == 0 else t)
    axis = 0 if dim is None else _axis(t, dim, op)
    size = x.shape[axis]
    if size == 0:
        raise ValueError(f"{op}: expected a non-empty input along the reduced dimension, got shape {list(t.shape)}")
    ordered = x.sort(axis).values  # NaN sorts last
    host = np.moveaxis(_host(x), axis, -1)  # [..., size]
    nan_count = np.isnan(host).sum(axis=-1)  # [...]
    valid = (size - nan_count) if ignore_nan else np.full(nan_count.shape, size)
    # Per row and q: the fractional rank and its bracketing indices, shape [..., Q].
    rank = qs.reshape(*([1] * valid.ndim), -1) * np.maximum(valid - 1, 0)[..., None]
    if interpolation == "lower":
        rank = np.floor(rank)
    elif interpolation == "higher":
        rank = np.ceil(rank)
    elif interpolation == "nearest":
        rank = np.round(rank)
    low_index = np.floor(rank).astype(np.int64)
    high_index = np.ceil(rank).astype(np.int64)
    weight = rank - low_index
    if interpolation == "midpoint":
        weight = np.where(high_index > low_index, 0.5, 0.0)
    low_t = _on(np.moveaxis(low_index, -1, axis), t)
    high_t = _on(np.moveaxis(high_index, -1, axis), t)
    low_v = ordered.gather(axis, low_t)
    result = low_v
    if (weight != 0).any():
        high_v = ordered.gather(axis, high_t)
        w = _on(np.moveaxis(weight, -1, axis).astype(np.float32), t).to(t.dtype)
        result = low_v + (high_v - low_v) * w
    # Rows that hold NaN (quantile) or only NaN (nanquantile) give NaN.
    bad = (valid == 0) if ignore_nan else (nan_count > 0)
    if bad.any():
        mask = _on(np.expand_dims(bad, axis), t)
        result = result.masked_fill(mask, math.nan)
    # Move the q dimension to the front, then drop / keep the reduced dimension.
    order = [axis, *[d for d in range(result.ndim) if d != axis]]
    result = result.permute(*order)
    if dim is None:
        shape = [len(qs)] + ([1] * t.ndim if keepdim else [])
    else:
        kept = [int(s) for s in x.shape]
        if t.ndim == 0:
            kept = []
        elif keepdim:
            kept[axis] = 1
        else:
            del kept[axis]
        shape = [len(qs), *kept]
    result = result.reshape(*shape)
    return result.reshape(*shape[1:]) if scalar_q else result


def quantile(input: Tensor, q: Any, dim: Optional[int] = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles (``q`` a number or a 1-D tensor in [0, 1]) of all entries, or along
    ``dim``, as numpy's ``quantile``; a 1-D ``q`` adds a leading dimension. ``interpolation`` is
    'linear', 'lower', 'higher', 'midpoint' or 'nearest'. A row holding NaN gives NaN.
    Gradients flow to the entries the quantiles interpolate."""
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", ignore_nan=False)


def nanquantile(input: Tensor, q: Any, dim: Optional[int] = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """:func:`quantile` ignoring NaN entries (NaN only where a row holds nothing else)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", ignore_nan=True)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """The ``k``-th smallest entry (``k`` from 1) along ``dim`` and its index, as ``(values,
    indices)``; gradients go to the chosen entries."""
    t = _require_tensor("kthvalue", "input", input)
    axis = _axis(t, dim, "kthvalue")
    x = t.reshape(1) if t.ndim == 0 else t
    size = x.shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= size:
        raise ValueError(f"kthvalue: argument `k` expected an integer in [1, {size}], got {k!r}")
    ordered = x.sort(axis)
    values, indices = (part.narrow(axis, int(k) - 1, 1) for part in ordered)
    if t.ndim == 0:
        return ValuesIndices(values.reshape([]), indices.reshape([]))
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return ValuesIndices(values, indices)


def median(input: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Any:
    """The lower median of all entries, or ``(values, indices)`` along ``dim`` (see
    :meth:`Tensor.median`)."""
    return _require_tensor("median", "input", input).median(dim, keepdim)


def _cumulative(input: Tensor, dim: int, op: str, better: Callable[[np.ndarray, np.ndarray], np.ndarray]
                ) -> ValuesIndices:
    t = _require_tensor(op, "input", input)
    axis = _axis(t, dim, op)
    x = t.reshape(1) if t.ndim == 0 else t
    rows = np.moveaxis(_host(x), axis, -1)
    index = np.zeros(rows.shape, dtype=np.int64)
    if rows.shape[-1]:
        best = rows[..., 0].copy()
        at = np.zeros(rows.shape[:-1], dtype=np.int64)
        for i in range(1, rows.shape[-1]):
            value = rows[..., i]
            # As PyTorch: ties move to the later index, and a NaN, once seen, stays.
            take = np.isnan(value) | (~np.isnan(best) & better(value, best))
            best = np.where(take, value, best)
            at = np.where(take, i, at)
            index[..., i] = at
    indices = _on(np.moveaxis(index, -1, axis), t)
    values = x.gather(axis, indices)
    if t.ndim == 0:
        return ValuesIndices(values.reshape([]), indices.reshape([]))
    return ValuesIndices(values, indices)


def cummax(input: Tensor, dim: int) -> ValuesIndices:
    """The running maximum along ``dim`` and the index where each was found, as ``(values,
    indices)``; gradients go to the chosen entries."""
    return _cumulative(input, dim, "cummax", np.greater_equal)


def cummin(input: Tensor, dim: int) -> ValuesIndices:
    """The running minimum along ``dim`` and the index where each was found, as ``(values,
    indices)``; gradients go to the chosen entries."""
    return _cumulative(input, dim, "cummin", np.less_equal)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input), dim))``, computed stably (a log-space prefix scan of
    ``logaddexp``); differentiable."""
    t = _require_tensor("logcumsumexp", "input", input)
    _need_float(t, "logcumsumexp")
    axis = _axis(t, dim, "logcumsumexp")
    if t.ndim == 0:
        return t.clone()
    size = t.shape[axis]
    floor_value = -float(np.finfo(np.float32).max)
    out = t
    shift = 1
    while shift < size:
        pad_shape = [int(s) for s in t.shape]
        pad_shape[axis] = shift
        pad = _core.full(pad_shape, -math.inf, t.dtype, str(t.device), False)
        earlier = _core.cat([pad, out.narrow(axis, 0, size - shift)], axis)
        # logaddexp(a, b) = max(a, b) + log1p(exp(-|a - b|)), on -inf replaced by the lowest finite
        # value (so no inf - inf reaches the result or its gradient); -inf where both are -inf.
        a_empty, b_empty = out.isinf() & (out < 0), earlier.isinf() & (earlier < 0)
        a = _core.where_(a_empty, floor_value, out)
        b = _core.where_(b_empty, floor_value, earlier)
        combined = a.maximum(b) + (-(a - b).abs()).exp().log1p()
        out = _core.where_(a_empty & b_empty, -math.inf, combined)
        shift *= 2
    return out


def aminmax(input: Tensor, *, dim: Optional[int] = None, keepdim: bool = False) -> MinMax:
    """The minimum and maximum (of all entries, or along ``dim``), as ``(min, max)``."""
    t = _require_tensor("aminmax", "input", input)
    if t.numel() == 0:
        raise ValueError(f"aminmax: expected a non-empty tensor, got shape {list(t.shape)}")
    if dim is None:
        if keepdim:
            shape = [1] * t.ndim
            return MinMax(t.amin(None).reshape(*shape), t.amax(None).reshape(*shape))
        return MinMax(t.amin(None), t.amax(None))
    axis = _axis(t, dim, "aminmax")
    if t.ndim == 0:
        return MinMax(t.clone(), t.clone())
    return MinMax(t.amin(axis, keepdim), t.amax(axis, keepdim))


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice of ``input`` along ``dim`` whose ``p``-norm exceeds ``maxnorm`` is rescaled to
    norm ``maxnorm`` (``maxnorm / (norm + 1e-7)``, as PyTorch); the others are kept. Differentiable."""
    t = _require_tensor("renorm", "input", input)
    _need_float(t, "renorm")
    if t.ndim == 0:
        raise ValueError("renorm: argument `input` expected at least 1 dimension, got a 0-d tensor")
    axis = _axis(t, dim, "renorm")
    p_value = _scalar(p, "renorm", "p")
    if not p_value > 0:
        raise ValueError(f"renorm: argument `p` expected a positive value, got {p_value}")
    limit = _scalar(maxnorm, "renorm", "maxnorm")
    if not limit >= 0:
        raise ValueError(f"renorm: argument `maxnorm` expected a non-negative value, got {limit}")
    others = tuple(d for d in range(t.ndim) if d != axis)
    magnitude = t.abs()
    if math.isinf(p_value):
        norm = magnitude.amax(others, True) if others else magnitude
    elif others:
        norm = magnitude.pow(p_value).sum(others, keepdim=True).pow(1.0 / p_value)
    else:
        norm = magnitude
    factor = _core.where_(norm > limit, limit / (norm + 1e-7), 1.0)
    return t * factor


# Creation.

def randint_like(input: Tensor, low: int = 0, high: Optional[int] = None, *, dtype: Optional[str] = None,
                 requires_grad: bool = False) -> Tensor:
    """Integers uniform in [``low``, ``high``) with ``input``'s shape and device, and its dtype unless
    given (``randint_like(t, high)`` starts at 0)."""
    from .creation import randint

    t = _require_tensor("randint_like", "input", input)
    if high is None:
        low, high = 0, low
    out = randint(low, high, [int(s) for s in t.shape], dtype="int64", device=str(t.device)).to(dtype or t.dtype)
    return out.requires_grad_(True) if requires_grad else out


def logspace(start: float, end: float, steps: int, base: float = 10.0, dtype: Optional[str] = None,
             device: str = "cpu", requires_grad: bool = False) -> Tensor:
    """``steps`` values ``base ** x`` for x evenly spaced from ``start`` to ``end`` inclusive
    (float32 unless given)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"logspace: argument `steps` expected a non-negative integer, got {steps!r}")
    return _placed(np.logspace(float(start), float(end), int(steps), base=float(base)), dtype, device,
                   requires_grad)


FUNCTIONS = (unique, bincount, searchsorted, bucketize, histc, quantile, nanquantile, kthvalue, median, cummax,
             cummin, logcumsumexp, aminmax, renorm, randint_like, logspace)
METHODS: tuple[Callable[..., Any], ...] = (
    masked_fill_, index_put, index_put_, scatter_add_, index_fill_, lerp_, pow_, exp_, log_, sqrt_,
    abs_, neg_, relu_, sigmoid_, tanh_, detach_, new_empty, ndimension, byte, short, histc, quantile, nanquantile,
    kthvalue, cummax, cummin, logcumsumexp, aminmax, renorm)


def install() -> None:
    """Attaches the methods above that :class:`Tensor` lacks (existing ones are kept)."""
    for method in METHODS:
        if not hasattr(Tensor, method.__name__):
            setattr(Tensor, method.__name__, method)
