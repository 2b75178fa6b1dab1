"""``fg.linalg``'s inverses, solves, determinants and decompositions, and ``fg.einsum``'s ellipsis
and diagonals: values against numpy (float64 reference, float32 results at rtol 1e-4), gradients
against JAX's (float32, of ``sum(f(A) * W)`` for a fixed random ``W``), and the errors."""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg

jax.config.update("jax_platforms", "cpu")

L = fg.linalg


def well_conditioned(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Random square matrices with the identity's weight added, so they are far from singular."""
    n = shape[-1]
    return (rng.standard_normal(shape) + 3 * np.eye(n)).astype(np.float32)


def spd(rng: np.random.Generator, *shape: int) -> np.ndarray:
    a = rng.standard_normal(shape)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(np.float32)


def check_grads(fg_fn: Callable[..., fg.Tensor], jax_fn: Callable[..., jnp.ndarray], inputs: Sequence[np.ndarray],
                rtol: float = 1e-3, atol: float = 1e-4) -> None:
    """The gradients of ``sum(f(*inputs) * W)`` match JAX's for every input."""
    leaves = [fg.tensor(x, requires_grad=True) for x in inputs]
    out = fg_fn(*leaves)
    w = np.random.default_rng(7).standard_normal(tuple(out.shape)).astype(np.float32)
    (out * fg.tensor(w)).sum().backward()
    want = jax.grad(lambda *xs: (jax_fn(*xs) * w).sum(), argnums=tuple(range(len(inputs))))(
        *[jnp.asarray(x) for x in inputs])
    for leaf, g in zip(leaves, want):
        assert leaf.grad is not None
        np.testing.assert_allclose(leaf.grad.numpy(), np.asarray(g), rtol=rtol, atol=atol)


def values(t: fg.Tensor) -> np.ndarray:
    return t.detach().numpy()


# Values against numpy.

def test_inv_solve_det_slogdet_values(rng: np.random.Generator) -> None:
    a = well_conditioned(rng, 2, 3, 4, 4)
    b = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    A = fg.tensor(a)
    np.testing.assert_allclose(values(L.inv(A)), np.linalg.inv(a.astype(np.float64)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(values(L.solve(A, fg.tensor(b))), np.linalg.solve(a, b), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(values(L.det(A)), np.linalg.det(a.astype(np.float64)), rtol=1e-4)
    sign, logabs = L.slogdet(A)
    want_sign, want_logabs = np.linalg.slogdet(a.astype(np.float64))
    np.testing.assert_array_equal(values(sign), want_sign)
    np.testing.assert_allclose(values(logabs), want_logabs, rtol=1e-4)
    # A vector right-hand side, a broadcast batch, and left=False.
    v = rng.standard_normal(4).astype(np.float32)
    np.testing.assert_allclose(values(L.solve(A, fg.tensor(v))), np.linalg.solve(a, v[:, None])[..., 0],
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(values(L.solve(A, fg.tensor(b[0, 0]))), np.linalg.solve(a, b[0, 0]), rtol=1e-4, atol=1e-6)
    bt = np.swapaxes(b, -1, -2)
    np.testing.assert_allclose(values(L.solve(A, fg.tensor(bt), left=False)),
                               np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), b), -1, -2), rtol=1e-4, atol=1e-6)


def test_top_level_aliases(rng: np.random.Generator) -> None:
    a = well_conditioned(rng, 3, 3)
    assert fg.det(fg.tensor(a)).shape == () and L.slogdet(fg.tensor(a)).sign.shape == ()
    np.testing.assert_allclose(values(fg.inverse(fg.tensor(a))), np.linalg.inv(a), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fg.det(fg.tensor(a)).item(), np.linalg.det(a), rtol=1e-4)
    np.testing.assert_allclose(fg.logdet(fg.tensor(a)).item(), np.log(np.linalg.det(a)), rtol=1e-4)
    flipped = a[::-1].copy()  # negative determinant: NaN, as torch.logdet
    if np.linalg.det(flipped) < 0:
        assert np.isnan(fg.logdet(fg.tensor(flipped)).item())


def test_det_of_a_singular_matrix_and_its_gradient() -> None:
    a = np.array([[1.0, 2.0], [2.0, 4.0]], np.float32)
    A = fg.tensor(a, requires_grad=True)
    d = L.det(A)
    assert abs(d.item()) < 1e-6
    d.backward()
    assert A.grad is not None
    np.testing.assert_allclose(A.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-5)  # the cofactor matrix


def test_decomposition_values(rng: np.random.Generator) -> None:
    s = spd(rng, 3, 4, 4)
    np.testing.assert_allclose(values(L.cholesky(fg.tensor(s))), np.linalg.cholesky(s.astype(np.float64)),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(values(L.cholesky(fg.tensor(s), upper=True)),
                               np.swapaxes(np.linalg.cholesky(s.astype(np.float64)), -1, -2), rtol=1e-4, atol=1e-5)
    w, v = L.eigh(fg.tensor(s))
    want_w, want_v = np.linalg.eigh(s.astype(np.float64))
    np.testing.assert_allclose(values(w), want_w, rtol=1e-4)
    np.testing.assert_allclose(np.abs(values(v)), np.abs(want_v), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(values(L.eigvalsh(fg.tensor(s))), want_w, rtol=1e-4)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    for full in (True, False):
        U, S, Vh = L.svd(fg.tensor(x), full_matrices=full)
        wu, ws, wvh = np.linalg.svd(x.astype(np.float64), full_matrices=full)
        assert U.shape == wu.shape and Vh.shape == wvh.shape
        np.testing.assert_allclose(values(S), ws, rtol=1e-4)
        np.testing.assert_allclose(values(U[..., :3] @ (S.unsqueeze(-1) * Vh)), x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(values(L.svdvals(fg.tensor(x.swapaxes(1, 2).copy()))), np.linalg.svd(x, compute_uv=False),
                               rtol=1e-4)
    for mode in ("reduced", "complete"):
        Q, R = L.qr(fg.tensor(x), mode=mode)
        wq, wr = np.linalg.qr(x.astype(np.float64), mode=mode)
        np.testing.assert_allclose(values(Q), wq, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(values(R), wr, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(values(L.qr(fg.tensor(x), mode="r").R), np.linalg.qr(x, mode="r"), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(values(L.pinv(fg.tensor(x))), np.linalg.pinv(x.astype(np.float64)), rtol=1e-4, atol=1e-5)
    low_rank = np.concatenate([x, x[..., :1]], -1)  # 5 x 4 of rank 3
    np.testing.assert_array_equal(L.matrix_rank(fg.tensor(low_rank)).numpy(), np.linalg.matrix_rank(low_rank))
    assert L.matrix_rank(fg.tensor(low_rank)).dtype == "int64"
    np.testing.assert_allclose(values(L.pinv(fg.tensor(low_rank))), np.linalg.pinv(low_rank.astype(np.float64)),
                               rtol=1e-3, atol=1e-4)


# Gradients against JAX.

def test_inv_solve_det_slogdet_gradients(rng: np.random.Generator) -> None:
    a = well_conditioned(rng, 2, 4, 4)
    b = rng.standard_normal((2, 4, 3)).astype(np.float32)
    check_grads(L.inv, jnp.linalg.inv, [a])
    check_grads(L.solve, jnp.linalg.solve, [a, b])
    check_grads(L.solve, lambda x, y: jnp.linalg.solve(x, y[..., None])[..., 0], [a, b[..., 0]])
    check_grads(L.solve, lambda x, y: jnp.linalg.solve(x, y), [a, b[0]])  # B broadcast over A's batch
    check_grads(L.det, jnp.linalg.det, [a])
    check_grads(lambda x: L.slogdet(x).logabsdet, lambda x: jnp.linalg.slogdet(x)[1], [a])
    check_grads(fg.logdet, lambda x: jnp.log(jnp.linalg.det(x)), [spd(rng, 3, 3)])


def test_cholesky_gradient(rng: np.random.Generator) -> None:
    s = spd(rng, 2, 4, 4)
    check_grads(L.cholesky, jnp.linalg.cholesky, [s])
    check_grads(lambda x: L.cholesky(x, upper=True), lambda x: jnp.swapaxes(jnp.linalg.cholesky(x), -1, -2), [s])


def test_eigh_gradient_of_sign_invariant_losses(rng: np.random.Generator) -> None:
    s = spd(rng, 2, 4, 4)
    check_grads(lambda x: L.eigh(x).eigenvalues, lambda x: jnp.linalg.eigh(x)[0], [s])
    # Squared eigenvector entries do not depend on each vector's sign.
    check_grads(lambda x: L.eigh(x).eigenvectors ** 2, lambda x: jnp.linalg.eigh(x)[1] ** 2, [s])


@pytest.mark.parametrize("shape", [(2, 4, 4), (2, 5, 3), (3, 5)], ids=["square", "tall", "wide"])
def test_svd_gradient_of_sign_invariant_losses(shape: tuple, rng: np.random.Generator) -> None:
    x = rng.standard_normal(shape).astype(np.float32)
    check_grads(L.svdvals, lambda a: jnp.linalg.svd(a, compute_uv=False), [x])

    def rebuilt(u, s, vh):
        return (u * s[..., None, :]) @ vh

    check_grads(lambda a: rebuilt(*L.svd(a, full_matrices=False)),
                lambda a: rebuilt(*jnp.linalg.svd(a, full_matrices=False)), [x])
    # |U| and |Vh| do not depend on the paired signs of the singular vectors.
    check_grads(lambda a: L.svd(a, full_matrices=False).U.abs(),
                lambda a: jnp.abs(jnp.linalg.svd(a, full_matrices=False)[0]), [x], rtol=2e-3, atol=2e-4)
    check_grads(lambda a: L.svd(a, full_matrices=False).Vh.abs(),
                lambda a: jnp.abs(jnp.linalg.svd(a, full_matrices=False)[2]), [x], rtol=2e-3, atol=2e-4)


def test_qr_and_pinv_gradients(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    check_grads(lambda a: L.qr(a).Q, lambda a: jnp.linalg.qr(a)[0], [x])
    check_grads(lambda a: L.qr(a).R, lambda a: jnp.linalg.qr(a)[1], [x])
    square = well_conditioned(rng, 4, 4)
    check_grads(lambda a: L.qr(a).Q, lambda a: jnp.linalg.qr(a)[0], [square])
    check_grads(L.pinv, jnp.linalg.pinv, [x], rtol=2e-3, atol=2e-4)


def test_gradients_stay_on_the_graph_of_later_ops(rng: np.random.Generator) -> None:
    a = well_conditioned(rng, 3, 3)
    check_grads(lambda x: L.inv(x) @ L.inv(x) + L.det(x).unsqueeze(-1) * x,
                lambda x: jnp.linalg.inv(x) @ jnp.linalg.inv(x) + jnp.linalg.det(x)[..., None] * x, [a])


def test_lstsq_values_and_gradient(rng: np.random.Generator) -> None:
    a = rng.standard_normal((2, 6, 3)).astype(np.float32)
    b = rng.standard_normal((2, 6, 2)).astype(np.float32)
    got = L.lstsq(fg.tensor(a), fg.tensor(b), driver="gelsd")
    for i in range(2):
        x, residuals, rank, sv = np.linalg.lstsq(a[i].astype(np.float64), b[i].astype(np.float64), rcond=None)
        np.testing.assert_allclose(values(got.solution)[i], x, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(values(got.residuals)[i], residuals, rtol=1e-4)
        assert got.rank.numpy()[i] == rank
        np.testing.assert_allclose(values(got.singular_values)[i], sv, rtol=1e-4)
    default = L.lstsq(fg.tensor(a), fg.tensor(b))  # 'gelsy', as PyTorch's CPU default: no residuals
    assert default.residuals.numel() == 0 and default.singular_values.numel() == 0
    assert default.rank.tolist() == [3, 3]
    check_grads(lambda x, y: L.lstsq(x, y).solution, lambda x, y: jnp.linalg.lstsq(x, y)[0] if x.ndim == 2 else
                jax.vmap(lambda u, v: jnp.linalg.lstsq(u, v)[0])(x, y), [a, b], rtol=2e-3, atol=2e-4)


@pytest.mark.skipif(not fg.cuda.is_available(), reason="needs a CUDA device")
def test_linalg_on_the_gpu_keeps_the_device_and_the_gradients(rng: np.random.Generator) -> None:
    a = well_conditioned(rng, 2, 4, 4)
    s = spd(rng, 2, 4, 4)
    for fn, x in ((L.inv, a), (L.det, a), (lambda t: L.slogdet(t).logabsdet, a), (L.cholesky, s),
                  (lambda t: L.eigh(t).eigenvalues, s), (L.svdvals, a), (lambda t: L.qr(t).R, a), (L.pinv, a)):
        cpu = fg.tensor(x, requires_grad=True)
        gpu = fg.tensor(x).cuda().requires_grad_()
        out_cpu, out_gpu = fn(cpu), fn(gpu)
        assert out_gpu.device == gpu.device
        np.testing.assert_allclose(out_gpu.detach().cpu().numpy(), values(out_cpu), rtol=1e-4, atol=1e-5)
        out_cpu.sum().backward()
        out_gpu.sum().backward()
        assert cpu.grad is not None and gpu.grad is not None
        np.testing.assert_allclose(gpu.grad.cpu().numpy(), cpu.grad.numpy(), rtol=1e-3, atol=1e-4)


# Errors.

def test_linalg_errors() -> None:
    singular = fg.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(RuntimeError, match="linalg.inv: the input matrix is singular"):
        L.inv(singular)
    with pytest.raises(RuntimeError, match="linalg.solve: the input matrix is singular"):
        L.solve(singular, fg.ones(2))
    with pytest.raises(RuntimeError, match="linalg.cholesky: the input matrix is not positive-definite"):
        L.cholesky(fg.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match=r"linalg.inv: argument `A` expected a batch of square matrices, got shape \[2, 3\]"):
        L.inv(fg.ones(2, 3))
    with pytest.raises(ValueError, match=r"linalg.det: argument `A` expected a tensor of at least 2 dimensions, got shape \[3\]"):
        L.det(fg.ones(3))
    with pytest.raises(TypeError, match="linalg.eigh: argument `A` expected a float32 tensor, got dtype float16"):
        L.eigh(fg.ones(2, 2).half())
    with pytest.raises(TypeError, match="linalg.svd: argument `A` expected a Tensor, got list"):
        L.svd([[1.0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"linalg.solve: argument `B` expected 2 rows"):
        L.solve(fg.eye(2), fg.ones(3, 1))
    with pytest.raises(ValueError, match="linalg.solve: the batch dimensions"):
        L.solve(fg.eye(2).expand(3, 2, 2), fg.ones(4, 2, 1))
    with pytest.raises(ValueError, match="linalg.qr: argument `mode` expected"):
        L.qr(fg.eye(2), mode="full")
    with pytest.raises(ValueError, match="linalg.eigh: argument `UPLO` expected"):
        L.eigh(fg.eye(2), UPLO="X")
    with pytest.raises(RuntimeError, match="once_differentiable|differentiat"):
        a = fg.tensor(np.eye(2, dtype=np.float32) * 2, requires_grad=True)
        (g,) = fg.autograd.grad(L.inv(a).sum(), [a], create_graph=True)
        g.sum().backward()


# einsum: diagonals and the ellipsis.

EINSUM_CASES = [
    ("ii->i", [(3, 3)]), ("ii->", [(4, 4)]), ("ii", [(4, 4)]), ("bii->bi", [(2, 3, 3)]), ("iii->i", [(3, 3, 3)]),
    ("iji->j", [(3, 4, 3)]), ("ii,ij->j", [(3, 3), (3, 4)]), ("ii,ii->i", [(3, 3), (3, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]), ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i...->...", [(2, 3, 4)]), ("...", [(2, 3)]), ("...ii->...i", [(2, 3, 3)]), ("i...i", [(3, 2, 3)]),
    ("ij...,jk...->ik...", [(2, 3, 5), (3, 4, 1)]), ("...,...->...", [(3, 1), (4,)]),
    ("a...b,...->...", [(2, 3, 4), (3,)]), ("...i,i", [(2, 3), (3,)]), ("b...,b...->b...", [(2, 3), (2, 1)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_diagonals_and_ellipsis(equation: str, shapes: list, rng: np.random.Generator) -> None:
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    out = fg.einsum(equation, *[fg.tensor(a) for a in arrays])
    want = np.einsum(equation, *[a.astype(np.float64) for a in arrays])
    assert tuple(out.shape) == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-4, atol=1e-5)
    check_grads(lambda *xs: fg.einsum(equation, *xs), lambda *xs: jnp.einsum(equation, *xs), arrays,
                rtol=1e-4, atol=1e-5)


def test_einsum_ellipsis_missing_from_the_output_is_summed_as_pytorch() -> None:
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(fg.einsum("...i->i", fg.tensor(x)).numpy(), x.sum(0))
    np.testing.assert_allclose(fg.einsum("b...,b...->b", fg.tensor(x), fg.tensor(x)).numpy(), (x * x).sum(1))


def test_einsum_new_errors() -> None:
    with pytest.raises(ValueError, match="repeated within one operand has sizes 2 and 3"):
        fg.einsum("ii->i", fg.ones(2, 3))
    with pytest.raises(ValueError, match="at most one '...'"):
        fg.einsum("...i...->i", fg.ones(2, 3))
    with pytest.raises(ValueError, match="at most one '...'"):
        fg.einsum("..i->i", fg.ones(2, 3))
    with pytest.raises(ValueError, match="subscripts '...ijk' name at least 3 dimensions of a 2-d operand"):
        fg.einsum("...ijk->i", fg.ones(2, 3))
    with pytest.raises(ValueError, match=r"'\.\.\.' dimension 0 has sizes 2 and 3"):
        fg.einsum("...i,...i->...", fg.ones(2, 4), fg.ones(3, 4))
    with pytest.raises(ValueError, match="output subscripts 'ii'"):
        fg.einsum("ij->ii", fg.ones(2, 2))
