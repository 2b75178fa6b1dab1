"""Fractional and adaptive max pooling: PyTorch's window placement (given its random samples), values,
indices and gradients, against a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn


def _starts(u: float, size: int, out: int, k: int) -> list[int]:
    """PyTorch's window starts: floor((i + u) alpha) - floor(u alpha), alpha in float32, last flush."""
    if out == 1:
        return [size - k]
    alpha = np.float32(size - k) / np.float32(out - 1)
    return [int(np.float32((i + np.float32(u)) * alpha)) - int(np.float32(np.float32(u) * alpha))
            for i in range(out - 1)] + [size - k]


def _reference(x: np.ndarray, k: tuple, out: tuple, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and plane indices by looping over windows (2-D samples: columns first, then rows)."""
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    rank = len(k)
    values = np.zeros((n, c, *out), np.float32)
    indices = np.zeros((n, c, *out), np.int64)
    for b in range(n):
        for ch in range(c):
            u = samples[b, ch][[1, 0]] if rank == 2 else samples[b, ch]
            starts = [_starts(u[a], spatial[a], out[a], k[a]) for a in range(rank)]
            for o in np.ndindex(*out):
                window = tuple(slice(starts[a][o[a]], starts[a][o[a]] + k[a]) for a in range(rank))
                block = x[(b, ch, *window)]
                first = np.unravel_index(np.argmax(block), block.shape)
                at = tuple(starts[a][o[a]] + first[a] for a in range(rank))
                values[(b, ch, *o)] = block[first]
                indices[(b, ch, *o)] = np.ravel_multi_index(at, spatial)
    return values, indices


@pytest.mark.parametrize("k,out,shape", [((2, 2), (5, 4), (2, 3, 11, 9)), ((3, 2), (7, 6), (1, 2, 10, 8)),
                                         ((2, 3, 2), (4, 5, 6), (1, 2, 7, 8, 9))])
def test_fractional_max_pool_equals_the_reference(k: tuple, out: tuple, shape: tuple) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    samples = rng.random((shape[0], shape[1], len(k))).astype(np.float32)
    pool = F.fractional_max_pool2d if len(k) == 2 else F.fractional_max_pool3d
    xt = fg.tensor(x, requires_grad=True)
    values, indices = pool(xt, k, output_size=out, return_indices=True, _random_samples=fg.tensor(samples))
    ref_values, ref_indices = _reference(x, k, out, samples)
    np.testing.assert_array_equal(values.detach().numpy(), ref_values)
    np.testing.assert_array_equal(indices.numpy(), ref_indices)
    # The gradient of the sum counts, at each input position, the windows whose maximum it is.
    values.sum().backward()
    counts = np.zeros(x.shape[:2] + (int(np.prod(x.shape[2:])),), np.float32)
    for b in range(shape[0]):
        for ch in range(shape[1]):
            np.add.at(counts[b, ch], ref_indices[b, ch].ravel(), 1.0)
    np.testing.assert_array_equal(xt.grad.numpy(), counts.reshape(x.shape))


def test_fractional_max_pool_layers_ratios_draws_and_errors() -> None:
    fg.manual_seed(0)
    x = fg.randn(2, 3, 12, 10)
    layer = nn.FractionalMaxPool2d(3, output_ratio=0.5)
    first = layer(x)
    assert tuple(first.shape) == (2, 3, 6, 5)
    assert not np.array_equal(first.numpy(), layer(x).numpy())  # fresh windows on every call
    fg.manual_seed(5)
    a = layer(x)
    fg.manual_seed(5)
    np.testing.assert_array_equal(a.numpy(), layer(x).numpy())  # seeded by the global generator
    assert tuple(nn.FractionalMaxPool2d(2, output_size=4)(x[0]).shape) == (3, 4, 4)  # unbatched
    assert tuple(nn.FractionalMaxPool3d(2, output_ratio=(0.5, 0.5, 0.5))(fg.randn(1, 2, 8, 8, 8)).shape) == (1, 2, 4, 4, 4)
    with pytest.raises(ValueError, match="exactly one of"):
        nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="does not fit"):
        F.fractional_max_pool2d(x, 3, output_size=11)
    with pytest.raises(ValueError, match="_random_samples"):
        F.fractional_max_pool2d(x, 2, output_size=4, _random_samples=fg.rand(2, 3, 3))


def _adaptive_reference(x: np.ndarray, out: tuple) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive windows, floor(i n / o) to ceil((i + 1) n / o), first maximum row-major."""
    n, c, *spatial = x.shape
    values = np.zeros((n, c, *out), np.float32)
    indices = np.zeros((n, c, *out), np.int64)
    for o in np.ndindex(*out):
        window = tuple(slice((o[a] * spatial[a]) // out[a], -(-(o[a] + 1) * spatial[a] // out[a]))
                       for a in range(len(out)))
        for b in range(n):
            for ch in range(c):
                block = x[(b, ch, *window)]
                first = np.unravel_index(np.argmax(block), block.shape)
                values[(b, ch, *o)] = block[first]
                indices[(b, ch, *o)] = np.ravel_multi_index(tuple(w.start + f for w, f in zip(window, first)), spatial)
    return values, indices


@pytest.mark.parametrize("shape,out", [((2, 3, 13), (5,)), ((2, 3, 11, 9), (4, 5)), ((2, 3, 11, 9), (11, 2)),
                                       ((1, 2, 7, 8, 9), (3, 5, 4))])
def test_adaptive_max_pool_returns_pytorchs_indices(shape: tuple, out: tuple) -> None:
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x[(0, 0) + (slice(0, 3),) * (len(shape) - 2)] = 5.0  # ties: the first maximum wins
    pool = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}[len(out)]
    size = out[0] if len(out) == 1 else out
    values, indices = pool(fg.tensor(x), size, return_indices=True)
    ref_values, ref_indices = _adaptive_reference(x, out)
    np.testing.assert_array_equal(values.numpy(), ref_values)
    np.testing.assert_array_equal(indices.numpy(), ref_indices)
    layer = {1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d, 3: nn.AdaptiveMaxPool3d}[len(out)](size, return_indices=True)
    single_values, single_indices = layer(fg.tensor(x[0]))
    np.testing.assert_array_equal(single_indices.numpy(), ref_indices[0])
    np.testing.assert_array_equal(single_values.numpy(), ref_values[0])
