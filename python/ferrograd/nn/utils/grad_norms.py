"""Gradient-norm utilities split as PyTorch 2.6 splits ``clip_grad_norm_``: ``get_total_norm``
(the norm of the norms) and ``clip_grads_with_norm_`` (scaling by a given total norm), plus the
older ``clip_grad_norm`` name, ``skip_init`` and ``convert_conv2d_weight_memory_format``."""

from __future__ import annotations

import math
from typing import Any, Iterable, Optional, Union

from ..._core import Tensor, stack
from ...autograd import no_grad
from ...optim.algorithms import clip_grad_norm_
from ..module import Module

Tensors = Union[Tensor, Iterable[Tensor]]


def _listed(tensors: Tensors) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else [t for t in tensors if t is not None]


def get_total_norm(tensors: Tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Optional[bool] = None) -> Tensor:
    """The ``norm_type``-norm of the tensors' own norms (the norm of all their entries together),
    as a 0-d tensor; 0 for none. ``error_if_nonfinite`` raises if it is NaN or infinite."""
    from ...linalg import vector_norm

    listed = _listed(tensors)
    if not listed:
        from ... import tensor

        return tensor(0.0)
    norms = stack([vector_norm(t.detach(), norm_type) for t in listed])
    total = vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(float(total.item())):
        raise RuntimeError(f"get_total_norm: the total norm of order {norm_type} is {float(total.item())}; set "
                           f"error_if_nonfinite=False to scale the gradients anyway")
    return total


def clip_grads_with_norm_(parameters: Tensors, max_norm: float, total_norm: Tensor,
                          foreach: Optional[bool] = None) -> None:
    """Scales every gradient in place by ``min(1, max_norm / (total_norm + 1e-6))``, PyTorch's
    clipping coefficient, given the total norm (from :func:`get_total_norm`)."""
    coefficient = min(1.0, float(max_norm) / (float(total_norm.item()) + 1e-6))
    with no_grad():
        for p in _listed(parameters):
            if p.grad is not None:
                p.grad.mul_(coefficient)


def clip_grad_norm(parameters: Tensors, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Optional[bool] = None) -> Tensor:
    """The older name of :func:`clip_grad_norm_`."""
    grads = [p.grad for p in _listed(parameters) if p.grad is not None]
    if error_if_nonfinite:
        get_total_norm(grads, norm_type, True)
    return clip_grad_norm_(parameters, max_norm, norm_type)


def skip_init(module_cls: Any, *args: Any, **kwargs: Any) -> Module:
    """The module ``module_cls(*args, **kwargs)``; PyTorch skips the parameter initialisation
    here, which costs little in ferrograd, so the module is constructed (and initialised) as
    usual. ``device`` is applied after construction."""
    device = kwargs.pop("device", None)
    module = module_cls(*args, **kwargs)
    return module.to(device) if device is not None else module


def convert_conv2d_weight_memory_format(module: Module, memory_format: Any) -> Module:
    """Makes every 2-d convolution in ``module`` compute in ``memory_format`` (channels-last
    convolutions on a GPU read and write NHWC in place); returns ``module``."""
    from ..conv import Conv2d, ConvTranspose2d

    for layer in module.modules():
        if isinstance(layer, (Conv2d, ConvTranspose2d)):
            layer.to(memory_format=memory_format)
    return module
