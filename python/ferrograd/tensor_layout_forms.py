"""More of PyTorch's shape, indexing and query functions: function forms of methods the package
has (``fg.clone``, ``fg.t``, ``fg.unbind``, ``fg.diagonal``, ``fg.scatter_add`` ...), ``ravel``,
``msort``, ``take``, ``dsplit``, ``atleast_1d/2d/3d``, ``broadcast_shapes``,
``broadcast_tensors``, ``index_add`` / ``index_copy`` (and their in-place forms), the
``*_scatter`` embeddings (``diagonal_scatter``, ``select_scatter``, ``slice_scatter``),
``combinations``, ``vander``, ``unravel_index``, ``unique_consecutive``, ``nanmedian``,
``histogram``, ``fill_diagonal_``, ``sum_to_size`` and the small queries (``nbytes``,
``itemsize``, ``is_cpu``, ``get_device``, ``is_signed``, ``is_nonzero``, ``is_same_size``).

The shape and indexing ones are composed from differentiable core ops (``reshape``, ``gather``,
``scatter``, ``scatter_add``, ``cat``, ``where``); index positions, ``unique_consecutive``,
``nanmedian``'s order and ``histogram`` are computed on the host."""

from __future__ import annotations

import builtins
import itertools
from typing import Any, Callable, NamedTuple, Optional, Sequence, Union

import numpy as np

from ._core import Tensor, cat, stack, where_ as where
from .tensor_in_place import _in_place
from .tensor_methods import _axis, _host
from .tensor_scatter import scatter_reduce
from .tensor_structure import scatter
from .tensor_torch_forms import _require_tensor, select

Shape = Sequence[int]


def _on(values: np.ndarray, like: Tensor) -> Tensor:
    return Tensor.from_numpy(np.ascontiguousarray(values)).to(like.device)


def ravel(input: Tensor) -> Tensor:
    """The entries as a 1-D tensor, in row-major order."""
    return input.reshape(-1)


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first axis."""
    return input.sort(0).values


def take(input: Tensor, index: Tensor) -> Tensor:
    """The entries at the flat (row-major) positions ``index``, in ``index``'s shape; negative
    positions count from the end."""
    flat = input.reshape(-1)
    positions = _host(index).astype(np.int64)
    size = flat.shape[0]
    if positions.size and ((positions >= size) | (positions < -size)).any():
        raise IndexError(f"take: argument `index` expected positions in [-{size}, {size}), got values from "
                         f"{positions.min()} to {positions.max()}")
    chosen = _on(np.where(positions < 0, positions + size, positions).reshape(-1), input)
    return flat.index_select(0, chosen).reshape(*positions.shape)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along the third axis of a tensor of at least three dimensions."""
    from .tensor_torch_forms import tensor_split

    if input.ndim < 3:
        raise RuntimeError(f"dsplit: argument `input` expected at least 3 dimensions, got {input.ndim}")
    return tuple(tensor_split(input, indices_or_sections, 2))


def _atleast(rank: int, tensors: tuple[Any, ...]) -> Any:
    shaped = []
    for t in (tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors):
        if t.ndim == 0:
            t = t.reshape([1] * rank)
        elif t.ndim == 1 and rank >= 2:
            t = t.unsqueeze(0) if rank == 2 else t.reshape(1, -1, 1)
        elif t.ndim == 2 and rank == 3:
            t = t.unsqueeze(-1)
        shaped.append(t)
    return shaped[0] if len(shaped) == 1 else tuple(shaped)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least one dimension (a number becomes shape [1])."""
    return _atleast(1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least two dimensions ([n] becomes [1, n])."""
    return _atleast(2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least three dimensions ([n] becomes [1, n, 1], [m, n] becomes [m, n, 1])."""
    return _atleast(3, tensors)


def broadcast_shapes(*shapes: Any) -> tuple[int, ...]:
    """The shape the given shapes broadcast to."""
    try:
        return tuple(int(s) for s in np.broadcast_shapes(*(tuple(s) if isinstance(s, (list, tuple)) else (s,)
                                                            for s in shapes)))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: expected shapes that broadcast together, got {list(shapes)}") from None


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (views)."""
    shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(t if tuple(t.shape) == shape else t.expand(*shape) for t in tensors)


def _index_along(op: str, self: Tensor, dim: int, index: Tensor, source: Tensor) -> tuple[int, Tensor]:
    """``index`` (1-D, one position per slice of ``source`` along ``dim``) broadcast to
    ``source``'s shape, for scatter."""
    axis = _axis(self, dim, op)
    positions = _host(index).astype(np.int64).reshape(-1)
    if source.ndim != self.ndim or positions.size != (source.shape[axis] if source.ndim else 1):
        raise RuntimeError(f"{op}: argument `index` expected one position per slice of `source` along dim {dim}, got "
                           f"{positions.size} positions for a source of shape {list(source.shape)}")
    size = self.shape[axis]
    if positions.size and ((positions < -size) | (positions >= size)).any():
        raise IndexError(f"{op}: argument `index` expected positions in [-{size}, {size}), got values from "
                         f"{positions.min()} to {positions.max()}")
    positions = np.where(positions < 0, positions + size, positions)
    view = [1] * source.ndim
    view[axis] = -1
    full = np.broadcast_to(positions.reshape(view), tuple(source.shape))
    return axis, _on(full.astype(np.int64), self)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1) -> Tensor:
    """A copy of ``input`` with ``alpha * source``'s slices along ``dim`` added at the positions
    ``index`` (repeated positions add up)."""
    axis, full = _index_along("index_add", input, dim, index, source)
    return input.scatter_add(axis, full, source if alpha == 1 else source * alpha)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` whose slices along ``dim`` at the positions ``index`` are ``source``'s."""
    axis, full = _index_along("index_copy", input, dim, index, source)
    return scatter(input, axis, full, source)


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy of ``input`` with ``source``'s slices along ``dim`` reduced into the slices at
    ``index`` ("mean", "amax" or "amin"; "prod" is not supported), ``input``'s own entries taking
    part unless ``include_self`` is False."""
    axis, full = _index_along("index_reduce", input, dim, index, source)
    if reduce not in ("mean", "amax", "amin"):
        raise ValueError(f"index_reduce: argument `reduce` expected 'mean', 'amax' or 'amin', got {reduce!r}"
                         + (" ('prod' is not supported)" if reduce == "prod" else ""))
    return scatter_reduce(input, axis, full, source, reduce, include_self=include_self)


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1) -> Tensor:
    """:func:`index_add` written into ``self`` in place."""
    return _in_place(self, "index_add_", source, lambda: index_add(self, dim, index, source, alpha=alpha))


def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """:func:`index_copy` written into ``self`` in place."""
    return _in_place(self, "index_copy_", source, lambda: index_copy(self, dim, index, source))


def _embedded(op: str, input: Tensor, src: Tensor, region: Tensor) -> Tensor:
    """``input`` with the entries that ``region`` (an int64 tensor of ``input``'s flat positions,
    in the layout of ``src``) names replaced by ``src``'s, differentiable in both."""
    if tuple(src.shape) != tuple(region.shape):
        raise RuntimeError(f"{op}: argument `src` expected shape {list(region.shape)}, got {list(src.shape)}")
    flat = input.reshape(-1)
    return scatter(flat, 0, region.reshape(-1), src.reshape(-1)).reshape(*input.shape)


def _positions(input: Tensor) -> Tensor:
    return _on(np.arange(input.numel(), dtype=np.int64).reshape(tuple(input.shape)), input)


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of ``input`` whose diagonal (as ``input.diagonal(offset, dim1, dim2)``) is ``src``."""
    return _embedded("diagonal_scatter", input, src, _positions(input).diagonal(offset, dim1, dim2))


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` whose slice ``select(dim, index)`` is ``src``."""
    return _embedded("select_scatter", input, src, select(_positions(input), dim, index))


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: Optional[int] = None, end: Optional[int] = None,
                  step: int = 1) -> Tensor:
    """A copy of ``input`` whose slice ``[start:end:step]`` along ``dim`` is ``src``."""
    axis = _axis(input, dim, "slice_scatter")
    window = [slice(None)] * input.ndim
    window[axis] = slice(start, end, step)
    return _embedded("slice_scatter", input, src, _positions(input)[tuple(window)])


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-D tensor's entries, one per row, in
    ``itertools.combinations`` order (``combinations_with_replacement`` with the flag)."""
    if input.ndim != 1:
        raise ValueError(f"combinations: argument `input` expected a 1-D tensor, got shape {list(input.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if rows.shape[0] == 0:
        return input[:0]
    return input.index_select(0, _on(rows.reshape(-1), input)).reshape(rows.shape[0], r)


def vander(x: Tensor, N: Optional[int] = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D tensor: columns x^(N-1) ... x^0 (ascending with
    ``increasing``)."""
    if x.ndim != 1:
        raise ValueError(f"vander: argument `x` expected a 1-D tensor, got shape {list(x.shape)}")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise ValueError(f"vander: argument `N` expected a non-negative number of columns, got {N}")
    powers = range(n) if increasing else range(n - 1, -1, -1)
    columns = [x ** p if p else x * 0 + 1 for p in powers]
    return stack(columns, 1) if columns else x.reshape(-1, 1)[:, :0]


def unravel_index(indices: Tensor, shape: Union[int, Shape]) -> tuple[Tensor, ...]:
    """The coordinates in ``shape`` of each flat index, one int64 tensor per dimension."""
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    flat = _host(indices).astype(np.int64)
    total = int(np.prod(dims, dtype=np.int64))
    if flat.size and ((flat >= total) | (flat < -total)).any():
        raise ValueError(f"unravel_index: argument `indices` expected flat positions in [-{total}, {total}), got "
                         f"values from {flat.min()} to {flat.max()}")
    coordinates = np.unravel_index(np.where(flat < 0, flat + total, flat), dims)
    return tuple(_on(c.astype(np.int64), indices) for c in coordinates)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: Optional[int] = None) -> Any:
    """The entries with each run of equal neighbours collapsed to one (flattened unless ``dim``
    is given, then runs of equal slices), with the run of each entry and each run's length."""
    values = _host(input)
    axis = 0 if dim is None else _axis(input, dim, "unique_consecutive")
    rows = values.reshape(-1) if dim is None else np.moveaxis(values, axis, 0)
    count = rows.shape[0]
    if count:
        changed = np.ones(count, dtype=bool)
        different = (rows[1:] != rows[:-1]).reshape(count - 1, -1).any(1)
        changed[1:] = different
    else:
        changed = np.zeros(0, dtype=bool)
    starts = np.flatnonzero(changed)
    kept = rows[starts]
    out = _on(kept if dim is None else np.moveaxis(kept, 0, axis), input)
    extras = []
    if return_inverse:
        inverse = np.cumsum(changed) - 1
        extras.append(_on(inverse.reshape(values.shape if dim is None else (count,)).astype(np.int64), input))
    if return_counts:
        extras.append(_on(np.diff(np.append(starts, count)).astype(np.int64), input))
    return (out, *extras) if extras else out


class MedianResult(NamedTuple):
    """Median values and the index of each along the reduced dimension."""

    values: Tensor
    indices: Tensor


def nanmedian(input: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Any:
    """The lower median ignoring NaN (NaN only where everything is), of all entries or, with
    ``dim``, along it as ``(values, indices)``; the gradient reaches the chosen entries."""
    values = _host(input)
    if dim is None:
        finite = np.sort(values[~np.isnan(values)].reshape(-1), kind="stable")
        if finite.size == 0:
            return input.reshape(-1)[:1].reshape([]) * float("nan")
        flat_order = np.flatnonzero(values.reshape(-1) == finite[(finite.size - 1) // 2])[0]
        return input.reshape(-1)[int(flat_order)]
    axis = _axis(input, dim, "nanmedian")
    moved = np.moveaxis(values, axis, -1)
    order = np.argsort(np.where(np.isnan(moved), np.inf, moved), axis=-1, kind="stable")
    valid = (~np.isnan(moved)).sum(-1)
    middle = np.maximum(valid - 1, 0) // 2
    picked = np.take_along_axis(order, middle[..., None], -1)
    index = _on(np.moveaxis(picked, -1, axis).astype(np.int64), input)
    result = input.gather(axis, index)
    all_nan = _on(np.moveaxis((valid == 0)[..., None], -1, axis), input)
    result = result.masked_fill(all_nan, float("nan"))
    if not keepdim:
        result, index = result.squeeze(axis), index.squeeze(axis)
    return MedianResult(result, index)


class HistogramResult(NamedTuple):
    """Bin counts (or weighted sums, or densities) and the bin edges."""

    hist: Tensor
    bin_edges: Tensor


def histogram(input: Tensor, bins: Union[int, Tensor] = 100, *, range: Optional[tuple[float, float]] = None,
              weight: Optional[Tensor] = None, density: bool = False) -> HistogramResult:
    """numpy's histogram of the entries, as float32 tensors (on the host)."""
    edges_in = _host(bins) if isinstance(bins, Tensor) else bins
    hist, edges = np.histogram(_host(input), bins=edges_in, range=range,
                               weights=None if weight is None else _host(weight), density=density)
    return HistogramResult(_on(hist.astype(np.float32), input), _on(edges.astype(np.float32), input))


class HistogramddResult(NamedTuple):
    """An N-dimensional histogram and each dimension's bin edges."""

    hist: Tensor
    bin_edges: tuple[Tensor, ...]


def histogramdd(input: Tensor, bins: Any = 10, *, range: Optional[Sequence[float]] = None,
                weight: Optional[Tensor] = None, density: bool = False) -> HistogramddResult:
    """numpy's histogramdd of the points in ``input``'s last dimension (``[..., N]``, leading
    dimensions flattened), as ``torch.histogramdd``: ``bins`` an int, N ints or N edge tensors;
    ``range`` the flat ``[min_1, max_1, ..., min_N, max_N]``; float32 tensors (on the host)."""
    if input.ndim < 2:
        raise ValueError(f"histogramdd: argument `input` expected at least 2 dimensions ([..., N] points), got shape "
                         f"{list(input.shape)}")
    dims = input.shape[-1]
    points = _host(input).reshape(-1, dims)
    edges_in = [(_host(b) if isinstance(b, Tensor) else b) for b in bins] if isinstance(bins, (list, tuple)) else bins
    if range is not None and len(range) != 2 * dims:
        raise ValueError(f"histogramdd: argument `range` expected {2 * dims} numbers (a min and max per dimension), "
                         f"got {len(range)}")
    pairs = None if range is None else [(float(range[2 * d]), float(range[2 * d + 1])) for d in builtins.range(dims)]
    hist, edges = np.histogramdd(points, bins=edges_in, range=pairs,
                                 weights=None if weight is None else _host(weight).reshape(-1), density=density)
    return HistogramddResult(_on(hist.astype(np.float32), input),
                             tuple(_on(e.astype(np.float32), input) for e in edges))


def fill_diagonal_(self: Tensor, fill_value: float, wrap: bool = False) -> Tensor:
    """Writes ``fill_value`` on the main diagonal in place (all dimensions equal for more than two;
    a tall matrix's diagonal restarts every n + 1 rows with ``wrap``)."""
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise RuntimeError(f"fill_diagonal_: expected a matrix or a tensor with all dimensions equal, got shape "
                           f"{list(self.shape)}")
    mask = np.zeros(tuple(self.shape), dtype=bool)
    n = min(self.shape)
    if self.ndim == 2:
        rows, cols = self.shape
        stop = rows if wrap and rows > cols else n
        for i in np.arange(stop):
            if i % (cols + 1) < cols:
                mask[i, i % (cols + 1)] = True
    else:
        mask[tuple(np.arange(n) for _ in self.shape)] = True
    return _in_place(self, "fill_diagonal_", None, lambda: where(_on(mask, self), fill_value, self))


def sum_to_size(self: Tensor, *size: Any) -> Tensor:
    """``self`` summed down to ``size``, a shape it broadcasts from (kept axes of size 1)."""
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (list, tuple)) else tuple(size)
    if broadcast_shapes(shape, tuple(self.shape)) != tuple(self.shape):
        raise RuntimeError(f"sum_to_size: expected a size that broadcasts to {list(self.shape)}, got {list(shape)}")
    lead = self.ndim - len(shape)
    out = self.sum(tuple(range(lead))) if lead else self
    axes = tuple(i for i, (have, want) in enumerate(zip(out.shape, shape)) if want == 1 and have != 1)
    return out.sum(axes, keepdim=True) if axes else out


def _nbytes(self: Tensor) -> int:
    """The size of the elements in bytes."""
    return self.numel() * self.element_size()


def _itemsize(self: Tensor) -> int:
    """The size of one element in bytes."""
    return self.element_size()


def _is_cpu(self: Tensor) -> bool:
    """Whether the tensor lives in host memory."""
    return str(self.device) == "cpu"


def get_device(self: Tensor) -> int:
    """The CUDA ordinal of the tensor's device, -1 for the CPU."""
    device = str(self.device)
    return -1 if device == "cpu" else int(device.split(":")[1]) if ":" in device else 0


def is_signed(self: Tensor) -> bool:
    """Whether the dtype holds negative values (every dtype but uint8 and bool)."""
    return self.dtype not in ("uint8", "bool")


def is_nonzero(self: Tensor) -> bool:
    """The truth of a one-element tensor (an error for any other size)."""
    if self.numel() != 1:
        raise RuntimeError(f"is_nonzero: expected a tensor with one element, got {self.numel()}")
    return bool(self.reshape([]).item() != 0)


def is_same_size(self: Tensor, other: Tensor) -> bool:
    """Whether both tensors have the same shape."""
    return tuple(self.shape) == tuple(other.shape)


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """A copy of ``input.narrow(dim, start, length)``."""
    return input.narrow(dim, start, length).clone()


def split_with_sizes(self: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """``split`` with explicit sizes, which must add up to the dimension's length."""
    axis = _axis(self, dim, "split_with_sizes")
    if sum(split_sizes) != self.shape[axis]:
        raise RuntimeError(f"split_with_sizes: argument `split_sizes` expected sizes adding up to {self.shape[axis]}, "
                           f"got {list(split_sizes)}")
    return tuple(self.split(list(split_sizes), axis))


def _method_form(name: str) -> Callable[..., Any]:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(_require_tensor(name, "input", input), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)`` as a function, as ``torch.{name}``."
    return function


clone = _method_form("clone")
t = _method_form("t")
neg = _method_form("neg")
unbind = _method_form("unbind")
diagonal = _method_form("diagonal")
scatter_add = _method_form("scatter_add")
scatter_reduce = _method_form("scatter_reduce")
masked_scatter = _method_form("masked_scatter")
index_put = _method_form("index_put")
repeat_interleave = _method_form("repeat_interleave")



def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None, edge_order: int = 1) -> tuple[Tensor, ...]:
    """Estimates of the derivative along each of ``dim`` (every axis by default), as numpy's and
    PyTorch's ``gradient``: second-order central differences inside, first- or second-order
    (``edge_order``) one-sided ones at the ends. ``spacing`` is one step for every axis, one step
    per axis, or one coordinate tensor per axis (unevenly spaced samples)."""
    axes = list(range(input.ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    axes = [_axis(input, a, "gradient") for a in axes]
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: argument `edge_order` expected 1 or 2, got {edge_order!r}")
    steps = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(axes)
    if len(steps) != len(axes):
        raise RuntimeError(f"gradient: argument `spacing` expected one value per dimension ({len(axes)}), got "
                           f"{len(steps)}")
    return tuple(_gradient_along(input, axis, step, edge_order) for axis, step in zip(axes, steps))


def _gradient_along(f: Tensor, axis: int, step: Any, edge_order: int) -> Tensor:
    n = f.shape[axis]
    if n < edge_order + 1:
        raise RuntimeError(f"gradient: each dimension expected at least edge_order + 1 = {edge_order + 1} samples, "
                           f"got {n} along dimension {axis}")

    def part(start: int, length: int) -> Tensor:
        return f.narrow(axis, start, length)

    def along(values: np.ndarray) -> Tensor:
        shape = [1] * f.ndim
        shape[axis] = -1
        return _on(values.astype(np.float32).reshape(shape), f)

    if isinstance(step, Tensor):
        x = _host(step).astype(np.float64)
        if x.shape != (n,):
            raise RuntimeError(f"gradient: coordinates along dimension {axis} expected {n} values, got shape "
                               f"{list(x.shape)}")
        h = np.diff(x)
    else:
        h = np.full(n - 1, float(step))
    left, right = h[:-1], h[1:]
    # Interior: weights for f[i-1], f[i], f[i+1] of the second-order formula for uneven steps.
    a = -right / (left * (left + right))
    b = (right - left) / (left * right)
    c = left / (right * (left + right))
    interior = part(0, n - 2) * along(a) + part(1, n - 2) * along(b) + part(2, n - 2) * along(c)
    if edge_order == 1:
        first = (part(1, 1) - part(0, 1)) / float(h[0])
        last = (part(n - 1, 1) - part(n - 2, 1)) / float(h[-1])
    else:
        h1, h2 = h[0], h[1]
        first = (part(0, 1) * float(-(2 * h1 + h2) / (h1 * (h1 + h2))) + part(1, 1) * float((h1 + h2) / (h1 * h2))
                 - part(2, 1) * float(h1 / (h2 * (h1 + h2))))
        h1, h2 = h[-2], h[-1]
        last = (part(n - 3, 1) * float(h2 / (h1 * (h1 + h2))) - part(n - 2, 1) * float((h1 + h2) / (h1 * h2))
                + part(n - 1, 1) * float((2 * h2 + h1) / (h2 * (h1 + h2))))
    return cat([first, interior, last], axis)


def inclusive_range(start: float, end: float, step: float = 1, *, dtype: Optional[str] = None, device: str = "cpu",
                    requires_grad: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` inclusive in steps of ``step`` (float32 by default), as the
    deprecated ``torch.range``; ``arange`` excludes the end."""
    if step == 0:
        raise ValueError("range: argument `step` expected a non-zero value, got 0")
    count = int(np.floor((end - start) / step)) + 1
    values = start + step * np.arange(max(count, 0), dtype=np.float64)
    out = Tensor.from_numpy(values.astype(np.float32)).to(device)
    out = out.to(dtype) if dtype is not None else out
    return out.requires_grad_(True) if requires_grad else out


def positive(input: Tensor) -> Tensor:
    """``input`` itself (unary plus)."""
    return input


METHODS: dict[str, Any] = {
    **{f.__name__: f for f in (ravel, msort, take, dsplit, index_add, index_copy, index_add_, index_copy_,
                               diagonal_scatter, select_scatter, slice_scatter, unique_consecutive, nanmedian,
                               histogram, fill_diagonal_, sum_to_size, get_device, is_signed, is_nonzero,
                               is_same_size, narrow_copy, split_with_sizes, positive, index_reduce)},
}
PROPERTIES = {"nbytes": _nbytes, "itemsize": _itemsize, "is_cpu": _is_cpu}


def install() -> None:
    """Attaches the methods and properties that :class:`Tensor` lacks."""
    for name, method in METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, method)
    for name, getter in PROPERTIES.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, property(getter, doc=getter.__doc__))
