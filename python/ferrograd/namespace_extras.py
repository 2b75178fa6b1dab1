"""More of the ``torch.*`` namespace: flat-index ``put``, ``asarray`` / ``frombuffer``,
``binomial`` draws, the float32 matmul-precision and inter-op thread settings, and Tensor
properties PyTorch code asks about (``layout``, ``is_sparse``, ``is_quantized``, ``is_meta``,
``is_inference()``) with the method forms ``hardshrink``, ``prelu``, ``put`` / ``put_`` and the
legacy ``new``. ``install()`` attaches the Tensor members."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from . import cuda as _cuda
from ._core import Tensor
from .tensor_in_place import _in_place

#: The one tensor layout ferrograd has (dense, strided), as ``torch.strided``.
strided = "strided"


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source``'s values written at the flat (row-major) positions
    ``index`` (negative ones count from the end); with ``accumulate`` added there instead.
    Differentiable in ``input`` and ``source``."""
    if not isinstance(index, Tensor) or index.dtype not in ("int64", "int32"):
        raise TypeError(f"put: argument `index` expected an integer tensor, got {getattr(index, 'dtype', type(index))}")
    if index.numel() != source.numel():
        raise ValueError(f"put: arguments `index` and `source` expected as many elements, got {index.numel()} and "
                         f"{source.numel()}")
    n = input.numel()
    if n == 0 or index.numel() == 0:
        return input.clone()
    flat_index = index.reshape(-1).long()
    if int(flat_index.max().item()) >= n or int(flat_index.min().item()) < -n:
        raise IndexError(f"put: argument `index` expected positions in [-{n}, {n}), got "
                         f"{int(flat_index.min().item())}..{int(flat_index.max().item())}")
    flat_index = flat_index % n
    from .tensor_torch_extras import index_put

    flat = index_put(input.reshape(-1), (flat_index,), source.reshape(-1).to(input.dtype), accumulate)
    return flat.reshape(*input.shape)


def _put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """:func:`put` written into this tensor in place."""
    return _in_place(self, "put_", source, lambda: put(self, index, source, accumulate))


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: Optional[bool] = None,
            requires_grad: bool = False) -> Tensor:
    """A tensor from ``obj`` (a tensor, numpy array, number or nested sequence). A tensor already
    of the dtype and device asked comes back itself unless ``copy``; anything else is copied
    (``copy=False`` then raises, as a copy would be needed)."""
    from . import tensor

    if isinstance(obj, Tensor):
        out = obj
        if dtype is not None and str(dtype) != obj.dtype:
            out = out.to(str(dtype))
        if device is not None and str(device) != str(obj.device):
            out = out.to(str(device))
        if out is obj and copy:
            out = obj.clone()
        elif out is not obj and copy is False:
            raise ValueError("asarray: copy=False, but converting the tensor's dtype or device needs a copy")
    else:
        if copy is False:
            raise ValueError("asarray: copy=False, but making a tensor from a non-tensor object copies it")
        out = tensor(obj, dtype=dtype) if dtype is not None else tensor(obj)
        out = out if device is None else out.to(str(device))
    return out.requires_grad_(True) if requires_grad else out


_NUMPY_DTYPES = {"float32": np.float32, "float16": np.float16, "int64": np.int64, "int32": np.int32,
                 "uint8": np.uint8, "bool": np.bool_}


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-d tensor of ``count`` elements (all when -1) read from ``buffer`` (any object with the
    buffer protocol) from byte ``offset`` on. The values are copied into the tensor (PyTorch's
    shares the buffer's memory)."""
    from . import tensor

    if str(dtype) not in _NUMPY_DTYPES:
        raise ValueError(f"frombuffer: argument `dtype` expected one of {list(_NUMPY_DTYPES)}, got {dtype!r}")
    values: np.ndarray = np.frombuffer(buffer, dtype=_NUMPY_DTYPES[str(dtype)], count=count, offset=offset)
    out = tensor(values.copy(), dtype=str(dtype))
    return out.requires_grad_(True) if requires_grad else out


def binomial(count: Tensor, prob: Tensor, generator: Any = None) -> Tensor:
    """Binomial draws with ``count`` trials of success probability ``prob`` (float32, seeded by
    :func:`ferrograd.manual_seed`, or ``generator``)."""
    from . import _core
    from .distributions import Binomial

    if generator is None:
        return Binomial(count, probs=prob).sample()
    # The sampler draws from the global stream: run it on the generator's state, then hand the
    # advanced state back to the generator and the global one back to the program.
    saved = _core.get_rng_state()
    _core.set_rng_state(tuple(generator.get_state()))
    try:
        draws = Binomial(count, probs=prob).sample()
        generator.set_state(_core.get_rng_state())
    finally:
        _core.set_rng_state(saved)
    return draws


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """Dropout in place (``torch.dropout_``; :func:`ferrograd.functional.dropout`)."""
    from .functional import dropout

    return dropout(input, p, train, inplace=True)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """Alpha dropout in place (``torch.alpha_dropout_``)."""
    from .functional import alpha_dropout

    return alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """Feature alpha dropout in place (``torch.feature_alpha_dropout_``)."""
    from .functional import feature_alpha_dropout

    return feature_alpha_dropout(input, p, train, inplace=True)


def set_float32_matmul_precision(precision: str) -> None:
    """``"highest"`` keeps float32 matrix products in float32 on CUDA; ``"high"`` and ``"medium"``
    let cuBLAS use TF32 tensor cores (:func:`ferrograd.cuda.set_allow_tf32`). CPU products are
    always float32."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: argument `precision` expected 'highest', 'high' or "
                         f"'medium', got {precision!r}")
    _cuda.set_allow_tf32(precision != "highest")


def get_float32_matmul_precision() -> str:
    """``"highest"``, or ``"high"`` while TF32 is allowed for CUDA matrix products."""
    return "high" if _cuda._allow_tf32 else "highest"


def get_num_interop_threads() -> int:
    """1: ops run one after another, each parallel inside over the kernel thread pool
    (:func:`ferrograd.get_num_threads`)."""
    return 1


def set_num_interop_threads(num: int) -> None:
    """Accepts 1, the only inter-op parallelism ferrograd has (ops run one after another)."""
    if num != 1:
        raise ValueError(f"set_num_interop_threads: argument `num` expected 1 (ops run one after another; the "
                         f"kernel thread pool is sized by RAYON_NUM_THREADS), got {num}")


def _apply_(self: Tensor, callable: Any) -> Tensor:
    """Replaces each entry ``x`` by ``callable(x)`` (a Python function of one number), in place;
    for CPU tensors outside autograd, as PyTorch's (slow: one Python call per entry)."""
    return _map_entries("apply_", self, callable, ())


def _map_(self: Tensor, tensor: Tensor, callable: Any) -> Tensor:
    """Replaces each entry ``x`` by ``callable(x, y)`` with ``y`` the broadcast entry of ``tensor``,
    in place (CPU tensors outside autograd)."""
    return _map_entries("map_", self, callable, (tensor,))


def _map2_(self: Tensor, x: Tensor, y: Tensor, callable: Any) -> Tensor:
    """Replaces each entry ``s`` by ``callable(s, a, b)`` with ``a``, ``b`` the broadcast entries of
    ``x`` and ``y``, in place (CPU tensors outside autograd)."""
    return _map_entries("map2_", self, callable, (x, y))


def _map_entries(op: str, self: Tensor, function: Any, others: tuple[Tensor, ...]) -> Tensor:
    from .tensor_methods import _host

    if str(self.device) != "cpu":
        raise RuntimeError(f"{op}: expected a CPU tensor (it calls a Python function per entry), got one on "
                           f"{self.device}")
    if not callable(function):
        raise TypeError(f"{op}: argument `callable` expected a function, got {type(function).__name__}")
    values = _host(self)
    columns = [np.broadcast_to(_host(t), values.shape) for t in others]
    mapped = np.array([function(*args) for args in zip(values.ravel().tolist(),
                                                       *(c.ravel().tolist() for c in columns))],
                      dtype=values.dtype).reshape(values.shape)
    result = Tensor.from_numpy(mapped)
    return _in_place(self, op, None, lambda: result)


def _is_pinned(self: Tensor) -> bool:
    """False: host tensors are ordinary memory; transfers to a GPU stage through pinned buffers
    of their own."""
    return False


def _pin_memory(self: Tensor) -> Tensor:
    """The tensor itself: host-to-GPU copies already go through pinned staging buffers."""
    return self


def _new_empty_strided(self: Tensor, size: Any, stride: Any, *, dtype: Any = None, device: Any = None,
                       requires_grad: bool = False) -> Tensor:
    """:func:`ferrograd.empty_strided` with this tensor's dtype and device by default."""
    from .view_copies import empty_strided

    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)


def get_device(input: Tensor) -> int:
    """The CUDA device index of ``input``, -1 for a CPU tensor."""
    from .dtypes import device

    where = device(str(input.device))
    return -1 if where.type == "cpu" else where.index or 0


def get_default_device() -> str:
    """``"cpu"``: tensors are made on the CPU unless a ``device`` is given."""
    return "cpu"


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """The ``[size, ndim]`` indices of the nonzero entries (row-major), cut to ``size`` rows or
    padded with ``fill_value``."""
    from . import cat, nonzero

    found = nonzero(input)
    rows = found.shape[0]
    if rows >= size:
        return found[:size]
    padding = Tensor.from_numpy(np.full((size - rows, input.ndim), fill_value, dtype=np.int64)).to(input.device)
    return cat([found, padding], 0)


def _new(self: Tensor, *args: Any) -> Tensor:
    """The legacy constructor: ``t.new(2, 3)`` an uninitialised (here zero) tensor of that shape,
    ``t.new(data)`` a tensor of ``data``; both with ``t``'s dtype and device."""
    if all(isinstance(a, int) for a in args):
        return self.new_zeros(*args)
    if len(args) == 1:
        return self.new_tensor(args[0])
    raise TypeError(f"new: expected sizes or one data argument, got {args!r}")


def _always_false(name: str, doc: str) -> Callable[[Tensor], bool]:
    """A predicate of a tensor that is False for every ferrograd tensor, named and documented."""
    def predicate(input: Tensor) -> bool:
        return False
    predicate.__name__ = predicate.__qualname__ = name
    predicate.__doc__ = doc
    return predicate


is_conj = _always_false("is_conj", "False: real tensors have no lazy conjugate bit.")
is_neg = _always_false("is_neg", "False: real tensors have no lazy negative bit.")
is_inference = _always_false("is_inference", "False: there is no inference-mode tensor type here (``no_grad`` and "
                                             "``inference_mode`` scopes cover that use).")
_is_sparse = _always_false("is_sparse", "False: ferrograd tensors are dense.")
_is_quantized = _always_false("is_quantized", "False: there is no quantized tensor type here (``fake_quantize_*`` "
                                              "simulates quantization).")
_is_meta = _always_false("is_meta", "False: every tensor holds its data.")
_is_nested = _always_false("is_nested", "False: there are no nested (ragged) tensors here.")


def _layout(self: Tensor) -> str:
    """The memory layout: ``strided`` (dense), the only one here."""
    return strided


def install() -> None:
    """Attaches the Tensor members (existing ones are kept)."""
    from .functional import hardshrink, prelu

    members: dict[str, Any] = {
        "put": put, "put_": _put_, "hardshrink": hardshrink, "prelu": prelu, "new": _new,
        "layout": property(_layout), "is_sparse": property(_is_sparse), "is_quantized": property(_is_quantized),
        "is_meta": property(_is_meta),
        "is_inference": is_inference, "apply_": _apply_, "map_": _map_, "map2_": _map2_, "is_pinned": _is_pinned,
        "pin_memory": _pin_memory, "new_empty_strided": _new_empty_strided, "is_conj": is_conj, "is_neg": is_neg,
        "is_nested": property(_is_nested), "nonzero_static": nonzero_static,
    }
    for name, member in members.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, member)
