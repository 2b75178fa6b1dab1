"""The torch.* function forms, aliases, in-place forms, real-tensor complex API, elementwise,
linear-algebra and layout functions of ``torch_aliases``, ``elementwise_forms``,
``linalg_forms`` and ``tensor_layout_forms``, against numpy / scipy (values) and central
differences or closed forms (gradients)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import linalg as sla

import ferrograd as fg


def _t(values: object, requires_grad: bool = False) -> fg.Tensor:
    return fg.tensor(np.asarray(values, dtype=np.float32), requires_grad=requires_grad)


def test_aliases_equal_the_ops_they_name(rng: np.random.Generator) -> None:
    a, b = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(3, 4)).astype(np.float32) + 3
    x, y = _t(a), _t(b)
    pairs = [(fg.multiply, np.multiply), (fg.divide, np.divide), (fg.true_divide, np.true_divide),
             (fg.subtract, np.subtract), (fg.greater, np.greater), (fg.greater_equal, np.greater_equal),
             (fg.less, np.less), (fg.less_equal, np.less_equal), (fg.not_equal, np.not_equal)]
    for ours, theirs in pairs:
        np.testing.assert_array_equal(ours(x, y).numpy(), theirs(a, b))
        np.testing.assert_array_equal(getattr(x, ours.__name__)(y).numpy(), theirs(a, b))
    np.testing.assert_array_equal(fg.absolute(x).numpy(), np.abs(a))
    np.testing.assert_array_equal(fg.negative(x).numpy(), -a)
    np.testing.assert_array_equal(fg.fix(x * 3).numpy(), np.fix(a * 3))
    np.testing.assert_allclose(fg.ger(x[0], y[1]).numpy(), np.outer(a[0], b[1]), rtol=1e-6)
    i, j = fg.tensor(np.array([5, 12, -3])), fg.tensor(np.array([3, 10, 6]))
    np.testing.assert_array_equal(fg.bitwise_and(i, j).numpy(), [1, 8, 4])
    np.testing.assert_array_equal(fg.bitwise_or(i, j).numpy(), [7, 14, -1])
    np.testing.assert_array_equal(fg.bitwise_xor(i, j).numpy(), [6, 6, -5])
    np.testing.assert_array_equal(fg.bitwise_not(i).numpy(), [-6, -13, 2])


def test_in_place_forms_write_the_out_of_place_result(rng: np.random.Generator) -> None:
    a = rng.uniform(-0.9, 0.9, (2, 5)).astype(np.float32)
    for name, reference in [("cos", np.cos), ("asin", np.arcsin), ("floor", np.floor), ("log1p", np.log1p),
                            ("square", np.square), ("exp2", np.exp2), ("deg2rad", np.deg2rad)]:
        t = _t(a)
        assert getattr(t, f"{name}_")() is t
        np.testing.assert_allclose(t.numpy(), reference(a), rtol=2e-6, atol=1e-7, err_msg=name)
    t = _t(a)
    t.clamp_min_(0.1)
    np.testing.assert_array_equal(t.numpy(), np.maximum(a, np.float32(0.1)))
    t = _t(a)
    t.fmod_(0.25)
    np.testing.assert_allclose(t.numpy(), np.fmod(a, np.float32(0.25)), atol=1e-7)
    t = _t(a)
    t.lt_(0.0)
    np.testing.assert_array_equal(t.numpy(), (a < 0).astype(np.float32))
    with pytest.raises(RuntimeError, match="cos_: in-place updates are not recorded by autograd"):
        _t(a, requires_grad=True).cos_()


def test_complex_api_on_real_tensors(rng: np.random.Generator) -> None:
    a = np.array([[1.5, -2.0, 0.0], [np.nan, -0.5, 3.0]], dtype=np.float32)
    x = _t(a)
    for name in ("conj", "resolve_conj", "resolve_neg", "conj_physical"):
        np.testing.assert_array_equal(getattr(fg, name)(x).numpy(), a)
    assert not x.is_complex() and not fg.is_complex(x) and not x.is_conj()
    assert fg.isreal(x).numpy().all()
    np.testing.assert_array_equal(fg.angle(x).numpy(), np.angle(a).astype(np.float32))
    np.testing.assert_array_equal(fg.adjoint(x).numpy(), a.T)
    np.testing.assert_array_equal(x.mH.numpy(), a.T)
    np.testing.assert_array_equal(x.H.numpy(), a.T)
    with pytest.raises(RuntimeError, match="H: expected a 2-D tensor"):
        _ = fg.ones(2, 2, 2).H


def test_elementwise_functions_match_numpy(rng: np.random.Generator) -> None:
    a = rng.normal(0, 3, 50).astype(np.float32)
    b = rng.normal(0, 3, 50).astype(np.float32)
    a[:3], b[3:6] = np.nan, np.nan
    x, y = _t(a), _t(b)
    np.testing.assert_array_equal(fg.fmax(x, y).numpy(), np.fmax(a, b))
    np.testing.assert_array_equal(fg.fmin(x, y).numpy(), np.fmin(a, b))
    signs = np.array([1.0, -1.0, 0.0, -0.0, 2.0, -3.0], dtype=np.float32)
    magnitudes = np.array([-2.0, 3.0, -1.0, 4.0, 0.0, -0.0], dtype=np.float32)
    got = fg.copysign(_t(magnitudes), _t(signs)).numpy()
    np.testing.assert_array_equal(got, np.copysign(magnitudes, signs))
    np.testing.assert_array_equal(np.signbit(got), np.signbit(np.copysign(magnitudes, signs)))
    c = rng.uniform(-20, 20, 50).astype(np.float32)
    np.testing.assert_allclose(fg.exp2(_t(c)).numpy(), np.exp2(c.astype(np.float64)), rtol=2e-7)
    np.testing.assert_allclose(fg.logaddexp2(_t(c), _t(c[::-1].copy())).numpy(),
                               np.logaddexp2(c.astype(np.float64), c[::-1].astype(np.float64)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fg.deg2rad(_t(c)).numpy(), np.deg2rad(c), rtol=1e-6)
    np.testing.assert_allclose(fg.rad2deg(_t(c)).numpy(), np.rad2deg(c), rtol=1e-6)
    np.testing.assert_allclose(fg.float_power(_t(np.abs(c)), 1.5).numpy(), np.abs(c).astype(np.float64) ** 1.5,
                               rtol=2e-6)
    np.testing.assert_allclose(fg.ldexp(_t(c), _t([3.0])).numpy(), np.ldexp(c, 3), rtol=1e-6)
    inf = np.array([np.inf, -np.inf, 1.0, np.nan], dtype=np.float32)
    np.testing.assert_array_equal(fg.isposinf(_t(inf)).numpy(), np.isposinf(inf))
    np.testing.assert_array_equal(fg.isneginf(_t(inf)).numpy(), np.isneginf(inf))
    mantissa, exponent = fg.frexp(_t(c))
    want_m, want_e = np.frexp(c)
    np.testing.assert_array_equal(mantissa.numpy(), want_m)
    np.testing.assert_array_equal(exponent.numpy(), want_e)
    assert exponent.dtype == fg.int32
    np.testing.assert_array_equal(fg.nextafter(_t(c), 100.0).numpy(), np.nextafter(c, np.float32(100)))
    i, j = fg.tensor(np.array([12, 18, -8, 0])), fg.tensor(np.array([8, 27, 12, 5]))
    np.testing.assert_array_equal(fg.gcd(i, j).numpy(), np.gcd([12, 18, -8, 0], [8, 27, 12, 5]))
    np.testing.assert_array_equal(fg.lcm(i, j).numpy(), np.lcm([12, 18, -8, 0], [8, 27, 12, 5]))
    np.testing.assert_array_equal(fg.bitwise_left_shift(i, 2).numpy(), np.left_shift([12, 18, -8, 0], 2))
    np.testing.assert_array_equal(fg.bitwise_right_shift(i, 1).numpy(), np.right_shift([12, 18, -8, 0], 1))
    with pytest.raises(TypeError, match="gcd: argument `input` expected an integer tensor"):
        fg.gcd(x, x)


def test_elementwise_gradients() -> None:
    x = _t([-1.5, 0.5, 2.0], requires_grad=True)
    fg.copysign(x, _t([1.0, -1.0, -0.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, -1.0, -1.0])
    x = _t([0.5, 1.5, -2.0], requires_grad=True)
    fg.exp2(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp2([0.5, 1.5, -2.0]) * math.log(2), rtol=1e-6)
    a, b = _t([1.0, float("nan"), 3.0], requires_grad=True), _t([2.0, 5.0, float("nan")], requires_grad=True)
    fg.fmax(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0, 0.0])


def test_products_match_numpy(rng: np.random.Generator) -> None:
    m = rng.normal(size=(3, 4)).astype(np.float32)
    v, w = rng.normal(size=4).astype(np.float32), rng.normal(size=3).astype(np.float32)
    base = rng.normal(size=(3,)).astype(np.float32)
    np.testing.assert_allclose(fg.inner(_t(m), _t(rng.normal(size=(2, 4)))).shape, (3, 2))
    other = rng.normal(size=(2, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(fg.inner(_t(m), _t(other)).numpy(), np.inner(m, other), rtol=1e-5, atol=1e-6)
    assert fg.vdot(_t(v), _t(v)).item() == pytest.approx(float(v @ v), rel=1e-6)
    np.testing.assert_allclose(fg.addmv(_t(base), _t(m), _t(v), beta=0.5, alpha=2.0).numpy(), 0.5 * base + 2 * m @ v,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg.addr(_t(m), _t(w), _t(v), alpha=3.0).numpy(), m + 3 * np.outer(w, v), rtol=1e-5)
    b1, b2 = rng.normal(size=(5, 3, 2)).astype(np.float32), rng.normal(size=(5, 2, 4)).astype(np.float32)
    np.testing.assert_allclose(fg.addbmm(_t(m), _t(b1), _t(b2), beta=0.0).numpy(), (b1 @ b2).sum(0), rtol=1e-5,
                               atol=1e-5)
    chain = [rng.normal(size=s).astype(np.float32) for s in ((2, 3), (3, 4), (4, 2))]
    np.testing.assert_allclose(fg.chain_matmul(*(_t(c) for c in chain)).numpy(), chain[0] @ chain[1] @ chain[2],
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match=r"addmv: arguments `mat` and `vec` expected \[n, m\] and \[m\]"):
        fg.addmv(_t(base), _t(m), _t(w))


def test_matrix_power_and_exponential(rng: np.random.Generator) -> None:
    a = (rng.normal(size=(2, 4, 4)) / 2 + 2 * np.eye(4)).astype(np.float32)
    for n in (0, 1, 2, 5, -1, -3):
        want = np.stack([np.linalg.matrix_power(m.astype(np.float64), n) for m in a])
        np.testing.assert_allclose(fg.matrix_power(_t(a), n).numpy(), want, rtol=2e-4, atol=1e-5, err_msg=str(n))
    for scale in (0.1, 1.0, 6.0):
        m = (rng.normal(size=(3, 3)) * scale).astype(np.float32)
        want = sla.expm(m.astype(np.float64))
        np.testing.assert_allclose(fg.matrix_exp(_t(m)).numpy(), want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    # d/dA trace(exp(A)) = exp(A)^T.
    m = (rng.normal(size=(3, 3)) * 0.7).astype(np.float32)
    x = _t(m, requires_grad=True)
    fg.matrix_exp(x).diagonal().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), sla.expm(m.astype(np.float64)).T, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="matrix_power: argument `input` expected a square matrix"):
        fg.matrix_power(fg.ones(2, 3), 2)


def test_covariance_and_correlation(rng: np.random.Generator) -> None:
    data = rng.normal(size=(3, 20)).astype(np.float32)
    fw = rng.integers(1, 4, 20)
    aw = rng.uniform(0.5, 2, 20).astype(np.float32)
    np.testing.assert_allclose(fg.cov(_t(data)).numpy(), np.cov(data), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg.cov(_t(data), correction=0).numpy(), np.cov(data, ddof=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg.cov(_t(data), fweights=fg.tensor(fw), aweights=_t(aw)).numpy(),
                               np.cov(data, fweights=fw, aweights=aw), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fg.cov(_t(data), aweights=_t(aw)).numpy(), np.cov(data, aweights=aw), rtol=1e-5,
                               atol=1e-6)
    assert fg.cov(_t(data[0])).item() == pytest.approx(float(np.cov(data[0])), rel=1e-5)
    np.testing.assert_allclose(fg.corrcoef(_t(data)).numpy(), np.corrcoef(data), rtol=1e-5, atol=1e-6)
    assert data.T.shape == fg.t(_t(data)).shape


def test_decomposition_forms(rng: np.random.Generator) -> None:
    a = rng.normal(size=(4, 4)).astype(np.float32)
    spd = (a @ a.T + 4 * np.eye(4)).astype(np.float32)
    lower = np.linalg.cholesky(spd.astype(np.float64))
    np.testing.assert_allclose(fg.cholesky(_t(spd)).numpy(), lower, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fg.cholesky(_t(spd), upper=True).numpy(), lower.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fg.cholesky_inverse(_t(lower)).numpy(), np.linalg.inv(spd), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fg.cholesky_inverse(_t(lower.T), upper=True).numpy(), np.linalg.inv(spd), rtol=1e-4,
                               atol=1e-5)
    rhs = rng.normal(size=(4, 2)).astype(np.float32)
    np.testing.assert_allclose(fg.cholesky_solve(_t(rhs), _t(lower)).numpy(), np.linalg.solve(spd, rhs), rtol=1e-4,
                               atol=1e-5)
    tall = rng.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(fg.pinverse(_t(tall)).numpy(), np.linalg.pinv(tall), rtol=1e-4, atol=1e-5)
    sign, logabs = fg.slogdet(_t(a))
    want_sign, want_log = np.linalg.slogdet(a.astype(np.float64))
    assert sign.item() == want_sign and logabs.item() == pytest.approx(want_log, rel=1e-5)
    U, S, V = fg.svd(_t(tall))
    assert U.shape == (5, 3) and V.shape == (3, 3)
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ V.numpy().T, tall, rtol=1e-4, atol=1e-5)
    U_full, _, _ = fg.svd(_t(tall), some=False)
    assert U_full.shape == (5, 5)
    assert not fg.svd(_t(tall), compute_uv=False).U.numpy().any()
    assert _t(a).det().item() == pytest.approx(float(np.linalg.det(a.astype(np.float64))), rel=1e-4)
    np.testing.assert_allclose(_t(spd).inverse().numpy(), np.linalg.inv(spd), rtol=1e-4, atol=1e-6)


def test_layout_functions(rng: np.random.Generator) -> None:
    a = rng.normal(size=(3, 4)).astype(np.float32)
    x = _t(a)
    np.testing.assert_array_equal(fg.ravel(x).numpy(), a.ravel())
    np.testing.assert_array_equal(fg.msort(x).numpy(), np.sort(a, 0))
    np.testing.assert_array_equal(fg.take(x, fg.tensor(np.array([[0, 11], [-1, 5]]))).numpy(),
                                  np.take(a, [[0, 11], [-1, 5]]))
    with pytest.raises(IndexError, match=r"take: argument `index` expected positions in \[-12, 12\)"):
        fg.take(x, fg.tensor(np.array([12])))
    cube = rng.normal(size=(2, 3, 6)).astype(np.float32)
    for ours, theirs in zip(fg.dsplit(_t(cube), 3), np.dsplit(cube, 3)):
        np.testing.assert_array_equal(ours.numpy(), theirs)
    assert fg.atleast_1d(fg.tensor(1.0)).shape == (1,)
    assert fg.atleast_2d(fg.ones(3)).shape == (1, 3)
    assert fg.atleast_3d(fg.ones(3)).shape == (1, 3, 1) and fg.atleast_3d(fg.ones(2, 3)).shape == (2, 3, 1)
    assert [t.shape for t in fg.atleast_2d(fg.ones(2), fg.ones(2, 2))] == [(1, 2), (2, 2)]
    assert fg.broadcast_shapes((2, 1), (1, 3)) == (2, 3)
    p, q = fg.broadcast_tensors(fg.ones(2, 1), fg.zeros(3))
    assert p.shape == (2, 3) and q.shape == (2, 3)
    np.testing.assert_array_equal(fg.clone(x).numpy(), a)
    np.testing.assert_array_equal(fg.neg(x).numpy(), -a)
    assert [r.shape for r in fg.unbind(x, 1)] == [(3,)] * 4
    np.testing.assert_array_equal(fg.diagonal(x, 1).numpy(), np.diagonal(a, 1))
    np.testing.assert_array_equal(fg.positive(x).numpy(), a)
    np.testing.assert_array_equal(fg.narrow_copy(x, 1, 1, 2).numpy(), a[:, 1:3])
    assert [s.shape for s in x.split_with_sizes([1, 3], 1)] == [(3, 1), (3, 3)]
    np.testing.assert_allclose(x.sum_to_size(1, 4).numpy(), a.sum(0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(fg.ones(2, 3, 4).sum_to_size(3, 1).numpy(), np.full((3, 1), 8.0))
    assert x.nbytes == 48 and x.itemsize == 4 and x.is_cpu and x.get_device() == -1
    assert x.is_signed() and not fg.tensor(np.array([1], dtype=np.uint8)).is_signed()
    assert fg.tensor([2.0]).is_nonzero() and not fg.tensor([0.0]).is_nonzero()
    assert x.is_same_size(fg.zeros(3, 4)) and not x.is_same_size(fg.zeros(4, 3))


def test_index_add_and_copy_with_gradients(rng: np.random.Generator) -> None:
    base = rng.normal(size=(5, 3)).astype(np.float32)
    source = rng.normal(size=(4, 3)).astype(np.float32)
    index = np.array([0, 4, 0, 2])
    want = base.copy()
    np.add.at(want, index, 2.0 * source)
    b, s = _t(base, requires_grad=True), _t(source, requires_grad=True)
    out = fg.index_add(b, 0, fg.tensor(index), s, alpha=2.0)
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), np.ones_like(base))
    np.testing.assert_array_equal(s.grad.numpy(), np.full_like(source, 2.0))
    copied = fg.index_copy(_t(base), 1, fg.tensor(np.array([2, 0])), fg.ones(5, 2))
    want = base.copy()
    want[:, [2, 0]] = 1.0
    np.testing.assert_array_equal(copied.numpy(), want)
    t = _t(base)
    assert t.index_add_(0, fg.tensor(np.array([1])), _t(np.ones((1, 3)))) is t
    np.testing.assert_allclose(t.numpy()[1], base[1] + 1, rtol=1e-6)
    with pytest.raises(RuntimeError, match="index_add: argument `index` expected one position per slice"):
        fg.index_add(_t(base), 0, fg.tensor(np.array([0, 1])), _t(source))


def test_scatter_embeddings_with_gradients(rng: np.random.Generator) -> None:
    a = rng.normal(size=(3, 4)).astype(np.float32)
    src = _t([10.0, 20.0, 30.0], requires_grad=True)
    out = fg.diagonal_scatter(_t(a), src, 1)
    want = a.copy()
    want[[0, 1, 2], [1, 2, 3]] = [10, 20, 30]
    np.testing.assert_array_equal(out.detach().numpy(), want)
    out.sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), [1.0, 1.0, 1.0])
    want = a.copy()
    want[:, 2] = [1, 2, 3]
    np.testing.assert_array_equal(fg.select_scatter(_t(a), _t([1.0, 2.0, 3.0]), 1, 2).numpy(), want)
    want = a.copy()
    want[:, 0:4:2] = 7.0
    np.testing.assert_array_equal(fg.slice_scatter(_t(a), fg.full((3, 2), 7.0), 1, 0, 4, 2).numpy(), want)
    with pytest.raises(RuntimeError, match=r"select_scatter: argument `src` expected shape \[3\]"):
        fg.select_scatter(_t(a), _t([1.0, 2.0]), 1, 0)


def test_counting_and_ordering_functions(rng: np.random.Generator) -> None:
    import itertools

    v = _t([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(fg.combinations(v, 2).numpy(), list(itertools.combinations([1, 2, 3, 4], 2)))
    np.testing.assert_array_equal(fg.combinations(v, 2, with_replacement=True).numpy(),
                                  list(itertools.combinations_with_replacement([1, 2, 3, 4], 2)))
    np.testing.assert_allclose(fg.vander(v).numpy(), np.vander([1, 2, 3, 4]))
    np.testing.assert_allclose(fg.vander(v, 3, increasing=True).numpy(), np.vander([1, 2, 3, 4], 3, increasing=True))
    rows, cols = fg.unravel_index(fg.tensor(np.array([0, 5, 7, -1])), (2, 4))
    want_rows, want_cols = np.unravel_index([0, 5, 7, 7], (2, 4))
    np.testing.assert_array_equal(rows.numpy(), want_rows)
    np.testing.assert_array_equal(cols.numpy(), want_cols)
    runs = fg.tensor(np.array([1, 1, 2, 2, 2, 3, 1, 1]))
    values, inverse, counts = fg.unique_consecutive(runs, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values.numpy(), [1, 2, 3, 1])
    np.testing.assert_array_equal(inverse.numpy(), [0, 0, 1, 1, 1, 2, 3, 3])
    np.testing.assert_array_equal(counts.numpy(), [2, 3, 1, 2])
    rows2 = fg.tensor(np.array([[1, 1], [1, 1], [2, 0]]))
    np.testing.assert_array_equal(fg.unique_consecutive(rows2, dim=0).numpy(), [[1, 1], [2, 0]])
    data = rng.normal(size=(4, 7)).astype(np.float32)
    data[0, :3] = np.nan
    data[2, :] = np.nan
    values, indices = fg.nanmedian(_t(data), 1)
    finite_rows = [0, 1, 3]
    for r in finite_rows:
        kept = np.sort(data[r][~np.isnan(data[r])])
        assert values.numpy()[r] == kept[(kept.size - 1) // 2]
        assert data[r, indices.numpy()[r]] == values.numpy()[r]
    assert np.isnan(values.numpy()[2])
    kept = np.sort(data[~np.isnan(data)])
    assert fg.nanmedian(_t(data)).item() == kept[(kept.size - 1) // 2]
    hist, edges = fg.histogram(_t(data[1]), 4, range=(-3.0, 3.0))
    want_hist, want_edges = np.histogram(data[1], 4, range=(-3.0, 3.0))
    np.testing.assert_array_equal(hist.numpy(), want_hist)
    np.testing.assert_allclose(edges.numpy(), want_edges)
    square = fg.zeros(3, 3)
    square.fill_diagonal_(5.0)
    np.testing.assert_array_equal(square.numpy(), np.eye(3) * 5)
    tall = fg.zeros(7, 3)
    tall.fill_diagonal_(1.0, wrap=True)
    want = np.zeros((7, 3))
    np.fill_diagonal(want, 1.0, wrap=True)
    np.testing.assert_array_equal(tall.numpy(), want)


def test_gradient_matches_numpy(rng: np.random.Generator) -> None:
    f = rng.normal(size=(5, 7)).astype(np.float32)
    for kwargs, np_args in [({}, ()), ({"spacing": 0.5}, (0.5,)), ({"spacing": [2.0, 0.25]}, (2.0, 0.25))]:
        for edge_order in (1, 2):
            ours = fg.gradient(_t(f), edge_order=edge_order, **kwargs)
            theirs = np.gradient(f.astype(np.float64), *np_args, edge_order=edge_order)
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-5)
    x = np.cumsum(rng.uniform(0.1, 1.0, 7))
    (along,) = fg.gradient(_t(f), spacing=[_t(x)], dim=1, edge_order=2)
    np.testing.assert_allclose(along.numpy(), np.gradient(f.astype(np.float64), x, axis=1, edge_order=2), rtol=1e-4,
                               atol=1e-4)
    t = _t(f, requires_grad=True)
    fg.gradient(t, dim=0)[0].sum().backward()
    assert t.grad.shape == (5, 7)
    with pytest.raises(RuntimeError, match="gradient: each dimension expected at least edge_order"):
        fg.gradient(fg.ones(2), edge_order=2)


def test_index_reduce_range_and_small_forms(rng: np.random.Generator) -> None:
    base = rng.normal(size=(4, 3)).astype(np.float32)
    source = rng.normal(size=(5, 3)).astype(np.float32)
    index = np.array([0, 2, 0, 3, 2])
    for reduce, combine in (("amax", np.maximum), ("amin", np.minimum)):
        want = base.copy()
        for row, target in enumerate(index):
            want[target] = combine(want[target], source[row])
        got = fg.index_reduce(_t(base), 0, fg.tensor(index), _t(source), reduce)
        np.testing.assert_array_equal(got.numpy(), want)
    want = base.copy()
    for target in set(index):
        rows = source[index == target]
        want[target] = (base[target] + rows.sum(0)) / (len(rows) + 1)
    np.testing.assert_allclose(_t(base).index_reduce(0, fg.tensor(index), _t(source), "mean").numpy(), want,
                               rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="index_reduce: argument `reduce` expected 'mean', 'amax' or 'amin'"):
        fg.index_reduce(_t(base), 0, fg.tensor(index), _t(source), "prod")
    np.testing.assert_allclose(fg.range(1, 4).numpy(), [1, 2, 3, 4])
    np.testing.assert_allclose(fg.range(0, 1, 0.25).numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    assert fg.is_nonzero(fg.tensor([3.0])) and not fg.is_nonzero(fg.tensor(0.0))
    np.testing.assert_array_equal(fg.repeat_interleave(fg.tensor([1, 2]), 2).numpy(), [1, 1, 2, 2])
    points = rng.normal(size=(5, 3)).astype(np.float32)
    from scipy.spatial.distance import pdist

    np.testing.assert_allclose(fg.pdist(_t(points)).numpy(), pdist(points), rtol=1e-5)
