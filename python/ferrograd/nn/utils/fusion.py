"""Folding an evaluated batch norm into the convolution or linear layer before it
(``torch.nn.utils.fusion``): ``bn(conv(x))`` with frozen statistics is one affine map per output
channel, so the pair becomes a single layer, one op fewer at inference."""

from __future__ import annotations

import copy
from typing import Any, Optional

import numpy as np

from ..._core import Tensor
from ...autograd import no_grad
from ..module import Module

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]


def _folded(weight: Tensor, bias: Optional[Tensor], mean: Tensor, var: Tensor, eps: float, gamma: Optional[Tensor],
            beta: Optional[Tensor], channel_axis: int) -> tuple[Tensor, Tensor]:
    """``weight * s`` (``s = gamma / sqrt(var + eps)`` along ``channel_axis``) and
    ``(bias - mean) * s + beta``, computed in float64 and rounded once."""
    w = weight.detach().numpy().astype(np.float64)
    n = w.shape[channel_axis]
    b = np.zeros(n) if bias is None else bias.detach().numpy().astype(np.float64)
    g = np.ones(n) if gamma is None else gamma.detach().numpy().astype(np.float64)
    shift = np.zeros(n) if beta is None else beta.detach().numpy().astype(np.float64)
    scale = g / np.sqrt(var.detach().numpy().astype(np.float64) + eps)
    shape = [1] * w.ndim
    shape[channel_axis] = n
    new_w = (w * scale.reshape(shape)).astype(np.float32)
    new_b = ((b - mean.detach().numpy().astype(np.float64)) * scale + shift).astype(np.float32)
    return Tensor.from_numpy(new_w).to(weight.device), Tensor.from_numpy(new_b).to(weight.device)


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Optional[Tensor], bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
                         bn_w: Optional[Tensor], bn_b: Optional[Tensor], transpose: bool = False) -> tuple[Tensor, Tensor]:
    """The weight and bias of the convolution that equals ``conv`` followed by the batch norm with
    running mean ``bn_rm`` and variance ``bn_rv`` (a transposed convolution's output channels are
    its weight's axis 1)."""
    return _folded(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, 1 if transpose else 0)


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Optional[Tensor], bn_rm: Tensor, bn_rv: Tensor, bn_eps: float,
                           bn_w: Optional[Tensor], bn_b: Optional[Tensor]) -> tuple[Tensor, Tensor]:
    """The weight and bias of the linear layer that equals ``linear`` followed by the batch norm."""
    return _folded(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, 0)


def _fused(layer: Any, bn: Any, transpose: bool, what: str) -> Module:
    if layer.training or bn.training:
        raise ValueError(f"{what}: fusion is for evaluation; call .eval() on both modules first")
    if getattr(bn, "running_mean", None) is None or getattr(bn, "running_var", None) is None:
        raise ValueError(f"{what}: the batch norm keeps no running statistics (track_running_stats=False)")
    out_channels = layer.weight.shape[1 if transpose else 0] * (getattr(layer, "groups", 1) if transpose else 1)
    if bn.num_features != out_channels:
        raise ValueError(f"{what}: the batch norm normalises {bn.num_features} channels, the layer gives {out_channels}")
    fused: Any = copy.deepcopy(layer)
    weight, bias = _folded(layer.weight, layer.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
                           1 if transpose else 0)
    with no_grad():
        fused.weight = weight.requires_grad_(layer.weight.requires_grad)
        fused.bias = bias.requires_grad_(layer.weight.requires_grad)
    return fused


def fuse_conv_bn_eval(conv: Module, bn: Module, transpose: bool = False) -> Module:
    """A copy of ``conv`` (Conv1d/2d/3d, or a transposed one with ``transpose=True``) that computes
    ``bn(conv(x))`` for the evaluated batch norm ``bn``; both must be in eval mode."""
    if transpose and getattr(conv, "groups", 1) != 1:
        raise ValueError("fuse_conv_bn_eval: a grouped transposed convolution is not supported")
    return _fused(conv, bn, transpose, "fuse_conv_bn_eval")


def fuse_linear_bn_eval(linear: Module, bn: Module) -> Module:
    """A copy of ``linear`` that computes ``bn(linear(x))`` for the evaluated BatchNorm1d ``bn``."""
    return _fused(linear, bn, False, "fuse_linear_bn_eval")
