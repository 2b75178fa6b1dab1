"""NaN-ignoring reductions, triangle indices, diagonal embedding, block diagonals, flips, the
trapezoidal rule, isin, signbit, heaviside, scatter_reduce and masked_scatter against numpy and
scipy (and gradients against JAX or a loop reference where the function is differentiable)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
from reference import check_op

import ferrograd as fg


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(31)


def test_nan_reductions_match_numpy(rng) -> None:
    x = rng.standard_normal((3, 4)).astype(np.float32)
    x[0, 1], x[2, :] = np.nan, np.nan
    np.testing.assert_allclose(fg.nansum(fg.tensor(x)).numpy(), np.nansum(x), rtol=1e-6)
    np.testing.assert_allclose(fg.nansum(fg.tensor(x), 1).numpy(), np.nansum(x, 1), rtol=1e-6)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmean(x, 1)
    np.testing.assert_allclose(fg.nanmean(fg.tensor(x), 1).numpy(), expected, rtol=1e-6)
    clean = rng.standard_normal((3, 4)).astype(np.float32)
    check_op(lambda t: fg.nansum(t, 0), lambda t: jnp.nansum(t, 0), [clean])


@pytest.mark.parametrize("row,col,offset", [(3, 4, 0), (4, 3, -1), (3, 3, 1), (0, 2, 0)])
def test_triangle_indices_match_numpy(row, col, offset) -> None:
    np.testing.assert_array_equal(fg.tril_indices(row, col, offset).numpy(), np.stack(np.tril_indices(row, offset, col)))
    np.testing.assert_array_equal(fg.triu_indices(row, col, offset).numpy(), np.stack(np.triu_indices(row, offset, col)))


@pytest.mark.parametrize("offset,dim1,dim2", [(0, -2, -1), (1, -2, -1), (-2, 0, 2), (1, 2, 0)])
def test_diag_embed_places_the_last_axis_on_a_diagonal(rng, offset, dim1, dim2) -> None:
    v = rng.standard_normal((2, 3)).astype(np.float32)
    size = 3 + abs(offset)
    rows, cols = (dim1 % 3, dim2 % 3)
    batch_axis = ({0, 1, 2} - {rows, cols}).pop()
    shape = [0, 0, 0]
    shape[batch_axis], shape[rows], shape[cols] = 2, size, size
    expected = np.zeros(shape, np.float32)
    for b in range(2):
        for i in range(3):
            index = [0, 0, 0]
            index[batch_axis], index[rows], index[cols] = b, i + max(0, -offset), i + max(0, offset)
            expected[tuple(index)] = v[b, i]
    np.testing.assert_array_equal(fg.diag_embed(fg.tensor(v), offset, dim1, dim2).numpy(), expected)
    check_op(lambda t: fg.diag_embed(t, offset), lambda t: jnp.stack([jnp.diag(t[b], offset) for b in range(2)]), [v])
    np.testing.assert_array_equal(fg.diagflat(fg.tensor(v), 1).numpy(), np.diagflat(v, 1))


def test_block_diag_and_flips_match_scipy_and_numpy(rng) -> None:
    blocks = [rng.standard_normal(s).astype(np.float32) for s in [(2, 3), (1,), (), (3, 1)]]
    np.testing.assert_array_equal(fg.block_diag(*[fg.tensor(b) for b in blocks]).numpy(),
                                  scipy.linalg.block_diag(*[np.atleast_2d(b) for b in blocks]))
    m = rng.standard_normal((3, 4, 2)).astype(np.float32)
    np.testing.assert_array_equal(fg.fliplr(fg.tensor(m)).numpy(), np.fliplr(m))
    np.testing.assert_array_equal(fg.flipud(fg.tensor(m)).numpy(), np.flipud(m))
    with pytest.raises(ValueError, match="fliplr: expected at least two dimensions"):
        fg.fliplr(fg.tensor(m[0, 0]))


def test_trapezoidal_rule_matches_numpy_and_scipy(rng) -> None:
    y = rng.standard_normal((3, 5)).astype(np.float32)
    xs = np.sort(rng.uniform(0, 3, 5)).astype(np.float32)
    grid = np.sort(rng.uniform(0, 3, (3, 5)), 1).astype(np.float32)
    trapezoid = getattr(np, "trapezoid", None) or np.trapz
    np.testing.assert_allclose(fg.trapezoid(fg.tensor(y)).numpy(), trapezoid(y), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg.trapz(fg.tensor(y), fg.tensor(xs)).numpy(), trapezoid(y, xs), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg.trapezoid(fg.tensor(y), fg.tensor(grid)).numpy(), trapezoid(y, grid), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg.trapezoid(fg.tensor(y), dx=0.5, dim=0).numpy(), trapezoid(y, dx=0.5, axis=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg.cumulative_trapezoid(fg.tensor(y), fg.tensor(xs)).numpy(),
                               scipy.integrate.cumulative_trapezoid(y, xs), rtol=1e-5, atol=1e-6)
    check_op(lambda t: fg.trapezoid(t, dx=0.5), lambda t: jnp.trapezoid(t, dx=0.5), [y])


def test_isin_signbit_and_heaviside_match_numpy(rng) -> None:
    e = rng.integers(0, 6, (3, 4))
    np.testing.assert_array_equal(fg.isin(fg.tensor(e), fg.tensor(np.array([1, 4]))).numpy(), np.isin(e, [1, 4]))
    np.testing.assert_array_equal(fg.isin(fg.tensor(e), [1, 4], invert=True).numpy(), np.isin(e, [1, 4], invert=True))
    s = np.array([-1.0, -0.0, 0.0, 2.0, -np.inf], np.float32)
    np.testing.assert_array_equal(fg.signbit(fg.tensor(s)).numpy(), np.signbit(s))
    h = np.array([-1.0, 0.0, 2.0, 0.0], np.float32)
    np.testing.assert_array_equal(fg.heaviside(fg.tensor(h), 0.5).numpy(), np.heaviside(h, 0.5))


def _scatter_reduce_reference(base, index, src, reduce, include_self):
    """Row-by-row loops over dim 1: the result and, for upstream gradient g, the gradients of
    ``base`` and ``src`` (maxima and minima share theirs evenly among the entries equal to them)."""
    out = base.astype(np.float64).copy()
    members: dict[tuple[int, int], list] = {}
    for r in range(index.shape[0]):
        for c in range(index.shape[1]):
            members.setdefault((r, int(index[r, c])), []).append(("src", r, c, float(src[r, c])))
    for (r, j), values in members.items():
        group = ([("self", r, j, float(base[r, j]))] if include_self else []) + values
        numbers = [v[3] for v in group]
        out[r, j] = {"sum": sum(numbers), "mean": np.mean(numbers), "amax": max(numbers), "amin": min(numbers)}[reduce]
    return out, members


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_a_loop_reference_with_shared_extremum_gradients(rng, reduce, include_self) -> None:
    base = rng.standard_normal((3, 5)).astype(np.float32)
    src = rng.standard_normal((3, 4)).astype(np.float32)
    index = rng.integers(0, 5, (3, 4))
    src[0, 1], index[0, 1] = src[0, 0], index[0, 0]  # two equal values meet at one entry
    expected, members = _scatter_reduce_reference(base, index, src, reduce, include_self)
    b, s = fg.tensor(base, requires_grad=True), fg.tensor(src, requires_grad=True)
    out = b.scatter_reduce(1, fg.tensor(index), s, reduce, include_self=include_self)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6, atol=1e-6)
    g = rng.standard_normal((3, 5)).astype(np.float32)
    (out * fg.tensor(g)).sum().backward()
    g_base, g_src = g.astype(np.float64).copy(), np.zeros((3, 4))
    for (r, j), values in members.items():
        group = ([("self", r, j, float(base[r, j]))] if include_self else []) + values
        g_base[r, j] = 0.0
        if reduce in ("amax", "amin"):
            winners = [v for v in group if v[3] == expected[r, j]]
            share = [(v, g[r, j] / len(winners)) for v in winners]
        else:
            weight = 1.0 if reduce == "sum" else 1.0 / len(group)
            share = [(v, g[r, j] * weight) for v in group]
        for (kind, rr, cc, _), amount in share:
            if kind == "self":
                g_base[rr, cc] += amount
            else:
                g_src[rr, cc] += amount
    np.testing.assert_allclose(b.grad.numpy(), g_base, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s.grad.numpy(), g_src, rtol=1e-5, atol=1e-6)


def test_masked_scatter_fills_true_positions_in_order(rng) -> None:
    base = rng.standard_normal((3, 4)).astype(np.float32)
    mask = rng.random((3, 4)) > 0.5
    source = rng.standard_normal(12).astype(np.float32)
    expected = base.copy()
    expected[mask] = source[:mask.sum()]
    b, s = fg.tensor(base, requires_grad=True), fg.tensor(source, requires_grad=True)
    out = b.masked_scatter(fg.tensor(mask), s)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    out.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), (~mask).astype(np.float32))
    np.testing.assert_array_equal(s.grad.numpy(), (np.arange(12) < mask.sum()).astype(np.float32))
    with pytest.raises(ValueError, match="masked_scatter: argument `source` expected at least"):
        b.masked_scatter(fg.tensor(np.ones((3, 4), bool)), fg.tensor(source[:5]))
