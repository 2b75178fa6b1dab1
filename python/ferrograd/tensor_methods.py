"""PyTorch's composite Tensor methods, built from the core's differentiable ops.

Each method here composes ops that already have forward and backward passes on every device
(arithmetic, ``where``, ``gather``, ``index_select``, slicing, ``pad``), so gradients and GPU
support come with them. ``install()`` attaches them to :class:`ferrograd.Tensor` when the package
loads; their signatures are declared in ``_core.pyi``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional, Sequence, Union

import numpy as np

from . import _core
from . import functional as F
from ._core import Tensor
from .creation import _shape

_ELEMENT_SIZES = {"float32": 4, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4, "uint8": 1, "bool": 1}


class ValuesIndices(NamedTuple):
    """``values`` and their ``indices`` in the input, as returned by ``sort``, ``topk``, and
    ``max`` / ``min`` along a dimension."""

    values: Tensor
    indices: Tensor


def _axis(t: Tensor, dim: int, op: str, arg: str = "dim") -> int:
    """``dim`` as a non-negative axis of ``t`` (a 0-d tensor has axis 0), or an IndexError
    naming ``op`` and ``arg``."""
    rank = max(t.ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not -rank <= dim < rank:
        raise IndexError(f"{op}: argument `{arg}` expected a value in [{-rank}, {rank - 1}], got {dim!r}")
    return int(dim) % rank


def _index(values: Any, like: Tensor) -> Tensor:
    """An int64 index tensor on ``like``'s device."""
    return _core.Tensor.from_numpy(np.ascontiguousarray(values, dtype=np.int64)).to(like.device)


# Arithmetic and comparisons under their method names.

def add(self: Tensor, other: Any, alpha: float = 1.0) -> Tensor:
    """``self + alpha * other``."""
    return self + (other if alpha == 1 else alpha * other)


def sub(self: Tensor, other: Any, alpha: float = 1.0) -> Tensor:
    """``self - alpha * other``."""
    return self - (other if alpha == 1 else alpha * other)


def mul(self: Tensor, other: Any) -> Tensor:
    """``self * other``."""
    return self * other


def eq(self: Tensor, other: Any) -> Tensor:
    """Elementwise ``self == other`` (bool)."""
    return self == other


def ne(self: Tensor, other: Any) -> Tensor:
    """Elementwise ``self != other`` (bool)."""
    return self != other


def lt(self: Tensor, other: Any) -> Tensor:
    """Elementwise ``self < other`` (bool)."""
    return self < other


def le(self: Tensor, other: Any) -> Tensor:
    """Elementwise ``self <= other`` (bool)."""
    return self <= other


def gt(self: Tensor, other: Any) -> Tensor:
    """Elementwise ``self > other`` (bool)."""
    return self > other


def ge(self: Tensor, other: Any) -> Tensor:
    """Elementwise ``self >= other`` (bool)."""
    return self >= other


def reciprocal(self: Tensor) -> Tensor:
    """``1 / self``."""
    return 1.0 / self


def rsqrt(self: Tensor) -> Tensor:
    """``1 / sqrt(self)``."""
    return 1.0 / self.sqrt()


def lerp(self: Tensor, end: Tensor, weight: Any) -> Tensor:
    """``self + weight * (end - self)``."""
    return self + weight * (end - self)


def softmax(self: Tensor, dim: int = -1) -> Tensor:
    """Softmax along ``dim`` (see :func:`ferrograd.functional.softmax`)."""
    return F.softmax(self, dim)


def log_softmax(self: Tensor, dim: int = -1) -> Tensor:
    """Log-softmax along ``dim`` (see :func:`ferrograd.functional.log_softmax`)."""
    return F.log_softmax(self, dim)


def std(self: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False,
        unbiased: Optional[bool] = None) -> Tensor:
    """Standard deviation: the square root of :meth:`var` with the same arguments."""
    return self.var(dim, correction, keepdim, unbiased).sqrt()


def _sqrt_with_zero_gradient(squares: Tensor) -> Tensor:
    """``sqrt`` of non-negative ``squares`` whose gradient at 0 is 0, as PyTorch's norms and
    distances have, rather than infinite: zeros go through sqrt(1) and 0 is selected instead.
    NaN stays NaN (a norm of a vector holding NaN is NaN, as in PyTorch)."""
    zero = squares == 0
    return _core.where_(zero, 0.0, _core.where_(zero, 1.0, squares).sqrt())


def norm(self: Tensor, p: Union[float, str] = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over ``dim`` (all elements when None): ``p`` = 2 or ``'fro'``, 1,
    ``inf``, ``-inf`` or any other positive number. The 2-norm's gradient at a zero vector is zero,
    as in PyTorch, rather than NaN."""
    if p == "fro":
        p = 2.0
    if not isinstance(p, (int, float)) or p <= 0 and p != -math.inf:
        raise ValueError(f"norm: argument `p` expected 'fro', inf, -inf or a positive number, got {p!r}")
    magnitude = self.abs()
    if p == math.inf or p == -math.inf:
        dims = range(self.ndim) if dim is None else [dim] if isinstance(dim, int) else dim
        pick = Tensor.max if p == math.inf else Tensor.min
        for axis in sorted({_axis(self, d, "norm") for d in dims}, reverse=True):
            magnitude = pick(magnitude, axis, keepdim)[0]
        return magnitude
    if p == 1:
        return magnitude.sum(dim, keepdim)
    if p == 2:
        return _sqrt_with_zero_gradient((self * self).sum(dim, keepdim))
    return magnitude.pow(float(p)).sum(dim, keepdim).pow(1.0 / p)


# Shapes.

def t(self: Tensor) -> Tensor:
    """The transpose of a matrix (tensors of rank 0 and 1 are returned as they are)."""
    if self.ndim > 2:
        raise ValueError(f"t: expected a tensor of at most 2 dimensions, got shape {list(self.shape)}")
    return self if self.ndim < 2 else self.transpose(0, 1)


def matrix_transpose(self: Tensor) -> Tensor:
    """The last two dimensions swapped (the ``mT`` property)."""
    return self.transpose(-2, -1)


def view_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.view(other.shape)``."""
    return self.view(*other.shape)


def reshape_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.reshape(other.shape)``."""
    return self.reshape(*other.shape)


def expand_as(self: Tensor, other: Tensor) -> Tensor:
    """``self.expand(other.shape)``."""
    return self.expand(*other.shape)


def type_as(self: Tensor, other: Tensor) -> Tensor:
    """``self`` cast to ``other``'s dtype."""
    return self.to(other.dtype)


def narrow(self: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The view of ``length`` entries along ``dim`` from ``start``."""
    axis = _axis(self, dim, "narrow")
    size = self.shape[axis]
    if start < 0:
        start += size
    if not (0 <= start and length >= 0 and start + length <= size):
        raise IndexError(f"narrow: entries {start}..{start + length} lie outside dimension {dim} of size {size}")
    return self[(slice(None),) * axis + (slice(start, start + length),)]


def unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` consecutive entries along ``dimension``, ``step`` apart: that
    axis becomes the number of windows and a new last axis of ``size`` holds each window, as
    ``torch.Tensor.unfold``. The result is a copy (an index gather), not a view of ``self``."""
    axis = _axis(self, dimension, "unfold", "dimension")
    length = self.shape[axis] if self.ndim else 1
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= length:
        raise ValueError(f"unfold: argument `size` expected an int in [0, {length}], got {size!r}")
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise ValueError(f"unfold: argument `step` expected a positive int, got {step!r}")
    source = self.reshape(1) if self.ndim == 0 else self
    windows = (length - size) // step + 1
    positions = (np.arange(windows)[:, None] * step + np.arange(size)[None, :]).reshape(-1)
    picked = source.index_select(axis, _index(positions, source))
    shape = list(source.shape)
    gathered = picked.reshape(*shape[:axis], windows, size, *shape[axis + 1:])
    order = [i for i in range(gathered.ndim) if i != axis + 1] + [axis + 1]
    out = gathered.permute(*order)
    return out.reshape(size) if self.ndim == 0 else out


def split(self: Tensor, split_size_or_sections: Union[int, Sequence[int]], dim: int = 0) -> tuple[Tensor, ...]:
    """Views of consecutive pieces along ``dim``: of ``split_size_or_sections`` entries each (the
    last may be shorter), or of the listed sizes (which must add up to the dimension)."""
    axis = _axis(self, dim, "split")
    size = self.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: argument `split_size_or_sections` expected a positive size, got {step}")
        sections = [min(step, size - s) for s in range(0, size, step)] or [0]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != size or any(s < 0 for s in sections):
            raise ValueError(f"split: argument `split_size_or_sections` expected sizes adding up to {size}, got {sections}")
    starts = np.cumsum([0, *sections[:-1]])
    return tuple(narrow(self, axis, int(s), n) for s, n in zip(starts, sections))


def chunk(self: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces along ``dim`` (fewer when the dimension is short), each of
    ceil(size / chunks) entries but the last."""
    if chunks <= 0:
        raise ValueError(f"chunk: argument `chunks` expected a positive number, got {chunks}")
    size = self.shape[_axis(self, dim, "chunk")]
    return split(self, max(1, -(-size // chunks)), dim)


def unbind(self: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, each without that dimension."""
    axis = _axis(self, dim, "unbind")
    return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))


def repeat(self: Tensor, *sizes: Any) -> Tensor:
    """The tensor tiled ``sizes[i]`` times along each dimension (leading sizes add dimensions)."""
    reps = list(_shape(sizes))
    if len(reps) < self.ndim or any(r < 0 for r in reps):
        raise ValueError(f"repeat: argument `sizes` expected {self.ndim} or more non-negative counts, got {reps}")
    shape = [1] * (len(reps) - self.ndim) + list(self.shape)
    # Each dimension d becomes [reps[d], shape[d]]: a broadcast copy in front of it, then merged.
    interleaved = [v for s in shape for v in (1, s)]
    expanded = [v for r, s in zip(reps, shape) for v in (r, s)]
    return self.reshape(*interleaved).expand(*expanded).reshape(*[r * s for r, s in zip(reps, shape)])


def flip(self: Tensor, dims: Union[int, Sequence[int]]) -> Tensor:
    """The entries in reverse order along each of ``dims``."""
    out = self
    for d in [dims] if isinstance(dims, int) else dims:
        axis = _axis(self, d, "flip")
        out = out.index_select(axis, _index(np.arange(self.shape[axis] - 1, -1, -1), self))
    return out


def _triangle(self: Tensor, diagonal: int, lower: bool, op: str) -> Tensor:
    if self.ndim < 2:
        raise ValueError(f"{op}: expected a tensor of at least 2 dimensions, got shape {list(self.shape)}")
    rows, cols = self.shape[-2:]
    offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]
    keep = offset <= diagonal if lower else offset >= diagonal
    mask = _core.Tensor.from_numpy(keep).to(self.device)
    return _core.where_(mask, self, 0.0)


def tril(self: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (entries with column - row <= ``diagonal``)."""
    return _triangle(self, diagonal, True, "tril")


def triu(self: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (entries with column - row >= ``diagonal``)."""
    return _triangle(self, diagonal, False, "triu")


def masked_fill(self: Tensor, mask: Tensor, value: float) -> Tensor:
    """``value`` where the bool ``mask`` (broadcast to ``self``) holds, else ``self``."""
    return _core.where_(mask, value, self)


def outer(self: Tensor, other: Tensor) -> Tensor:
    """The outer product of two vectors."""
    if self.ndim != 1 or other.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {list(self.shape)} and {list(other.shape)}")
    return self.unsqueeze(1) * other.unsqueeze(0)


def mm(self: Tensor, other: Tensor) -> Tensor:
    """The product of two matrices."""
    if self.ndim != 2 or other.ndim != 2:
        raise ValueError(f"mm: expected two 2-D tensors, got shapes {list(self.shape)} and {list(other.shape)}")
    return self.matmul(other)


def bmm(self: Tensor, other: Tensor) -> Tensor:
    """The products of two batches of matrices, [B, n, k] @ [B, k, m]."""
    if self.ndim != 3 or other.ndim != 3 or self.shape[0] != other.shape[0]:
        raise ValueError(f"bmm: expected two 3-D tensors with the same batch size, got shapes {list(self.shape)} "
                         f"and {list(other.shape)}")
    return self.matmul(other)


def _prefix_scan(self: Tensor, dim: int, op: str, combine: Any, identity: float) -> Tensor:
    """Running ``combine`` along ``dim`` as a parallel prefix scan: ceil(log2 n) steps, each
    combining the tensor with itself shifted by a power of two (padded with ``identity``), so
    entries are grouped differently from a left-to-right loop. Built from differentiable ops."""
    axis = _axis(self, dim, op)
    out = self.transpose(axis, -1) if axis != self.ndim - 1 else self
    size, shift = out.shape[-1], 1
    while shift < size:
        out = combine(out, F.pad(out, [shift, 0], value=identity)[..., :size])
        shift *= 2
    return out.transpose(axis, -1) if axis != self.ndim - 1 else out


def _integer_scan(self: Tensor, dim: int, op: str, scan: Any) -> Tensor:
    """Running sums or products of an integer or bool tensor, exact in int64 (PyTorch's result
    dtype), on the host: integers carry no gradient."""
    axis = _axis(self, dim, op)
    values = scan(self.cpu().numpy().astype(np.int64), axis=axis)
    return _core.Tensor.from_numpy(np.ascontiguousarray(values).reshape(tuple(self.shape))).to(self.device)


def cumsum(self: Tensor, dim: int) -> Tensor:
    """Running sums along ``dim`` (a parallel prefix sum); integer and bool tensors give exact
    int64 sums."""
    if not self.is_floating_point():
        return _integer_scan(self, dim, "cumsum", np.cumsum)
    return _prefix_scan(self, dim, "cumsum", lambda a, b: a + b, 0.0)


def cumprod(self: Tensor, dim: int) -> Tensor:
    """Running products along ``dim`` (a parallel prefix product). The gradient flows through
    the products, so it is exact where entries are zero (no division by them). Integer and bool
    tensors give exact int64 products (wrapping on overflow, as in PyTorch)."""
    if not self.is_floating_point():
        return _integer_scan(self, dim, "cumprod", np.cumprod)
    return _prefix_scan(self, dim, "cumprod", lambda a, b: a * b, 1.0)


# Predicates and whole-tensor comparisons.

def isnan(self: Tensor) -> Tensor:
    """Where the entries are NaN (bool)."""
    return self != self


def isinf(self: Tensor) -> Tensor:
    """Where the entries are +inf or -inf (bool)."""
    return self.abs() == math.inf


def isfinite(self: Tensor) -> Tensor:
    """Where the entries are neither NaN nor infinite (bool)."""
    return (self - self) == 0


def any_nonzero(self: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """Whether any entry (along ``dim``) is nonzero (bool)."""
    return (self != 0).sum(dim, keepdim) > 0


def all_nonzero(self: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """Whether every entry (along ``dim``) is nonzero (bool)."""
    return (self == 0).sum(dim, keepdim) == 0


def allclose(self: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether ``|self - other| <= atol + rtol * |other|`` everywhere (numpy's rule)."""
    return bool(np.allclose(_host(self), _host(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(self: Tensor, other: Tensor) -> bool:
    """Whether both tensors have the same shape and the same values."""
    return self.shape == other.shape and bool(np.array_equal(_host(self), _host(other)))


def _host(t: Tensor) -> np.ndarray:
    t = t.detach().cpu()
    return t.float().numpy() if t.dtype == "bfloat16" else t.numpy()


# Sorting (the order is found on the host; values are gathered, so they carry gradients).

def argsort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    """Indices that sort the entries along ``dim`` (ties keep their order; NaN counts as largest)."""
    axis = _axis(self, dim, "argsort")
    values = _host(self)
    if not descending:
        return _index(np.argsort(values, axis=axis, kind="stable"), self)
    if values.dtype.kind == "f":
        # NaN first, then the negated values ascending (lexsort's last key is the primary one).
        return _index(np.lexsort((-values, ~np.isnan(values)), axis=axis), self)
    # ~x = -x - 1 reverses the order of integers without overflowing.
    return _index(np.argsort(~values.astype(np.int64), axis=axis, kind="stable"), self)


def sort(self: Tensor, dim: int = -1, descending: bool = False, stable: bool = True) -> ValuesIndices:
    """The entries sorted along ``dim`` and their indices."""
    indices = argsort(self, dim, descending, stable)
    return ValuesIndices(self.gather(_axis(self, dim, "sort"), indices), indices)


def topk(self: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
    """The ``k`` largest (or smallest) entries along ``dim`` and their indices, in order."""
    axis = _axis(self, dim, "topk")
    if not 0 <= k <= self.shape[axis]:
        raise ValueError(f"topk: argument `k` expected a value in [0, {self.shape[axis]}], got {k}")
    indices = narrow(argsort(self, axis, descending=largest), axis, 0, k).contiguous()
    return ValuesIndices(self.gather(axis, indices), indices)


def median(self: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Any:
    """The lower median (entry ``(n - 1) // 2`` in sorted order): of all entries without
    ``dim``, else ``(values, indices)`` along ``dim``. Where there is a NaN the median is NaN
    (and its index a NaN's), as in PyTorch. Gradients go to the chosen entries."""
    if dim is None:
        flat = self.reshape(-1)
        if flat.shape[0] == 0:
            raise ValueError("median: expected a non-empty tensor, got shape " + str(list(self.shape)))
        # Sorting puts NaN last.
        chosen = flat.shape[0] - 1 if bool(isnan(flat).any()) else (flat.shape[0] - 1) // 2
        return sort(flat).values[chosen]
    axis = _axis(self, dim, "median")
    if self.shape[axis] == 0:
        raise ValueError(f"median: expected a non-empty dimension {dim}, got shape {list(self.shape)}")
    ordered = sort(self, axis)
    middle = (self.shape[axis] - 1) // 2
    values, indices = (narrow(t, axis, middle, 1) for t in ordered)
    if bool(isnan(self).any()):
        # Rows holding a NaN take their last sorted entry, a NaN.
        last = [narrow(t, axis, self.shape[axis] - 1, 1) for t in ordered]
        has_nan = isnan(last[0])
        values = _core.where_(has_nan, last[0], values)
        indices = _core.where_(has_nan, last[1], indices)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return ValuesIndices(values, indices)


# New tensors like this one.

def new_full(self: Tensor, size: Sequence[int], fill_value: float, dtype: Optional[str] = None,
             device: Optional[str] = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, with ``self``'s dtype and device unless
    given."""
    return _core.full([int(s) for s in size], float(fill_value), dtype or self.dtype, device or self.device,
                      requires_grad)


def new_zeros(self: Tensor, *size: Any, dtype: Optional[str] = None, device: Optional[str] = None,
              requires_grad: bool = False) -> Tensor:
    """Zeros of ``size`` with ``self``'s dtype and device unless given."""
    return new_full(self, _shape(size), 0.0, dtype, device, requires_grad)


def new_ones(self: Tensor, *size: Any, dtype: Optional[str] = None, device: Optional[str] = None,
             requires_grad: bool = False) -> Tensor:
    """Ones of ``size`` with ``self``'s dtype and device unless given."""
    return new_full(self, _shape(size), 1.0, dtype, device, requires_grad)


def new_tensor(self: Tensor, data: Any, dtype: Optional[str] = None, device: Optional[str] = None,
               requires_grad: bool = False) -> Tensor:
    """A copy of ``data`` with ``self``'s dtype and device unless given."""
    from . import tensor

    return tensor(data, dtype or self.dtype).to(device or self.device).requires_grad_(requires_grad)


def element_size(self: Tensor) -> int:
    """Bytes per entry."""
    return _ELEMENT_SIZES[self.dtype]


def nelement(self: Tensor) -> int:
    """The number of entries (``numel``)."""
    return self.numel()


# The compiled methods, saved before install() wraps them with PyTorch's keyword forms.
_core_to = Tensor.to
_core_sum = Tensor.sum
_core_mean = Tensor.mean
_DTYPE_NAMES = frozenset(("float32", "float16", "bfloat16", "int64", "int32", "int8", "uint8", "bool"))


def to(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Converts to a device and/or dtype as ``torch.Tensor.to``: ``to(dtype)``, ``to(device)``,
    ``to(device, dtype)``, ``to(other)`` (``other``'s device and dtype), keywords ``device=``,
    ``dtype=``, ``non_blocking=`` (accepted; copies are synchronous), ``copy=`` (always a new
    tensor) and ``memory_format=``. Returns ``self`` when nothing changes."""
    for arg in (*args, kwargs.get("device")):
        if isinstance(arg, str) and arg not in _DTYPE_NAMES and not arg.startswith(("cpu", "cuda")):
            raise ValueError(f"to(): argument expected a device ('cpu', 'cuda', 'cuda:N') or a dtype (one of "
                             f"{sorted(_DTYPE_NAMES)}), got {arg!r}")
    if not kwargs and len(args) == 1 and not isinstance(args[0], Tensor):
        return _same_or(self, _core_to(self, args[0]))
    device: Any = kwargs.pop("device", None)
    dtype: Any = kwargs.pop("dtype", None)
    non_blocking = kwargs.pop("non_blocking", False)
    copy = kwargs.pop("copy", False)
    memory_format = kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to(): unexpected keyword argument(s) {sorted(kwargs)}; expected device, dtype, "
                        "non_blocking, copy or memory_format")
    flags = []
    for arg in args:
        if isinstance(arg, bool):
            flags.append(arg)
        elif flags:
            raise TypeError(f"to(): argument {arg!r} given after the non_blocking/copy flags")
        elif isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, str) and arg in _DTYPE_NAMES:
            dtype = arg
        elif isinstance(arg, str):
            device = arg
        else:
            raise TypeError(f"to(): argument expected a device, a dtype or a Tensor, got {type(arg).__name__}")
    if len(flags) > 2:
        raise TypeError(f"to(): expected at most two flags (non_blocking, copy), got {len(flags)}")
    non_blocking, copy = (*flags, non_blocking, copy)[:2] if flags else (non_blocking, copy)
    if dtype is not None and dtype not in _DTYPE_NAMES:
        raise TypeError(f"to(): argument `dtype` expected one of {sorted(_DTYPE_NAMES)}, got {dtype!r}")
    out = self
    if device is not None:
        out = _core_to(out, device)
    if dtype is not None:
        out = _core_to(out, dtype)
    if memory_format is not None:
        out = _core_to(out, memory_format=memory_format)
    out = _same_or(self, out)
    if copy and out is self:
        out = self.clone()
    return out


def _same_or(self: Tensor, out: Tensor) -> Tensor:
    """``self`` when ``out`` is the same tensor (a conversion that changed nothing), as PyTorch's
    ``to`` returns ``self``; else ``out``. A tensor's hash is its core identity."""
    return self if hash(out) == hash(self) else out


def _reduce_dim(name: str, dim: Any, axis: Any) -> Any:
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name}(): give the reduced dimensions as `dim` or `axis`, not both "
                            f"(got dim={dim!r}, axis={axis!r})")
        return axis
    return dim


def _reduction(name: str, core: Any, self: Tensor, dim: Any, keepdim: bool, axis: Any, dtype: Optional[str]) -> Tensor:
    """``core`` (the compiled reduction) with PyTorch's ``axis`` alias and ``dtype`` conversion."""
    if axis is None and dtype is None:
        return core(self, dim, keepdim)
    source = self if dtype is None else to(self, dtype=dtype)
    return core(source, _reduce_dim(name, dim, axis), keepdim)


def tensor_sum(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
               dtype: Optional[str] = None) -> Tensor:
    """The sum over ``dim`` (all entries when None); ``axis`` is NumPy's name for ``dim`` and
    ``dtype`` converts the entries before summing, as in PyTorch."""
    return _reduction("sum", _core_sum, self, dim, keepdim, axis, dtype)


def tensor_mean(self: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
                dtype: Optional[str] = None) -> Tensor:
    """The mean over ``dim`` (all entries when None); ``axis`` is NumPy's name for ``dim`` and
    ``dtype`` converts the entries before averaging, as in PyTorch."""
    return _reduction("mean", _core_mean, self, dim, keepdim, axis, dtype)


# dtypes numpy cannot hold travel as float32 (exact for both) and are cast back on load.
_PICKLE_AS_FLOAT32 = ("bfloat16",)


def _rebuild_tensor(data: np.ndarray, dtype: str, device: str, requires_grad: bool) -> Tensor:
    """Rebuilds a pickled tensor (the callable named by :meth:`Tensor.__reduce_ex__`)."""
    from . import tensor
    out = tensor(np.array(data, order="C"), dtype=dtype)
    if device != "cpu":
        out = out.to(device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _tensor_state(t: Tensor) -> tuple[np.ndarray, str, str, bool]:
    d = t.detach()
    if str(d.device) != "cpu":
        d = d.to("cpu")
    if d.dtype in _PICKLE_AS_FLOAT32:
        d = d.to("float32")
    return (np.array(d.numpy(), copy=True), str(t.dtype), str(t.device), bool(t.requires_grad))


def __reduce_ex__(self: Tensor, protocol: int) -> tuple[Any, tuple[Any, ...]]:
    """Pickling support (``pickle.dumps(t)``, ``copy.copy(t)``): keeps the values, dtype
    (bfloat16 included), shape, device and ``requires_grad``. As in PyTorch, a non-leaf
    tensor comes back as a leaf."""
    return (_rebuild_tensor, _tensor_state(self))


def __deepcopy__(self: Tensor, memo: dict[int, Any]) -> Tensor:
    """``copy.deepcopy(t)``: an independent leaf with the same values, dtype, shape, device,
    ``requires_grad`` and a copy of ``.grad``. As in PyTorch only leaves can be deep-copied."""
    if id(self) in memo:
        return memo[id(self)]  # type: ignore[no-any-return]
    if not self.is_leaf:
        raise RuntimeError("deepcopy: only tensors created explicitly by the user (graph leaves) support the "
                           "deepcopy protocol; got a non-leaf tensor (call .detach() first)")
    out = _rebuild_tensor(*_tensor_state(self))
    grad = self.grad
    if grad is not None:
        out.grad = _rebuild_tensor(*_tensor_state(grad))
    memo[id(self)] = out
    return out


METHODS = (add, sub, mul, eq, ne, lt, le, gt, ge, reciprocal, rsqrt, lerp, softmax, log_softmax, std, norm,
           t, view_as, reshape_as, expand_as, type_as, narrow, unfold, split, chunk, unbind, repeat, flip, tril, triu,
           masked_fill, outer, mm, bmm, cumsum, cumprod, isnan, isinf, isfinite, any, all, allclose, equal, argsort, sort,
           topk, median, new_full, new_zeros, new_ones, new_tensor,
           element_size, nelement, to)
# Methods whose names would shadow Python's builtins inside this module.
RENAMED = {"any": any_nonzero, "all": all_nonzero, "sum": tensor_sum, "mean": tensor_mean}


def install() -> None:
    """Attaches the methods above to :class:`Tensor`; ``mT`` becomes the property for the
    transpose of the last two dimensions."""
    for method in METHODS:
        setattr(Tensor, method.__name__, method)
    for name, method in RENAMED.items():
        setattr(Tensor, name, method)
    setattr(Tensor, "mT", property(matrix_transpose))
    setattr(Tensor, "__reduce_ex__", __reduce_ex__)
    setattr(Tensor, "__deepcopy__", __deepcopy__)
