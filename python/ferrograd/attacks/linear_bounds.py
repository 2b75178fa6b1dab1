"""Linear-relaxation bounds (CROWN-IBP; Zhang et al., 2018 and 2020): tighter certificates than
interval bounds for networks of affine layers and ReLUs. Interval bound propagation supplies the
bounds of every ReLU's input; the margins ``z_y - z_j`` are then bounded by propagating a linear
function backward from the output: through an affine layer it is composed with the layer (its
weights' transpose, computed as the layer's vector-Jacobian product, so convolutions, batch norms
in eval mode and reshapes need no special code), and through a ReLU whose input may change sign
each coefficient takes the linear lower or upper bound of the ReLU on that input's interval (the
chord ``u (z - l) / (u - l)`` above; below, ``z`` or 0, whichever is closer to the ReLU). At the
input the linear function is minimised over the ε-box in closed form.

Supported layers: those of :mod:`~ferrograd.attacks.interval_bounds` whose maps are affine
(``Linear``, ``Conv2d``, ``Normalize``, batch norms in eval mode, average pooling, reshapes and
eval-mode dropout) and ``ReLU``; others raise, naming the layer."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._core import Tensor
from .. import nn
from ..autograd import enable_grad, grad
from .interval_bounds import IntervalCertificate, _input_box, _layers, _through, certify_with

_AFFINE = (nn.Linear, nn.Conv2d, nn.Normalize, nn.BatchNorm1d, nn.BatchNorm2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
           nn.Flatten, nn.Unflatten, nn.Identity, nn.Dropout)


def _backward_through_affine(layer: Any, coefficients: Tensor, in_shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """``(coefficients · W, coefficients · b)`` for the affine ``layer`` (``x -> W x + b``):
    ``coefficients`` ``[B, S, *out]``, the composed ones ``[B, S, *in]``, the constant ``[B, S]``."""
    batch, specs = coefficients.shape[0], coefficients.shape[1]
    flat = coefficients.reshape(batch * specs, *coefficients.shape[2:])
    with enable_grad():
        zero = Tensor.from_numpy(np.zeros((batch * specs, *in_shape), np.float32)).to(coefficients.device)
        zero.requires_grad_(True)
        offset = layer(zero)
        (weights,) = grad([(offset * flat).sum()], [zero], create_graph=coefficients.requires_grad or any(
            p.requires_grad for p in layer.parameters()))
    assert weights is not None  # the map is affine in `zero`, so its gradient exists
    constant = (offset * flat).reshape(batch, specs, -1).sum(-1)
    return weights.reshape(batch, specs, *in_shape), constant


def crown_margin_lower_bounds(model: Any, x: Tensor, y: Tensor, eps: float,
                              bounds: tuple[float, float] = (0.0, 1.0)) -> Tensor:
    """``[B, C]`` lower bounds on ``z_y - z_j`` over the L∞ ``eps``-box around each input (0 at
    ``j = y``), by CROWN-IBP; a sample is certified when every other entry is positive."""
    layers = _layers(model)
    for layer in layers:
        if not isinstance(layer, _AFFINE + (nn.ReLU,)):
            raise NotImplementedError(f"linear bounds: no linear relaxation for layer {type(layer).__name__}")
        if isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d, nn.Dropout)) and layer.training:
            raise ValueError(f"linear bounds: {type(layer).__name__} must be in eval mode (call model.eval())")
    # Forward: each layer's input box (interval bounds) and shape.
    boxes = [_input_box(x, eps, bounds)]
    for layer in layers:
        boxes.append(_through(layer, boxes[-1]))
    outputs = boxes[-1][0].shape[1]
    labels = y.long()
    eye = Tensor.from_numpy(np.eye(outputs, dtype=np.float32)).to(x.device)
    # The margin map C: row j is e_y - e_j, one [C, C] block per sample.
    coefficients = eye[labels].unsqueeze(1) - eye.unsqueeze(0)
    constant = coefficients.sum(-1) * 0
    for layer, (centre, radius) in zip(reversed(layers), reversed(boxes[:-1])):
        if isinstance(layer, nn.ReLU):
            lower, upper = centre - radius, centre + radius
            active, unstable = lower >= 0, (lower < 0) & (upper > 0)
            width = (upper - lower).clamp(min=1e-12)
            chord = upper / width
            slope_upper = active.float() + unstable.float() * chord
            intercept_upper = unstable.float() * (-chord * lower)
            slope_lower = active.float() + unstable.float() * (upper >= -lower).float()
            positive, negative = coefficients.clamp(min=0), coefficients.clamp(max=0)
            constant = constant + (negative * intercept_upper.unsqueeze(1)).reshape(*constant.shape, -1).sum(-1)
            coefficients = positive * slope_lower.unsqueeze(1) + negative * slope_upper.unsqueeze(1)
        else:
            coefficients, offset = _backward_through_affine(layer, coefficients, tuple(centre.shape[1:]))
            constant = constant + offset
    centre, radius = boxes[0]
    linear = (coefficients * centre.unsqueeze(1)).reshape(*constant.shape, -1).sum(-1)
    spread = (coefficients.abs() * radius.unsqueeze(1)).reshape(*constant.shape, -1).sum(-1)
    return linear - spread + constant


def certify_crown(model: Any, data: Any, eps: float, labels: Optional[np.ndarray] = None, batch_size: int = 128,
                  bounds: tuple[float, float] = (0.0, 1.0)) -> IntervalCertificate:
    """:func:`~ferrograd.attacks.certify_interval` with CROWN-IBP margins: which inputs are
    certified robust at L∞ ``eps``, with the certified and clean accuracies (model in eval mode)."""
    return certify_with("certify_crown", crown_margin_lower_bounds, model, data, eps, labels, batch_size, bounds)


def crown_ibp_loss(model: Any, x: Tensor, y: Tensor, eps: float, beta: float = 1.0,
                   bounds: tuple[float, float] = (0.0, 1.0)) -> Tensor:
    """CROWN-IBP's training loss (Zhang et al., 2020): the cross-entropy of the worst-case logits
    from the margin bounds ``beta * CROWN-IBP + (1 - beta) * IBP`` (``beta`` decays from 1 to 0
    over training in the paper); differentiable in the model."""
    from .. import functional as F
    from .interval_bounds import margin_lower_bounds

    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"crown_ibp_loss: argument `beta` expected a value in [0, 1], got {beta}")
    margins = margin_lower_bounds(model, x, y, eps, bounds)
    if beta > 0:
        margins = beta * crown_margin_lower_bounds(model, x, y, eps, bounds) + (1 - beta) * margins
    return F.cross_entropy(-margins, y.long())
