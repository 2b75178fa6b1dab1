"""One sample without its batch axis, as PyTorch allows: every layer that takes one gives the
batched result's first row, forward and backward."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn

LAYERS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "conv1d": (lambda: nn.Conv1d(3, 4, 3, padding=1), (3, 10)),
    "conv_transpose1d": (lambda: nn.ConvTranspose1d(3, 4, 3, stride=2), (3, 10)),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3), (3, 8, 8)),
    "conv3d": (lambda: nn.Conv3d(3, 4, 3), (3, 5, 5, 5)),
    "max_pool1d": (lambda: nn.MaxPool1d(2), (3, 10)),
    "avg_pool1d": (lambda: nn.AvgPool1d(3, stride=2, padding=1), (3, 10)),
    "max_pool3d": (lambda: nn.MaxPool3d(2), (3, 4, 4, 4)),
    "avg_pool3d": (lambda: nn.AvgPool3d(2), (3, 4, 4, 4)),
    "instance_norm1d": (lambda: nn.InstanceNorm1d(3, affine=True), (3, 10)),
    "instance_norm2d": (lambda: nn.InstanceNorm2d(3, affine=True), (3, 8, 8)),
    "instance_norm3d": (lambda: nn.InstanceNorm3d(3), (3, 4, 4, 4)),
    "pixel_shuffle": (lambda: nn.PixelShuffle(2), (8, 4, 4)),
    "pixel_unshuffle": (lambda: nn.PixelUnshuffle(2), (2, 4, 4)),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_an_unbatched_sample_gives_the_batched_result(name: str) -> None:
    make, shape = LAYERS[name]
    fg.manual_seed(0)
    layer = make()
    x = np.random.default_rng(1).random(shape, dtype=np.float32)
    single = fg.tensor(x, requires_grad=True)
    batched = fg.tensor(x[None], requires_grad=True)
    out, ref = layer(single), layer(batched)
    assert tuple(out.shape) == tuple(ref.shape[1:])
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy()[0])
    weights = np.random.default_rng(2).random(tuple(out.shape), dtype=np.float32)
    (out * fg.tensor(weights)).sum().backward()
    (ref * fg.tensor(weights[None])).sum().backward()
    np.testing.assert_allclose(single.grad.numpy(), batched.grad.numpy()[0], rtol=1e-6, atol=1e-7)


def test_max_pool1d_returns_unbatched_indices_and_pixel_shuffle_keeps_leading_axes() -> None:
    x = fg.tensor(np.random.default_rng(0).random((3, 10), dtype=np.float32))
    values, indices = fg.functional.max_pool1d(x, 2, return_indices=True)
    ref_values, ref_indices = fg.functional.max_pool1d(x.unsqueeze(0), 2, return_indices=True)
    np.testing.assert_array_equal(values.numpy(), ref_values.numpy()[0])
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy()[0])
    many = np.random.default_rng(1).random((2, 3, 8, 4, 4), dtype=np.float32)
    shuffled = fg.functional.pixel_shuffle(fg.tensor(many), 2)
    per_group = fg.functional.pixel_shuffle(fg.tensor(many.reshape(6, 8, 4, 4)), 2)
    np.testing.assert_array_equal(shuffled.numpy(), per_group.numpy().reshape(2, 3, 2, 8, 8))


def test_inputs_of_other_ranks_still_name_both_accepted_shapes() -> None:
    with pytest.raises(ValueError, match=r"\[N, C, L\] or \[C, L\]"):
        nn.Conv1d(3, 4, 3)(fg.zeros(10))
    with pytest.raises(ValueError, match=r"or 3 unbatched"):
        nn.InstanceNorm2d(3)(fg.zeros(3, 8))
    with pytest.raises(ValueError, match="3 channels"):
        nn.InstanceNorm2d(3)(fg.zeros(4, 8, 8))
