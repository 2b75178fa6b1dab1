"""Diagonals, traces, rolls, gathers, scatters, nonzero positions, tensor products and joins,
pairwise distances, grids, ``fg.linalg`` norms and random sampling: values against numpy (loops
where numpy has no such function), gradients against analytic values, seeded repeatability and
sampling statistics with bounds of several standard errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg


def _leaf(x: np.ndarray) -> fg.Tensor:
    return fg.tensor(x.astype(np.float32), requires_grad=True)


def _weighted_grad(out: fg.Tensor, t: fg.Tensor, weights: np.ndarray) -> np.ndarray:
    """d sum(out * weights) / d t."""
    (out * fg.tensor(weights.astype(np.float32))).sum().backward()
    return t.grad.numpy()


# Diagonals, traces and rolls.

@pytest.mark.parametrize("k", [-2, -1, 0, 1, 3])
def test_diag_of_a_vector_and_its_gradient(rng: np.random.Generator, k: int) -> None:
    v = rng.normal(size=4).astype(np.float32)
    t = _leaf(v)
    out = fg.diag(t, k)
    np.testing.assert_array_equal(out.detach().numpy(), np.diag(v, k))
    w = rng.normal(size=out.shape)
    np.testing.assert_allclose(_weighted_grad(out, t, w), np.diag(w, k), rtol=1e-6)
    np.testing.assert_array_equal(fg.tensor([3, -1, 2]).diag(k).numpy(), np.diag([3, -1, 2], k))


@pytest.mark.parametrize("shape,k", [((4, 4), 0), ((3, 5), 1), ((5, 3), -2), ((3, 4), 4), ((3, 4), -5)])
def test_diag_of_a_matrix_and_its_gradient(rng: np.random.Generator, shape: tuple[int, int], k: int) -> None:
    x = rng.normal(size=shape).astype(np.float32)
    t = _leaf(x)
    out = t.diag(k)
    np.testing.assert_array_equal(out.detach().numpy(), np.diag(x, k))
    w = rng.normal(size=out.shape)
    expected = np.zeros(shape)
    rows = np.arange(len(w)) + max(-k, 0)
    expected[rows, rows + k] = w
    np.testing.assert_allclose(_weighted_grad(out, t, w), expected, rtol=1e-6)


@pytest.mark.parametrize("offset,dim1,dim2", [(0, 0, 1), (1, 0, 2), (-1, 2, 0), (2, -1, 1)])
def test_diagonal_of_three_dimensions(rng: np.random.Generator, offset: int, dim1: int, dim2: int) -> None:
    x = rng.normal(size=(3, 4, 5)).astype(np.float32)
    t = _leaf(x)
    out = t.diagonal(offset, dim1, dim2)
    np.testing.assert_array_equal(out.detach().numpy(), np.diagonal(x, offset, dim1, dim2))
    w = rng.normal(size=out.shape)
    # The gradient puts each weight back where its entry came from: the diagonal of zeros + w.
    reference = np.arange(x.size).reshape(x.shape)
    expected = np.zeros(x.size)
    np.add.at(expected, np.diagonal(reference, offset, dim1, dim2).ravel(), w.ravel())
    np.testing.assert_allclose(_weighted_grad(out, t, w), expected.reshape(x.shape), rtol=1e-6)


def test_trace_values_gradient_and_dtype(rng: np.random.Generator) -> None:
    x = rng.normal(size=(4, 6)).astype(np.float32)
    t = _leaf(x)
    out = fg.trace(t)
    assert out.item() == pytest.approx(float(np.trace(x)), rel=1e-6)
    out.backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.eye(4, 6))
    ints = fg.tensor([[1, 2], [3, 4]], dtype="int32").trace()
    assert ints.dtype == "int64" and ints.item() == 5


@pytest.mark.parametrize("shifts,dims", [(2, None), (-7, None), (1, 0), ((1, -2), (0, 1)), ((3, 1), (2, 2)), (5, -1)])
def test_roll_matches_numpy_with_its_gradient(rng: np.random.Generator, shifts, dims) -> None:
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    t = _leaf(x)
    out = t.roll(shifts, dims)
    np.testing.assert_array_equal(out.detach().numpy(), np.roll(x, shifts, dims))
    w = rng.normal(size=x.shape)
    negated = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
    np.testing.assert_allclose(_weighted_grad(out, t, w), np.roll(w, negated, dims), rtol=1e-6)
    np.testing.assert_array_equal(fg.roll(fg.tensor([1, 2, 3]), 1).numpy(), [3, 1, 2])


# Gathers and scatters.

def test_gather_function_and_gradient(rng: np.random.Generator) -> None:
    x = rng.normal(size=(3, 5)).astype(np.float32)
    index = rng.integers(0, 5, size=(3, 4))
    t = _leaf(x)
    out = fg.gather(t, 1, fg.tensor(index))
    np.testing.assert_array_equal(out.detach().numpy(), np.take_along_axis(x, index, 1))
    w = rng.normal(size=index.shape)
    expected = np.zeros(x.shape)
    np.add.at(expected, (np.arange(3)[:, None], index), w)
    np.testing.assert_allclose(_weighted_grad(out, t, w), expected, rtol=1e-6)


def _scatter_reference(x: np.ndarray, dim: int, index: np.ndarray, src) -> np.ndarray:
    """PyTorch's loop: later entries along ``dim`` overwrite earlier ones."""
    out = x.copy()
    for pos in np.ndindex(index.shape):
        target = list(pos)
        target[dim] = index[pos]
        out[tuple(target)] = src[pos] if isinstance(src, np.ndarray) else src
    return out


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_matches_the_loop_with_its_gradient(rng: np.random.Generator, dim: int) -> None:
    x = rng.normal(size=(4, 5)).astype(np.float32)
    src = rng.normal(size=(4, 6)).astype(np.float32)
    # Distinct targets along dim, so each position is written at most once.
    index = np.stack([rng.permutation(x.shape[dim % 2])[:3] for _ in range(4)], axis=1 - dim % 2)
    tx, ts = _leaf(x), _leaf(src)
    out = tx.scatter(dim, fg.tensor(index), ts)
    expected = _scatter_reference(x, dim % 2, index, src)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    w = rng.normal(size=x.shape)
    written = _scatter_reference(np.zeros(x.shape), dim % 2, index, 1.0) > 0
    np.testing.assert_allclose(_weighted_grad(out, tx, w), np.where(written, 0.0, w), rtol=1e-6)
    # Each source entry in the index's corner goes to one place (no repeats here).
    src_grad = np.zeros(src.shape)
    for pos in np.ndindex(index.shape):
        target = list(pos)
        target[dim % 2] = index[pos]
        src_grad[pos] = w[tuple(target)]
    np.testing.assert_allclose(ts.grad.numpy(), src_grad, rtol=1e-6)


def test_scatter_of_a_value_repeats_and_dtypes() -> None:
    x = fg.zeros(3, 5)
    index = np.array([[0, 1], [4, 4]])
    np.testing.assert_array_equal(x.scatter(1, fg.tensor(index), 7.5).numpy(),
                                  _scatter_reference(np.zeros((3, 5)), 1, index, 7.5))
    np.testing.assert_array_equal(x.scatter(1, fg.tensor(index), value=-1.0).numpy(),
                                  _scatter_reference(np.zeros((3, 5)), 1, index, -1.0))
    # A position written twice takes the later entry along dim.
    repeated = fg.zeros(4).scatter(0, fg.tensor([1, 1, 2, 1]), fg.tensor([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(repeated.numpy(), [0, 4, 3, 0])
    ints = fg.tensor([1, 2, 3]).scatter(0, fg.tensor([0, 2]), fg.tensor([9, 8]))
    assert ints.dtype == "int64" and ints.tolist() == [9, 2, 8]
    assert fg.tensor([1, 2, 3]).scatter(0, fg.tensor([0]), 9.7).tolist() == [9, 2, 3]
    assert fg.tensor([True, False]).scatter(0, fg.tensor([1]), 1.0).tolist() == [True, True]


def test_scatter_in_place_follows_the_in_place_rules() -> None:
    t = fg.zeros(2, 3)
    assert t.scatter_(1, fg.tensor([[2], [0]]), 5.0) is t
    np.testing.assert_array_equal(t.numpy(), [[0, 0, 5], [5, 0, 0]])
    leaf = fg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scatter_: in-place updates are not recorded"):
        leaf.scatter_(0, fg.tensor([0]), fg.ones(1))
    with fg.no_grad():
        leaf.scatter_(0, fg.tensor([2]), fg.ones(1))
    assert leaf.tolist() == [0, 0, 1]
    with pytest.raises(RuntimeError, match="scatter_"):
        fg.zeros(3).scatter_(0, fg.tensor([0]), fg.ones(1, requires_grad=True))


def test_scatter_errors() -> None:
    x = fg.zeros(3, 5)
    with pytest.raises(IndexError, match=r"scatter: argument `index` expected values in \[0, 3\), got .* 5"):
        x.scatter(0, fg.tensor([[5]]), 1.0)
    with pytest.raises(ValueError, match="scatter: argument `index` expected an int64 or int32 tensor of 2 dimensions"):
        x.scatter(0, fg.tensor([1]), 1.0)
    with pytest.raises(ValueError, match=r"expected a shape no larger .* got \[1, 6\]"):
        x.scatter(0, fg.tensor([[1] * 6]), 1.0)
    with pytest.raises(TypeError, match="scatter: argument `src` expected dtype float32"):
        x.scatter(0, fg.tensor([[1]]), fg.tensor([[1]]))
    with pytest.raises(TypeError, match="scatter: expected exactly one of the arguments `src` and `value`"):
        x.scatter(0, fg.tensor([[1]]))
    with pytest.raises(IndexError, match="scatter: argument `dim` expected a value in"):
        x.scatter(2, fg.tensor([[1]]), 1.0)


# Positions and counts of nonzero entries.

def test_nonzero_argwhere_and_count_nonzero() -> None:
    x = np.array([[0.0, 1.5, 0.0], [np.nan, 0.0, -2.0]], dtype=np.float32)
    t = fg.tensor(x)
    found = t.nonzero()
    assert found.dtype == "int64" and found.shape == (3, 2)
    np.testing.assert_array_equal(found.numpy(), np.argwhere(x))
    np.testing.assert_array_equal(fg.argwhere(t).numpy(), np.argwhere(x))
    rows, cols = fg.nonzero(t, as_tuple=True)
    np.testing.assert_array_equal(rows.numpy(), np.nonzero(x)[0])
    np.testing.assert_array_equal(cols.numpy(), np.nonzero(x)[1])
    assert fg.tensor(5.0).nonzero().shape == (1, 0)
    assert [p.tolist() for p in fg.tensor(5.0).nonzero(as_tuple=True)] == [[0]]
    count = fg.count_nonzero(t)
    assert count.dtype == "int64" and count.item() == 3
    np.testing.assert_array_equal(t.count_nonzero(0).numpy(), np.count_nonzero(x, axis=0))
    np.testing.assert_array_equal(t.count_nonzero((0, -1)).numpy(), 3)
    with pytest.raises(IndexError, match=r"count_nonzero: argument `dim` expected a value in \[-2, 1\], got 2"):
        t.count_nonzero(2)


# Products, joins, distances and grids.

def test_mm_bmm_and_joins(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_allclose(fg.mm(fg.tensor(a), fg.tensor(b)).numpy(), a @ b, rtol=1e-5, atol=1e-6)
    p, q = rng.normal(size=(2, 3, 4)).astype(np.float32), rng.normal(size=(2, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(fg.bmm(fg.tensor(p), fg.tensor(q)).numpy(), p @ q, rtol=1e-5, atol=1e-6)
    for join in (fg.concat, fg.concatenate):
        np.testing.assert_array_equal(join([fg.tensor(a), fg.tensor(a)], 1).numpy(), np.concatenate([a, a], 1))
    np.testing.assert_array_equal(fg.hstack([fg.tensor([1, 2]), fg.tensor([3])]).numpy(), [1, 2, 3])
    np.testing.assert_array_equal(fg.hstack([fg.tensor(a), fg.tensor(a)]).numpy(), np.hstack([a, a]))
    np.testing.assert_array_equal(fg.hstack([fg.tensor(1), fg.tensor(2)]).numpy(), [1, 2])
    np.testing.assert_array_equal(fg.vstack([fg.tensor([1, 2]), fg.tensor([[3, 4], [5, 6]])]).numpy(),
                                  np.vstack([[1, 2], [[3, 4], [5, 6]]]))
    with pytest.raises(ValueError, match="bmm: expected two 3-D tensors"):
        fg.bmm(fg.tensor(a), fg.tensor(b))


@pytest.mark.parametrize("shapes,dims", [(((2, 3, 4), (3, 4, 5)), 2), (((2, 3, 4), (4, 3, 5)), ([1, 2], [1, 0])),
                                         (((2, 3), (4, 5)), 0), (((3, 4), (4, 2)), 1), (((4,), (4,)), ([0], [0])),
                                         (((2, 3, 4), (4, 2)), ([-1, 0], [0, 1]))])
def test_tensordot_matches_numpy(rng: np.random.Generator, shapes, dims) -> None:
    a, b = (rng.normal(size=s).astype(np.float32) for s in shapes)
    out = fg.tensordot(fg.tensor(a), fg.tensor(b), dims)
    np.testing.assert_allclose(out.numpy(), np.tensordot(a, b, dims), rtol=1e-5, atol=1e-5)


def test_tensordot_gradient_and_errors(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(4, 2)).astype(np.float32)
    ta, tb = _leaf(a), _leaf(b)
    w = rng.normal(size=(3, 2))
    np.testing.assert_allclose(_weighted_grad(fg.tensordot(ta, tb, 1), ta, w), w @ b.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tb.grad.numpy(), a.T @ w, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"tensordot: contracted dimensions \[1\] of `a` .* \[0\] of `b`"):
        fg.tensordot(fg.ones(2, 3), fg.ones(4, 5), 1)
    with pytest.raises(ValueError, match=r"tensordot: argument `dims` expected a count in \[0, 2\], got 3"):
        fg.tensordot(fg.ones(2, 3), fg.ones(3, 2), 3)
    with pytest.raises(IndexError, match="tensordot: argument `dims` expected dimensions of `b`"):
        fg.tensordot(fg.ones(2, 3), fg.ones(3, 2), ([1], [2]))


def _cdist_reference(x1: np.ndarray, x2: np.ndarray, p: float) -> np.ndarray:
    out = np.zeros(x1.shape[:-1] + (x2.shape[-2],))
    for pos in np.ndindex(out.shape):
        diff = np.abs(x1[pos[:-1]].astype(np.float64) - x2[pos[:-2] + pos[-1:]])
        out[pos] = (np.count_nonzero(diff) if p == 0 else diff.max() if p == math.inf
                    else (diff ** p).sum() ** (1 / p))
    return out


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, math.inf])
@pytest.mark.parametrize("shapes", [((5, 3), (4, 3)), ((2, 5, 3), (2, 4, 3))])
def test_cdist_matches_loops(rng: np.random.Generator, p: float, shapes) -> None:
    x1, x2 = (rng.normal(size=s).astype(np.float32) for s in shapes)
    x2[..., 0, :] = x1[..., 0, :]  # a zero distance
    out = fg.cdist(fg.tensor(x1), fg.tensor(x2), p)
    np.testing.assert_allclose(out.numpy(), _cdist_reference(x1, x2, p), rtol=1e-4, atol=2e-3 if p == 2 else 1e-5)


def test_cdist_gradient_is_the_unit_difference_and_zero_at_zero_distance(rng: np.random.Generator) -> None:
    x1, x2 = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    x1[0] = 0.0
    x2[0] = 0.0
    t = _leaf(x1)
    w = rng.normal(size=(4, 5))
    diff = x1[:, None, :].astype(np.float64) - x2[None, :, :]
    dist = np.linalg.norm(diff, axis=-1)
    unit = np.divide(diff, dist[..., None], out=np.zeros_like(diff), where=dist[..., None] > 0)
    expected = (w[..., None] * unit).sum(1)
    np.testing.assert_allclose(_weighted_grad(fg.cdist(t, fg.tensor(x2)), t, w), expected, rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError, match=r"cdist: arguments `x1` and `x2` expected .* shapes \[2, 3\] and \[4, 2\]"):
        fg.cdist(fg.ones(2, 3), fg.ones(4, 2))
    with pytest.raises(ValueError, match="cdist: argument `p` expected a non-negative number, got -1"):
        fg.cdist(fg.ones(2, 3), fg.ones(4, 3), -1)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_numpy(indexing: str) -> None:
    axes = [np.arange(2), np.arange(10, 13), np.arange(20, 24)]
    grids = fg.meshgrid(*[fg.tensor(a) for a in axes], indexing=indexing)
    for got, want in zip(grids, np.meshgrid(*axes, indexing=indexing)):
        np.testing.assert_array_equal(got.numpy(), want)
    listed = fg.meshgrid([fg.tensor(a) for a in axes[:2]], indexing=indexing)
    for got, want in zip(listed, np.meshgrid(*axes[:2], indexing=indexing)):
        np.testing.assert_array_equal(got.numpy(), want)
    with pytest.raises(ValueError, match="meshgrid: argument `indexing` expected 'ij' or 'xy', got 'yx'"):
        fg.meshgrid(fg.tensor([1]), indexing="yx")


# Norms.

@pytest.mark.parametrize("ord", [2, 1, math.inf, -math.inf, 0, 3.5, -1])
def test_vector_norm_matches_numpy(rng: np.random.Generator, ord: float) -> None:
    x = rng.normal(size=(3, 4)).astype(np.float32)
    x[0, 1] = 0.0
    t = fg.tensor(x)
    with np.errstate(divide="ignore"):  # numpy's negative orders divide by the zero entry
        whole, rows, cols = (np.linalg.norm(x.ravel(), ord), np.linalg.norm(x, ord, axis=1, keepdims=True),
                             np.linalg.norm(x, ord, axis=0))
    np.testing.assert_allclose(fg.linalg.vector_norm(t, ord).item(), whole, rtol=1e-5)
    np.testing.assert_allclose(fg.linalg.vector_norm(t, ord, dim=1, keepdim=True).numpy(), rows, rtol=1e-5)
    np.testing.assert_allclose(fg.linalg.norm(t, ord, dim=0).numpy(), cols, rtol=1e-5)


def test_vector_norm_gradients(rng: np.random.Generator) -> None:
    x = rng.normal(size=(5,)).astype(np.float32)
    for ord, expected in ((2, x / np.linalg.norm(x)), (1, np.sign(x)),
                          (3, np.sign(x) * x ** 2 / np.linalg.norm(x, 3) ** 2)):
        t = _leaf(x)
        fg.linalg.vector_norm(t, ord).backward()
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-5)
    zero = fg.zeros(3, requires_grad=True)
    fg.linalg.vector_norm(zero).backward()
    assert zero.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
def test_matrix_norms_match_numpy(rng: np.random.Generator, ord) -> None:
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    got = fg.linalg.matrix_norm(fg.tensor(x), ord)
    np.testing.assert_allclose(got.numpy(), np.linalg.norm(x, ord, axis=(-2, -1)), rtol=1e-5)
    kept = fg.linalg.norm(fg.tensor(x), ord, dim=(0, 2), keepdim=True)
    np.testing.assert_allclose(kept.numpy(), np.linalg.norm(x, ord, axis=(0, 2), keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(fg.linalg.norm(fg.tensor(x[0]), ord).item(), np.linalg.norm(x[0], ord), rtol=1e-5)


def test_norm_defaults_gradient_and_errors(rng: np.random.Generator) -> None:
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    t = _leaf(x)
    out = fg.linalg.norm(t)
    assert out.item() == pytest.approx(float(np.linalg.norm(x.ravel())), rel=1e-6)
    out.backward()
    np.testing.assert_allclose(t.grad.numpy(), x / np.linalg.norm(x.ravel()), rtol=1e-5)
    assert fg.linalg.vector_norm(fg.tensor(x), keepdim=True).shape == (1, 1, 1)
    with pytest.raises(ValueError, match=r"linalg.norm: argument `x` expected a 1-D or 2-D tensor .* \[2, 3, 4\]"):
        fg.linalg.norm(t, 2)
    with pytest.raises(TypeError, match="linalg.vector_norm: argument `x` expected a floating-point tensor, got dtype "
                                        "int64"):
        fg.linalg.vector_norm(fg.tensor([1, 2]))
    with pytest.raises(ValueError, match="linalg.matrix_norm: argument `ord` expected 'fro', 'nuc', 2, -2, 1, -1, inf or "
                                         "-inf, got 3"):
        fg.linalg.matrix_norm(fg.ones(2, 2), 3)
    with pytest.raises(ValueError, match="linalg.norm: argument `ord` expected a number for a vector norm, got 'fro'"):
        fg.linalg.norm(fg.ones(3), "fro", dim=0)


# Random sampling.

def _seeded(make, seed: int = 7) -> np.ndarray:
    fg.manual_seed(seed)
    return np.asarray(make().numpy())


def test_random_functions_repeat_under_a_seed() -> None:
    makers = [lambda: fg.empty(50).uniform_(-2, 3), lambda: fg.empty(50).normal_(1, 2),
              lambda: fg.zeros(50, dtype="int64").bernoulli_(0.3), lambda: fg.normal(0.0, 1.0, size=(5, 10)),
              lambda: fg.normal(fg.zeros(10), fg.ones(10)), lambda: fg.bernoulli(fg.full((50,), 0.4)),
              lambda: fg.multinomial(fg.tensor([0.1, 0.5, 0.4]), 20, replacement=True),
              lambda: fg.multinomial(fg.ones(3, 8), 5)]
    for make in makers:
        first = _seeded(make)
        np.testing.assert_array_equal(first, _seeded(make))
        assert not np.array_equal(first, _seeded(make, 8))


def test_in_place_fills_have_the_requested_statistics() -> None:
    fg.manual_seed(0)
    normal = fg.empty(100_000).normal_(mean=1.5, std=0.5).numpy()
    assert abs(normal.mean() - 1.5) < 0.02 and abs(normal.std() - 0.5) < 0.02
    uniform = fg.empty(100_000).uniform_(-1.0, 3.0).numpy()
    assert uniform.min() >= -1.0 and uniform.max() < 3.0 and abs(uniform.mean() - 1.0) < 0.02
    coins = fg.zeros(100_000, dtype="int64").bernoulli_(0.3)
    assert coins.dtype == "int64" and set(np.unique(coins.numpy())) <= {0, 1}
    assert abs(coins.numpy().mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 100_000)
    rows = fg.empty(2, 20_000).bernoulli_(fg.tensor([[0.1], [0.9]])).numpy().mean(1)
    np.testing.assert_allclose(rows, [0.1, 0.9], atol=4 * math.sqrt(0.09 / 20_000))


def test_in_place_fills_refuse_recorded_and_integer_tensors() -> None:
    leaf = fg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="normal_: in-place updates are not recorded"):
        leaf.normal_()
    with fg.no_grad():
        assert leaf.uniform_(2.0, 3.0) is leaf
    assert leaf.detach().numpy().min() >= 2.0
    with pytest.raises(TypeError, match="uniform_: expected a floating-point tensor, got dtype int64"):
        fg.zeros(3, dtype="int64").uniform_()
    with pytest.raises(ValueError, match="normal_: argument `std` expected a value >= 0, got -1"):
        fg.zeros(3).normal_(0.0, -1.0)
    with pytest.raises(ValueError, match=r"bernoulli_: argument `p` expected probabilities in \[0, 1\]"):
        fg.zeros(3).bernoulli_(1.5)


def test_normal_and_bernoulli_functions() -> None:
    fg.manual_seed(1)
    mean = fg.tensor([[-3.0], [0.0], [5.0]])
    samples = fg.normal(mean, fg.tensor([0.1, 1.0, 2.0, 0.5] * 5_000))
    assert samples.shape == (3, 20_000) and samples.dtype == "float32"
    np.testing.assert_allclose(samples.numpy().mean(1), [-3.0, 0.0, 5.0], atol=0.05)
    spread = (samples.numpy() - mean.numpy()).reshape(3, 5_000, 4).std(axis=(0, 1))
    np.testing.assert_allclose(spread, [0.1, 1.0, 2.0, 0.5], rtol=0.05)
    scalar = fg.normal(2.0, 3.0, size=(100_000,)).numpy()
    assert abs(scalar.mean() - 2.0) < 0.05 and abs(scalar.std() - 3.0) < 0.05
    assert fg.normal(fg.zeros(4, requires_grad=True)).requires_grad is False
    probs = fg.tensor([0.0, 0.25, 1.0] * 20_000)
    draws = fg.bernoulli(probs)
    assert draws.dtype == "float32"
    means = draws.numpy().reshape(-1, 3).mean(0)
    assert means[0] == 0.0 and means[2] == 1.0 and abs(means[1] - 0.25) < 4 * math.sqrt(0.25 * 0.75 / 20_000)
    with pytest.raises(ValueError, match="normal: argument `size` expected a shape when `mean` and `std` are numbers"):
        fg.normal(0.0, 1.0)
    with pytest.raises(ValueError, match="normal: argument `std` expected values >= 0"):
        fg.normal(fg.zeros(2), fg.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"bernoulli: argument `p` expected probabilities in \[0, 1\]"):
        fg.bernoulli(fg.tensor([0.5, -0.1]))
    with pytest.raises(TypeError, match="bernoulli: argument `input` expected a floating-point tensor"):
        fg.bernoulli(fg.tensor([0, 1]))


def test_multinomial_with_replacement_frequencies() -> None:
    fg.manual_seed(2)
    probs = np.array([0.1, 0.0, 0.6, 0.3])
    n = 60_000
    draws = fg.multinomial(fg.tensor(probs * 7.0), n, replacement=True)
    assert draws.dtype == "int64" and draws.shape == (n,)
    freq = np.bincount(draws.numpy(), minlength=4) / n
    np.testing.assert_allclose(freq, probs, atol=4 * math.sqrt(0.25 / n))
    rows = fg.multinomial(fg.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]), 50, replacement=True).numpy()
    assert (rows[0] == 0).all() and (rows[1] == 2).all()


def test_multinomial_without_replacement() -> None:
    fg.manual_seed(3)
    probs = np.array([0.5, 0.3, 0.15, 0.05])
    rows = 20_000
    draws = fg.multinomial(fg.tensor(np.tile(probs, (rows, 1))), 3).numpy()
    assert draws.shape == (rows, 3)
    assert all(len(set(row)) == 3 for row in draws)
    # The first draw follows the weights; the second, the weights without the first draw.
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=4) / rows, probs, atol=4 * math.sqrt(0.25 / rows))
    second = sum(probs[i] * probs / (1 - probs[i]) * (np.arange(4) != i) for i in range(4))
    np.testing.assert_allclose(np.bincount(draws[:, 1], minlength=4) / rows, second, atol=4 * math.sqrt(0.25 / rows))
    # Zero-weight categories come last, once the positive ones run out.
    assert sorted(fg.multinomial(fg.tensor([0.0, 1.0, 0.0, 2.0]), 4).tolist()[:2]) == [1, 3]
    with pytest.raises(ValueError, match=r"multinomial: argument `num_samples` expected a count > 0 and at most 4 .* "
                                         "got 5"):
        fg.multinomial(fg.tensor(probs), 5)
    with pytest.raises(ValueError, match="multinomial: argument `input` expected finite, non-negative weights"):
        fg.multinomial(fg.tensor([0.0, 0.0]), 1, replacement=True)
    with pytest.raises(ValueError, match=r"multinomial: argument `input` expected a 1-D or 2-D tensor, got shape"):
        fg.multinomial(fg.ones(2, 2, 2), 1)


def test_like_factories_take_a_dtype() -> None:
    x = fg.ones(2, 3)
    empty = fg.empty_like(x)
    assert empty.shape == (2, 3) and empty.dtype == "float32" and not empty.numpy().any()
    assert fg.empty_like(x, dtype="int64").dtype == "int64"
    assert fg.zeros_like(x, dtype="int64").tolist() == [[0, 0, 0]] * 2
    ones = fg.ones_like(x, dtype="bool")
    assert ones.dtype == "bool" and ones.numpy().all()
