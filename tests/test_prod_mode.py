"""``prod``, ``cumprod`` and ``mode`` (plus ``std_mean`` / ``var_mean``): values against numpy
(float64 products), gradients against the exact products of the other entries (zeros included),
and PyTorch's documented choices for ``mode`` (smallest of the most frequent values, index of its
last occurrence, NaN counted once each)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg


def _others_product(x: np.ndarray, axis: int) -> np.ndarray:
    """d prod / d x_i along ``axis``: the product of every other entry, in float64, by loops."""
    moved = np.moveaxis(x.astype(np.float64), axis, -1)
    out = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):
        row = moved[index]
        for i in range(len(row)):
            out[index + (i,)] = np.prod(np.delete(row, i))
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("shape,dim", [((7,), 0), ((3, 5), 1), ((4, 1, 6), 0), ((2, 3, 9), -1), ((2, 8, 3), 1)])
def test_prod_matches_numpy_with_its_gradient(rng: np.random.Generator, shape: tuple[int, ...], dim: int) -> None:
    x = rng.uniform(0.5, 1.5, shape).astype(np.float32) * rng.choice([-1, 1], shape).astype(np.float32)
    t = fg.tensor(x, requires_grad=True)
    out = t.prod(dim)
    np.testing.assert_allclose(out.detach().numpy(), np.prod(x.astype(np.float64), axis=dim), rtol=2e-6)
    weights = rng.normal(size=out.shape).astype(np.float32)
    (out * fg.tensor(weights)).sum().backward()
    expected = _others_product(x, dim) * np.expand_dims(weights, dim)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=2e-6, atol=1e-7)
    assert t.prod(dim, keepdim=True).shape == tuple(1 if i == dim % len(shape) else s for i, s in enumerate(shape))


def test_prod_of_all_entries_and_gradient_with_zeros() -> None:
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.5, -2.0, 4.0]], dtype=np.float32)
    t = fg.tensor(x, requires_grad=True)
    t.prod(1).sum().backward()
    # One zero in a row: only the zero gets a gradient (the others' product); two zeros: none.
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 6, 0], [0, 0, 0], [-8, 6, -3]])
    t.grad = None
    whole = t.prod()
    assert whole.shape == () and whole.item() == 0.0
    y = fg.tensor([1.5, -2.0, 4.0, 0.5, 3.0], requires_grad=True)
    y.prod().backward()
    np.testing.assert_allclose(y.grad.numpy(), _others_product(y.detach().numpy(), 0), rtol=1e-6)
    assert fg.prod(y).item() == pytest.approx(-18.0)


def test_prod_dtypes_and_empty() -> None:
    ints = fg.tensor([[2, 3, 4], [5, 6, 7]])
    assert ints.prod().dtype == "int64" and ints.prod().item() == 5040
    np.testing.assert_array_equal(ints.prod(0).numpy(), [10, 18, 28])
    assert fg.tensor([True, True]).prod().dtype == "int64" and fg.tensor([True, False]).prod().item() == 0
    assert fg.tensor([2, 3], dtype="int32").prod(dtype="float32").dtype == "float32"
    assert fg.zeros(0).prod().item() == 1.0
    np.testing.assert_array_equal(fg.zeros(2, 0).prod(1).numpy(), [1.0, 1.0])
    assert fg.tensor(3.0).prod(0).item() == 3.0
    with pytest.raises(IndexError, match=r"prod: argument `dim` expected a value in \[-2, 1\], got 2"):
        fg.ones(2, 3).prod(2)


def test_mode_follows_pytorch_choices() -> None:
    x = fg.tensor([[3.0, 1, 3, 1, 2], [5, 5, 4, 4, 4], [2, 7, 7, 2, 9]])
    values, indices = x.mode(1)
    # Row 0: 1 and 3 tie, the smaller wins, at its last index 3; row 2 likewise 2 at index 3.
    np.testing.assert_array_equal(values.numpy(), [1, 4, 2])
    np.testing.assert_array_equal(indices.numpy(), [3, 4, 3])
    nan_row = fg.tensor([1.0, float("nan"), float("nan"), 2.0]).mode(0)
    assert (nan_row.values.item(), nan_row.indices.item()) == (1.0, 0)
    ints = fg.tensor([[4, 1, 1], [2, 2, 0]]).mode(1)
    assert ints.values.dtype == "int64" and ints.values.tolist() == [1, 2] and ints.indices.tolist() == [2, 1]
    kept = fg.mode(x, 0, keepdim=True)
    assert kept.values.shape == (1, 5)
    with pytest.raises(ValueError, match="mode: expected a non-empty dimension"):
        fg.zeros(2, 0).mode(1)


def test_mode_matches_a_counting_loop_and_passes_gradients(rng: np.random.Generator) -> None:
    x = rng.integers(0, 4, (6, 5, 11)).astype(np.float32)
    t = fg.tensor(x, requires_grad=True)
    values, indices = t.mode(1)
    for i in range(6):
        for k in range(11):
            column = x[i, :, k]
            counts = {v: int((column == v).sum()) for v in column}
            best = min(v for v in counts if counts[v] == max(counts.values()))
            assert values.detach().numpy()[i, k] == best
            assert indices.numpy()[i, k] == np.nonzero(column == best)[0].max()
    values.sum().backward()
    expected = np.zeros_like(x)
    np.put_along_axis(expected, indices.numpy()[:, None, :], 1.0, axis=1)
    np.testing.assert_array_equal(t.grad.numpy(), expected)
    half = fg.tensor([1.0, 1.0, 2.0]).bfloat16().mode()
    assert half.values.dtype == "bfloat16" and half.values.item() == 1.0 and half.indices.item() == 1


def _cumprod_gradient(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """d sum(w * cumprod(x)) / d x along the last axis, by loops in float64 without division:
    x_i appears in every prefix product k >= i, times the product of the other prefix entries."""
    out = np.zeros(x.shape)
    for index in np.ndindex(x.shape[:-1]):
        row, w = x[index].astype(np.float64), weights[index]
        for i in range(len(row)):
            out[index + (i,)] = sum(w[k] * np.prod(np.delete(row[:k + 1], i)) for k in range(i, len(row)))
    return out


def test_cumprod_matches_numpy_with_exact_gradients_through_zeros(rng: np.random.Generator) -> None:
    x = rng.uniform(0.5, 1.5, (3, 11)).astype(np.float32) * rng.choice([-1, 1], (3, 11)).astype(np.float32)
    x[1, 4] = 0.0
    x[2, 2] = x[2, 7] = 0.0
    t = fg.tensor(x, requires_grad=True)
    out = t.cumprod(1)
    np.testing.assert_allclose(out.detach().numpy(), np.cumprod(x.astype(np.float64), axis=1), rtol=2e-6, atol=1e-7)
    weights = rng.normal(size=x.shape).astype(np.float32)
    (out * fg.tensor(weights)).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), _cumprod_gradient(x, weights), rtol=1e-5, atol=1e-6)
    columns = fg.cumprod(fg.tensor(x), 0).numpy()
    np.testing.assert_allclose(columns, np.cumprod(x.astype(np.float64), axis=0), rtol=2e-6, atol=1e-7)


def test_std_mean_and_var_mean(rng: np.random.Generator) -> None:
    x = rng.normal(size=(4, 6)).astype(np.float32)
    std, mean = fg.std_mean(fg.tensor(x), dim=1)
    np.testing.assert_allclose(std.numpy(), x.astype(np.float64).std(1, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(mean.numpy(), x.astype(np.float64).mean(1), rtol=1e-5, atol=1e-7)
    var, mean = fg.var_mean(fg.tensor(x), dim=0, correction=0, keepdim=True)
    np.testing.assert_allclose(var.numpy(), x.astype(np.float64).var(0, keepdims=True), rtol=1e-5)
    assert mean.shape == (1, 6)
