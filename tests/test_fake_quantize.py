"""Fake quantization: values on the integer grid (half to even, float32 reciprocal scale) and the
straight-through gradient, against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg


def _reference(x: np.ndarray, scale: np.ndarray, zero: np.ndarray, qmin: int, qmax: int) -> tuple[np.ndarray, np.ndarray]:
    grid = np.round(x * (np.float32(1.0) / scale.astype(np.float32))) + zero
    values = (np.clip(grid, qmin, qmax) - zero) * scale
    return values.astype(np.float32), ((grid >= qmin) & (grid <= qmax)).astype(np.float32)


def test_per_tensor_values_and_straight_through_gradient() -> None:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 5, 6)) * 3).astype(np.float32)
    x[0, 0, :4] = [0.25, 0.75, -0.25, 1.25]  # halves of the grid: rounded to even
    xt = fg.tensor(x, requires_grad=True)
    out = fg.fake_quantize_per_tensor_affine(xt, 0.5, 3, -8, 7)
    values, mask = _reference(x, np.float32(0.5), np.float32(3), -8, 7)
    np.testing.assert_array_equal(out.detach().numpy(), values)
    np.testing.assert_array_equal(out.detach().numpy()[0, 0, :4], [0.0, 1.0, -0.0, 1.0])
    w = rng.standard_normal(x.shape).astype(np.float32)
    (out * fg.tensor(w)).sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), w * mask)
    assert 0 < mask.mean() < 1  # some values clamped, some not


def test_per_channel_values_and_gradient() -> None:
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((3, 5, 4)) * 4).astype(np.float32)
    scale = np.array([0.1, 0.3, 0.05, 1.0, 0.7], np.float32)
    zero = np.array([0, 2, -1, 5, 0], np.float32)
    xt = fg.tensor(x, requires_grad=True)
    out = fg.fake_quantize_per_channel_affine(xt, fg.tensor(scale), fg.tensor(zero), 1, -16, 15)
    values, mask = _reference(x, scale.reshape(1, 5, 1), zero.reshape(1, 5, 1), -16, 15)
    np.testing.assert_array_equal(out.detach().numpy(), values)
    out.sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), mask)
    with pytest.raises(ValueError, match="positive scales"):
        fg.fake_quantize_per_channel_affine(xt, fg.tensor(scale[:4]), fg.tensor(zero[:4]), 1, -16, 15)
    with pytest.raises(ValueError, match="scale"):
        fg.fake_quantize_per_tensor_affine(xt, 0.0, 0, -8, 7)
