"""``fg.linalg``: vector and matrix norms under PyTorch's names, composed from differentiable ops
(the vector p-norms of :meth:`Tensor.norm`, sums, ``max`` / ``min``), so gradients and every
device come with them. Matrix norms that need singular values (``'nuc'``, 2, -2) are not
provided. Inverses, solves, determinants and decompositions (``inv``, ``solve``, ``det``,
``slogdet``, ``cholesky``, ``eigh``, ``svd``, ``qr``, ``pinv``, ``matrix_rank``) compute on the
host in float64 and take float32 tensors; their gradients are analytic formulas in ferrograd ops."""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional, Sequence, Union

import numpy as np

from ._core import Tensor
from .autograd_function import Function, FunctionCtx, once_differentiable
from .dtypes import FLOATING_DTYPES
from .tensor_methods import _axis, _host

__all__ = ["norm", "vector_norm", "matrix_norm"]

Ord = Union[float, str]
Dims = Union[int, Sequence[int], None]


def _dims(x: Tensor, dim: Dims) -> Optional[list[int]]:
    if dim is None:
        return None
    return sorted({_axis(x, d, "linalg.vector_norm") for d in ([dim] if isinstance(dim, int) else dim)})


def vector_norm(x: Tensor, ord: float = 2, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (an int or a tuple; all entries when None): 2, 1,
    ``inf`` (largest magnitude), ``-inf`` (smallest), 0 (the count of nonzero entries, without a
    gradient) or any other p, ``sum(|x|^p)^(1/p)``. The 2-norm's gradient at zero is zero."""
    if x.dtype not in FLOATING_DTYPES:
        raise TypeError(f"linalg.vector_norm: argument `x` expected a floating-point tensor, got dtype {x.dtype}")
    if isinstance(ord, bool) or not isinstance(ord, (int, float)) or math.isnan(ord):
        raise ValueError(f"linalg.vector_norm: argument `ord` expected a number, got {ord!r}")
    dims = _dims(x, dim)
    if ord == 0:
        return (x != 0).to(x.dtype).sum(dims, keepdim)
    if ord > 0 or ord == -math.inf:
        return x.norm(ord, dims, keepdim)
    return x.abs().pow(float(ord)).sum(dims, keepdim).pow(1.0 / ord)


def matrix_norm(x: Tensor, ord: Ord = "fro", dim: Sequence[int] = (-2, -1), keepdim: bool = False) -> Tensor:
    """The matrix norm over the two dimensions ``dim``: ``'fro'`` (the 2-norm of the entries),
    ``'nuc'`` (the sum of the singular values), 2 / -2 (the largest / smallest singular value), 1 /
    -1 (the largest / smallest column sum of magnitudes) or ``inf`` / ``-inf`` (row sums)."""
    if len(dim) != 2 or x.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: expected two dimensions of a tensor of at least 2, got `dim` {dim} "
                         f"for shape {list(x.shape)}")
    rows, cols = (_axis(x, d, "linalg.matrix_norm") for d in dim)
    if rows == cols:
        raise ValueError(f"linalg.matrix_norm: argument `dim` expected two different dimensions, got {dim}")
    if ord == "fro":
        return vector_norm(x, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        from .tensor_torch_forms import movedim

        values = svdvals(movedim(x, (rows, cols), (-2, -1)))
        out = values.sum(-1) if ord == "nuc" else values.max(-1)[0] if ord == 2 else values.min(-1)[0]
        return out.unsqueeze(min(rows, cols)).unsqueeze(max(rows, cols)) if keepdim else out
    if ord not in (1, -1, math.inf, -math.inf):
        raise ValueError(f"linalg.matrix_norm: argument `ord` expected 'fro', 'nuc', 2, -2, 1, -1, inf or -inf, "
                         f"got {ord!r}")
    summed, picked = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = x.abs().sum(summed, True)
    out = (sums.max(picked, True) if float(ord) > 0 else sums.min(picked, True))[0]
    return out if keepdim else out.squeeze(max(rows, cols)).squeeze(min(rows, cols))


def norm(x: Tensor, ord: Union[Ord, None] = None, dim: Dims = None, keepdim: bool = False) -> Tensor:
    """A vector or matrix norm, chosen as PyTorch does: over one ``dim`` a vector norm
    (:func:`vector_norm`, 2 unless ``ord``), over two a matrix norm (:func:`matrix_norm`,
    ``'fro'`` unless ``ord``); without ``dim``, the 2-norm of all entries when ``ord`` is None,
    else the ``ord`` norm of a 1-D (vector) or 2-D (matrix) tensor."""
    if dim is None and ord is not None:
        if x.ndim not in (1, 2):
            raise ValueError(f"linalg.norm: argument `x` expected a 1-D or 2-D tensor when `ord` is given without "
                             f"`dim`, got shape {list(x.shape)}")
        dim = list(range(x.ndim))
    dims = [dim] if isinstance(dim, int) else None if dim is None else list(dim)
    if dims is not None and len(dims) == 2:
        return matrix_norm(x, "fro" if ord is None else ord, dims, keepdim)
    if dims is not None and len(dims) != 1:
        raise ValueError(f"linalg.norm: argument `dim` expected one or two dimensions, got {dim}")
    if isinstance(ord, str):
        raise ValueError(f"linalg.norm: argument `ord` expected a number for a vector norm, got {ord!r}")
    return vector_norm(x, 2 if ord is None else ord, dims, keepdim)



# Inverses, solves, determinants and decompositions: each an ``autograd.Function`` whose forward
# runs in numpy float64 on the host (batched over the leading dimensions) and comes back as float32
# on the input's device, and whose backward is the analytic formula written with ferrograd ops, so
# it runs on any device. The backwards read forward results saved as constants, so they are marked
# once-differentiable: differentiating a gradient again raises instead of dropping terms. A
# Function returns one tensor, so the several results of eigh, svd, qr and slogdet travel as one
# flat tensor (the batch dimensions, then every result's matrix flattened and concatenated), split
# afterwards by differentiable slices; the backward splits its gradient the same way.

class EighResult(NamedTuple):
    """``linalg.eigh``'s result: ascending ``eigenvalues`` and the matching ``eigenvectors`` as
    columns."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    """``linalg.svd``'s result: ``U``, the descending singular values ``S``, and ``Vh``."""

    U: Tensor
    S: Tensor
    Vh: Tensor


class QRResult(NamedTuple):
    """``linalg.qr``'s result: ``Q`` with orthonormal columns and upper-triangular ``R``."""

    Q: Tensor
    R: Tensor


class SlogdetResult(NamedTuple):
    """``linalg.slogdet``'s result: the determinant's ``sign`` and the log of its magnitude."""

    sign: Tensor
    logabsdet: Tensor


class LstsqResult(NamedTuple):
    """``linalg.lstsq``'s result, as PyTorch's: the ``solution``, and ``residuals``, ``rank`` and
    ``singular_values`` (empty where the driver does not compute them)."""

    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def _check(op: str, arg: str, x: Any, square: bool = True, rank: int = 2) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{op}: argument `{arg}` expected a Tensor, got {type(x).__name__}")
    if x.dtype != "float32":
        raise TypeError(f"linalg.{op}: argument `{arg}` expected a float32 tensor, got dtype {x.dtype}")
    if x.ndim < rank:
        raise ValueError(f"linalg.{op}: argument `{arg}` expected a tensor of at least {rank} dimensions, "
                         f"got shape {list(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"linalg.{op}: argument `{arg}` expected a batch of square matrices, "
                         f"got shape {list(x.shape)}")


def _to_host(x: Tensor) -> np.ndarray:
    return np.asarray(_host(x), dtype=np.float64)


def _back(values: Any, like: Tensor) -> Tensor:
    """A numpy result as a float32 tensor on ``like``'s device."""
    return Tensor.from_numpy(np.array(values, dtype=np.float32, order="C")).to(like.device)


def _singular(op: str) -> RuntimeError:
    return RuntimeError(f"linalg.{op}: the input matrix is singular, the {op} could not be completed")


def _mT(x: Tensor) -> Tensor:
    return x.transpose(-2, -1)


def _flat(parts: Sequence[np.ndarray], batch: tuple[int, ...]) -> np.ndarray:
    return np.concatenate([p.reshape(batch + (-1,)) for p in parts], -1)


def _split(packed: Tensor, batch: Sequence[int], shapes: Sequence[Sequence[int]]) -> list[Tensor]:
    """The results ``_flat`` packed, as differentiable slices of ``packed``."""
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(packed.narrow(-1, start, size).reshape(*batch, *shape))
        start += size
    return out


def _inverse(op: str, a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise _singular(op) from None


class _Inv(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor) -> Tensor:
        out = _back(_inverse("inv", _to_host(A)), A)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        (inverse,) = ctx.saved_tensors
        assert inverse is not None
        return -(_mT(inverse) @ grad @ _mT(inverse))


def inv(A: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch), as ``torch.linalg.inv``; a
    RuntimeError for a singular one. Gradient ``-A^{-T} G A^{-T}``."""
    _check("inv", "A", A)
    return _Inv.apply(A)


class _Solve(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor, B: Tensor) -> Tensor:
        inverse = _inverse("solve", _to_host(A))
        out = _back(inverse @ _to_host(B), A)
        ctx.save_for_backward(_back(inverse, A), out)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, Tensor]:
        inverse, x = ctx.saved_tensors
        assert inverse is not None and x is not None
        grad_b = _mT(inverse) @ grad
        return -(grad_b @ _mT(x)), grad_b


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """The solution ``X`` of ``A X = B`` (of ``X A = B`` when ``left=False``), as
    ``torch.linalg.solve``: ``B`` is a batch of matrices, or of vectors when it is 1-D or has the
    shape ``A.shape[:-1]``; batch dimensions broadcast. A RuntimeError for a singular ``A``.
    Gradients ``gB = A^{-T} G`` and ``gA = -gB X^T``."""
    _check("solve", "A", A)
    _check("solve", "B", B, square=False, rank=1)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and list(B.shape) == list(A.shape[:-1]))
    if not left:
        if vector:
            raise ValueError("linalg.solve: argument `B` expected a matrix (not a vector) when `left=False`, "
                             f"got shape {list(B.shape)}")
        return _mT(solve(_mT(A), _mT(B)))
    matrix = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    if matrix.shape[-2] != n:
        raise ValueError(f"linalg.solve: argument `B` expected {n} rows to match `A` of shape {list(A.shape)}, "
                         f"got shape {list(B.shape)}")
    a_batch, b_batch = tuple(A.shape[:-2]), tuple(matrix.shape[:-2])
    try:
        batch = tuple(np.broadcast_shapes(a_batch, b_batch))
    except ValueError:
        raise ValueError(f"linalg.solve: the batch dimensions of `A` {list(a_batch)} and `B` {list(b_batch)} "
                         f"do not broadcast") from None
    A = A.expand(*batch, n, n) if a_batch != batch else A
    matrix = matrix.expand(*batch, n, matrix.shape[-1]) if b_batch != batch else matrix
    out = _Solve.apply(A, matrix)
    return out.squeeze(-1) if vector else out


def _cofactors(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The determinants of a batch, and the gradient of each (the cofactor matrix), through the
    SVD ``A = U diag(s) Vh``: cofactor = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, which holds
    for singular matrices too."""
    u, s, vh = np.linalg.svd(a)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    n = s.shape[-1]
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], -1)
    cofactor = sign[..., None, None] * (u * others[..., None, :]) @ vh
    return np.linalg.det(a), cofactor


class _Det(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor) -> Tensor:
        det, cofactor = _cofactors(_to_host(A))
        ctx.save_for_backward(_back(cofactor, A))
        return _back(det, A)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        (cofactor,) = ctx.saved_tensors
        assert cofactor is not None
        return grad.reshape(*grad.shape, 1, 1) * cofactor


def det(A: Tensor) -> Tensor:
    """The determinant of a square matrix (or of each in a batch), as ``torch.linalg.det``.
    Gradient ``G det(A) A^{-T}`` (the cofactor matrix, so singular matrices have one too)."""
    _check("det", "A", A)
    return _Det.apply(A)


class _Slogdet(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor) -> Tensor:
        a = _to_host(A)
        sign, logabs = np.linalg.slogdet(a)
        ok = sign != 0
        inverse = np.linalg.inv(np.where(ok[..., None, None], a, np.eye(a.shape[-1])))
        ctx.save_for_backward(_back(np.where(ok[..., None, None], np.swapaxes(inverse, -1, -2), np.nan), A))
        return _back(np.stack([sign, logabs], -1), A)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        (inverse_t,) = ctx.saved_tensors
        assert inverse_t is not None
        return grad.narrow(-1, 1, 1).unsqueeze(-1) * inverse_t


def slogdet(A: Tensor) -> SlogdetResult:
    """The sign of the determinant and the log of its magnitude, as ``torch.linalg.slogdet``
    (``sign`` 0 and ``logabsdet`` -inf for a singular matrix). ``logabsdet``'s gradient is
    ``G A^{-T}``; ``sign`` has none."""
    _check("slogdet", "A", A)
    packed = _Slogdet.apply(A)
    return SlogdetResult(packed.narrow(-1, 0, 1).squeeze(-1).detach(), packed.narrow(-1, 1, 1).squeeze(-1))


def logdet(A: Tensor) -> Tensor:
    """The log of the determinant, as ``torch.logdet``: NaN where the determinant is negative,
    -inf where it is zero. Gradient ``G A^{-T}``."""
    _check("logdet", "A", A)
    packed = _Slogdet.apply(A)
    sign, logabs = packed.narrow(-1, 0, 1).squeeze(-1).detach(), packed.narrow(-1, 1, 1).squeeze(-1)
    return logabs + sign.log()


class _Cholesky(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor, upper: bool) -> Tensor:
        try:
            lower = np.linalg.cholesky(_to_host(A))
        except np.linalg.LinAlgError:
            raise RuntimeError("linalg.cholesky: the input matrix is not positive-definite, "
                               "the factorization could not be completed") from None
        out = _back(lower, A)
        ctx.save_for_backward(out, _back(np.linalg.inv(lower), A))
        ctx.upper = upper  # type: ignore[attr-defined]
        return _mT(out) if upper else out

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, None]:
        lower, lower_inv = ctx.saved_tensors
        assert lower is not None and lower_inv is not None
        if ctx.upper:  # type: ignore[attr-defined]
            grad = _mT(grad)
        # PyTorch's formula: Phi = tril(L^T G) with a halved diagonal, mirrored to a symmetric
        # matrix, then L^{-T} Phi L^{-1}.
        phi = (_mT(lower) @ grad).tril()
        phi = (phi + _mT(phi.tril(-1))) * 0.5
        return _mT(lower_inv) @ phi @ lower_inv, None


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` (lower-triangular, ``A = L L^T``; ``L^T`` when ``upper``) of a
    symmetric positive-definite matrix or batch, as ``torch.linalg.cholesky``; only the lower
    triangle of ``A`` is read, and its gradient is symmetric. A RuntimeError when ``A`` is not
    positive-definite."""
    _check("cholesky", "A", A)
    return _Cholesky.apply(A, upper)


class _Eigh(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor, uplo: str) -> Tensor:
        a = _to_host(A)
        values, vectors = np.linalg.eigh(a, UPLO="U" if uplo == "U" else "L")
        batch = a.shape[:-2]
        ctx.shapes = (batch, a.shape[-1])  # type: ignore[attr-defined]
        ctx.save_for_backward(_back(values, A), _back(vectors, A))
        return _back(_flat([values, vectors], batch), A)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, None]:
        values, vectors = ctx.saved_tensors
        assert values is not None and vectors is not None
        batch, n = ctx.shapes  # type: ignore[attr-defined]
        grad_values, grad_vectors = _split(grad, batch, [(n,), (n, n)])
        # V (diag(gL) + skew(V^T gV) / 2 / (lambda_j - lambda_i)) V^T, as PyTorch's (symmetric).
        inner = _mT(vectors) @ grad_vectors
        inner = (inner - _mT(inner)) * 0.5
        gaps = values.unsqueeze(-2) - values.unsqueeze(-1)
        eye = _eye(n, grad)
        inner = inner / (gaps + eye) * (1 - eye) + eye * grad_values.unsqueeze(-1)
        return vectors @ inner @ _mT(vectors), None


def _eye(n: int, like: Tensor) -> Tensor:
    return Tensor.from_numpy(np.eye(n, dtype=np.float32)).to(like.device)


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """The eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric matrix or
    batch, as ``torch.linalg.eigh``, reading the lower triangle (``UPLO='U'``: the upper).
    The gradient is PyTorch's: ``V (diag(gL) + F * skew(V^T gV)) V^T`` with
    ``F_ij = 1 / (lambda_j - lambda_i)``; it is ill-defined (infinite) for repeated eigenvalues
    unless the loss does not depend on the eigenvectors' choice, and eigenvectors are defined up
    to sign, so only sign-invariant losses of them have a meaningful gradient."""
    _check("eigh", "A", A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: argument `UPLO` expected 'L' or 'U', got {UPLO!r}")
    batch, n = list(A.shape[:-2]), A.shape[-1]
    values, vectors = _split(_Eigh.apply(A, UPLO), batch, [(n,), (n, n)])
    return EighResult(values, vectors)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix or batch, as ``torch.linalg.eigvalsh``;
    gradient ``V diag(G) V^T``."""
    return eigh(A, UPLO).eigenvalues


class _SVD(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor, full_matrices: bool) -> Tensor:
        a = _to_host(A)
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        batch = a.shape[:-2]
        ctx.shapes = (batch, u.shape[-2:], s.shape[-1:], vh.shape[-2:])  # type: ignore[attr-defined]
        k = s.shape[-1]
        ctx.save_for_backward(_back(u[..., :, :k], A), _back(s, A), _back(vh[..., :k, :], A))
        return _back(_flat([u, s, vh], batch), A)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, None]:
        U, S, Vh = ctx.saved_tensors
        assert U is not None and S is not None and Vh is not None
        batch, u_shape, s_shape, vh_shape = ctx.shapes  # type: ignore[attr-defined]
        gU, gS, gVh = _split(grad, batch, [u_shape, s_shape, vh_shape])
        m, k, n = U.shape[-2], S.shape[-1], Vh.shape[-1]
        # Gradients of the columns of a full U (rows of a full Vh) past k are ignored, as PyTorch.
        gU, gV = gU.narrow(-1, 0, k), _mT(gVh.narrow(-2, 0, k))
        V = _mT(Vh)
        # PyTorch's svd_backward for real inputs.
        UhgU = _mT(U) @ gU
        UhgU = UhgU - _mT(UhgU)
        VhgV = _mT(V) @ gV
        VhgV = VhgV - _mT(VhgV)
        eye = _eye(k, grad)
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + eye
        gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E * (1 - eye) + eye * gS.unsqueeze(-1)
        if m > k:
            gA = U @ gA
            gUSinv = gU / S.unsqueeze(-2)
            gA = (gA + gUSinv - U @ (_mT(U) @ gUSinv)) @ Vh
        elif n > k:
            gA = gA @ Vh
            gVSinv = gV / S.unsqueeze(-2)
            gA = U @ (gA + _mT(gVSinv) - (_mT(gVSinv) @ V) @ Vh)
        else:
            gA = U @ gA @ Vh
        return gA, None


def svd(A: Tensor, full_matrices: bool = True) -> SVDResult:
    """The singular value decomposition ``A = U diag(S) Vh`` of a matrix or batch, as
    ``torch.linalg.svd`` (``S`` descending; with ``full_matrices`` ``U`` and ``Vh`` are square,
    otherwise ``k = min(m, n)`` columns / rows). The gradient is PyTorch's formula: it is
    ill-defined (infinite) when singular values repeat or are zero, singular vectors are defined
    up to sign so only sign-invariant losses of them have a meaningful gradient, and the extra
    columns of a full ``U`` / rows of a full ``Vh`` get none."""
    _check("svd", "A", A, square=False)
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    shapes = [(m, m if full_matrices else k), (k,), (n if full_matrices else k, n)]
    U, S, Vh = _split(_SVD.apply(A, full_matrices), list(A.shape[:-2]), shapes)
    return SVDResult(U, S, Vh)


def svdvals(A: Tensor) -> Tensor:
    """The singular values (descending) of a matrix or batch, as ``torch.linalg.svdvals``;
    gradient ``U diag(G) Vh``."""
    _check("svdvals", "A", A, square=False)
    return svd(A, full_matrices=False).S


class _QR(Function):
    @staticmethod
    def forward(ctx: FunctionCtx, A: Tensor, mode: str) -> Tensor:
        a = _to_host(A)
        q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        batch = a.shape[:-2]
        ctx.shapes = (batch, q.shape[-2:], r.shape[-2:])  # type: ignore[attr-defined]
        n = a.shape[-1]
        ctx.save_for_backward(_back(q[..., :, :n], A), _back(r, A))
        return _back(_flat([q, r], batch), A)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, None]:
        Q, R = ctx.saved_tensors
        assert Q is not None and R is not None
        batch, q_shape, r_shape = ctx.shapes  # type: ignore[attr-defined]
        m, n = Q.shape[-2], R.shape[-1]
        if m < n or q_shape[-1] != n:
            raise RuntimeError("linalg.qr: the gradient is implemented for mode='reduced' (or 'complete' with "
                               f"m == n) and m >= n, got a {m} x {n} input")
        gQ, gR = _split(grad, batch, [q_shape, r_shape])
        # gA = (gQ + Q (tril(M - M^T, -1) - M)) R^{-T}, M = Q^T gQ - gR R^T (from JAX's qr_jvp).
        M = _mT(Q) @ gQ - gR @ _mT(R)
        inner = gQ + Q @ ((M - _mT(M)).tril(-1) - M)
        r_inv = Tensor.from_numpy(np.ascontiguousarray(np.linalg.inv(_to_host(R)), np.float32)).to(grad.device)
        return inner @ _mT(r_inv), None


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """The QR decomposition ``A = Q R`` of a matrix or batch, as ``torch.linalg.qr``: ``mode``
    ``'reduced'`` (``Q`` m x k, ``R`` k x n, ``k = min(m, n)``), ``'complete'`` (``Q`` m x m) or
    ``'r'`` (``R`` only, ``Q`` empty). Signs follow LAPACK, as PyTorch's. Gradients are
    implemented for m >= n in the reduced mode (and square inputs), for full-rank ``A``."""
    _check("qr", "A", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: argument `mode` expected 'reduced', 'complete' or 'r', got {mode!r}")
    m, n = A.shape[-2], A.shape[-1]
    k = min(m, n)
    batch = list(A.shape[:-2])
    if mode == "r":
        R = _split(_QR.apply(A.detach(), "reduced"), batch, [(m, k), (k, n)])[1]
        return QRResult(Tensor.from_numpy(np.zeros(0, np.float32)).to(A.device), R)
    cols = m if mode == "complete" else k
    Q, R = _split(_QR.apply(A, mode), batch, [(m, cols), (cols, n)])
    return QRResult(Q, R)


def pinv(A: Tensor, *, atol: Optional[float] = None, rtol: Optional[float] = None,
         hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse of a matrix or batch, as ``torch.linalg.pinv``: built from
    :func:`svd`, singular values at most ``max(atol, rtol * largest)`` are treated as zero
    (default ``rtol`` ``eps * max(m, n)``, float32's eps). Differentiable through the SVD, so
    its gradient shares the SVD's caveats (finite for full-rank inputs with distinct singular
    values). ``hermitian=True`` requires square input and computes through the SVD all the same."""
    _check("pinv", "A", A, square=hermitian)
    U, S, Vh = svd(A, full_matrices=False)
    cutoff = _cutoff(S.detach(), A, atol, rtol)
    keep = S.detach() > cutoff
    inverse_s = keep.to(S.dtype) / (S + (~keep).to(S.dtype))
    return _mT(Vh) @ (inverse_s.unsqueeze(-1) * _mT(U))


def _cutoff(S: Tensor, A: Tensor, atol: Optional[float], rtol: Optional[float]) -> Tensor:
    eps = float(np.finfo(np.float32).eps)
    if rtol is None:
        rtol = eps * max(A.shape[-2], A.shape[-1]) if atol is None or atol <= 0 else 0.0
    largest = S.narrow(-1, 0, 1) if S.shape[-1] else S
    return (largest * rtol).clamp_min(atol or 0.0)


def matrix_rank(A: Tensor, *, atol: Optional[float] = None, rtol: Optional[float] = None,
                hermitian: bool = False) -> Tensor:
    """The number of singular values above ``max(atol, rtol * largest)`` (default ``rtol``
    ``eps * max(m, n)``), as ``torch.linalg.matrix_rank``; int64, without a gradient."""
    _check("matrix_rank", "A", A, square=hermitian)
    S = svdvals(A.detach())
    return (S > _cutoff(S, A, atol, rtol)).to("int64").sum(-1)


def lstsq(A: Tensor, B: Tensor, rcond: Optional[float] = None, *, driver: Optional[str] = None) -> LstsqResult:
    """The least-squares solution ``X`` minimising ``||A X - B||`` (the minimum-norm one for a
    rank-deficient ``A``), as ``torch.linalg.lstsq``: ``X = pinv(A) B`` with singular values
    below ``rcond`` times the largest dropped (default: float32's eps times ``max(m, n)``), so it is
    differentiable through :func:`svd` (for full-rank ``A`` with distinct singular values). As
    PyTorch's CPU drivers: ``rank`` for ``'gelsy'`` (the default), ``'gelsd'`` and ``'gelss'``,
    ``singular_values`` for ``'gelsd'`` and ``'gelss'``, and ``residuals`` (the squared residual
    norms per column) when ``m > n``, every ``A`` is full-rank and the driver is not ``'gelsy'``."""
    _check("lstsq", "A", A, square=False)
    _check("lstsq", "B", B, square=False, rank=1)
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    driver = driver or "gelsy"
    if driver not in drivers:
        raise ValueError(f"linalg.lstsq: argument `driver` expected one of {drivers}, got {driver!r}")
    vector = B.ndim == A.ndim - 1
    matrix = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2], A.shape[-1]
    if matrix.shape[-2] != m:
        raise ValueError(f"linalg.lstsq: argument `B` expected {m} rows to match `A` of shape {list(A.shape)}, "
                         f"got shape {list(B.shape)}")
    solution = pinv(A, rtol=rcond) @ matrix
    empty = Tensor.from_numpy(np.zeros(0, np.float32)).to(A.device)
    S = svdvals(A.detach())
    full_rank = bool((S > _cutoff(S, A, None, rcond)).all().item()) if S.numel() else True
    ranks = (S > _cutoff(S, A, None, rcond)).to("int64").sum(-1)
    residuals = empty
    if m > n and full_rank and driver != "gelsy":
        residuals = ((A @ solution - matrix) ** 2).sum(-2)
        residuals = residuals.squeeze(-1) if vector else residuals
    return LstsqResult(solution.squeeze(-1) if vector else solution, residuals,
                       ranks if driver != "gels" else empty.to("int64"),
                       S if driver in ("gelsd", "gelss") else empty)


__all__ += ["lstsq", "LstsqResult", "inv", "solve", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr", "pinv",
            "matrix_rank", "EighResult", "SVDResult", "QRResult", "SlogdetResult"]

from .linalg_extras import (CholeskyExResult, InvExResult, LUFactorExResult, LUFactorResult, LUResult,  # noqa: E402
                            SolveExResult, cholesky_ex, cond, cross, diagonal, householder_product, inv_ex, lu,
                            lu_factor, lu_factor_ex, lu_solve, matmul, multi_dot, solve_ex, solve_triangular,
                            matrix_exp, matrix_power, tensorinv, tensorsolve, vander, vecdot)

__all__ += ["solve_triangular", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "cholesky_ex", "inv_ex", "solve_ex",
            "cond", "tensorinv", "tensorsolve", "householder_product", "cross", "diagonal", "matmul", "vecdot",
            "multi_dot", "vander", "matrix_exp", "matrix_power", "LUFactorResult", "LUFactorExResult", "LUResult",
            "CholeskyExResult", "InvExResult", "SolveExResult"]

from .linalg_ldl import LDLFactorExResult, LDLFactorResult, ldl_factor, ldl_factor_ex, ldl_solve  # noqa: E402

__all__ += ["ldl_factor", "ldl_factor_ex", "ldl_solve", "LDLFactorResult", "LDLFactorExResult"]
