"""PyTorch's ``torch.*`` function forms and Tensor methods that the rest of the package lacks:
arithmetic and comparisons (``add(input, other, alpha=)``, ``pow``, ``eq`` ... ``ge``), reductions
``any`` / ``all``, indexing (``masked_select``, ``take_along_dim``, ``select``, ``index_fill``,
``masked_fill``, ``scatter``), shapes (``tile``, ``broadcast_to``, ``movedim``, ``swapaxes``,
``unflatten``, ``narrow``, ``rot90``, ``tensor_split``, ``hsplit``, ``vsplit``), joins (``dstack``,
``column_stack``, ``cartesian_prod``), fused arithmetic (``addcmul``, ``addcdiv``, ``lerp``,
``addmm``, ``baddbmm``), products (``dot``, ``mv``, ``cross``, ``kron``) and ``sgn``, ``hypot``,
``logaddexp``, ``reciprocal``, ``diff`` and ``dist``.

Each is composed from the core's differentiable ops (arithmetic, ``matmul``, ``reshape``,
``permute``, ``expand``, ``gather``, ``index_select``, ``where``, ``cat``), so gradients and every
device come with them; where the package already computes an op under another name, the function
delegates to it. Index positions (``masked_select``, ``index_fill``) are found on the host.
Malformed arguments raise the exception PyTorch raises (``RuntimeError`` for shapes and sizes,
``IndexError`` for dimensions and positions, ``TypeError`` for argument types), naming the argument,
what was expected and what was given. ``install()`` attaches the method forms that
:class:`Tensor` does not have yet (existing methods are never replaced).
"""

from __future__ import annotations

import builtins
import math
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from . import _core
from ._core import Tensor
from .creation import _shape
from .dtypes import FLOATING_DTYPES
from .linalg import vector_norm
from .tensor_combining import meshgrid
from .tensor_methods import _axis, _host, _index, _sqrt_with_zero_gradient
from .tensor_structure import scatter as _scatter

Number = Union[bool, int, float]
Dims = Union[int, Sequence[int]]
_INTEGRAL = ("int64", "int32", "uint8")


# Helpers.

def _require_tensor(op: str, arg: str, value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: argument `{arg}` expected a Tensor, got {type(value).__name__}")
    return value


def _broadcast(op: str, *shapes: Sequence[int]) -> list[int]:
    """The broadcast of ``shapes``, or a RuntimeError naming ``op`` and the shapes."""
    try:
        return list(np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError:
        raise RuntimeError(f"{op}: expected shapes that broadcast together, got "
                           f"{' and '.join(str(list(s)) for s in shapes)}") from None


def _expand(t: Tensor, shape: Sequence[int]) -> Tensor:
    return t if list(t.shape) == list(shape) else t.expand(*shape)


def _floating(t: Tensor) -> Tensor:
    return t if t.dtype in FLOATING_DTYPES else t.float()


def _dims(value: Dims) -> list[int]:
    return [int(value)] if isinstance(value, (int, np.integer)) else [int(v) for v in value]


def _pick(input: Any, other: Any, op: str) -> None:
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{op}: argument `input` expected a Tensor, got {type(input).__name__} "
                        f"(and `other` {type(other).__name__})")


# Arithmetic and comparisons.

def add(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:
    """``input + alpha * other``, with broadcasting (either operand may be a Python number)."""
    _pick(input, other, "add")
    return input + (other if alpha == 1 else alpha * other)  # type: ignore[no-any-return]


def sub(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:
    """``input - alpha * other``, with broadcasting (either operand may be a Python number)."""
    _pick(input, other, "sub")
    return input - (other if alpha == 1 else alpha * other)  # type: ignore[no-any-return]


def mul(input: Any, other: Any) -> Tensor:
    """``input * other``, elementwise with broadcasting."""
    _pick(input, other, "mul")
    return input * other  # type: ignore[no-any-return]


def pow(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent`` elementwise: a tensor to a number or tensor power, or a number to a
    tensor power."""
    _pick(input, exponent, "pow")
    return input.pow(exponent) if isinstance(input, Tensor) else input ** exponent  # type: ignore[no-any-return]


def _comparison(name: str, symbol: str, compare: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Tensor]:
    def function(input: Any, other: Any) -> Tensor:
        _pick(input, other, name)
        return compare(input, other)  # type: ignore[no-any-return]

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise ``input {symbol} other`` with broadcasting (bool)."
    return function


eq = _comparison("eq", "==", lambda a, b: a == b)
ne = _comparison("ne", "!=", lambda a, b: a != b)
lt = _comparison("lt", "<", lambda a, b: a < b)
le = _comparison("le", "<=", lambda a, b: a <= b)
gt = _comparison("gt", ">", lambda a, b: a > b)
ge = _comparison("ge", ">=", lambda a, b: a >= b)


def _any(input: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """Whether any entry (of all, or along ``dim``) is nonzero (bool)."""
    return _require_tensor("any", "input", input).any(dim, keepdim)


def _all(input: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """Whether every entry (of all, or along ``dim``) is nonzero (bool)."""
    return _require_tensor("all", "input", input).all(dim, keepdim)


def reciprocal(input: Tensor) -> Tensor:
    """Elementwise ``1 / input`` (integers are promoted to float32)."""
    return _require_tensor("reciprocal", "input", input).reciprocal()


def sgn(input: Tensor) -> Tensor:
    """Elementwise sign, -1, 0 or 1 (``sign``: for real tensors the two agree; zero gradient)."""
    return _require_tensor("sgn", "input", input).sign()


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise ``sqrt(input**2 + other**2)`` with broadcasting, computed without overflow or
    underflow (both scaled by the larger magnitude); infinite when either is infinite. The
    gradient is ``input / hypot`` (zero where both are zero)."""
    a = _floating(_require_tensor("hypot", "input", input))
    b = _floating(_require_tensor("hypot", "other", other))
    scale = a.abs().maximum(b.abs()).detach()
    scale = _core.where_((scale > 0) * scale.isfinite(), scale, 1.0)
    out = scale * _sqrt_with_zero_gradient((a / scale).square() + (b / scale).square())
    return _core.where_(a.isinf() + b.isinf(), math.inf, out)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise ``log(exp(input) + exp(other))``, computed stably as
    ``max + log1p(exp(-|input - other|))`` (equal infinities give that infinity); integers are
    promoted to float32. The gradient is ``sigmoid(input - other)``."""
    a = _floating(_require_tensor("logaddexp", "input", input))
    b = _floating(_require_tensor("logaddexp", "other", other))
    gap = _core.where_(a == b, 0.0, a - b)
    return a.maximum(b) + (-gap.abs()).exp().log1p()


def lerp(input: Tensor, end: Tensor, weight: Union[float, Tensor]) -> Tensor:
    """``input + weight * (end - input)``; ``weight`` is a number or a tensor (broadcast)."""
    return _require_tensor("lerp", "input", input).lerp(end, weight)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
    """``input + value * tensor1 * tensor2``, with broadcasting."""
    product = _require_tensor("addcmul", "tensor1", tensor1) * _require_tensor("addcmul", "tensor2", tensor2)
    return _require_tensor("addcmul", "input", input) + (product if value == 1 else value * product)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
    """``input + value * tensor1 / tensor2``, with broadcasting (floating tensors; integer division
    is refused, as in PyTorch)."""
    for name, t in (("tensor1", tensor1), ("tensor2", tensor2)):
        if _require_tensor("addcdiv", name, t).dtype not in FLOATING_DTYPES:
            raise RuntimeError(f"addcdiv: argument `{name}` expected a floating-point tensor (integer division is not "
                               f"supported), got dtype {t.dtype}")
    quotient = tensor1 / tensor2
    return _require_tensor("addcdiv", "input", input) + (quotient if value == 1 else value * quotient)


# Indexing.

def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The entries of ``input`` where the bool ``mask`` holds (both broadcast to one shape), as a
    1-D tensor in row-major order. Gradients flow back to the selected entries."""
    _require_tensor("masked_select", "input", input)
    if _require_tensor("masked_select", "mask", mask).dtype != "bool":
        raise RuntimeError(f"masked_select: argument `mask` expected dtype bool, got {mask.dtype}")
    shape = _broadcast("masked_select", input.shape, mask.shape)
    positions = np.flatnonzero(np.broadcast_to(_host(mask), shape))
    return _expand(input, shape).reshape(-1).index_select(0, _index(positions, input))


def _long_index(op: str, arg: str, index: Tensor) -> Tensor:
    if _require_tensor(op, arg, index).dtype not in ("int64", "int32"):
        raise RuntimeError(f"{op}: argument `{arg}` expected an int64 or int32 tensor, got dtype {index.dtype}")
    return index if index.dtype == "int64" else index.long()


def take_along_dim(input: Tensor, indices: Tensor, dim: Optional[int] = None) -> Tensor:
    """The entries of ``input`` at ``indices`` along ``dim`` (``gather``, with ``input`` and
    ``indices`` broadcast against each other in the other dimensions); without ``dim`` both are
    flattened first."""
    _require_tensor("take_along_dim", "input", input)
    index = _long_index("take_along_dim", "indices", indices)
    if dim is None:
        return input.reshape(-1).gather(0, index.reshape(-1))
    if input.ndim != index.ndim:
        raise RuntimeError(f"take_along_dim: arguments `input` and `indices` expected the same number of dimensions, "
                           f"got {input.ndim} and {index.ndim}")
    axis = _axis(input, dim, "take_along_dim")
    if input.ndim == 0:
        return input.reshape(1).gather(0, index.reshape(1)).reshape([])
    rest = _broadcast("take_along_dim", [1 if d == axis else s for d, s in enumerate(input.shape)],
                      [1 if d == axis else s for d, s in enumerate(index.shape)])
    source = _expand(input, [input.shape[axis] if d == axis else s for d, s in enumerate(rest)])
    return source.gather(axis, _expand(index, [index.shape[axis] if d == axis else s for d, s in enumerate(rest)]))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice of ``input`` at position ``index`` along ``dim``, without that dimension (a
    negative index counts from the end)."""
    if _require_tensor("select", "input", input).ndim == 0:
        raise IndexError("select: argument `input` expected a tensor of at least 1 dimension, got a 0-d tensor")
    axis = _axis(input, dim, "select")
    size = input.shape[axis]
    if not -size <= index < size:
        raise IndexError(f"select: argument `index` expected a value in [{-size}, {size - 1}] for dimension {dim} of "
                         f"shape {list(input.shape)}, got {index}")
    return input[(slice(None),) * axis + (int(index),)]


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``input`` along ``dim`` at the positions in the 1-D int64 ``index``."""
    return _require_tensor("index_select", "input", input).index_select(dim, index)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Union[Number, Tensor]) -> Tensor:
    """A copy of ``input`` whose slices along ``dim`` at the positions in ``index`` (a 0-d or
    1-D int64 tensor; negative positions count from the end) are ``value`` (a number or a 0-d
    tensor). Gradients flow to the other entries and to a tensor ``value``."""
    _require_tensor("index_fill", "input", input)
    index = _long_index("index_fill", "index", index)
    if index.ndim > 1:
        raise IndexError(f"index_fill: argument `index` expected a 0-d or 1-D tensor, got shape {list(index.shape)}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"index_fill: argument `value` expected a number or a 0-d tensor, got shape "
                           f"{list(value.shape)}")
    axis = _axis(input, dim, "index_fill")
    x = input.reshape(1) if input.ndim == 0 else input
    size = x.shape[axis]
    positions = _host(index).reshape(-1).astype(np.int64)
    if positions.size and (positions.min() < -size or positions.max() >= size):
        raise IndexError(f"index_fill: argument `index` expected values in [{-size}, {size - 1}] for dimension {dim}, "
                         f"got values from {positions.min()} to {positions.max()}")
    chosen = np.zeros(size, dtype=bool)
    chosen[positions] = True
    mask = _core.Tensor.from_numpy(chosen.reshape([size if d == axis else 1 for d in range(x.ndim)])).to(x.device)
    fill: Union[Tensor, float] = value if isinstance(value, Tensor) else float(value)
    out = _core.where_(mask, fill, x)
    return out.reshape([]) if input.ndim == 0 else out


def masked_fill(input: Tensor, mask: Tensor, value: Union[Number, Tensor]) -> Tensor:
    """``value`` (a number or a 0-d tensor) where the bool ``mask`` (broadcast to ``input``)
    holds, else ``input``."""
    _require_tensor("masked_fill", "input", input)
    if _require_tensor("masked_fill", "mask", mask).dtype != "bool":
        raise RuntimeError(f"masked_fill: argument `mask` expected dtype bool, got {mask.dtype}")
    return input.masked_fill(mask, value)  # type: ignore[arg-type]


def scatter(input: Tensor, dim: int, index: Tensor, src: Union[Tensor, Number, None] = None, *,
            value: Optional[Number] = None) -> Tensor:
    """A copy of ``input`` whose entries at ``index`` along ``dim`` take ``src``'s entries (a
    tensor) or a number (``src`` or ``value``): ``out[index[i][j]][j] = src[i][j]`` for ``dim=0``
    (see :meth:`Tensor.scatter`)."""
    _require_tensor("scatter", "input", input)
    if src is not None and not isinstance(src, Tensor) and value is None:
        src, value = None, src
    return _scatter(input, dim, index, src, value)  # type: ignore[arg-type]


def narrow(input: Tensor, dim: int, start: Union[int, Tensor], length: int) -> Tensor:
    """The ``length`` entries of ``input`` along ``dim`` from ``start`` (negative counts from the
    end; a 0-d tensor is accepted)."""
    _require_tensor("narrow", "input", input)
    return input.narrow(dim, int(start.item()) if isinstance(start, Tensor) else int(start), length)


# Shapes.

def tile(input: Tensor, dims: Dims) -> Tensor:
    """``input`` repeated ``dims[i]`` times along each dimension; a shorter ``dims`` is padded
    with leading 1s, a longer one adds leading dimensions."""
    _require_tensor("tile", "input", input)
    reps = _dims(dims)
    if builtins.any(r < 0 for r in reps):
        raise RuntimeError(f"tile: argument `dims` expected non-negative counts, got {reps}")
    return input.repeat(*([1] * (input.ndim - len(reps)) + reps))


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    """``input`` broadcast to ``size`` (``expand``: -1 keeps a dimension's size, size-1
    dimensions stretch, new dimensions are added in front)."""
    shape = [int(s) for s in _shape(size)]
    old = list(_require_tensor("broadcast_to", "input", input).shape)
    lead = len(shape) - len(old)
    valid = lead >= 0 and builtins.all(s >= 0 for s in shape[:lead]) and builtins.all(
        s == -1 or s == o or o == 1 for s, o in zip(shape[lead:], old))
    if not valid:
        raise RuntimeError(f"broadcast_to: argument `size` expected a shape that {old} broadcasts to, got {shape}")
    return input.expand(*shape)


def movedim(input: Tensor, source: Dims, destination: Dims) -> Tensor:
    """``input`` with dimensions ``source`` moved to positions ``destination`` (ints or
    sequences of the same length); the other dimensions keep their order."""
    src, dst = _dims(source), _dims(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: arguments `source` and `destination` expected the same number of dimensions, "
                           f"got {src} and {dst}")
    _require_tensor("movedim", "input", input)
    src = [_axis(input, d, "movedim", "source") for d in src]
    dst = [_axis(input, d, "movedim", "destination") for d in dst]
    for name, given, found in (("source", source, src), ("destination", destination, dst)):
        if len(set(found)) != len(found):
            raise RuntimeError(f"movedim: argument `{name}` expected distinct dimensions, got {given}")
    if input.ndim == 0:
        return input.reshape([])
    order: list[Optional[int]] = [None] * input.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(input.ndim) if d not in src)
    return input.permute(*[next(rest) if o is None else o for o in order])


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """``input`` with dimensions ``axis0`` and ``axis1`` swapped (``transpose``)."""
    _require_tensor("swapaxes", "input", input)
    _axis(input, axis0, "swapaxes", "axis0"), _axis(input, axis1, "swapaxes", "axis1")
    return input.transpose(axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """``input`` with dimensions ``dim0`` and ``dim1`` swapped (``transpose``)."""
    _require_tensor("swapdims", "input", input)
    _axis(input, dim0, "swapdims", "dim0"), _axis(input, dim1, "swapdims", "dim1")
    return input.transpose(dim0, dim1)


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """``input`` with dimension ``dim`` split into ``sizes`` (one entry may be -1, inferred)."""
    if _require_tensor("unflatten", "input", input).ndim == 0:
        raise RuntimeError("unflatten: argument `input` expected a tensor of at least 1 dimension, got a 0-d tensor")
    axis = _axis(input, dim, "unflatten")
    given = [int(s) for s in sizes]
    size = input.shape[axis]
    known = math.prod(s for s in given if s != -1)
    inferred = given.count(-1)
    valid = (len(given) > 0 and inferred <= 1 and builtins.all(s >= -1 for s in given)
             and (known == size if inferred == 0 else known > 0 and size % known == 0))
    if not valid:
        raise RuntimeError(f"unflatten: argument `sizes` expected sizes whose product is {size} (the size of dimension "
                           f"{dim}; at most one -1), got {given}")
    full = [size // known if s == -1 else s for s in given]
    return input.reshape(*input.shape[:axis], *full, *input.shape[axis + 1:])


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """``input`` rotated by ``k`` quarter turns in the plane of ``dims``, from the first toward
    the second dimension (as ``numpy.rot90``)."""
    _require_tensor("rot90", "input", input)
    if len(dims) != 2:
        raise RuntimeError(f"rot90: argument `dims` expected 2 dimensions, got {list(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"rot90: argument `input` expected a tensor of at least 2 dimensions, got shape "
                           f"{list(input.shape)}")
    first, second = _axis(input, dims[0], "rot90", "dims"), _axis(input, dims[1], "rot90", "dims")
    if first == second:
        raise RuntimeError(f"rot90: argument `dims` expected two different dimensions, got {list(dims)}")
    turns = k % 4
    if turns == 1:
        return input.flip(second).transpose(first, second)
    if turns == 2:
        return input.flip([first, second])
    if turns == 3:
        return input.flip(first).transpose(first, second)
    return input.clone()


def _sections(op: str, size: int, indices_or_sections: Union[int, Sequence[int], Tensor]) -> list[tuple[int, int]]:
    """The (start, stop) of each piece of a dimension of ``size`` entries."""
    spec: Any = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype not in ("int64", "int32") or spec.ndim > 1:
            raise RuntimeError(f"{op}: argument `indices_or_sections` expected an int or a 0-d or 1-D integer tensor, "
                               f"got dtype {spec.dtype} and shape {list(spec.shape)}")
        spec = spec.tolist()
    if isinstance(spec, (int, np.integer)):
        n = int(spec)
        if n <= 0:
            raise RuntimeError(f"{op}: argument `indices_or_sections` expected a positive number of sections, got {n}")
        bounds = [0] + [(size // n) * i + builtins.min(i, size % n) for i in range(1, n + 1)]
        return list(zip(bounds[:-1], bounds[1:]))
    points = [int(p) for p in spec]
    return [(slice(a, b).indices(size)[0], slice(a, b).indices(size)[1])
            for a, b in zip([0] + points, points + [size])]


def tensor_split(input: Tensor, indices_or_sections: Union[int, Sequence[int], Tensor], dim: int = 0
                 ) -> tuple[Tensor, ...]:
    """Views of ``input`` split along ``dim``: into ``n`` pieces as equal as possible (the first
    ``size % n`` one entry longer) for an int, or at the listed positions (as Python slicing)."""
    if _require_tensor("tensor_split", "input", input).ndim == 0:
        raise RuntimeError("tensor_split: argument `input` expected a tensor of at least 1 dimension, got a 0-d tensor")
    axis = _axis(input, dim, "tensor_split")
    lead = (slice(None),) * axis
    return tuple(input[lead + (slice(a, builtins.max(a, b)),)]
                 for a, b in _sections("tensor_split", input.shape[axis], indices_or_sections))


def _even_split(op: str, input: Tensor, axis: int, spec: Union[int, Sequence[int], Tensor]) -> tuple[Tensor, ...]:
    if isinstance(spec, (int, np.integer)) and spec > 0 and input.shape[axis] % spec:
        raise RuntimeError(f"{op}: argument `indices_or_sections` expected a number of sections dividing the size "
                           f"{input.shape[axis]} of dimension {axis}, got {spec}")
    return tensor_split(input, spec, axis)


def hsplit(input: Tensor, indices_or_sections: Union[int, Sequence[int], Tensor]) -> tuple[Tensor, ...]:
    """``tensor_split`` along dimension 1 (dimension 0 for a 1-D tensor); a number of sections
    must divide the dimension."""
    if _require_tensor("hsplit", "input", input).ndim == 0:
        raise RuntimeError("hsplit: argument `input` expected a tensor of at least 1 dimension, got a 0-d tensor")
    return _even_split("hsplit", input, 0 if input.ndim == 1 else 1, indices_or_sections)


def vsplit(input: Tensor, indices_or_sections: Union[int, Sequence[int], Tensor]) -> tuple[Tensor, ...]:
    """``tensor_split`` along dimension 0 of a tensor of at least 2 dimensions; a number of
    sections must divide the dimension."""
    if _require_tensor("vsplit", "input", input).ndim < 2:
        raise RuntimeError(f"vsplit: argument `input` expected a tensor of at least 2 dimensions, got shape "
                           f"{list(input.shape)}")
    return _even_split("vsplit", input, 0, indices_or_sections)


def _tensor_list(op: str, tensors: Sequence[Tensor]) -> list[Tensor]:
    found = list(tensors)
    if not found:
        raise RuntimeError(f"{op}: argument `tensors` expected a non-empty sequence of tensors, got an empty one")
    for i, t in enumerate(found):
        _require_tensor(op, f"tensors[{i}]", t)
    return found


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined depth-wise, along dimension 2, after making each at least 3-D (0-d
    becomes [1, 1, 1], [n] becomes [1, n, 1], [m, n] becomes [m, n, 1])."""
    pieces = []
    for t in _tensor_list("dstack", tensors):
        pieces.append(t.reshape(1, 1, 1) if t.ndim == 0 else t.reshape(1, -1, 1) if t.ndim == 1
                      else t.unsqueeze(-1) if t.ndim == 2 else t)
    return _core.cat(pieces, 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined as columns, along dimension 1; 0-d and 1-D tensors become columns
    ([n] becomes [n, 1])."""
    return _core.cat([t.reshape(-1, 1) if t.ndim < 2 else t for t in _tensor_list("column_stack", tensors)], 1)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of entries of the 1-D tensors, as rows of a [n1 * n2 * ..., k] tensor
    in row-major order (one tensor is returned as it is)."""
    found = _tensor_list("cartesian_prod", tensors)
    for i, t in enumerate(found):
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: argument `tensors[{i}]` expected a 1-D tensor, got shape "
                               f"{list(t.shape)}")
    if len(found) == 1:
        return found[0]
    return _core.stack([g.reshape(-1) for g in meshgrid(*found, indexing="ij")], 1)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Union[Tensor, Number, None] = None,
         append: Union[Tensor, Number, None] = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``out[i] = x[i + 1] - x[i]``, applied ``n``
    times; ``!=`` for bool), after joining ``prepend`` and ``append`` (tensors shaped as ``input``
    apart from ``dim``, or numbers) to ``input``."""
    if _require_tensor("diff", "input", input).ndim == 0:
        raise RuntimeError("diff: argument `input` expected a tensor of at least 1 dimension, got a 0-d tensor")
    if n < 0:
        raise RuntimeError(f"diff: argument `n` expected a non-negative order, got {n}")
    axis = _axis(input, dim, "diff")
    pieces = []
    for name, extra in (("prepend", prepend), (None, input), ("append", append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            extra = _core.full([1 if d == axis else s for d, s in enumerate(input.shape)], float(extra), input.dtype,
                               input.device, False)
        elif name is not None and (extra.ndim != input.ndim or builtins.any(
                a != b for d, (a, b) in enumerate(zip(extra.shape, input.shape)) if d != axis)):
            raise RuntimeError(f"diff: argument `{name}` expected the shape of `input` {list(input.shape)} apart from "
                               f"dimension {axis}, got {list(extra.shape)}")
        pieces.append(extra)
    out = _core.cat(pieces, axis) if len(pieces) > 1 else input
    for _ in range(n):
        size = out.shape[axis]
        if size == 0:
            break
        later, earlier = out.narrow(axis, 1, size - 1), out.narrow(axis, 0, size - 1)
        out = later != earlier if out.dtype == "bool" else later - earlier
    return out


# Products and distances.

def dot(input: Tensor, other: Tensor) -> Tensor:
    """The inner product of two 1-D tensors of the same size and dtype (0-d)."""
    a, b = _require_tensor("dot", "input", input), _require_tensor("dot", "other", other)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: arguments `input` and `other` expected 1-D tensors, got shapes {list(a.shape)} and "
                           f"{list(b.shape)}")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"dot: arguments `input` and `other` expected the same number of entries, got "
                           f"{a.shape[0]} and {b.shape[0]}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot: arguments `input` and `other` expected the same dtype, got {a.dtype} and {b.dtype}")
    return (a * b).sum()


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """The product of a matrix [n, m] and a vector [m] (a vector [n])."""
    a, v = _require_tensor("mv", "input", input), _require_tensor("mv", "vec", vec)
    if a.ndim != 2 or v.ndim != 1 or a.shape[1] != v.shape[0]:
        raise RuntimeError(f"mv: arguments `input` and `vec` expected a [n, m] matrix and a [m] vector, got shapes "
                           f"{list(a.shape)} and {list(v.shape)}")
    return a.matmul(v)


def _scaled_sum(op: str, input: Tensor, product: Tensor, beta: Number, alpha: Number) -> Tensor:
    """``beta * input + alpha * product``; ``input`` must broadcast to ``product``'s shape and is
    ignored (NaN included) when ``beta`` is 0."""
    try:
        fits = np.broadcast_shapes(tuple(input.shape), tuple(product.shape)) == tuple(product.shape)
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: argument `input` expected a shape that broadcasts to {list(product.shape)}, got "
                           f"{list(input.shape)}")
    out = product if alpha == 1 else alpha * product
    if beta == 0:
        return out
    return (input if beta == 1 else beta * input) + out


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices [n, k] and [k, m]; ``input``
    broadcasts to [n, m] (and is ignored when ``beta`` is 0)."""
    a, b = _require_tensor("addmm", "mat1", mat1), _require_tensor("addmm", "mat2", mat2)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise RuntimeError(f"addmm: arguments `mat1` and `mat2` expected [n, k] and [k, m] matrices, got shapes "
                           f"{list(a.shape)} and {list(b.shape)}")
    return _scaled_sum("addmm", _require_tensor("addmm", "input", input), a.matmul(b), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """``beta * input + alpha * (batch1 @ batch2)`` for batches [B, n, k] and [B, k, m];
    ``input`` broadcasts to [B, n, m] (and is ignored when ``beta`` is 0)."""
    a, b = _require_tensor("baddbmm", "batch1", batch1), _require_tensor("baddbmm", "batch2", batch2)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"baddbmm: arguments `batch1` and `batch2` expected [B, n, k] and [B, k, m] tensors, got "
                           f"shapes {list(a.shape)} and {list(b.shape)}")
    return _scaled_sum("baddbmm", _require_tensor("baddbmm", "input", input), a.matmul(b), beta, alpha)


def cross(input: Tensor, other: Tensor, dim: Optional[int] = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (``input`` and ``other`` broadcast); without
    ``dim``, along the first dimension of size 3."""
    a, b = _require_tensor("cross", "input", input), _require_tensor("cross", "other", other)
    shape = _broadcast("cross", a.shape, b.shape)
    if dim is None:
        axis = next((d for d, s in enumerate(shape) if s == 3), -1)
        if axis < 0:
            raise RuntimeError(f"cross: expected a dimension of size 3 when `dim` is None, got shape {shape}")
    else:
        axis = _axis(a if a.ndim >= b.ndim else b, dim, "cross")
        if shape[axis] != 3:
            raise RuntimeError(f"cross: argument `dim` expected a dimension of size 3, got dimension {dim} of size "
                               f"{shape[axis]} (shape {shape})")
    a, b = _expand(a, shape), _expand(b, shape)
    a1, a2, a3 = (a.narrow(axis, i, 1) for i in range(3))
    b1, b2, b3 = (b.narrow(axis, i, 1) for i in range(3))
    return _core.cat([a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1], axis)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: block (i, j, ...) of the result is ``input[i, j, ...] * other``
    (the shorter shape is padded with leading 1s)."""
    a, b = _require_tensor("kron", "input", input), _require_tensor("kron", "other", other)
    rank = builtins.max(a.ndim, b.ndim)
    sa = [1] * (rank - a.ndim) + list(a.shape)
    sb = [1] * (rank - b.ndim) + list(b.shape)
    left = a.reshape([v for s in sa for v in (s, 1)])
    right = b.reshape([v for s in sb for v in (1, s)])
    return (left * right).reshape([x * y for x, y in zip(sa, sb)])


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), over all entries (0-d; see
    :func:`ferrograd.linalg.vector_norm`)."""
    a, b = _require_tensor("dist", "input", input), _require_tensor("dist", "other", other)
    _broadcast("dist", a.shape, b.shape)
    return vector_norm(a - b, p)


# Method forms whose signature differs from the function's.

def _tile_method(self: Tensor, *dims: Any) -> Tensor:
    """``self`` repeated ``dims[i]`` times along each dimension (``t.tile(2, 3)`` or
    ``t.tile((2, 3))``); a shorter ``dims`` is padded with leading 1s."""
    return tile(self, list(_shape(dims)))


def _broadcast_to_method(self: Tensor, *size: Any) -> Tensor:
    """``self`` broadcast to ``size`` (``expand``)."""
    return broadcast_to(self, list(_shape(size)))


# Under their PyTorch names these would shadow builtins inside this module.
any, all = _any, _all
any.__name__ = any.__qualname__ = "any"
all.__name__ = all.__qualname__ = "all"

METHODS: dict[str, Callable[..., Any]] = {
    **{f.__name__: f for f in (masked_select, take_along_dim, select, index_fill, movedim, swapaxes, swapdims,
                               unflatten, rot90, tensor_split, hsplit, vsplit, diff, addcmul, addcdiv, sgn, hypot,
                               logaddexp, dot, mv, addmm, baddbmm, cross, kron, dist)},
    "moveaxis": movedim, "tile": _tile_method, "broadcast_to": _broadcast_to_method,
}


def install() -> None:
    """Attaches the method forms above that :class:`Tensor` lacks (``t.movedim(0, -1)``);
    methods it already has are left as they are."""
    for name, method in METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, method)
