"""``torch.linalg``'s LDL routines for symmetric matrices: ``ldl_factor`` / ``ldl_factor_ex``
(LAPACK's sytrf, lower: Bunch-Kaufman diagonal pivoting with 1 x 1 and 2 x 2 blocks, so
indefinite matrices factor stably) and ``ldl_solve`` (sytrs). Only the lower triangle of ``A``
is read. The factors and pivots come packed as LAPACK leaves them: ``L`` (unit diagonal implied)
below the blocks of ``D``, pivots 1-based, a 2 x 2 block marked by two equal negative entries.

Computed in float64 on the host, matrix by matrix, and returned as float32 / int32 tensors on
the input's device. As PyTorch's, neither has a gradient."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._core import Tensor
from .linalg import _back, _check, _to_host
from .tensor_methods import _host

# Bunch and Kaufman's threshold, (1 + sqrt 17) / 8, which bounds the growth of the entries.
_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0


def _swap(a: np.ndarray, first: tuple, second: tuple) -> None:
    held = np.copy(a[first])
    a[first] = a[second]
    a[second] = held


def _choose_pivot(A: np.ndarray, k: int) -> tuple[int, int]:
    """(kp, kstep): the row to bring to position ``k + kstep - 1`` and the block size, by the
    Bunch-Kaufman tests on column ``k`` (sytf2's)."""
    n = A.shape[0]
    absakk = abs(A[k, k])
    imax, colmax = (k + 1 + int(np.argmax(np.abs(A[k + 1:, k]))), 0.0) if k < n - 1 else (k, 0.0)
    if k < n - 1:
        colmax = abs(A[imax, k])
    if max(absakk, colmax) == 0.0 or absakk >= _ALPHA * colmax:
        return k, 1
    rowmax = np.abs(A[imax, k:imax]).max()
    if imax < n - 1:
        rowmax = max(rowmax, np.abs(A[imax + 1:, imax]).max())
    if absakk >= _ALPHA * colmax * (colmax / rowmax):
        return k, 1
    if abs(A[imax, imax]) >= _ALPHA * rowmax:
        return imax, 1
    return imax, 2


def _factor(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """sytf2 (lower) of one symmetric matrix: the packed factors, the pivots and ``info`` (the
    1-based index of the first exactly zero block of ``D``, 0 when none)."""
    A = np.tril(np.array(a, dtype=np.float64))
    n = A.shape[0]
    pivots = np.zeros(n, dtype=np.int64)
    info, k = 0, 0
    while k < n:
        if max(abs(A[k, k]), np.abs(A[k + 1:, k]).max() if k < n - 1 else 0.0) == 0.0 and info == 0:
            info = k + 1
        kp, kstep = _choose_pivot(A, k)
        kk = k + kstep - 1
        if kp != kk:
            # Symmetric interchange of rows and columns kk and kp within the trailing block,
            # reading and writing only the lower triangle.
            if kp < n - 1:
                _swap(A, (slice(kp + 1, None), kk), (slice(kp + 1, None), kp))
            between = np.arange(kk + 1, kp)
            _swap(A, (between, kk), (kp, between))
            _swap(A, (kk, kk), (kp, kp))
            if kstep == 2:
                _swap(A, (k + 1, k), (kp, k))
        if kstep == 1 and k < n - 1 and A[k, k] != 0.0:
            x = A[k + 1:, k].copy()
            scaled = -x / A[k, k]
            A[k + 1:, k + 1:] += np.tril(np.outer(x, scaled))
            A[k + 1:, k] = x / A[k, k]
        elif kstep == 2 and k < n - 2:
            d21 = A[k + 1, k]
            d11, d22 = A[k + 1, k + 1] / d21, A[k, k] / d21
            d21 = (1.0 / (d11 * d22 - 1.0)) / d21
            first, second = A[k + 2:, k].copy(), A[k + 2:, k + 1].copy()
            wk, wkp1 = d21 * (d11 * first - second), d21 * (d22 * second - first)
            A[k + 2:, k + 2:] -= np.tril(np.outer(first, wk) + np.outer(second, wkp1))
            A[k + 2:, k], A[k + 2:, k + 1] = wk, wkp1
        pivots[k:k + kstep] = kp + 1 if kstep == 1 else -(kp + 1)
        k += kstep
    return A, pivots, info


def _solve(A: np.ndarray, pivots: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sytrs (lower): ``X`` with ``A X = B`` from the packed factors."""
    B = np.array(b, dtype=np.float64)
    n = A.shape[0]
    k = 0
    while k < n:  # L D Y = B
        if pivots[k] > 0:
            _swap(B, (k,), (pivots[k] - 1,))
            B[k + 1:] -= np.outer(A[k + 1:, k], B[k])
            B[k] /= A[k, k]
            k += 1
        else:
            _swap(B, (k + 1,), (-pivots[k] - 1,))
            B[k + 2:] -= np.outer(A[k + 2:, k], B[k]) + np.outer(A[k + 2:, k + 1], B[k + 1])
            akm1k = A[k + 1, k]
            akm1, ak = A[k, k] / akm1k, A[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1.0
            bkm1, bk = B[k] / akm1k, B[k + 1] / akm1k
            B[k], B[k + 1] = (ak * bkm1 - bk) / denom, (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:  # L^T X = Y
        if pivots[k] > 0:
            B[k] -= A[k + 1:, k] @ B[k + 1:]
            _swap(B, (k,), (pivots[k] - 1,))
            k -= 1
        else:
            B[k] -= A[k + 1:, k] @ B[k + 1:]
            B[k - 1] -= A[k + 1:, k - 1] @ B[k + 1:]
            _swap(B, (k,), (-pivots[k] - 1,))
            k -= 2
    return B


class LDLFactorResult(NamedTuple):
    """``linalg.ldl_factor``'s result: packed factors and pivots."""

    LD: Tensor
    pivots: Tensor


class LDLFactorExResult(NamedTuple):
    """``linalg.ldl_factor_ex``'s result: packed factors, pivots and ``info``."""

    LD: Tensor
    pivots: Tensor
    info: Tensor


def _int32(values: np.ndarray, like: Tensor) -> Tensor:
    return Tensor.from_numpy(np.ascontiguousarray(values, dtype=np.int32)).to(like.device)


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False) -> LDLFactorExResult:
    """The LDL factorization of a symmetric matrix or batch (lower triangle read), reporting an
    exactly singular ``D`` in ``info`` (the 1-based index of its first zero block, 0 when none)
    instead of raising, unless ``check_errors``. ``hermitian`` is the same for real matrices."""
    _check("ldl_factor_ex", "A", A)
    a = _to_host(A.detach())
    n = a.shape[-1]
    flat = a.reshape(-1, n, n)
    packed, pivots, infos = np.empty_like(flat), np.empty(flat.shape[:2], np.int64), np.empty(len(flat), np.int64)
    for i, matrix in enumerate(flat):
        packed[i], pivots[i], infos[i] = _factor(matrix)
    if check_errors and (infos > 0).any():
        raise RuntimeError(f"linalg.ldl_factor_ex: the factorization's D has an exactly zero block (info = "
                           f"{int(infos[infos > 0][0])}), so the matrix is singular")
    return LDLFactorExResult(_back(packed.reshape(a.shape), A), _int32(pivots.reshape(a.shape[:-1]), A),
                             _int32(infos.reshape(a.shape[:-2]), A))


def ldl_factor(A: Tensor, *, hermitian: bool = False) -> LDLFactorResult:
    """:func:`ldl_factor_ex` that raises a RuntimeError when ``D`` is singular."""
    result = ldl_factor_ex(A, hermitian=hermitian, check_errors=True)
    return LDLFactorResult(result.LD, result.pivots)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """The solution of ``A X = B`` from :func:`ldl_factor`'s ``LD`` and ``pivots``; batch
    dimensions of ``LD`` and ``B`` broadcast."""
    _check("ldl_solve", "LD", LD)
    _check("ldl_solve", "B", B, square=False)
    n = LD.shape[-1]
    if B.shape[-2] != n or tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise ValueError(f"linalg.ldl_solve: expected `B` with {n} rows and `pivots` of shape {list(LD.shape[:-1])}, "
                         f"got `B` of shape {list(B.shape)} and `pivots` of shape {list(pivots.shape)}")
    batch = tuple(np.broadcast_shapes(tuple(LD.shape[:-2]), tuple(B.shape[:-2])))
    factors = np.broadcast_to(_to_host(LD), batch + (n, n)).reshape(-1, n, n)
    pivot_rows = np.broadcast_to(np.asarray(_host(pivots), np.int64), batch + (n,)).reshape(-1, n)
    rhs = np.broadcast_to(_to_host(B), batch + tuple(B.shape[-2:])).reshape(-1, *B.shape[-2:])
    solved = np.stack([_solve(f, p, r) for f, p, r in zip(factors, pivot_rows, rhs)])
    return _back(solved.reshape(batch + tuple(B.shape[-2:])), B)
