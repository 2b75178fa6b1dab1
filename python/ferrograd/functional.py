"""Stateless functions on tensors (``ferrograd.functional``, usually imported as ``F``)."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from ._core import Tensor
from ._composite_activations import elu, hardsigmoid, hardswish, hardtanh, logsigmoid, mish, prelu, relu6
from ._conv_padding import pad_end, string_padding
from ._extra_functional import (celu, cosine_embedding_loss, gaussian_nll_loss, glu, gumbel_softmax, hardshrink,
                                hinge_embedding_loss, margin_ranking_loss, multi_margin_loss,
                                multilabel_soft_margin_loss, pairwise_distance, poisson_nll_loss, rrelu, selu,
                                soft_margin_loss, softmin, softshrink, tanhshrink, threshold, triplet_margin_loss,
                                multilabel_margin_loss, triplet_margin_with_distance_loss)
from ._group_norm import group_norm, instance_norm
from ._local_response_norm import local_response_norm
from ._one_dimensional import avg_pool1d, conv1d, conv_transpose1d, max_pool1d
from ._three_dimensional import (adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, conv3d, conv_transpose3d,
                                 max_pool3d)
from ._embedding_bag import embedding_bag
from ._ctc_loss import ctc_loss
from ._functional_aliases import (adaptive_max_pool1d_with_indices, adaptive_max_pool2d_with_indices,
                                  adaptive_max_pool3d_with_indices, celu_, elu_, fractional_max_pool2d_with_indices,
                                  fractional_max_pool3d_with_indices, hardtanh_, leaky_relu_, native_channel_shuffle,
                                  relu_, rrelu_, selu_, threshold_, upsample, upsample_bilinear, upsample_nearest)
from ._linear_cross_entropy import linear_cross_entropy
from ._dropout_variants import alpha_dropout, dropout1d, dropout2d, dropout3d, feature_alpha_dropout
from ._lp_pool import lp_pool1d, lp_pool2d, lp_pool3d
from ._fractional_max_pool import fractional_max_pool2d, fractional_max_pool3d
from ._multi_head_attention import multi_head_attention_forward
from ._pool_indices import (max_pool1d_with_indices, max_pool2d_with_indices, max_unpool1d, max_unpool2d,
                            max_unpool3d)
from ._composed_layers_functional import (adaptive_avg_pool1d, adaptive_max_pool1d, bilinear, channel_shuffle, pdist,
                                          rms_norm, softsign)
from ._padding_modes import PADDING_MODES, crop_negative, pad_by_mode
from ._adaptive_max_pool import adaptive_max_pool2d
from ._resampling import INTERPOLATION_MODES, interpolate, pixel_shuffle, pixel_unshuffle
from ._fold import fold
from ._grid_sampling import affine_grid, grid_sample
from ._similarity import cosine_similarity, normalize
from .tensor_in_place import in_place_result

__all__ = [
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
    "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices", "linear_cross_entropy",
    "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softplus", "silu", "softmax", "log_softmax", "logsumexp",
    "pad", "one_hot", "embedding", "embedding_bag", "linear", "conv2d", "conv3d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "batch_norm", "layer_norm", "local_response_norm", "rms_norm", "softsign", "bilinear", "channel_shuffle", "pdist",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "dropout", "cross_entropy", "ctc_loss", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "scaled_dot_product_attention",
    "attention_weights", "attention_bias", "elu", "hardtanh", "relu6", "hardsigmoid", "hardswish", "mish",
    "logsigmoid", "group_norm", "instance_norm", "conv1d", "max_pool1d", "avg_pool1d", "interpolate",
    "normalize", "cosine_similarity", "adaptive_max_pool2d", "pixel_shuffle", "pixel_unshuffle",
    "prelu", "huber_loss",
    "selu", "celu", "glu", "softmin", "gumbel_softmax", "hardshrink", "softshrink", "tanhshrink", "threshold",
    "rrelu", "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "multi_margin_loss", "pairwise_distance", "triplet_margin_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "fold", "grid_sample", "affine_grid",
    "celu_", "elu_", "hardtanh_", "leaky_relu_", "native_channel_shuffle", "relu_", "rrelu_", "selu_", "threshold_",
    "upsample", "upsample_bilinear", "upsample_nearest", "alpha_dropout", "dropout1d", "dropout2d", "dropout3d",
    "feature_alpha_dropout", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_pool1d_with_indices",
    "max_pool2d_with_indices", "fractional_max_pool2d", "fractional_max_pool3d", "multi_head_attention_forward", "max_unpool1d", "max_unpool2d", "max_unpool3d", "multilabel_margin_loss",
    "triplet_margin_with_distance_loss",
]

IntOrPair = Union[int, Tuple[int, int]]


def _pair(name: str, v: IntOrPair) -> tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(i, int) for i in v):
        return (int(v[0]), int(v[1]))
    raise ValueError(f"argument `{name}` expected an int or a pair of ints, got {v!r}")


def relu(x: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0). ``inplace=True`` writes the result into ``x`` where no gradient depends on it,
    else returns the out-of-place result (ferrograd's in-place rule; the same for every
    activation's ``inplace``)."""
    return in_place_result(x, x.relu(), inplace, "relu")


def leaky_relu(x: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else ``negative_slope * x``."""
    return in_place_result(x, x.leaky_relu(negative_slope), inplace, "leaky_relu")


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU: ``approximate="none"`` is the exact erf form, ``"tanh"`` the tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: argument `approximate` expected 'none' or 'tanh', got {approximate!r}")
    return x.gelu(approximate == "tanh")


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), computed without overflow."""
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return x.tanh()


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold (as torch)."""
    return x.softplus(beta, threshold)


def silu(x: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    return in_place_result(x, x.silu(), inplace, "silu")


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pads ``x``; ``pad`` lists (before, after) sizes starting from the last axis, as in
    ``torch.nn.functional.pad``. Modes:

    - ``'constant'``: fills with ``value``, on any number of axes;
    - ``'reflect'``: mirrors about the edge without repeating it (sizes below the axis size);
    - ``'replicate'``: repeats the edge element;
    - ``'circular'``: wraps around (sizes at most the axis size left after cropping).

    A negative size crops that side instead, in every mode. The last three pad 1, 2 or 3 trailing
    axes (2, 4 or 6 sizes) of an input with 1 or 2 more dimensions, and take no ``value`` (it must
    stay 0). Their gradient sums over every output position an input element fills."""
    if mode not in PADDING_MODES:
        raise ValueError(f"pad: argument `mode` expected one of {list(PADDING_MODES)}, got {mode!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: argument `pad` expected an even number of sizes, got {len(pad)}")
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    if mode == "constant":
        cropped, sizes = crop_negative(x, pairs)
        return _core.pad(cropped, sizes, float(value))
    if value != 0:
        raise ValueError(f"pad: argument `value` expected 0 in mode {mode!r} (only 'constant' fills), got {value!r}")
    return pad_by_mode(x, pairs, mode)


def one_hot(labels: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot rows for int64 class labels (a trailing class axis is added), as in PyTorch;
    call ``.float()`` on the result for float targets. ``num_classes=-1`` takes the largest
    label + 1."""
    if num_classes == -1:
        if labels.numel() == 0:
            raise ValueError("one_hot: argument `num_classes` expected a count for empty `labels` (the default -1 "
                             "takes the largest label + 1), got -1")
        num_classes = int(labels.max().item()) + 1
    return _core.one_hot(labels, int(num_classes)).to("int64")


def embedding(ids: Tensor, weight: Tensor) -> Tensor:
    """Rows of ``weight`` [num, dim] picked by int64 ``ids`` of any shape."""
    return _core.embedding(ids, weight)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, computed stably."""
    return _core.softmax(x, dim, False)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along ``dim``, computed stably."""
    return _core.softmax(x, dim, True)


def logsumexp(x: Tensor, dim: int, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) along ``dim``, computed stably."""
    return _core.logsumexp(x, dim, keepdim)


def linear(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """x @ weight.T + bias, with ``x`` [..., in_features], ``weight`` [out_features, in_features]
    and ``bias`` [out_features] as in PyTorch. One op: on the CPU the bias is the product's
    starting value, not a separate pass."""
    return _core.linear(x, weight, bias)


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Optional[Tensor] = None,
    stride: IntOrPair = 1,
    padding: Union[IntOrPair, str] = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution of an NCHW input with ``weight`` [C_out, C_in/groups, kH, kW]. ``padding``
    may be ``'valid'`` (none) or ``'same'`` (stride 1 only: the output keeps the input's size; an
    odd total padding puts the extra row or column at the bottom or right, as PyTorch does)."""
    s, d = _pair("stride", stride), _pair("dilation", dilation)
    if isinstance(padding, str):
        (top, left), extra = string_padding("conv2d", padding, weight.shape[2:], s, d)
        return _core.conv2d(pad_end(x, extra), weight, bias, s, (top, left), d, groups)
    return _core.conv2d(x, weight, bias, s, _pair("padding", padding), d, groups)


def unfold(x: Tensor, kernel_size: IntOrPair, dilation: IntOrPair = 1, padding: IntOrPair = 0,
           stride: IntOrPair = 1) -> Tensor:
    """Sliding blocks of an NCHW input as ``[N, C * kH * kW, L]`` (``torch.nn.functional.unfold``):
    column ``l`` holds the window at output position ``l``, rows ordered by channel, then kernel row
    and column; out-of-image taps are zeros."""
    return _core.unfold(x, _pair("kernel_size", kernel_size), _pair("stride", stride), _pair("padding", padding),
                        _pair("dilation", dilation))


def conv_transpose2d(
    x: Tensor,
    weight: Tensor,
    bias: Optional[Tensor] = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    groups: int = 1,
    dilation: IntOrPair = 1,
) -> Tensor:
    """Transposed 2-D convolution (the gradient of :func:`conv2d` with respect to its input) of an
    NCHW input with ``weight`` [C_in, C_out/groups, kH, kW]; the output size along each axis is
    ``(size - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``."""
    return _core.conv_transpose2d(x, weight, bias, _pair("stride", stride), _pair("padding", padding),
                                  _pair("output_padding", output_padding), groups, _pair("dilation", dilation))


def max_pool2d(
    x: Tensor,
    kernel_size: IntOrPair,
    stride: Optional[IntOrPair] = None,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max pooling; ``stride`` defaults to ``kernel_size``; with ``return_indices`` also the
    position of each maximum in its input plane (for :func:`max_unpool2d`)."""
    if return_indices:
        return max_pool2d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode)
    k = _pair("kernel_size", kernel_size)
    s = k if stride is None else _pair("stride", stride)
    return _core.max_pool2d(x, k, s, _pair("padding", padding), _pair("dilation", dilation), ceil_mode)


def avg_pool2d(
    x: Tensor,
    kernel_size: IntOrPair,
    stride: Optional[IntOrPair] = None,
    padding: IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Average pooling; ``stride`` defaults to ``kernel_size``."""
    k = _pair("kernel_size", kernel_size)
    s = k if stride is None else _pair("stride", stride)
    return _core.avg_pool2d(x, k, s, _pair("padding", padding), ceil_mode, count_include_pad)


def adaptive_avg_pool2d(x: Tensor, output_size: IntOrPair) -> Tensor:
    """Average pooling to a fixed output size."""
    return _core.adaptive_avg_pool2d(x, _pair("output_size", output_size))


def batch_norm(
    x: Tensor,
    running_mean: Optional[Tensor],
    running_var: Optional[Tensor],
    weight: Optional[Tensor] = None,
    bias: Optional[Tensor] = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over axis 1; in training the running statistics are updated in place."""
    return _core.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)


def layer_norm(
    x: Tensor, normalized_shape: Sequence[int] | int, weight: Optional[Tensor] = None, bias: Optional[Tensor] = None, eps: float = 1e-5
) -> Tensor:
    """Layer normalisation over the trailing ``normalized_shape`` axes."""
    shape = [normalized_shape] if isinstance(normalized_shape, int) else list(normalized_shape)
    return _core.layer_norm(x, shape, weight, bias, eps)


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout with masks from the generator seeded by ``ferrograd.manual_seed``
    (``inplace`` as :func:`relu`'s)."""
    return in_place_result(x, _core.dropout(x, p, training), inplace, "dropout")


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Optional[Tensor] = None,
                                 dropout_p: float = 0.0, training: bool = True, scale: Optional[float] = None,
                                 is_causal: bool = False) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value over the last two axes ``[..., L, d]``.

    ``attn_mask`` broadcasts to ``[..., Lq, Lk]``: a bool mask marks the keys that take part
    (False positions get the lowest float32, as Hugging Face does, so a fully masked row stays
    finite); a float mask is added to the scores. ``is_causal`` lets query ``i`` attend to keys
    ``0..i`` only (the lower triangle from the top-left corner, as in PyTorch); it excludes
    ``attn_mask``. ``scale`` defaults to ``1/sqrt(d)``. Dropout (``dropout_p`` while ``training``)
    uses :func:`dropout`'s seeded masks. On the CPU the whole computation runs per (batch, head)
    slice in one fused op; on a GPU it runs as flash attention (head dims up to 128, no dropout),
    which never stores the ``[Lq, Lk]`` scores.
    """
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: argument `attn_mask` expected None with is_causal=True "
                         "(the causal mask replaces it), got a tensor")
    mask = attention_bias(attn_mask) if attn_mask is not None and attn_mask.dtype == "bool" else attn_mask
    return _core.scaled_dot_product_attention(query, key, value, mask, dropout_p if training else 0.0, scale,
                                              is_causal)


def attention_weights(query: Tensor, key: Tensor, attn_mask: Optional[Tensor] = None,
                      scale: Optional[float] = None) -> Tensor:
    """The attention probabilities ``softmax(query @ key^T * scale + mask)`` of
    :func:`scaled_dot_product_attention`, ``[..., Lq, Lk]``."""
    d = query.shape[-1]
    scores = (query @ key.transpose(-2, -1)) * (scale if scale is not None else 1.0 / math.sqrt(d))
    if attn_mask is not None:
        scores = scores + (attention_bias(attn_mask) if attn_mask.dtype == "bool" else attn_mask)
    return softmax(scores, dim=-1)


def attention_bias(keep: Tensor) -> Tensor:
    """An additive float mask from a bool one: 0 where ``keep``, the lowest float32 elsewhere."""
    return (1.0 - keep.to("float32")) * _FLOAT32_MIN


_FLOAT32_MIN = float(np.finfo(np.float32).min)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits [N, C] (or [N, C, d...]) against int64 classes or class probabilities."""
    return _core.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(
    input: Tensor, target: Tensor, weight: Optional[Tensor] = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood of log-probabilities."""
    return _core.nll_loss(input, target, weight, ignore_index, reduction)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error."""
    return _core.pointwise_loss("mse", input, target, reduction, 1.0, None, None)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error."""
    return _core.pointwise_loss("l1", input, target, reduction, 1.0, None, None)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic below ``beta``, linear above (Huber loss divided by beta)."""
    return _core.pointwise_loss("smooth_l1", input, target, reduction, beta, None, None)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss of ``d = input - target``: ``0.5 * d**2`` where ``|d| <= delta``, else
    ``delta * (|d| - 0.5 * delta)``; that is ``delta * smooth_l1_loss(..., beta=delta)``."""
    if not delta > 0:
        raise ValueError(f"huber_loss: argument `delta` expected a value > 0, got {delta!r}")
    return smooth_l1_loss(input, target, reduction, delta) * delta


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities (logs clamped at -100)."""
    return _core.pointwise_loss("bce", input, target, reduction, 1.0, weight, None)


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Optional[Tensor] = None, reduction: str = "mean", pos_weight: Optional[Tensor] = None
) -> Tensor:
    """Binary cross-entropy on logits, computed stably."""
    return _core.pointwise_loss("bce_logits", input, target, reduction, 1.0, weight, pos_weight)


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence with ``input`` as log-probabilities; ``reduction`` may be 'batchmean'."""
    return _core.kl_div(input, target, reduction, log_target)
