"""``ferrograd.nn.utils``: gradient clipping, flat parameter vectors, (``rnn``) padded batches
of sequences, (``parametrize``, ``parametrizations``) reparametrized weights such as spectral
normalisation, (``prune``) pruning masks and (``fusion``) batch norms folded into the layer before
them, under PyTorch's module paths."""

from __future__ import annotations

from typing import Iterable, Union

from ..._core import Tensor, cat
from ...autograd import no_grad
from ...optim.algorithms import clip_grad_norm_
from . import fusion, parametrizations, parametrize, prune, rnn
from .hook_norms import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights
from .grad_norms import (clip_grad_norm, clip_grads_with_norm_, convert_conv2d_weight_memory_format, get_total_norm,
                         skip_init)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "rnn",
           "parametrize", "parametrizations", "prune", "fusion",
           "weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights", "clip_grad_norm",
           "clip_grads_with_norm_", "convert_conv2d_weight_memory_format", "get_total_norm", "skip_init"]


def clip_grad_value_(parameters: Union[Tensor, Iterable[Tensor]], clip_value: float) -> None:
    """Clamps every gradient of ``parameters`` to ``[-clip_value, clip_value]`` in place;
    parameters without a gradient are skipped."""
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: argument `clip_value` expected a value >= 0, got {clip_value!r}")
    for p in [parameters] if isinstance(parameters, Tensor) else parameters:
        if p.grad is not None:
            p.grad.clamp_(-float(clip_value), float(clip_value))


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one 1-d tensor (differentiable, as PyTorch's)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copies consecutive slices of the 1-d ``vec`` into the parameters (the inverse of
    :func:`parameters_to_vector`); the parameters stay the same leaf tensors."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: argument `vec` expected a Tensor, got {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: argument `vec` expected a 1-d tensor of {total} values (the "
                         f"parameters' total size), got shape {list(vec.shape)}")
    offset = 0
    with no_grad():
        for p in params:
            p.copy_(vec[offset:offset + p.numel()].reshape(list(p.shape)))
            offset += p.numel()
