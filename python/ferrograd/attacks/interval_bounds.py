"""Interval bound propagation (IBP; Gowal et al., 2018): certified L∞ robustness. The box of
inputs within ε of ``x`` (and within the input bounds) is pushed through the network layer by
layer as a centre and a radius: an affine layer maps the centre and multiplies the radius by its
weights' magnitudes (exact for that layer), a monotone activation or pooling maps the box's two
corners. The result bounds every logit over the whole box, so a sample whose true class provably
beats every other class at every point of the box is certified: no attack within ε can change
its prediction.

The last linear layer is folded into the margins ``z_y - z_j`` before its radius is taken (the
"elision" of the paper), which bounds the margins directly and much more tightly than the
difference of two logit bounds. Every bound is composed of differentiable ops, so
:func:`interval_loss` trains for certified robustness (IBP training) in a user's loop.

Supported layers: ``Sequential`` (nested), ``Linear``, ``Conv2d``, ``Normalize``, batch norms in
eval mode, ``Flatten`` / ``Unflatten`` / ``Identity`` / ``Dropout`` (eval), the monotone
activations (ReLU, LeakyReLU with a non-negative slope, ReLU6, Hardtanh, Sigmoid, Tanh, ELU,
Softplus) and max / average pooling; any other layer raises, naming it."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from .._core import Tensor
from .. import functional as F
from .. import nn
from ..autograd import no_grad
from ..tensor_methods import _host

Box = tuple[Tensor, Tensor]  # (centre, radius)

_MONOTONE = (nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.Sigmoid, nn.Tanh, nn.ELU, nn.Softplus, nn.MaxPool2d)
_SHAPE_ONLY = (nn.Flatten, nn.Unflatten, nn.Identity, nn.Dropout)
_POSITIVE_LINEAR = (nn.AvgPool2d, nn.AdaptiveAvgPool2d)


def _layers(model: Any) -> list[Any]:
    """The model's layers in order, nested Sequentials flattened."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"interval bounds: argument `model` expected an nn.Sequential of supported layers, got "
                        f"{type(model).__name__}")
    out: list[Any] = []
    for layer in model:
        out.extend(_layers(layer) if isinstance(layer, nn.Sequential) else [layer])
    return out


def _through(layer: Any, box: Box) -> Box:
    """The box after ``layer``."""
    centre, radius = box
    if isinstance(layer, nn.Linear):
        return layer(centre), F.linear(radius, layer.weight.abs())
    if isinstance(layer, nn.Conv2d):
        return layer(centre), F.conv2d(radius, layer.weight.abs(), None, layer.stride, layer.padding, layer.dilation,
                                       layer.groups)
    if isinstance(layer, nn.Normalize):
        return layer(centre), radius / layer._stats(radius)[1]
    if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if layer.training or layer.running_var is None:
            raise ValueError(f"interval bounds: {type(layer).__name__} must be in eval mode with running statistics "
                             f"(call model.eval())")
        scale = (layer.running_var + layer.eps).rsqrt()
        if layer.weight is not None:
            scale = scale * layer.weight.abs()
        return layer(centre), radius * scale.reshape([-1] + [1] * (radius.ndim - 2))
    if isinstance(layer, _SHAPE_ONLY):
        if isinstance(layer, nn.Dropout) and layer.training:
            raise ValueError("interval bounds: Dropout must be in eval mode (call model.eval())")
        return layer(centre), layer(radius)
    if isinstance(layer, _POSITIVE_LINEAR):
        return layer(centre), layer(radius)
    if isinstance(layer, _MONOTONE) or (isinstance(layer, nn.LeakyReLU) and layer.negative_slope >= 0):
        low, high = layer(centre - radius), layer(centre + radius)
        return (low + high) * 0.5, (high - low) * 0.5
    raise NotImplementedError(f"interval bounds: no bound propagation for layer {type(layer).__name__}")


def _input_box(x: Tensor, eps: float, bounds: tuple[float, float]) -> Box:
    if not eps >= 0:
        raise ValueError(f"interval bounds: argument `eps` expected a value >= 0, got {eps}")
    low, high = (x - eps).clamp(bounds[0], bounds[1]), (x + eps).clamp(bounds[0], bounds[1])
    return (low + high) * 0.5, (high - low) * 0.5


def interval_bounds(model: Any, x: Tensor, eps: float, bounds: tuple[float, float] = (0.0, 1.0)) -> tuple[Tensor, Tensor]:
    """``(lower, upper)``: bounds on every output of ``model`` over all inputs within L∞ ``eps``
    of ``x`` and inside ``bounds`` (at ``eps = 0``, both are the output itself)."""
    box = _input_box(x, eps, bounds)
    for layer in _layers(model):
        box = _through(layer, box)
    centre, radius = box
    return centre - radius, centre + radius


def margin_lower_bounds(model: Any, x: Tensor, y: Tensor, eps: float,
                        bounds: tuple[float, float] = (0.0, 1.0)) -> Tensor:
    """``[B, C]`` lower bounds on the margins ``z_y - z_j`` over the L∞ ``eps``-box around each
    input (0 at ``j = y``); a sample is certified when every other entry is positive. A last
    ``Linear`` layer is folded into the margins before bounding (elision)."""
    layers = _layers(model)
    labels = y.long()
    if layers and isinstance(layers[-1], nn.Linear):
        box = _input_box(x, eps, bounds)
        for layer in layers[:-1]:
            box = _through(layer, box)
        centre, radius = box
        last = layers[-1]
        # Rows w_y - w_j of the margin map, one [C, features] block per sample.
        difference = last.weight[labels].unsqueeze(1) - last.weight.unsqueeze(0)
        margins = (difference * centre.unsqueeze(1)).sum(-1) - (difference.abs() * radius.unsqueeze(1)).sum(-1)
        if last.bias is not None:
            margins = margins + (last.bias[labels].unsqueeze(1) - last.bias.unsqueeze(0))
        return margins
    lower, upper = interval_bounds(model, x, eps, bounds)
    margins = lower.gather(1, labels.unsqueeze(1)) - upper
    return margins - margins * F.one_hot(labels, upper.shape[1]).float()


def interval_loss(model: Any, x: Tensor, y: Tensor, eps: float, bounds: tuple[float, float] = (0.0, 1.0)) -> Tensor:
    """IBP's training loss: the cross-entropy of the worst-case logits ``-margin_lower_bounds``
    (an upper bound on the cross-entropy anywhere in the box); differentiable in the model."""
    return F.cross_entropy(-margin_lower_bounds(model, x, y, eps, bounds), y.long())


class IntervalCertificate(NamedTuple):
    """:func:`certify_interval`'s result: per-sample flags and the accuracies they give."""

    certified: np.ndarray
    correct: np.ndarray
    certified_accuracy: float
    clean_accuracy: float


def certify_interval(model: Any, data: Any, eps: float, labels: Optional[np.ndarray] = None, batch_size: int = 256,
                     bounds: tuple[float, float] = (0.0, 1.0)) -> IntervalCertificate:
    """Which inputs of ``data`` (a Dataset, ``(X, y)`` arrays, or ``X`` with ``labels``) are
    certified robust at L∞ ``eps`` by interval bounds (every margin's lower bound positive), with
    the certified and clean accuracies. The model runs in eval mode, without gradients."""
    return certify_with("certify_interval", margin_lower_bounds, model, data, eps, labels, batch_size, bounds)


def certify_with(op: str, margins: Callable[..., Tensor], model: Any, data: Any, eps: float,
                 labels: Optional[np.ndarray], batch_size: int, bounds: tuple[float, float]) -> IntervalCertificate:
    """The certificate that the margin bounds ``margins(model, x, y, eps, bounds)`` give on
    ``data``, batch by batch, with the model in eval mode and without gradients."""
    from ..training.inputs import as_dataset

    ds = as_dataset((data, labels) if isinstance(data, np.ndarray) else data, "data", op)
    was_training = model.training
    model.eval()
    certified, correct = [], []
    device = next((p.device for p in model.parameters()), "cpu")
    try:
        with no_grad():
            for start in range(0, len(ds), batch_size):
                inputs, targets = ds.get_batch(list(range(start, min(start + batch_size, len(ds)))))
                x = Tensor.from_numpy(np.asarray(inputs, np.float32)).to(device)
                y = Tensor.from_numpy(np.asarray(targets, np.int64)).to(device)
                bound = _host(margins(model, x, y, eps, bounds))
                others = np.ones_like(bound, dtype=bool)
                others[np.arange(len(bound)), np.asarray(targets)] = False
                certified.append(np.where(others, bound > 0, True).all(1))
                correct.append(_host(model(x)).argmax(1) == np.asarray(targets))
    finally:
        model.train(was_training)
    flags = np.concatenate(certified) if certified else np.zeros(0, bool)
    right = np.concatenate(correct) if correct else np.zeros(0, bool)
    return IntervalCertificate(flags, right, float(flags.mean()) if len(flags) else 0.0,
                               float(right.mean()) if len(right) else 0.0)
