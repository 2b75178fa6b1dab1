"""``ferrograd.tensor_torch_extras``: PyTorch's in-place forms (``masked_fill_``, ``index_put_``,
``scatter_add_``, ``exp_`` ...), ``unique`` / ``bincount`` / ``searchsorted`` / ``bucketize`` /
``histc`` (against numpy), the differentiable order statistics ``quantile`` / ``kthvalue`` /
``median`` / ``cummax`` / ``cummin``, ``logcumsumexp`` and ``renorm`` (values and gradients against
JAX), ``aminmax``, ``randint_like`` and ``logspace``."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
from reference import check_op

NAN = math.nan


def _distinct(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Random float32 values without ties (a permutation scaled), so order statistics are unique."""
    n = int(np.prod(shape))
    return (rng.permutation(n).astype(np.float32) * 0.37 - n * 0.1 + rng.random(n).astype(np.float32) * 0.1
            ).reshape(shape)


# In-place forms.

def test_unary_in_place_methods_write_values_through_views(rng: np.random.Generator) -> None:
    x = rng.random((3, 4)).astype(np.float32) + 0.5
    cases = [("exp_", np.exp), ("log_", np.log), ("sqrt_", np.sqrt), ("abs_", np.abs), ("neg_", np.negative),
             ("sigmoid_", lambda v: 1 / (1 + np.exp(-v))), ("tanh_", np.tanh)]
    for name, reference in cases:
        t = fg.tensor(x.copy())
        row = t[1]
        assert getattr(t, name)() is t
        np.testing.assert_allclose(t.numpy(), reference(x), rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(row.numpy(), reference(x)[1], rtol=1e-6, err_msg=name)
    t = fg.tensor([-1.0, 2.0, -3.0])
    t.relu_()
    assert t.tolist() == [0.0, 2.0, 0.0]
    t = fg.tensor([1.0, 2.0, 3.0])
    assert t.pow_(2).tolist() == [1.0, 4.0, 9.0]
    t = fg.tensor([0.0, 10.0])
    t.lerp_(fg.tensor([10.0, 20.0]), 0.25)
    assert t.tolist() == [2.5, 12.5]


def test_a_view_sees_the_in_place_write_of_its_base() -> None:
    base = fg.zeros(2, 3)
    column = base[:, 1]
    base.masked_fill_(fg.tensor([[False, True, False], [False, True, True]]), 7.0)
    assert column.tolist() == [7.0, 7.0]
    # Writing into the view changes the base.
    column.add_(1.0)
    assert base.tolist() == [[0.0, 8.0, 0.0], [0.0, 8.0, 7.0]]
    view = base.t()
    view.index_fill_(0, fg.tensor([2]), -1.0)
    assert base.tolist() == [[0.0, 8.0, -1.0], [0.0, 8.0, -1.0]]


def test_masked_fill_accepts_a_zero_dim_value_and_index_fill_matches_numpy(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 5)).astype(np.float32)
    t = fg.tensor(x.copy())
    t.masked_fill_(t > 0, fg.tensor(0.5))
    np.testing.assert_array_equal(t.numpy(), np.where(x > 0, 0.5, x))
    expected = x.copy()
    expected[:, [0, 3]] = 2.0
    np.testing.assert_array_equal(fg.tensor(x).index_fill(1, fg.tensor([0, 3]), 2.0).numpy(), expected)
    t = fg.tensor(x.copy())
    assert t.index_fill_(-1, fg.tensor([3, 0]), 2.0) is t
    np.testing.assert_array_equal(t.numpy(), expected)


def test_index_put_sets_and_accumulates_like_numpy() -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    rows, cols = np.array([0, 2, 0]), np.array([1, 3, 1])
    vals = np.array([10.0, 20.0, 30.0], np.float32)
    t = fg.tensor(x.copy())
    t.index_put_((fg.tensor(rows), fg.tensor(cols)), fg.tensor(vals), accumulate=True)
    expected = x.copy()
    np.add.at(expected, (rows, cols), vals)
    np.testing.assert_array_equal(t.numpy(), expected)
    # Without accumulate: distinct positions are overwritten; a row index writes whole rows.
    t = fg.tensor(x.copy())
    t.index_put_((fg.tensor([1]),), fg.tensor(-1.0))
    expected = x.copy()
    expected[1] = -1.0
    np.testing.assert_array_equal(t.numpy(), expected)
    # Accumulating rows of values into whole rows, negative indices included.
    t = fg.tensor(x.copy())
    t.index_put_((fg.tensor([-1, 0, -1]),), fg.ones(3, 4), accumulate=True)
    expected = x.copy()
    np.add.at(expected, np.array([2, 0, 2]), 1.0)
    np.testing.assert_array_equal(t.numpy(), expected)


def test_index_put_accumulate_is_differentiable() -> None:
    x = fg.zeros(3, 2, requires_grad=True)
    v = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = x.index_put((fg.tensor([0, 2, 0]), fg.tensor([1, 0, 1])), v, accumulate=True)
    (out * fg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    assert x.grad is not None and v.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(v.grad.numpy(), [2.0, 5.0, 2.0])


def test_scatter_add_in_place_uses_the_leading_block_of_src() -> None:
    t = fg.zeros(3, 4)
    src = fg.tensor(np.arange(1, 13, dtype=np.float32).reshape(3, 4))
    index = fg.tensor([[0, 1, 2, 0], [2, 2, 1, 0]])
    assert t.scatter_add_(0, index, src) is t
    expected = np.zeros((3, 4), np.float32)
    for i in range(2):
        for j in range(4):
            expected[index.numpy()[i, j], j] += src.numpy()[i, j]
    np.testing.assert_array_equal(t.numpy(), expected)
    with pytest.raises(ValueError, match="scatter_add_: argument `index` expected a shape no larger than `src`"):
        t.scatter_add_(0, fg.tensor([[0, 0, 0, 0, 0]]), src)


def test_scatter_in_place_exists_and_writes() -> None:
    t = fg.zeros(2, 3)
    t.scatter_(1, fg.tensor([[2], [0]]), 5.0)
    assert t.tolist() == [[0.0, 0.0, 5.0], [5.0, 0.0, 0.0]]


def test_in_place_methods_refuse_a_leaf_that_requires_grad() -> None:
    w = fg.ones(3, requires_grad=True)
    for call in (lambda: w.exp_(), lambda: w.masked_fill_(w > 0, 0.0), lambda: w.pow_(2),
                 lambda: w.index_fill_(0, fg.tensor([0]), 1.0), lambda: w.lerp_(fg.zeros(3), 0.5),
                 lambda: w.index_put_((fg.tensor([0]),), fg.tensor(1.0))):
        with pytest.raises(RuntimeError, match="in-place updates are not recorded by autograd"):
            call()
    assert w.tolist() == [1.0, 1.0, 1.0]
    with fg.no_grad():
        w.exp_()
    np.testing.assert_allclose(w.detach().numpy(), np.exp(np.ones(3)), rtol=1e-6)


def test_in_place_refuses_a_float_result_in_an_integer_tensor() -> None:
    with pytest.raises(TypeError, match="exp_: the result's dtype float32 cannot be written into a tensor of dtype "
                                        "int64"):
        fg.tensor([1, 2]).exp_()


def test_detach_in_place_and_small_methods() -> None:
    w = fg.ones(2, requires_grad=True)
    assert w.detach_() is w and not w.requires_grad
    y = fg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach_: a non-leaf tensor cannot be detached in place"):
        y.detach_()
    t = fg.tensor([[1.5, 200.0]])
    assert t.ndimension() == 2
    assert t.byte().dtype == "uint8" and t.byte().tolist() == [[1, 200]]
    empty = t.new_empty(2, 3)
    assert list(empty.shape) == [2, 3] and empty.dtype == "float32"
    assert t.new_empty((4,), dtype="int64").dtype == "int64"
    with pytest.raises(TypeError, match="short: ferrograd has no int16 dtype"):
        t.short()


# Counting and searching.

def test_unique_matches_numpy(rng: np.random.Generator) -> None:
    x = rng.integers(-3, 4, (4, 5))
    values, inverse, counts = fg.unique(fg.tensor(x), return_inverse=True, return_counts=True)
    ref_values, ref_inverse, ref_counts = np.unique(x, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values.numpy(), ref_values)
    np.testing.assert_array_equal(inverse.numpy(), ref_inverse.reshape(x.shape))
    np.testing.assert_array_equal(counts.numpy(), ref_counts)
    assert inverse.dtype == "int64" and counts.dtype == "int64"
    rows = np.array([[1, 2], [0, 5], [1, 2]])
    np.testing.assert_array_equal(fg.unique(fg.tensor(rows), dim=0).numpy(), np.unique(rows, axis=0))


def test_bincount_matches_numpy(rng: np.random.Generator) -> None:
    x = rng.integers(0, 6, 30)
    w = rng.random(30).astype(np.float32)
    counts = fg.bincount(fg.tensor(x), minlength=9)
    assert counts.dtype == "int64"
    np.testing.assert_array_equal(counts.numpy(), np.bincount(x, minlength=9))
    np.testing.assert_allclose(fg.bincount(fg.tensor(x), fg.tensor(w)).numpy(), np.bincount(x, w), rtol=1e-6)
    with pytest.raises(ValueError, match="bincount: expected non-negative integers, got -1"):
        fg.bincount(fg.tensor([1, -1]))


def test_searchsorted_matches_numpy(rng: np.random.Generator) -> None:
    seq = np.sort(rng.integers(0, 10, 12)).astype(np.float32)
    values = rng.integers(-1, 12, (3, 4)).astype(np.float32)
    for kwargs, side in (({}, "left"), ({"right": True}, "right"), ({"side": "right"}, "right"),
                         ({"side": "left"}, "left")):
        out = fg.searchsorted(fg.tensor(seq), fg.tensor(values), **kwargs)
        assert out.dtype == "int64"
        np.testing.assert_array_equal(out.numpy(), np.searchsorted(seq, values, side=side))
    assert fg.searchsorted(fg.tensor(seq), 5.0).tolist() == int(np.searchsorted(seq, 5.0))
    assert fg.searchsorted(fg.tensor(seq), fg.tensor(values), out_int32=True).dtype == "int32"
    # Row-wise search.
    rows = np.sort(rng.random((3, 6)).astype(np.float32), axis=1)
    queries = rng.random((3, 2)).astype(np.float32)
    expected = np.stack([np.searchsorted(r, q) for r, q in zip(rows, queries)])
    np.testing.assert_array_equal(fg.searchsorted(fg.tensor(rows), fg.tensor(queries)).numpy(), expected)
    # sorter
    unsorted = np.array([3.0, 1.0, 2.0], np.float32)
    sorter = np.argsort(unsorted)
    out = fg.searchsorted(fg.tensor(unsorted), fg.tensor([2.5]), sorter=fg.tensor(sorter))
    assert out.tolist() == np.searchsorted(unsorted, [2.5], sorter=sorter).tolist()
    with pytest.raises(ValueError, match="searchsorted: arguments `side` and `right` disagree"):
        fg.searchsorted(fg.tensor(seq), fg.tensor(values), right=True, side="left")
    with pytest.raises(ValueError, match="searchsorted: argument `side` expected 'left' or 'right', got 'middle'"):
        fg.searchsorted(fg.tensor(seq), fg.tensor(values), side="middle")
    with pytest.raises(ValueError, match=r"searchsorted: argument `input` expected leading dimensions \[3\]"):
        fg.searchsorted(fg.tensor(rows), fg.tensor(queries[:2]))


def test_bucketize_follows_pytorch_boundaries() -> None:
    boundaries = fg.tensor([1, 3, 5, 7, 9])
    v = fg.tensor([[3, 6, 9], [3, 6, 9]])
    # PyTorch's documented example.
    assert fg.bucketize(v, boundaries).tolist() == [[1, 3, 4], [1, 3, 4]]
    assert fg.bucketize(v, boundaries, right=True).tolist() == [[2, 3, 5], [2, 3, 5]]
    with pytest.raises(ValueError, match=r"bucketize: argument `boundaries` expected a 1-D tensor, got shape \[1, 5\]"):
        fg.bucketize(v, boundaries.reshape(1, 5))


def test_histc_matches_numpy_histogram(rng: np.random.Generator) -> None:
    x = rng.standard_normal(200).astype(np.float32)
    out = fg.histc(fg.tensor(x), bins=7, min=-1.5, max=2.0)
    assert out.dtype == "float32"
    np.testing.assert_array_equal(out.numpy(), np.histogram(x, bins=7, range=(-1.5, 2.0))[0])
    # min == max: the data's range; values on the upper edge fall in the last bin.
    np.testing.assert_array_equal(fg.tensor(x).histc(5).numpy(),
                                  np.histogram(x.astype(np.float64), bins=5, range=(x.min(), x.max()))[0])
    assert fg.histc(fg.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3).tolist() == [0.0, 2.0, 1.0, 0.0]
    assert fg.histc(fg.tensor([2.0, 2.0]), bins=2).tolist() == [0.0, 2.0]
    with pytest.raises(ValueError, match="histc: argument `bins` expected a positive integer, got 0"):
        fg.histc(fg.tensor(x), bins=0)
    with pytest.raises(ValueError, match="histc: arguments `min` and `max` expected min <= max, got 2.0 and 1.0"):
        fg.histc(fg.tensor(x), min=2, max=1)


# Order statistics.

@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_matches_numpy(rng: np.random.Generator, interpolation: str) -> None:
    x = rng.standard_normal((4, 7)).astype(np.float32)
    q = np.array([0.0, 0.1, 0.5, 0.73, 1.0])
    t = fg.tensor(x)
    out = fg.quantile(t, fg.tensor(q.astype(np.float32)), dim=1, interpolation=interpolation)
    expected = np.quantile(x.astype(np.float64), q.astype(np.float32).astype(np.float64), axis=1,
                           method=interpolation)
    assert list(out.shape) == [5, 4]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    keep = t.quantile(0.3, dim=0, keepdim=True, interpolation=interpolation)
    np.testing.assert_allclose(keep.numpy(), np.quantile(x, 0.3, axis=0, keepdims=True, method=interpolation),
                               rtol=1e-5, atol=1e-6)
    whole = fg.quantile(t, 0.42, interpolation=interpolation)
    assert whole.ndim == 0
    np.testing.assert_allclose(whole.item(), np.quantile(x, 0.42, method=interpolation), rtol=1e-5)


def test_quantile_shapes_nan_and_nanquantile() -> None:
    t = fg.tensor([[1.0, NAN, 3.0], [4.0, 5.0, 6.0]])
    out = fg.quantile(t, 0.5, dim=1)
    assert math.isnan(out.tolist()[0]) and out.tolist()[1] == 5.0
    np.testing.assert_allclose(fg.nanquantile(t, 0.25, dim=1).numpy(), np.nanquantile(t.numpy(), 0.25, axis=1))
    assert math.isnan(fg.nanquantile(fg.tensor([NAN, NAN]), 0.5).item())
    assert list(fg.quantile(fg.ones(2, 3), [0.1, 0.9], keepdim=True).shape) == [2, 1, 1]
    assert list(fg.quantile(fg.ones(2, 3), 0.5, dim=-1, keepdim=True).shape) == [2, 1]


def test_quantile_rejects_bad_arguments() -> None:
    t = fg.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"quantile: argument `q` expected values in \[0, 1\], got \[1.5\]"):
        fg.quantile(t, 1.5)
    with pytest.raises(ValueError, match="quantile: argument `interpolation` expected one of .*got 'cubic'"):
        fg.quantile(t, 0.5, interpolation="cubic")
    with pytest.raises(TypeError, match="quantile: argument `input` expected a floating-point tensor, got dtype int64"):
        fg.quantile(fg.tensor([1, 2]), 0.5)
    with pytest.raises(IndexError, match=r"quantile: argument `dim` expected a value in \[-1, 0\], got 1"):
        fg.quantile(t, 0.5, dim=1)


def test_quantile_gradient_matches_jax(rng: np.random.Generator) -> None:
    x = _distinct(rng, 3, 6)
    q = np.array([0.2, 0.5, 0.9], np.float32)
    check_op(lambda a: fg.quantile(a, fg.tensor(q), dim=1),
             lambda a: jnp.quantile(a, jnp.asarray(q), axis=1, method="linear"), [x])
    check_op(lambda a: a.quantile(0.35), lambda a: jnp.quantile(a, 0.35), [x])


def test_kthvalue_values_indices_and_gradient(rng: np.random.Generator) -> None:
    x = _distinct(rng, 4, 5)
    values, indices = fg.kthvalue(fg.tensor(x), 2, dim=1)
    np.testing.assert_array_equal(values.numpy(), np.sort(x, axis=1)[:, 1])
    np.testing.assert_array_equal(indices.numpy(), np.argsort(x, axis=1)[:, 1])
    assert indices.dtype == "int64"
    kept = fg.tensor(x).kthvalue(3, 0, keepdim=True)
    assert list(kept.values.shape) == [1, 5] and list(kept.indices.shape) == [1, 5]
    check_op(lambda a: fg.kthvalue(a, 4, 0).values, lambda a: jnp.sort(a, axis=0)[3], [x])
    with pytest.raises(ValueError, match=r"kthvalue: argument `k` expected an integer in \[1, 5\], got 6"):
        fg.kthvalue(fg.tensor(x), 6)


def test_median_is_the_lower_median_with_gradients(rng: np.random.Generator) -> None:
    x = _distinct(rng, 3, 4)
    assert fg.median(fg.tensor(x)).item() == np.sort(x.reshape(-1))[(x.size - 1) // 2]
    values, indices = fg.median(fg.tensor(x), dim=1)
    np.testing.assert_array_equal(values.numpy(), np.sort(x, axis=1)[:, 1])
    np.testing.assert_array_equal(indices.numpy(), np.argsort(x, axis=1)[:, 1])
    check_op(lambda a: fg.median(a, dim=1).values, lambda a: jnp.quantile(a, 0.5, axis=1, method="lower"), [x])
    check_op(lambda a: fg.median(a), lambda a: jnp.quantile(a, 0.5, method="lower"), [x])


def test_cummax_cummin_match_numpy_and_take_the_later_tie() -> None:
    x = np.array([[1.0, 3.0, 2.0, 3.0, 5.0], [4.0, 1.0, 0.0, 2.0, -1.0]], np.float32)
    values, indices = fg.cummax(fg.tensor(x), 1)
    np.testing.assert_array_equal(values.numpy(), np.maximum.accumulate(x, axis=1))
    assert indices.tolist() == [[0, 1, 1, 3, 4], [0, 0, 0, 0, 0]]
    values, indices = fg.tensor(x).cummin(1)
    np.testing.assert_array_equal(values.numpy(), np.minimum.accumulate(x, axis=1))
    assert indices.tolist() == [[0, 0, 0, 0, 0], [0, 1, 2, 2, 4]]
    values, indices = fg.cummax(fg.tensor(x), 0)
    np.testing.assert_array_equal(values.numpy(), np.maximum.accumulate(x, axis=0))
    assert indices.tolist() == [[0, 0, 0, 0, 0], [1, 0, 0, 0, 0]]
    # A NaN, once seen, stays (as PyTorch).
    values, indices = fg.cummax(fg.tensor([1.0, NAN, 5.0]), 0)
    assert values.tolist()[0] == 1.0 and all(math.isnan(v) for v in values.tolist()[1:])
    assert indices.tolist() == [0, 1, 1]


def test_cummax_cummin_gradients_match_jax(rng: np.random.Generator) -> None:
    x = _distinct(rng, 3, 6)
    check_op(lambda a: fg.cummax(a, 1).values, lambda a: jax.lax.cummax(a, axis=1), [x])
    check_op(lambda a: fg.cummin(a, 0).values, lambda a: jax.lax.cummin(a, axis=0), [x])


def test_logcumsumexp_matches_numpy_and_jax(rng: np.random.Generator) -> None:
    x = (rng.standard_normal((3, 9)) * 5).astype(np.float32)
    out = fg.logcumsumexp(fg.tensor(x), 1)
    np.testing.assert_allclose(out.numpy(), np.logaddexp.accumulate(x.astype(np.float64), axis=1), rtol=1e-5,
                               atol=1e-5)
    check_op(lambda a: a.logcumsumexp(-1), lambda a: jax.lax.cumlogsumexp(a, axis=1), [x])
    check_op(lambda a: fg.logcumsumexp(a, 0), lambda a: jax.lax.cumlogsumexp(a, axis=0), [x])
    # Stable for widely spread values and -inf entries.
    wide = fg.tensor([-1000.0, 0.0, 1000.0, -math.inf])
    np.testing.assert_allclose(fg.logcumsumexp(wide, 0).numpy(), [-1000.0, 0.0, 1000.0, 1000.0])
    assert fg.logcumsumexp(fg.tensor([-math.inf, 1.0]), 0).tolist() == [-math.inf, 1.0]


def test_aminmax() -> None:
    x = fg.tensor([[1.0, -2.0, 3.0], [0.5, 7.0, -4.0]])
    result = fg.aminmax(x)
    assert result.min.item() == -4.0 and result.max.item() == 7.0
    lo, hi = x.aminmax(dim=1, keepdim=True)
    assert lo.tolist() == [[-2.0], [-4.0]] and hi.tolist() == [[3.0], [7.0]]
    assert list(fg.aminmax(x, keepdim=True).max.shape) == [1, 1]
    with pytest.raises(ValueError, match=r"aminmax: expected a non-empty tensor, got shape \[0\]"):
        fg.aminmax(fg.zeros(0))


def _renorm_reference(a: jnp.ndarray, p: float, dim: int, maxnorm: float) -> jnp.ndarray:
    others = tuple(d for d in range(a.ndim) if d != dim)
    norm = jnp.sum(jnp.abs(a) ** p, axis=others, keepdims=True) ** (1 / p)
    return a * jnp.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)


def test_renorm_values_and_gradient(rng: np.random.Generator) -> None:
    x = rng.standard_normal((4, 3, 2)).astype(np.float32) * 2
    out = fg.renorm(fg.tensor(x), 2, 0, 5.0)
    norms = np.sqrt((x.astype(np.float64) ** 2).sum(axis=(1, 2)))
    expected = x * np.where(norms > 5.0, 5.0 / (norms + 1e-7), 1.0)[:, None, None]
    assert (norms > 5.0).any() and (norms <= 5.0).any()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    check_op(lambda a: a.renorm(2, 0, 5.0), lambda a: _renorm_reference(a, 2.0, 0, 5.0), [x])
    check_op(lambda a: fg.renorm(a, 1, 1, 3.0), lambda a: _renorm_reference(a, 1.0, 1, 3.0), [x])
    with pytest.raises(ValueError, match="renorm: argument `p` expected a positive value, got -1.0"):
        fg.renorm(fg.tensor(x), -1, 0, 1.0)
    with pytest.raises(ValueError, match="renorm: argument `maxnorm` expected a non-negative value, got -2.0"):
        fg.renorm(fg.tensor(x), 2, 0, -2.0)


# Creation.

def test_randint_like_and_logspace() -> None:
    fg.manual_seed(0)
    t = fg.zeros(3, 50, dtype="int64")
    out = fg.randint_like(t, 3, 7)
    assert out.dtype == "int64" and list(out.shape) == [3, 50]
    values = out.numpy()
    assert values.min() >= 3 and values.max() <= 6 and len(np.unique(values)) == 4
    floats = fg.randint_like(fg.zeros(100), 5)
    assert floats.dtype == "float32" and set(floats.tolist()) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    np.testing.assert_allclose(fg.logspace(-1, 2, 4).numpy(), [0.1, 1.0, 10.0, 100.0], rtol=1e-6)
    np.testing.assert_allclose(fg.logspace(0, 3, 4, base=2).numpy(), [1.0, 2.0, 4.0, 8.0])
    with pytest.raises(ValueError, match="logspace: argument `steps` expected a non-negative integer, got -1"):
        fg.logspace(0, 1, -1)


def test_methods_are_installed() -> None:
    for name in ("masked_fill_", "index_put_", "scatter_add_", "scatter_", "index_fill_", "lerp_", "pow_", "exp_",
                 "log_", "sqrt_", "abs_", "neg_", "relu_", "sigmoid_", "tanh_", "detach_", "new_empty", "ndimension",
                 "byte", "short", "unique", "bincount", "quantile", "nanquantile", "kthvalue", "median", "histc",
                 "cummax", "cummin", "logcumsumexp", "aminmax", "renorm"):
        assert hasattr(fg.Tensor, name), name
