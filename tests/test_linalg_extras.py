"""More of ``fg.linalg``: triangular solves, LU with partial pivoting, the ``*_ex`` forms, condition
numbers, tensor inverses and solves, Householder products and the ``linalg`` spellings — values
against numpy / scipy (float64) and gradients against JAX's, as ``test_linalg_einsum`` does."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
import pytest
import scipy.linalg as sl

import ferrograd as fg
from test_linalg_einsum import check_grads, values, well_conditioned

L = fg.linalg


def pivoting(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Random matrices whose LU needs row swaps (no diagonal boost)."""
    return rng.standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(upper: bool, left: bool, unit: bool, rng: np.random.Generator) -> None:
    A = well_conditioned(rng, 2, 4, 4)
    B = rng.standard_normal((2, 4, 3) if left else (2, 3, 4)).astype(np.float32)
    got = values(L.solve_triangular(fg.tensor(A), fg.tensor(B), upper=upper, left=left, unitriangular=unit))
    want = np.stack([
        sl.solve_triangular(a, b, lower=not upper, unit_diagonal=unit) if left
        else sl.solve_triangular(a.T, b.T, lower=upper, unit_diagonal=unit).T
        for a, b in zip(A.astype(np.float64), B.astype(np.float64))])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)

    def reference(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
        return jax.vmap(lambda m, r: jsl.solve_triangular(m, r, lower=not upper, unit_diagonal=unit, trans=0)
                        if left else jsl.solve_triangular(m, r.T, lower=not upper, unit_diagonal=unit, trans=1).T)(a, b)

    check_grads(lambda a, b: L.solve_triangular(a, b, upper=upper, left=left, unitriangular=unit), reference, [A, B])


def test_lu_factor_lu_and_lu_solve(rng: np.random.Generator) -> None:
    A = pivoting(rng, 3, 5, 5)
    LU, pivots = L.lu_factor(fg.tensor(A))
    for a, lu, piv in zip(A.astype(np.float64), values(LU), pivots.numpy()):
        want_lu, want_piv = sl.lu_factor(a)
        np.testing.assert_allclose(lu, want_lu, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(piv, want_piv + 1)  # LAPACK's 1-based pivots, as PyTorch
    assert pivots.dtype == "int32" and (pivots.numpy() != np.arange(1, 6)).any()
    P, Lm, U = L.lu(fg.tensor(A))
    np.testing.assert_allclose(values(P @ Lm @ U), A, atol=1e-5)
    np.testing.assert_array_equal(np.diagonal(values(Lm), 0, -2, -1), 1.0)
    B = rng.standard_normal((3, 5, 2)).astype(np.float32)
    np.testing.assert_allclose(values(L.lu_solve(LU, pivots, fg.tensor(B))), np.linalg.solve(A, B), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(values(L.lu_solve(LU, pivots, fg.tensor(B), adjoint=True)),
                               np.linalg.solve(np.swapaxes(A, -1, -2), B), rtol=1e-4, atol=1e-5)
    Bt = np.swapaxes(B, -1, -2).copy()
    np.testing.assert_allclose(values(L.lu_solve(LU, pivots, fg.tensor(Bt), left=False)),
                               np.swapaxes(np.linalg.solve(np.swapaxes(A, -1, -2), B), -1, -2), rtol=1e-4, atol=1e-5)
    # Gradients: of the packed factors (JAX's lu_factor differentiates the same packing) and of
    # solves through them.
    check_grads(lambda a: L.lu_factor(a).LU, lambda a: jax.vmap(lambda m: jsl.lu_factor(m)[0])(a), [A])
    check_grads(lambda a, b: L.lu_solve(*L.lu_factor(a), b), lambda a, b: jnp.linalg.solve(a, b), [A, B])
    check_grads(lambda a: L.lu(a).U, lambda a: jax.vmap(lambda m: jsl.lu(m)[2])(a), [A])


@pytest.mark.parametrize("shape", [(2, 6, 4), (2, 4, 6), (7, 3), (3, 7)])
def test_rectangular_lu(shape: tuple[int, ...], rng: np.random.Generator) -> None:
    """Tall and wide LU: getrf's packing and pivots (scipy), P L U = A with trapezoidal factors,
    and gradients of the packed factors and of L and U against JAX's."""
    A = pivoting(rng, *shape)
    m, n = shape[-2:]
    k = min(m, n)
    LU, pivots = L.lu_factor(fg.tensor(A))
    assert tuple(LU.shape) == shape and tuple(pivots.shape) == shape[:-2] + (k,)
    for a, lu, piv in zip(A.reshape(-1, m, n).astype(np.float64), values(LU).reshape(-1, m, n),
                          pivots.numpy().reshape(-1, k)):
        want_lu, want_piv = sl.lu_factor(a)
        np.testing.assert_allclose(lu, want_lu, rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(piv, want_piv + 1)
    P, Lm, U = L.lu(fg.tensor(A))
    assert tuple(P.shape[-2:]) == (m, m) and tuple(Lm.shape[-2:]) == (m, k) and tuple(U.shape[-2:]) == (k, n)
    np.testing.assert_allclose(values(P @ Lm @ U), A, atol=1e-5)
    np.testing.assert_array_equal(np.triu(values(Lm).reshape(-1, m, k), 1), 0.0)
    np.testing.assert_array_equal(np.tril(values(U).reshape(-1, k, n), -1), 0.0)

    def factor(part: int) -> Callable[[jnp.ndarray], jnp.ndarray]:
        one = (lambda m: jax.lax.linalg.lu(m)[0]) if part == 0 else (lambda m: jsl.lu(m)[part])
        return jax.vmap(one) if len(shape) == 3 else one

    check_grads(lambda a: L.lu_factor(a).LU, factor(0), [A])
    check_grads(lambda a: L.lu(a).L, factor(1), [A])
    check_grads(lambda a: L.lu(a).U, factor(2), [A])


def test_ex_forms_report_failures_in_info() -> None:
    S = np.array([[[4.0, 2.0], [2.0, 3.0]], [[1.0, 2.0], [2.0, 1.0]]], np.float32)
    L_ex, info = L.cholesky_ex(fg.tensor(S))
    assert info.numpy().tolist() == [0, 2] and info.dtype == "int32"
    np.testing.assert_allclose(values(L_ex)[0], np.linalg.cholesky(S[0]), rtol=1e-6)
    assert np.isnan(values(L_ex)[1]).all()
    Z = np.stack([np.eye(3, dtype=np.float32), np.array([[1, 2, 3], [2, 4, 6], [1, 0, 1]], np.float32)])
    inverse, info = L.inv_ex(fg.tensor(Z))
    assert info.numpy().tolist() == [0, 3]
    np.testing.assert_array_equal(values(inverse)[0], np.eye(3))
    assert np.isnan(values(inverse)[1]).all()
    assert L.solve_ex(fg.tensor(Z), fg.ones(2, 3, 1)).info.numpy().tolist() == [0, 3]
    assert L.lu_factor_ex(fg.tensor(Z)).info.numpy().tolist() == [0, 3]
    assert L.inv_ex(fg.eye(2)).info.shape == ()
    with pytest.raises(RuntimeError, match="singular"):
        L.inv_ex(fg.tensor(Z), check_errors=True)
    with pytest.raises(RuntimeError, match="singular"):
        L.lu_factor(fg.tensor(Z))
    with pytest.raises(RuntimeError, match="positive-definite"):
        L.cholesky_ex(fg.tensor(S), check_errors=True)


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", np.inf, -np.inf, 1, -1])
def test_cond(p: object, rng: np.random.Generator) -> None:
    A = pivoting(rng, 2, 4, 4)
    np.testing.assert_allclose(values(L.cond(fg.tensor(A), p)), np.linalg.cond(A.astype(np.float64), p), rtol=1e-4)
    check_grads(lambda a: L.cond(a, p), lambda a: jnp.linalg.cond(a, p), [A], rtol=2e-3, atol=1e-3)


def _householder_by_definition(a: jnp.ndarray, tau: jnp.ndarray) -> jnp.ndarray:
    """``(H_1 ... H_k)[:, :n]`` with ``H_i = I - tau_i v_i v_i^T`` formed one by one (JAX has no
    derivative for its LAPACK routine)."""
    m, n = a.shape
    q = jnp.eye(m)
    for i in range(tau.shape[0]):
        v = jnp.concatenate([jnp.zeros(i), jnp.ones(1), a[i + 1:, i]])
        q = q @ (jnp.eye(m) - tau[i] * jnp.outer(v, v))
    return q[:, :n]


def test_tensorinv_tensorsolve_householder(rng: np.random.Generator) -> None:
    T = pivoting(rng, 6, 2, 3)
    np.testing.assert_allclose(values(L.tensorinv(fg.tensor(T), 1)), np.linalg.tensorinv(T, 1), rtol=1e-4, atol=1e-5)
    check_grads(lambda a: L.tensorinv(a, 1), lambda a: jnp.linalg.tensorinv(a, 1), [T])
    b = rng.standard_normal(6).astype(np.float32)
    np.testing.assert_allclose(values(L.tensorsolve(fg.tensor(T), fg.tensor(b))), np.linalg.tensorsolve(T, b),
                               rtol=1e-4, atol=1e-5)
    check_grads(lambda a, v: L.tensorsolve(a, v), lambda a, v: jnp.linalg.tensorsolve(a, v), [T, b])
    H = rng.standard_normal((5, 3)).astype(np.float32)
    tau = rng.random(2).astype(np.float32)
    np.testing.assert_allclose(values(L.householder_product(fg.tensor(H), fg.tensor(tau))),
                               np.asarray(jax.lax.linalg.householder_product(H, tau)), rtol=1e-5, atol=1e-6)
    check_grads(lambda a, t: L.householder_product(a, t), _householder_by_definition, [H, tau])
    # With tau from a QR the product is that QR's Q (up to the signs LAPACK chooses).
    q_raw, tau_raw = sl.qr(H.astype(np.float64), mode="raw")[0]
    q = values(L.householder_product(fg.tensor(q_raw.astype(np.float32)), fg.tensor(tau_raw.astype(np.float32))))
    np.testing.assert_allclose(q, sl.qr(H.astype(np.float64), mode="economic")[0], atol=1e-5)


def test_linalg_spellings(rng: np.random.Generator) -> None:
    v, w = rng.standard_normal((2, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(values(L.cross(fg.tensor(v), fg.tensor(w))), np.cross(v, w), rtol=1e-6)
    np.testing.assert_allclose(values(L.vecdot(fg.tensor(v), fg.tensor(w))), (v * w).sum(-1), rtol=1e-6)
    A = pivoting(rng, 2, 3, 3)
    np.testing.assert_array_equal(values(L.diagonal(fg.tensor(A), offset=1)), np.diagonal(A, 1, -2, -1))
    np.testing.assert_allclose(values(L.matmul(fg.tensor(A), fg.tensor(A))), A @ A, rtol=1e-6)
    np.testing.assert_allclose(values(L.matrix_power(fg.tensor(A), 3)), A @ A @ A, rtol=1e-5)
    np.testing.assert_allclose(values(L.matrix_exp(fg.tensor(A[0] * 0.1))), sl.expm(A[0] * 0.1), rtol=1e-5)
    np.testing.assert_allclose(values(L.vander(fg.tensor(v[0]))), np.vander(v[0], increasing=True), rtol=1e-6)
    np.testing.assert_allclose(values(L.vander(fg.tensor(v), N=4)), np.stack([np.vander(r, 4, increasing=True) for r in v]),
                               rtol=1e-6)
    mats = [rng.standard_normal(s).astype(np.float32) for s in ((3,), (3, 5), (5, 2), (2,))]
    np.testing.assert_allclose(values(L.multi_dot([fg.tensor(m) for m in mats])), np.linalg.multi_dot(mats), rtol=1e-5)
    check_grads(lambda *m: L.multi_dot(list(m)), lambda *m: jnp.linalg.multi_dot(list(m)), mats)
    with pytest.raises(ValueError, match="at least 2"):
        L.multi_dot([fg.tensor(mats[1])])


def _symmetric(rng: np.random.Generator, *shape: int, zero_diagonal: bool = False) -> np.ndarray:
    m = rng.standard_normal(shape)
    s = (m + np.swapaxes(m, -1, -2)).astype(np.float32)
    if zero_diagonal:
        s[..., np.arange(shape[-1]), np.arange(shape[-1])] = 0.0
    return s


@pytest.mark.parametrize("zero_diagonal", [False, True])
def test_ldl_factor_is_lapacks_sytrf_and_ldl_solve_solves(zero_diagonal: bool, rng: np.random.Generator) -> None:
    """Bunch-Kaufman pivoting: the packed factors and pivots (2 x 2 blocks included, which a
    zero diagonal forces) equal scipy's LAPACK dsytrf; only the lower triangle is read."""
    from scipy.linalg import lapack

    # A 1 x 1 zero is singular, so the zero-diagonal case starts at 2.
    for n in (2, 5, 9) if zero_diagonal else (1, 2, 5, 9):
        A = _symmetric(rng, 3, n, n, zero_diagonal=zero_diagonal)
        noisy_upper = A + np.triu(rng.standard_normal((n, n)).astype(np.float32), 1)
        LD, pivots = L.ldl_factor(fg.tensor(noisy_upper))
        assert pivots.dtype == "int32" and tuple(pivots.shape) == (3, n)
        for a, ld, piv in zip(A.astype(np.float64), LD.numpy(), pivots.numpy()):
            want_ld, want_piv, info = lapack.dsytrf(a, lower=1)
            assert info == 0
            np.testing.assert_array_equal(piv, want_piv)
            np.testing.assert_allclose(ld, np.tril(want_ld), rtol=1e-5, atol=1e-5)
        B = rng.standard_normal((3, n, 2)).astype(np.float32)
        np.testing.assert_allclose(L.ldl_solve(LD, pivots, fg.tensor(B)).numpy(),
                                   np.linalg.solve(A.astype(np.float64), B), rtol=1e-3, atol=1e-4)
    if zero_diagonal:
        assert (pivots.numpy() < 0).any()


def test_ldl_singular_matrices_report_info() -> None:
    Z = np.zeros((2, 3, 3), dtype=np.float32)
    Z[1] = np.eye(3)
    result = L.ldl_factor_ex(fg.tensor(Z))
    assert result.info.numpy().tolist() == [1, 0]
    with pytest.raises(RuntimeError, match="linalg.ldl_factor_ex: the factorization's D has an exactly zero block"):
        L.ldl_factor(fg.tensor(Z))
    with pytest.raises(ValueError, match="linalg.ldl_solve: expected `B` with 3 rows"):
        L.ldl_solve(result.LD, result.pivots, fg.zeros(2, 1))
