"""ferrograd: a deep-learning engine with a Rust core, for notebooks.

Tensors with define-by-run autograd, neural-network modules, optimizers, datasets, and training
loops (``model.fit`` / ``evaluate`` / ``predict``) that run whole epochs in Rust with the GIL
released.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Union

import numpy as np

# The Rust core allocates through mimalloc, which by default hands freed pages back to the
# operating system after 10 ms. A training step frees and reallocates the same large buffers, so
# each reuse faulted its pages in again (about 15% of a BERT forward pass; with a 1 s delay a BERT
# fine-tuning step still took 1.3 s or 2.2 s at random). Freed memory is now kept for 10 s, longer
# than any step, and returned once a loop has stopped. Set before the extension loads, which is
# when mimalloc reads its options; a value the user set wins.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "10000")

from . import _core, attacks, attribution, backends, cuda, data, distributions, finetune, func, functional, images, models, nn, optim, testing, text, training, utils
from ._generator import Generator, initial_seed, seed
from ._generator import normal as _normal_draws
from ._generator import uniform as _uniform_draws
from ._printoptions import get_printoptions, set_printoptions
from ._size import Size
from .backends import are_deterministic_algorithms_enabled, use_deterministic_algorithms
from .attacks import robustness
from .io import load_safetensors, save_safetensors
from .serialization import load, save
from ._core import (DeviceError, Tensor, cat, channels_last, contiguous_format, get_rng_state, manual_seed,
                    memory_format, preserve_format, set_rng_state, stack)
from .amp import autocast, get_autocast_dtype, is_autocast_enabled
from .autograd import enable_grad, grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .einsum import einsum
from .tensor_math import (amax, amin, clamp_max, clamp_min, clip, div, floor_divide, fmod, frac, get_default_dtype,
                          is_floating_point, isclose, logical_and, logical_not, logical_or, logical_xor,
                          logsumexp, nan_to_num, remainder, rsqrt, sign, square, trunc)
from .creation import (_shape, arange, empty, empty_like, eye, full_like, linspace, rand_like, randint, randn_like,
                       randperm)
from . import linalg, special
from .linalg import det, logdet
from .linalg import inv as inverse
from .random_sampling import bernoulli, multinomial, normal, poisson
from .tensor_combining import bmm, cdist, concat, concatenate, hstack, meshgrid, mm, tensordot, vstack
from .tensor_structure import argwhere, count_nonzero, diag, gather, nonzero, roll, trace
from .tensor_extras import (block_diag, cumulative_trapezoid, diag_embed, diagflat, fliplr, flipud, heaviside, isin, nanmean,
                            nansum, signbit, trapezoid, trapz, tril_indices, triu_indices)
from .tensor_functions import (abs, allclose, argmax, argmin, argsort, ceil, chunk, clamp, cos, cumprod, cumsum,
                               equal, exp,
                               expm1, flatten, flip, floor, log1p, round, sin,
                               acos, acosh, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin, asinh,
                               atan, atan2, atanh, cosh, erf, erfc, log2, log10, sinh, tan,
                               from_numpy, is_tensor, isfinite, isinf, isnan, log, log_softmax, matmul, max, maximum,
                               mean, min, minimum, mode, norm, numel, outer, permute, prod, relu, reshape, sigmoid,
                               softmax, sort,
                               split, sqrt, squeeze, std, std_mean, sum, tanh, topk, transpose, tril, triu, unsqueeze,
                               var, var_mean)
from . import tensor_methods as _tensor_methods
from . import tensor_scatter as _tensor_scatter
from . import gamma_functions as _gamma_functions
from . import torch_aliases as _torch_aliases
from . import tensor_extras as _tensor_extras
from . import elementwise_forms as _elementwise_forms
from . import linalg_forms as _linalg_forms
from . import tensor_layout_forms as _tensor_layout_forms
from .elementwise_forms import (bitwise_left_shift, bitwise_right_shift, copysign, deg2rad, exp2, float_power, fmax,
                                fmin, frexp, gcd, isneginf, isposinf, lcm, ldexp, logaddexp2, logit, nextafter,
                                rad2deg, sinc, xlogy)
from .linalg_forms import (addbmm, addmv, addr, chain_matmul, cholesky, cholesky_inverse, cholesky_solve, corrcoef,
                           cov, inner, matrix_exp, matrix_power, pinverse, slogdet, svd, vdot)
from .tensor_layout_forms import (atleast_1d, atleast_2d, atleast_3d, broadcast_shapes, broadcast_tensors, clone,
                                  combinations, diagonal, diagonal_scatter, dsplit, gradient, histogram, histogramdd,
                                  index_add,
                                  index_copy, index_put, index_reduce, is_nonzero, masked_scatter, msort, nanmedian,
                                  narrow_copy, neg, positive, ravel, repeat_interleave, scatter_add, scatter_reduce,
                                  select_scatter, slice_scatter, t, take, unbind, unique_consecutive, unravel_index,
                                  vander)
from .tensor_layout_forms import inclusive_range as range
from .functional import pdist
from .special import i0
from .torch_aliases import (absolute, adjoint, angle, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, conj,
                            conj_physical, divide, fix, ger, greater, greater_equal, is_complex, isreal, less, less_equal,
                            multiply, negative, not_equal, resolve_conj, resolve_neg, subtract, true_divide)
from .torch_aliases import constant_pad_nd, detach, fill, is_same_size, rsub, scalar_tensor
from .tensor_combining import vstack as row_stack
from .functional import (adaptive_avg_pool1d, alpha_dropout, avg_pool1d, bilinear, celu, channel_shuffle, conv1d, conv2d,
                         conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, cosine_similarity, dropout,
                         feature_alpha_dropout, group_norm, hardshrink, layer_norm, max_pool1d, max_pool2d, max_pool3d,
                         pairwise_distance, pixel_shuffle, pixel_unshuffle, prelu, rms_norm, rrelu, selu, threshold)
from .dtype_info import finfo, iinfo
from . import legacy_linalg as _legacy_linalg
from . import view_copies as _view_copies
from . import namespace_extras as _namespace_extras
from .view_copies import (alias_copy, as_strided, as_strided_copy, as_strided_scatter, detach_copy, diagonal_copy,
                          empty_strided, expand_copy, permute_copy, select_copy, slice_copy, split_copy,
                          split_with_sizes, split_with_sizes_copy, squeeze_copy, t_copy, transpose_copy, unbind_copy,
                          unfold_copy, unsafe_chunk, unsafe_split, unsafe_split_with_sizes, unsqueeze_copy, view_copy)
from .type_promotion import can_cast, is_signed, promote_types, result_type, set_default_dtype, typename
from .control_flow import compile, cond, while_loop
from .lowrank import pca_lowrank, svd_lowrank
from .func import vmap
from .namespace_extras import (alpha_dropout_, asarray, binomial, dropout_, feature_alpha_dropout_, frombuffer,
                               get_float32_matmul_precision, get_num_interop_threads, put, set_float32_matmul_precision,
                               set_num_interop_threads, strided)
from .namespace_extras import get_default_device, get_device, is_conj, is_inference, is_neg, nonzero_static
from .autograd import (is_anomaly_check_nan_enabled, is_anomaly_enabled, is_inference_mode_enabled,
                       set_anomaly_enabled)
from .functional import celu_, rrelu_, selu_, threshold_
from .legacy_linalg import (frobenius_norm, geqrf, lu, lu_solve, lu_unpack, nuclear_norm, orgqr, ormqr, qr,
                            triangular_solve)
from .windows import bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window
from .threads import get_num_threads, set_num_threads
from .gamma_functions import digamma, erfinv, igamma, igammac, lgamma, mvlgamma, polygamma
from .fake_quantize import fake_quantize_per_channel_affine, fake_quantize_per_tensor_affine
from . import autograd as _autograd
from . import tensor_counting as _tensor_counting
from . import tensor_in_place as _tensor_in_place
from . import tensor_prod as _tensor_prod
from . import tensor_math as _tensor_math
from . import tensor_functions as _tensor_functions
from . import random_sampling as _random_sampling
from . import tensor_structure as _tensor_structure
from . import tensor_properties as _tensor_properties
from . import tensor_torch_extras as _tensor_torch_extras
from .tensor_torch_extras import (aminmax, bincount, bucketize, cummax, cummin, histc, kthvalue, logcumsumexp, logspace,
                                  median, nanquantile, quantile, randint_like, renorm, searchsorted, unique)
from . import tensor_torch_forms as _tensor_torch_forms
from .tensor_torch_forms import (add, addcdiv, addcmul, addmm, all, any, baddbmm, broadcast_to, cartesian_prod,
                                 column_stack, cross, diff, dist, dot, dstack, eq, ge, gt, hsplit, hypot, index_fill,
                                 index_select, kron, le, lerp, logaddexp, lt, masked_fill, masked_select, movedim,
                                 moveaxis, mul, mv, narrow, ne, pow, reciprocal, rot90, scatter, select, sgn, sub,
                                 swapaxes, swapdims, take_along_dim, tensor_split, tile, unflatten, vsplit)
from . import _size
from . import _printoptions
from .dtypes import BUILTIN_NAMED as _BUILTIN_NAMED
from .dtypes import bfloat16, device, float16, float32, half, int8, int32, int64, long, uint8

_tensor_methods.install()
_autograd.install()
_tensor_counting.install()
_tensor_in_place.install()
_tensor_prod.install()
_tensor_math.install()
_tensor_functions.install_aliases()
_random_sampling.install()
_tensor_structure.install()
_tensor_properties.install()
_tensor_torch_extras.install()
_tensor_torch_forms.install()
_tensor_scatter.install()
_gamma_functions.install()
_elementwise_forms.install()
_linalg_forms.install()
_tensor_layout_forms.install()
_torch_aliases.install()
_tensor_extras.install()
_legacy_linalg.install()
_view_copies.install()
_namespace_extras.install()
globals().update(_torch_aliases.in_place_functions())
_size.install()
_printoptions.install()

__all__ = [
    "Tensor",
    "distributions",
    "nansum", "nanmean", "tril_indices", "triu_indices", "diag_embed", "diagflat", "block_diag", "fliplr", "flipud",
    "trapezoid", "trapz", "cumulative_trapezoid", "isin", "signbit", "heaviside",
    "lgamma", "digamma", "polygamma", "mvlgamma", "erfinv", "igamma", "igammac", "fake_quantize_per_tensor_affine",
    "fake_quantize_per_channel_affine",
    "bitwise_left_shift", "bitwise_right_shift", "copysign", "deg2rad", "exp2", "float_power", "fmax", "fmin", "frexp",
    "gcd", "isneginf", "isposinf", "lcm", "ldexp", "logaddexp2", "logit", "nextafter", "rad2deg", "sinc", "xlogy",
    "addbmm", "addmv", "addr", "chain_matmul", "cholesky", "cholesky_inverse", "cholesky_solve", "corrcoef", "cov",
    "inner", "matrix_exp", "matrix_power", "pinverse", "slogdet", "svd", "vdot",
    "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors", "combinations",
    "diagonal_scatter", "dsplit", "histogram", "index_add", "index_copy", "msort", "nanmedian", "narrow_copy",
    "positive", "ravel", "select_scatter", "slice_scatter", "take", "unique_consecutive", "unravel_index", "vander",
    "clone", "t", "neg", "unbind", "diagonal", "scatter_add", "scatter_reduce", "masked_scatter", "index_put",
    "gradient", "index_reduce", "is_nonzero", "repeat_interleave", "range", "pdist", "i0",
    "absolute", "adjoint", "angle", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "conj", "conj_physical",
    "divide", "fix", "ger", "greater", "greater_equal", "is_complex", "isreal", "less", "less_equal", "multiply",
    "negative", "not_equal", "resolve_conj", "resolve_neg", "subtract", "true_divide",
    "attacks",
    "cuda",
    "robustness",
    "DeviceError",
    "memory_format",
    "contiguous_format",
    "channels_last",
    "preserve_format",
    "device",
    "float32", "float16", "half", "bfloat16", "int64", "long", "int32", "int8", "uint8",
    "as_tensor",
    "einsum",
    "training",
    "models",
    "finetune",
    "images",
    "text",
    "tensor",
    "zeros",
    "ones",
    "full",
    "rand",
    "randn",
    "zeros_like",
    "ones_like",
    "cat",
    "stack",
    "where",
    "manual_seed", "seed", "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "grad",
    "inference_mode",
    "amp",
    "autocast",
    "is_autocast_enabled",
    "get_autocast_dtype",
    "functional",
    "nn",
    "optim",
    "save",
    "load",
    "save_safetensors",
    "load_safetensors",
    "data",
    "utils",
    "arange", "linspace", "eye", "empty", "full_like", "rand_like", "randn_like", "randint", "randperm",
    "is_tensor", "numel", "from_numpy", "matmul", "exp", "log", "sqrt", "abs", "sigmoid", "tanh", "relu",
    "sin", "cos", "floor", "ceil", "round", "log1p", "expm1",
    "erf", "erfc", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin", "arccos",
    "arctan", "arctan2", "arcsinh", "arccosh", "arctanh", "special",
    "softmax", "log_softmax", "clamp", "sum", "mean", "var", "std", "norm", "argmax", "argmin", "flatten",
    "reshape", "transpose", "permute", "squeeze", "unsqueeze", "flip", "tril", "triu", "cumsum", "outer",
    "chunk", "split", "sort", "argsort", "topk", "isnan", "isinf", "isfinite", "allclose", "equal", "maximum",
    "minimum", "max", "min", "prod", "mode",
    "logical_not", "logical_and", "logical_or", "logical_xor", "remainder", "fmod", "div", "floor_divide",
    "is_floating_point", "get_default_dtype", "trunc", "frac", "tan", "log2", "log10", "clamp_min", "clamp_max",
    "clip", "sign", "rsqrt", "square", "logsumexp", "amax", "amin", "isclose", "nan_to_num",
    "linalg", "det", "logdet", "inverse", "empty_like", "normal", "bernoulli", "poisson", "multinomial", "mm", "bmm", "concat", "concatenate", "hstack",
    "vstack", "tensordot", "cdist", "meshgrid", "diag", "trace", "roll", "gather", "nonzero", "argwhere",
    "count_nonzero", "cumprod", "std_mean", "var_mean",
    "Generator", "Size", "set_printoptions", "get_printoptions", "backends", "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled",
    "aminmax", "bincount", "bucketize", "cummax", "cummin", "histc", "kthvalue", "logcumsumexp", "logspace",
    "median", "nanquantile", "quantile", "randint_like", "renorm", "searchsorted", "unique",
    "add", "addcdiv", "addcmul", "addmm", "all", "any", "baddbmm", "broadcast_to", "cartesian_prod", "column_stack",
    "cross", "diff", "dist", "dot", "dstack", "eq", "ge", "gt", "hsplit", "hypot", "index_fill", "index_select",
    "kron", "le", "lerp", "logaddexp", "lt", "masked_fill", "masked_select", "movedim", "moveaxis", "mul", "mv",
    "narrow", "ne", "pow", "reciprocal", "rot90", "scatter", "select", "sgn", "sub", "swapaxes", "swapdims",
    "take_along_dim", "tensor_split", "tile", "unflatten", "vsplit",
    "constant_pad_nd", "detach", "fill", "is_same_size", "rsub", "scalar_tensor", "row_stack",
    "adaptive_avg_pool1d", "alpha_dropout", "avg_pool1d", "bilinear", "celu", "channel_shuffle", "conv1d", "conv2d",
    "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "cosine_similarity", "dropout",
    "feature_alpha_dropout", "group_norm", "hardshrink", "layer_norm", "max_pool1d", "max_pool2d", "max_pool3d",
    "pairwise_distance", "pixel_shuffle", "pixel_unshuffle", "prelu", "rms_norm", "rrelu", "selu", "threshold",
    "finfo", "iinfo", "bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window",
    "get_num_threads", "set_num_threads",
    "frobenius_norm", "geqrf", "lu", "lu_solve", "lu_unpack", "nuclear_norm", "orgqr", "ormqr", "qr", "triangular_solve",
    *_view_copies.__all__, "can_cast", "is_signed", "promote_types", "result_type", "set_default_dtype", "typename",
    "compile", "cond", "while_loop", "vmap", "pca_lowrank", "svd_lowrank", "histogramdd",
    "alpha_dropout_", "asarray", "binomial", "dropout_", "feature_alpha_dropout_", "frombuffer",
    "get_float32_matmul_precision", "get_num_interop_threads", "put", "set_float32_matmul_precision",
    "set_num_interop_threads", "strided", "get_default_device", "get_device", "is_conj", "is_inference", "is_neg",
    "nonzero_static", "is_inference_mode_enabled", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
    "set_anomaly_enabled", "celu_", "rrelu_", "selu_", "threshold_",
    *_torch_aliases.in_place_functions(),
]

__version__ = "0.1.0"

_NUMPY_DTYPES = {
    "float32": np.float32,
    "float64": np.float32,
    "float16": np.float16,
    "int64": np.int64,
    "int32": np.int32,
    "uint8": np.uint8,
    "bool": np.bool_,
}
_DTYPE_NAMES = (*_NUMPY_DTYPES, "bfloat16")


def tensor(data: Any, dtype: str | None = None, requires_grad: bool = False) -> Tensor:
    """Creates a tensor by copying ``data`` (a numpy array, nested lists, a scalar or a Tensor).

    Python floats and float64 arrays become float32 (ferrograd's compute dtype); Python ints
    become int64; numpy float16 stays float16. ``dtype`` is a name such as ``"float32"``,
    ``"int64"``, ``"float16"`` or ``"bfloat16"`` (rounded to nearest even). A Tensor is copied on
    its own device.
    """
    if dtype is not None and dtype not in _DTYPE_NAMES:
        raise ValueError(f"tensor: argument `dtype` expected one of {sorted(_DTYPE_NAMES)}, got {dtype!r}")
    if isinstance(data, Tensor):
        source = data.detach()
        target = source.dtype if dtype is None else "float32" if dtype == "float64" else dtype
        return source.to(target).clone().detach().requires_grad_(requires_grad)
    arr = np.asarray(data)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if dtype == "bfloat16":
        # numpy has no bfloat16: build float32 and round once, to nearest even.
        return tensor(arr, "float32").bfloat16().requires_grad_(requires_grad)
    if dtype is not None:
        arr = arr.astype(_NUMPY_DTYPES[dtype])
    elif arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    elif arr.dtype.kind in "iu" and arr.dtype not in (np.int32, np.uint8, np.int64):
        arr = arr.astype(np.int64)
    # np.ascontiguousarray would turn a 0-d array into shape (1,).
    return Tensor.from_numpy(arr if arr.flags.c_contiguous else np.ascontiguousarray(arr), requires_grad)


def as_tensor(data: Any, dtype: str | None = None, device: str | None = None) -> Tensor:
    """``data`` as a tensor: a tensor already of that dtype and device is returned as is (its
    autograd history kept); anything else is converted (``tensor``) and moved."""
    if isinstance(data, Tensor) and dtype in (None, data.dtype) and device in (None, data.device):
        return data
    if isinstance(data, Tensor):
        converted = data if dtype in (None, data.dtype) else data.to(dtype)
    else:
        converted = tensor(data, dtype)
    return converted if device is None or converted.device == device else converted.to(device)


def full(shape: Any, value: Union[bool, int, float], dtype: Optional[str] = None, requires_grad: bool = False,
         device: str = "cpu") -> Tensor:
    """A tensor of ``shape`` filled with ``value``, on ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``).

    Without ``dtype`` the dtype follows ``value`` as in PyTorch: a bool gives ``bool``, an int
    ``int64`` and a float ``float32``."""
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        raise TypeError(f"full: argument `value` expected a bool, int or float, got {type(value).__name__}")
    if dtype is None:
        if isinstance(value, (bool, np.bool_)):
            dtype = "bool"
        elif isinstance(value, (int, np.integer)):
            dtype = "int64"
        else:
            dtype = "float32"
    if dtype == "int64" and isinstance(value, (int, np.integer)) and not -2**53 <= int(value) <= 2**53:
        # Beyond float64's exact integers: build the values on the host.
        exact = tensor(np.full(tuple(_shape(shape)), int(value), np.int64), "int64")
        return exact if device == "cpu" else exact.to(device)
    return _core.full(list(_shape(shape)), float(value), dtype, device, requires_grad)


def zeros(*shape: Any, dtype: str = "float32", requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """A tensor of zeros; ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return full(_shape(shape), 0.0, dtype, requires_grad, device)


def ones(*shape: Any, dtype: str = "float32", requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """A tensor of ones; ``ones(2, 3)`` or ``ones((2, 3))``."""
    return full(_shape(shape), 1.0, dtype, requires_grad, device)


def zeros_like(t: Tensor, requires_grad: bool = False, dtype: str | None = None) -> Tensor:
    """Zeros with ``t``'s shape and device, and its dtype unless ``dtype`` is given."""
    return full(t.shape, 0.0, dtype or t.dtype, requires_grad, t.device)


def ones_like(t: Tensor, requires_grad: bool = False, dtype: str | None = None) -> Tensor:
    """Ones with ``t``'s shape and device, and its dtype unless ``dtype`` is given."""
    return full(t.shape, 1.0, dtype or t.dtype, requires_grad, t.device)


def rand(*shape: Any, generator: Optional[Generator] = None, requires_grad: bool = False,
         device: str = "cpu") -> Tensor:
    """Uniform values in [0, 1) from the generator seeded by :func:`manual_seed` (the same values on
    every device: a GPU draws them from the same Philox stream), or from ``generator`` (a
    :class:`Generator`), which leaves the global generator untouched."""
    return _uniform_draws("rand", generator, _shape(shape), 0.0, 1.0, requires_grad, device)


def randn(*shape: Any, generator: Optional[Generator] = None, requires_grad: bool = False,
          device: str = "cpu") -> Tensor:
    """Standard normal values from the generator seeded by :func:`manual_seed` (on a GPU, the same
    values to the device's rounding of log, cos and sin), or from ``generator`` (a
    :class:`Generator`), which leaves the global generator untouched."""
    return _normal_draws("randn", generator, _shape(shape), 0.0, 1.0, requires_grad, device)


def where(condition: Tensor, a: Any, b: Any) -> Tensor:
    """Elementwise ``a`` where ``condition`` (a bool tensor) holds, else ``b``, with broadcasting;
    either branch may be a Python number, taking the other branch's dtype (float32 when both are
    numbers) and the condition's device."""
    return _core.where_(condition, a, b)


def __getattr__(name: str) -> str:
    """``ferrograd.float``, ``ferrograd.int`` and ``ferrograd.bool`` (dtype names, as in PyTorch)."""
    if name in _BUILTIN_NAMED:
        return _BUILTIN_NAMED[name]
    raise AttributeError(f"module 'ferrograd' has no attribute {name!r}")
