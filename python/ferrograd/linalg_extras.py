"""More of ``torch.linalg``: triangular solves, the LU factorization with partial pivoting and its
solves, the ``*_ex`` forms that report failures in ``info`` instead of raising, condition
numbers, tensor inverses and solves, Householder products, and the ``linalg`` spellings of ops the
package has elsewhere (``cross``, ``diagonal``, ``matmul``, ``matrix_exp``, ``matrix_power``,
``multi_dot``, ``vecdot``, ``vander``).

Factorizations run on the host in float64, as the rest of ``fg.linalg``; gradients are analytic
formulas in ferrograd ops (or come from composing differentiable ops)."""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional, Sequence, Union

import numpy as np

from ._core import Tensor, cat
from .autograd_function import Function, FunctionCtx, once_differentiable
from .linalg import _back, _check, _mT, _to_host, cholesky, inv, matrix_norm, solve, svd
from .tensor_methods import _host


# -- triangular solves -------------------------------------------------------------------------


def _triangle(a: Tensor, upper: bool, unit: bool) -> Tensor:
    """The triangle of ``a`` a triangular solve reads (its diagonal taken as ones when ``unit``)."""
    part = a.triu() if upper else a.tril()
    if unit:
        eye = Tensor.from_numpy(np.eye(a.shape[-1], dtype=np.float32)).to(a.device)
        part = part * (1 - eye) + eye
    return part


class _SolveTriangular(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor, B: Tensor, upper: bool, unit: bool) -> Tensor:
        a, b = _to_host(_triangle(A.detach(), upper, unit)), _to_host(B)
        try:
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            # A zero on a diagonal: solve matrix by matrix, NaN where singular (LAPACK gives inf / NaN).
            x = np.stack([np.linalg.solve(m, r) if np.all(np.diagonal(m) != 0) else np.full(r.shape, np.nan)
                          for m, r in zip(a.reshape(-1, *a.shape[-2:]), b.reshape(-1, *b.shape[-2:]))]
                         ).reshape(b.shape)
        out = _back(x, A)
        ctx.save_for_backward(A, out)
        ctx.flags = (upper, unit)  # type: ignore[attr-defined]
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, Tensor, None, None]:
        A, x = ctx.saved_tensors
        assert A is not None and x is not None
        upper, unit = ctx.flags  # type: ignore[attr-defined]
        # gB = T^{-T} G (a solve with the other triangle); gA = -gB X^T on the triangle read.
        grad_b = solve_triangular(_mT(A.detach()), grad, upper=not upper, unitriangular=unit)
        grad_a = -(grad_b @ _mT(x))
        grad_a = grad_a.triu(1 if unit else 0) if upper else grad_a.tril(-1 if unit else 0)
        return grad_a, grad_b, None, None


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:
    """The solution ``X`` of ``A X = B`` (``X A = B`` when ``left=False``) for triangular ``A``,
    as ``torch.linalg.solve_triangular``: only the upper (``upper=True``) or lower triangle of
    ``A`` is read, its diagonal taken as ones with ``unitriangular``; batch dimensions
    broadcast. A zero on the diagonal gives NaNs or infinities, as the LAPACK routine does."""
    _check("solve_triangular", "A", A)
    _check("solve_triangular", "B", B, square=False)
    if not left:
        return _mT(solve_triangular(_mT(A), _mT(B), upper=not upper, unitriangular=unitriangular))
    n = A.shape[-1]
    if B.shape[-2] != n:
        raise ValueError(f"linalg.solve_triangular: argument `B` expected {n} rows to match `A` of shape "
                         f"{list(A.shape)}, got shape {list(B.shape)}")
    batch = tuple(np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2])))
    A = A.expand(*batch, n, n) if tuple(A.shape[:-2]) != batch else A
    B = B.expand(*batch, n, B.shape[-1]) if tuple(B.shape[:-2]) != batch else B
    return _SolveTriangular.apply(A, B, bool(upper), bool(unitriangular))


# -- LU ----------------------------------------------------------------------------------------


def _lu_host(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LU with partial pivoting of a batch ``[..., m, n]`` (LAPACK's getrf): the packed factors
    (unit-lower ``L`` below the diagonal, ``U`` on and above it), the 1-based pivots (row ``i``
    was swapped with row ``pivots[i]``, in order) and ``info`` (the 1-based index of the first
    zero pivot, 0 when none)."""
    lu = np.array(a, dtype=np.float64, copy=True)
    batch, (m, n) = lu.shape[:-2], lu.shape[-2:]
    k = min(m, n)
    flat = lu.reshape(-1, m, n)
    pivots = np.zeros((flat.shape[0], k), dtype=np.int64)
    info = np.zeros(flat.shape[0], dtype=np.int64)
    rows = np.arange(flat.shape[0])
    for j in range(k):
        p = j + np.argmax(np.abs(flat[:, j:, j]), axis=1)
        pivots[:, j] = p + 1
        swap = flat[rows, p].copy()
        flat[rows, p] = flat[:, j]
        flat[:, j] = swap
        pivot = flat[:, j, j]
        zero = pivot == 0
        info[(info == 0) & zero] = j + 1
        safe = np.where(zero, 1.0, pivot)
        flat[:, j + 1:, j] = np.where(zero[:, None], flat[:, j + 1:, j], flat[:, j + 1:, j] / safe[:, None])
        flat[:, j + 1:, j + 1:] -= flat[:, j + 1:, j:j + 1] * flat[:, j:j + 1, j + 1:]
    return flat.reshape(lu.shape), pivots.reshape(batch + (k,)), info.reshape(batch)


def _permutation(pivots: np.ndarray, m: int) -> np.ndarray:
    """The matrices ``P`` (``A = P L U``) of a batch of 1-based sequential row swaps."""
    flat = pivots.reshape(-1, pivots.shape[-1])
    out = np.zeros((flat.shape[0], m, m))
    for b, swaps in enumerate(flat):
        order = np.arange(m)
        for i, p in enumerate(swaps - 1):
            order[[i, p]] = order[[p, i]]
        # Row i of P^T A is row order[i] of A, so P[order[i], i] = 1.
        out[b, order, np.arange(m)] = 1.0
    return out.reshape(pivots.shape[:-1] + (m, m))


def _permutation_of(pivots: Tensor, m: int, like: Tensor) -> Tensor:
    """The ``m x m`` matrices ``P`` of pivot tensors, as float32 on ``like``'s device."""
    return _back(_permutation(np.asarray(_host(pivots), np.int64), m), like)


class _LU(Function):
    """The packed factors of ``A`` (``[..., m, n]``) as a differentiable result; the factorization
    itself (``packed`` and ``pivots`` from ``_lu_host``) is computed once by the caller."""

    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor, packed: np.ndarray, pivots: np.ndarray) -> Tensor:
        out = _back(packed, A)
        ctx.save_for_backward(out, _back(_permutation(pivots, A.shape[-2]), A))
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, None, None]:
        packed, P = ctx.saved_tensors
        assert packed is not None and P is not None
        m, n = packed.shape[-2:]
        k = min(m, n)
        L, U = _unpack(packed)
        # With A = P L U, L1 / U1 the leading k x k blocks of L and U, gL and gU the packed
        # gradient's strictly lower and upper parts, and L2 / U2 (gL2 / gU2) the rows of L below
        # k (tall A) or the columns of U right of k (wide A):
        #   phi = tril(L1^T gL1 - gU2 U2^T, -1) + triu(gU1 U1^T - L2^T gL2),
        #   P^T gA = [L1^{-T} phi U1^{-T} | L1^{-T} gU2] (wide) or [L1^{-T} phi U1^{-T} ; gL2 U1^{-T}] (tall).
        g_lower, g_upper = grad[..., :k].tril(-1), grad[..., :k, :].triu()
        L1, U1 = L[..., :k, :], U[..., :k]
        lower_term = _mT(L1) @ g_lower[..., :k, :]
        upper_term = g_upper[..., :k] @ _mT(U1)
        if n > m:
            lower_term = lower_term - g_upper[..., k:] @ _mT(U[..., k:])
        if m > n:
            upper_term = upper_term - _mT(L[..., k:, :]) @ g_lower[..., k:, :]
        phi = lower_term.tril(-1) + upper_term.triu()
        left = solve_triangular(_mT(L1), phi, upper=True, unitriangular=True)
        core = solve_triangular(_mT(U1), left, upper=False, left=False)
        if n > m:
            core = cat([core, solve_triangular(_mT(L1), g_upper[..., k:], upper=True, unitriangular=True)], -1)
        elif m > n:
            core = cat([core, solve_triangular(_mT(U1), g_lower[..., k:, :], upper=False, left=False)], -2)
        return P @ core, None, None


def _unpack(packed: Tensor) -> tuple[Tensor, Tensor]:
    """``L`` (``[..., m, k]``, unit diagonal) and ``U`` (``[..., k, n]``) of packed factors."""
    m, n = packed.shape[-2:]
    k = min(m, n)
    eye = Tensor.from_numpy(np.eye(m, k, dtype=np.float32)).to(packed.device)
    return packed[..., :k].tril(-1) + eye, packed[..., :k, :].triu()


class LUFactorResult(NamedTuple):
    """``linalg.lu_factor``'s result: the packed factors and the 1-based pivots."""

    LU: Tensor
    pivots: Tensor


class LUResult(NamedTuple):
    """``linalg.lu``'s result: ``A = P L U``."""

    P: Tensor
    L: Tensor
    U: Tensor


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactorResult:
    """The LU factorization with partial pivoting of a matrix or batch ``[..., m, n]``, packed as
    LAPACK's getrf leaves it (``torch.linalg.lu_factor``): ``L`` (unit diagonal) below the
    diagonal, ``U`` on and above it, and the ``min(m, n)`` 1-based int32 pivots. Differentiable
    where the leading ``min(m, n)`` pivots are nonzero; a RuntimeError on a zero pivot (see
    :func:`lu_factor_ex`)."""
    _check("lu_factor", "A", A, square=False)
    if not pivot:
        raise NotImplementedError("linalg.lu_factor: pivot=False is implemented by PyTorch on CUDA only, as here")
    result = lu_factor_ex(A)
    if bool((result.info > 0).any().item()):
        raise RuntimeError("linalg.lu_factor: the input matrix is singular (a zero pivot), the factorization "
                           "could not be completed")
    return LUFactorResult(result.LU, result.pivots)


class LUFactorExResult(NamedTuple):
    """``linalg.lu_factor_ex``'s result: packed factors, pivots and ``info``."""

    LU: Tensor
    pivots: Tensor
    info: Tensor


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LUFactorExResult:
    """:func:`lu_factor` that reports a zero pivot in ``info`` (its 1-based index, 0 when none)
    instead of raising (unless ``check_errors``)."""
    _check("lu_factor_ex", "A", A, square=False)
    if not pivot:
        raise NotImplementedError("linalg.lu_factor_ex: pivot=False is implemented by PyTorch on CUDA only, as here")
    packed, pivots, info = _lu_host(_to_host(A.detach()))
    if check_errors and (info > 0).any():
        raise RuntimeError("linalg.lu_factor_ex: the input matrix is singular (a zero pivot)")
    as_int = lambda v: Tensor.from_numpy(np.array(v, dtype=np.int32, order="C")).to(A.device)  # noqa: E731
    return LUFactorExResult(_LU.apply(A, packed, pivots), as_int(pivots), as_int(info))


def lu(A: Tensor, *, pivot: bool = True) -> LUResult:
    """``A = P L U`` with partial pivoting (``torch.linalg.lu``) for a matrix or batch
    ``[..., m, n]``: ``P`` an ``m x m`` permutation, ``L`` ``m x k`` unit lower-trapezoidal, ``U``
    ``k x n`` upper-trapezoidal (``k = min(m, n)``); differentiable where the leading ``k`` pivots
    are nonzero (through :func:`lu_factor`)."""
    LU, pivots = lu_factor(A, pivot=pivot)
    L, U = _unpack(LU)
    P = _permutation_of(pivots, A.shape[-2], A)
    return LUResult(P, L, U)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:
    """The solution of ``A X = B`` from ``lu_factor``'s ``LU`` and ``pivots``
    (``torch.linalg.lu_solve``); ``adjoint`` solves ``A^T X = B``, ``left=False`` solves
    ``X A = B``. Differentiable in ``LU`` and ``B`` (two triangular solves and a permutation)."""
    _check("lu_solve", "LU", LU)
    _check("lu_solve", "B", B, square=False)
    if not left:
        return _mT(lu_solve(LU, pivots, _mT(B), adjoint=not adjoint))
    L, U = _unpack(LU)
    P = _permutation_of(pivots, LU.shape[-1], LU)
    if adjoint:
        # A^T = U^T L^T P^T: solve U^T y = B, L^T z = y, X = P z.
        y = solve_triangular(_mT(U), B, upper=False)
        return P @ solve_triangular(_mT(L), y, upper=True, unitriangular=True)
    y = solve_triangular(L, _mT(P) @ B, upper=False, unitriangular=True)
    return solve_triangular(U, y, upper=True)


# -- the *_ex forms ------------------------------------------------------------------------------


class CholeskyExResult(NamedTuple):
    """``linalg.cholesky_ex``'s result."""

    L: Tensor
    info: Tensor


class InvExResult(NamedTuple):
    """``linalg.inv_ex``'s result."""

    inverse: Tensor
    info: Tensor


class SolveExResult(NamedTuple):
    """``linalg.solve_ex``'s result."""

    result: Tensor
    info: Tensor


def _info_tensor(info: np.ndarray, like: Tensor) -> Tensor:
    return Tensor.from_numpy(np.array(info, dtype=np.int32, order="C")).to(like.device)


def _leading_minor_failures(a: np.ndarray) -> np.ndarray:
    """Per matrix, the order of the first leading minor that is not positive-definite (0: none),
    as LAPACK's potrf reports it."""
    flat = a.reshape(-1, a.shape[-2], a.shape[-1])
    out = np.zeros(flat.shape[0], dtype=np.int64)
    for b, m in enumerate(flat):
        try:
            np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            out[b] = next(k for k in range(1, m.shape[0] + 1) if not _is_positive_definite(m[:k, :k]))
    return out.reshape(a.shape[:-2])


def _is_positive_definite(m: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(m)
        return True
    except np.linalg.LinAlgError:
        return False


def _masked(op: Any, A: Tensor, failed: np.ndarray) -> Tensor:
    """``op`` applied to ``A`` with the failed matrices swapped for identities, their results then
    set to NaN (the batch's other results keep their gradients)."""
    if not failed.any():
        return op(A)
    eye = np.eye(A.shape[-1], dtype=np.float32)
    keep = _back(~failed, A).reshape(*failed.shape, 1, 1)
    safe = A * keep + _back(eye, A) * (1 - keep)
    nan = _back(np.where(failed, np.nan, 0.0), A).reshape(*failed.shape, 1, 1)
    return op(safe) + nan


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyExResult:
    """:func:`cholesky` that reports failures in ``info`` (the order of the first leading minor
    that is not positive-definite, 0 on success) instead of raising; a failed matrix's factor is
    NaN. ``check_errors=True`` raises as ``cholesky`` does."""
    _check("cholesky_ex", "A", A)
    failed_at = _leading_minor_failures(_to_host(A.detach()))
    if check_errors and (failed_at > 0).any():
        raise RuntimeError("linalg.cholesky_ex: the input matrix is not positive-definite")
    L = _masked(lambda a: cholesky(a, upper=upper), A, failed_at > 0)
    return CholeskyExResult(L, _info_tensor(failed_at, A))


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """:func:`inv` that reports a singular matrix in ``info`` (LU's first zero pivot, 1-based; 0
    when invertible) instead of raising; a singular matrix's inverse is NaN."""
    _check("inv_ex", "A", A)
    info = _lu_host(_to_host(A.detach()))[2]
    if check_errors and (info > 0).any():
        raise RuntimeError("linalg.inv_ex: the input matrix is singular")
    return InvExResult(_masked(inv, A, info > 0), _info_tensor(info, A))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> SolveExResult:
    """:func:`solve` that reports a singular ``A`` in ``info`` (as :func:`inv_ex`) instead of
    raising; the solutions for singular matrices are NaN."""
    _check("solve_ex", "A", A)
    info = _lu_host(_to_host(A.detach()))[2]
    if check_errors and (info > 0).any():
        raise RuntimeError("linalg.solve_ex: the input matrix is singular")
    return SolveExResult(_masked(lambda a: solve(a, B, left=left), A, info > 0), _info_tensor(info, A))


# -- condition numbers, tensor inverses and solves, Householder products ---------------------------


def cond(A: Tensor, p: Union[float, str, None] = None) -> Tensor:
    """The condition number of a matrix or batch (``torch.linalg.cond``): for ``p`` None, 2 or
    -2 the ratio of the largest to the smallest singular value (its inverse for -2; rectangular
    inputs allowed); for ``'fro'``, ``'nuc'``, inf, -inf, 1 and -1, ``norm(A, p) norm(A^{-1}, p)``
    of a square ``A``. Differentiable."""
    if p in (None, 2, -2):
        _check("cond", "A", A, square=False)
        S = svd(A, full_matrices=False).S
        largest, smallest = S.narrow(-1, 0, 1).squeeze(-1), S.narrow(-1, S.shape[-1] - 1, 1).squeeze(-1)
        return smallest / largest if p == -2 else largest / smallest
    _check("cond", "A", A)
    if p not in ("fro", "nuc", math.inf, -math.inf, 1, -1):
        raise ValueError(f"linalg.cond: argument `p` expected None, 2, -2, 'fro', 'nuc', inf, -inf, 1 or -1, got {p!r}")
    if p == "nuc":
        total = lambda m: svd(m, full_matrices=False).S.sum(-1)  # noqa: E731
        return total(A) * total(inv(A))
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of ``A`` seen as a linear map from its last ``ndim - ind`` axes to its first
    ``ind`` (``torch.linalg.tensorinv``): the result has shape ``A.shape[ind:] + A.shape[:ind]``
    and ``tensordot(result, A, ind)`` is the identity. Differentiable."""
    if ind <= 0:
        raise ValueError(f"linalg.tensorinv: argument `ind` expected a positive integer, got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise ValueError(f"linalg.tensorinv: expected the product of the first {ind} dimensions ({rows}) to equal "
                         f"that of the others ({cols}), got shape {list(A.shape)}")
    return inv(A.reshape(rows, cols)).reshape(*A.shape[ind:], *A.shape[:ind])


def tensorsolve(A: Tensor, B: Tensor, dims: Optional[Sequence[int]] = None) -> Tensor:
    """The ``X`` with ``tensordot(A, X, X.ndim) = B`` (``torch.linalg.tensorsolve``); ``dims``
    names axes of ``A`` moved to the end first. Differentiable."""
    if dims is not None:
        axes = [d % A.ndim for d in dims]
        keep = [d for d in range(A.ndim) if d not in axes]
        A = A.permute(*keep, *axes)
    lead = A.shape[:B.ndim]
    if list(lead) != list(B.shape):
        raise ValueError(f"linalg.tensorsolve: the leading dimensions of `A` {list(A.shape)} expected to equal the "
                         f"shape of `B` {list(B.shape)}")
    x_shape = A.shape[B.ndim:]
    n = math.prod(x_shape)
    if math.prod(lead) != n:
        raise ValueError(f"linalg.tensorsolve: expected as many equations ({math.prod(lead)}) as unknowns ({n})")
    return solve(A.reshape(n, n), B.reshape(n)).reshape(*x_shape)


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first ``n`` columns of ``H_1 H_2 ... H_k``, ``H_i = I - tau_i v_i v_i^T`` with ``v_i``
    the ``i``-th column of ``A`` below the diagonal and a 1 on it (``torch.linalg.householder_product``,
    LAPACK's orgqr). Composed of differentiable ops."""
    _check("householder_product", "A", A, square=False)
    m, n = A.shape[-2], A.shape[-1]
    k = tau.shape[-1]
    if k > n or n > m:
        raise ValueError(f"linalg.householder_product: expected m >= n >= k, got A of shape {list(A.shape)} and "
                         f"tau of shape {list(tau.shape)}")
    eye = Tensor.from_numpy(np.eye(m, dtype=np.float32)).to(A.device)
    vectors = A.narrow(-1, 0, k).tril(-1) + eye.narrow(-1, 0, k)
    Q = eye.expand(*A.shape[:-2], m, m) if A.ndim > 2 else eye
    for i in range(k):
        v = vectors.narrow(-1, i, 1)
        t = tau.narrow(-1, i, 1).unsqueeze(-1)
        Q = Q - (Q @ v) @ (_mT(v) * t)
    return Q.narrow(-1, 0, n)


# -- linalg spellings of ops the package has -------------------------------------------------------


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (default the last axis)."""
    from .tensor_torch_forms import cross as cross_product

    return cross_product(input, other, dim=dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonal of each matrix over the last two axes (``offset`` above it when positive)."""
    return A.diagonal(offset, dim1, dim2)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """The matrix product (``torch.matmul``)."""
    return input @ other


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential of each matrix over the last two axes (``torch.linalg.matrix_exp``)."""
    from .linalg_forms import matrix_exp as exponential

    return exponential(A)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` to the integer power ``n`` (negative: of its inverse), as ``torch.linalg.matrix_power``."""
    from .linalg_forms import matrix_power as power

    return power(A, n)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product along ``dim``, broadcasting the other axes."""
    return (x * y).sum(dim)


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices (the first may be a vector, as may the last), multiplied
    in the order that needs the fewest scalar products."""
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: argument `tensors` expected at least 2 tensors, got {len(tensors)}")
    first_vector, last_vector = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = [t.unsqueeze(0) if i == 0 and first_vector else t for i, t in enumerate(tensors)]
    mats[-1] = mats[-1].unsqueeze(-1) if last_vector else mats[-1]
    if any(m.ndim != 2 for m in mats):
        raise ValueError("linalg.multi_dot: expected 2-D matrices (1-D at the ends)")
    dims = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    count = len(mats)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf  # type: ignore[call-overload]
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def chain(i: int, j: int) -> Tensor:
        return mats[i] if i == j else chain(i, split[i][j]) @ chain(split[i][j] + 1, j)

    out = chain(0, count - 1)
    if first_vector:
        out = out.squeeze(0)
    return out.squeeze(-1) if last_vector else out


def vander(x: Tensor, *, N: Optional[int] = None) -> Tensor:
    """The Vandermonde matrix with increasing powers ``x^0 ... x^(N-1)`` along the last axis
    (``torch.linalg.vander``; ``N`` defaults to ``x``'s last dimension)."""
    from .tensor_layout_forms import vander as vander_matrix

    n = x.shape[-1] if N is None else N
    if x.ndim == 1:
        return vander_matrix(x, n, increasing=True)
    powers = [x.unsqueeze(-1) ** float(k) for k in range(n)]
    from . import cat

    return cat(powers, -1)
