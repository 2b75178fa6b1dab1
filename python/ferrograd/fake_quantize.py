"""Fake quantization (``torch.fake_quantize_per_tensor_affine`` / ``_per_channel_affine``): values
rounded to an integer grid and back in floating point, the building block of quantization-aware
training. The forward pass computes ``(clamp(round(x / scale) + zero_point, qmin, qmax) -
zero_point) * scale`` (rounding half to even, with ``1 / scale`` in float32, as PyTorch); the
backward pass is the straight-through estimator: the gradient passes where the rounded value lies
within ``[qmin, qmax]`` and is zero where it was clamped."""

from __future__ import annotations

import numpy as np

from ._core import Tensor
from .autograd import no_grad


def _fake_quantize(x: Tensor, inv_scale: Tensor, scale: Tensor, zero_point: Tensor, quant_min: int,
                   quant_max: int) -> Tensor:
    if not quant_min <= quant_max:
        raise ValueError(f"fake_quantize: expected quant_min <= quant_max, got {quant_min} and {quant_max}")
    with no_grad():
        grid = (x.detach() * inv_scale).round() + zero_point
        inside = ((grid >= float(quant_min)) & (grid <= float(quant_max))).float()
        values = (grid.clamp(float(quant_min), float(quant_max)) - zero_point) * scale
    # Forward: the fake-quantized values; backward: the gradient through the mask.
    return values + (x - x.detach()) * inside


def fake_quantize_per_tensor_affine(input: Tensor, scale: float, zero_point: int, quant_min: int,
                                    quant_max: int) -> Tensor:
    """``input`` rounded to the grid ``scale * (k - zero_point)``, ``k`` in ``[quant_min, quant_max]``."""
    if not scale > 0:
        raise ValueError(f"fake_quantize_per_tensor_affine: argument `scale` expected a value > 0, got {scale}")
    inv = float(np.float32(1.0) / np.float32(scale))
    device = str(input.device)
    const = lambda v: Tensor.from_numpy(np.array(v, dtype=np.float32)).to(device)  # noqa: E731
    return _fake_quantize(input, const(inv), const(scale), const(float(zero_point)), quant_min, quant_max)


def fake_quantize_per_channel_affine(input: Tensor, scale: Tensor, zero_point: Tensor, axis: int, quant_min: int,
                                     quant_max: int) -> Tensor:
    """Per-channel fake quantization: ``scale`` and ``zero_point`` hold one value per index of
    ``input``'s axis ``axis``."""
    if not -input.ndim <= axis < input.ndim:
        raise ValueError(f"fake_quantize_per_channel_affine: argument `axis` expected an axis of a {input.ndim}-d "
                         f"input, got {axis}")
    axis %= input.ndim
    s = np.asarray(scale.detach().numpy(), dtype=np.float32).reshape(-1)
    z = np.asarray(zero_point.detach().numpy(), dtype=np.float32).reshape(-1)
    if s.shape != (input.shape[axis],) or z.shape != s.shape or not (s > 0).all():
        raise ValueError(f"fake_quantize_per_channel_affine: expected {input.shape[axis]} positive scales and "
                         f"zero points, got {s.tolist()} and {z.tolist()}")
    shape = [1] * input.ndim
    shape[axis] = int(input.shape[axis])
    device = str(input.device)
    const = lambda v: Tensor.from_numpy(np.ascontiguousarray(v.reshape(shape))).to(device)  # noqa: E731
    return _fake_quantize(input, const(np.float32(1.0) / s), const(s), const(z), quant_min, quant_max)
