"""The ``*_copy`` forms of the view ops (``torch.view_copy``, ``permute_copy``, ...: the same
result as the view, in fresh storage), ``as_strided`` and its relatives, and the split spellings
``split_with_sizes`` / ``unsafe_split`` / ``unsafe_chunk``.

``as_strided`` reads the elements a (size, stride, offset) geometry names out of a contiguous
tensor's elements, as PyTorch reads them out of its storage; the result is a gathered copy, not a
view sharing memory (writing to it leaves the input alone), and gradients flow back to every
element read, summed where the geometry reads one twice."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from ._core import Tensor


def _copied(result: Any) -> Any:
    return [t.clone() for t in result] if isinstance(result, (list, tuple)) else result.clone()


def view_copy(input: Tensor, *shape: Any) -> Tensor:
    """``input.view(shape)`` in fresh storage."""
    return input.view(*shape).clone()


def permute_copy(input: Tensor, dims: Sequence[int]) -> Tensor:
    """``input.permute(dims)`` in fresh storage."""
    return input.permute(*dims).clone()


def expand_copy(input: Tensor, size: Sequence[int]) -> Tensor:
    """``input.expand(size)`` in fresh storage."""
    return input.expand(*size).clone()


def t_copy(input: Tensor) -> Tensor:
    """``input.t()`` in fresh storage."""
    return input.t().clone()


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """``input.transpose(dim0, dim1)`` in fresh storage."""
    return input.transpose(dim0, dim1).clone()


def squeeze_copy(input: Tensor, dim: Optional[Any] = None) -> Tensor:
    """``input.squeeze(dim)`` in fresh storage."""
    return (input.squeeze() if dim is None else input.squeeze(dim)).clone()


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    """``input.unsqueeze(dim)`` in fresh storage."""
    return input.unsqueeze(dim).clone()


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:
    """``input.select(dim, index)`` in fresh storage."""
    from .tensor_torch_forms import select

    return select(input, dim, index).clone()


def slice_copy(input: Tensor, dim: int = 0, start: Optional[int] = None, end: Optional[int] = None,
               step: int = 1) -> Tensor:
    """``input[..., start:end:step, ...]`` along ``dim``, in fresh storage."""
    axis = dim % input.ndim
    return input[(slice(None),) * axis + (slice(start, end, step),)].clone()


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """``input.diagonal(offset, dim1, dim2)`` in fresh storage."""
    return input.diagonal(offset, dim1, dim2).clone()


def detach_copy(input: Tensor) -> Tensor:
    """``input.detach()`` in fresh storage."""
    return input.detach().clone()


def alias_copy(input: Tensor) -> Tensor:
    """A copy of ``input`` (the copy form of an alias)."""
    return input.clone()


def unbind_copy(input: Tensor, dim: int = 0) -> list[Tensor]:
    """``input.unbind(dim)``, each slice in fresh storage."""
    return _copied(input.unbind(dim))


def split_copy(input: Tensor, split_size: Any, dim: int = 0) -> list[Tensor]:
    """``input.split(split_size, dim)``, each piece in fresh storage."""
    return _copied(input.split(split_size, dim))


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> list[Tensor]:
    """Pieces of the given sizes along ``dim`` (they must add up to its length)."""
    if sum(split_sizes) != input.shape[dim]:
        raise ValueError(f"split_with_sizes: argument `split_sizes` expected sizes adding up to {input.shape[dim]} "
                         f"(dimension {dim} of shape {list(input.shape)}), got {list(split_sizes)}")
    return list(input.split(list(split_sizes), dim))


def split_with_sizes_copy(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> list[Tensor]:
    """:func:`split_with_sizes`, each piece in fresh storage."""
    return _copied(split_with_sizes(input, split_sizes, dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``input.unfold(dimension, size, step)`` in fresh storage."""
    return input.unfold(dimension, size, step).clone()


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> list[Tensor]:
    """:meth:`Tensor.chunk` (PyTorch's unchecked variant; the pieces here are checked as usual)."""
    return list(input.chunk(chunks, dim))


def unsafe_split(input: Tensor, split_size: Any, dim: int = 0) -> list[Tensor]:
    """:meth:`Tensor.split` (PyTorch's unchecked variant)."""
    return list(input.split(split_size, dim))


def unsafe_split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> list[Tensor]:
    """:func:`split_with_sizes` (PyTorch's unchecked variant)."""
    return split_with_sizes(input, split_sizes, dim)


def _strided_positions(op: str, input: Tensor, size: Sequence[int], stride: Sequence[int],
                       storage_offset: Optional[int]) -> Tensor:
    """The flat positions in ``input``'s elements that the geometry reads, as an int64 tensor."""
    size, stride = [int(s) for s in size], [int(s) for s in stride]
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise ValueError(f"{op}: arguments `size` and `stride` expected as many non-negative entries, got {size} "
                         f"and {stride}")
    if not input.is_contiguous():
        raise ValueError(f"{op}: argument `input` expected a contiguous tensor (its elements stand for the "
                         f"storage), got one with strides {list(input.stride())}; call .contiguous() first")
    # An explicit offset counts from the start of the storage the input views, as PyTorch's does.
    offset = 0 if storage_offset is None else int(storage_offset) - input.storage_offset()
    positions = np.full(size, offset, dtype=np.int64)
    for axis, (n, step) in enumerate(zip(size, stride)):
        positions += (np.arange(n, dtype=np.int64) * step).reshape([-1 if a == axis else 1 for a in range(len(size))])
    if positions.size and (positions.min() < 0 or positions.max() >= input.numel()):
        raise ValueError(f"{op}: the geometry size={size}, stride={stride}, storage_offset={storage_offset} reads "
                         f"positions {positions.min()}..{positions.max()}, outside the input's {input.numel()} elements")
    return Tensor.from_numpy(positions).to(input.device)


def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: Optional[int] = None) -> Tensor:
    """The tensor of shape ``size`` whose element ``i`` is ``input``'s element number
    ``storage_offset + Σ_k i_k stride_k`` (``input`` contiguous); a copy, differentiable."""
    positions = _strided_positions("as_strided", input, size, stride, storage_offset)
    return input.reshape(-1)[positions.reshape(-1)].reshape(*positions.shape)


def as_strided_copy(input: Tensor, size: Sequence[int], stride: Sequence[int],
                    storage_offset: Optional[int] = None) -> Tensor:
    """:func:`as_strided` (already a copy here)."""
    return as_strided(input, size, stride, storage_offset)


def as_strided_scatter(input: Tensor, src: Tensor, size: Sequence[int], stride: Sequence[int],
                       storage_offset: Optional[int] = None) -> Tensor:
    """A copy of ``input`` with ``src`` written at the elements :func:`as_strided` would read."""
    positions = _strided_positions("as_strided_scatter", input, size, stride, storage_offset)
    if tuple(src.shape) != tuple(positions.shape):
        raise ValueError(f"as_strided_scatter: argument `src` expected shape {list(positions.shape)}, got "
                         f"{list(src.shape)}")
    from .tensor_torch_extras import index_put

    flat = index_put(input.reshape(-1), (positions.reshape(-1),), src.reshape(-1))
    return flat.reshape(*input.shape)


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False, **_: Any) -> Tensor:
    """A zero-filled tensor of shape ``size``, stored contiguously (``stride`` is checked for
    length and otherwise not followed: strided layouts come from views here)."""
    from . import zeros

    if len(stride) != len(size):
        raise ValueError(f"empty_strided: arguments `size` and `stride` expected the same length, got {list(size)} "
                         f"and {list(stride)}")
    out = zeros(*size, dtype=dtype or "float32")
    out = out if device is None else out.to(device)
    return out.requires_grad_(requires_grad) if requires_grad else out


def _as_strided_method(self: Tensor, size: Sequence[int], stride: Sequence[int],
                       storage_offset: Optional[int] = None) -> Tensor:
    """:func:`as_strided` of this tensor."""
    return as_strided(self, size, stride, storage_offset)


def install() -> None:
    """Attaches ``Tensor.as_strided``, ``Tensor.as_strided_scatter``, ``Tensor.unsafe_chunk`` and
    ``Tensor.unsafe_split`` / ``unsafe_split_with_sizes``."""
    methods = {"as_strided": _as_strided_method, "as_strided_scatter": as_strided_scatter,
               "unsafe_chunk": unsafe_chunk, "unsafe_split": unsafe_split,
               "unsafe_split_with_sizes": unsafe_split_with_sizes}
    for name, function in methods.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, function)


__all__ = ["view_copy", "permute_copy", "expand_copy", "t_copy", "transpose_copy", "squeeze_copy", "unsqueeze_copy",
           "select_copy", "slice_copy", "diagonal_copy", "detach_copy", "alias_copy", "unbind_copy", "split_copy",
           "split_with_sizes", "split_with_sizes_copy", "unfold_copy", "unsafe_chunk", "unsafe_split",
           "unsafe_split_with_sizes", "as_strided", "as_strided_copy", "as_strided_scatter", "empty_strided"]
