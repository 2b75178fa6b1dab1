"""PyTorch's ``torch.*`` linear-algebra forms outside ``torch.linalg``: products (``inner``,
``vdot``, ``addmv``, ``addr``, ``addbmm``, ``chain_matmul``), ``matrix_power``, ``matrix_exp``,
``cov`` and ``corrcoef``, and the older names ``cholesky``, ``cholesky_inverse``,
``cholesky_solve``, ``pinverse``, ``slogdet``, ``svd`` (which returns V rather than Vᴴ), with the
matching Tensor methods. Composed from ``matmul`` and ``ferrograd.linalg``, so they are
differentiable on every device ``linalg`` serves."""

from __future__ import annotations

import math
from functools import reduce
from typing import Any, NamedTuple, Optional, Union

import numpy as np

from . import linalg
from ._core import Tensor
from .tensor_torch_forms import _require_tensor, _scaled_sum, dot

Number = Union[int, float]


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sums of products over the last axis of both (a number for two vectors)."""
    a, b = _require_tensor("inner", "input", input), _require_tensor("inner", "other", other)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"inner: expected the last dimensions of `input` and `other` to match, got shapes "
                           f"{list(a.shape)} and {list(b.shape)}")
    rows = a.reshape(-1, a.shape[-1]) @ b.reshape(-1, b.shape[-1]).transpose(0, 1)
    return rows.reshape(*a.shape[:-1], *b.shape[:-1])


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (the first conjugated, which real tensors need not be)."""
    return dot(input, other)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * input + alpha * (mat @ vec), for a matrix [n, m] and a vector [m]."""
    m, v = _require_tensor("addmv", "mat", mat), _require_tensor("addmv", "vec", vec)
    if m.ndim != 2 or v.ndim != 1 or m.shape[1] != v.shape[0]:
        raise RuntimeError(f"addmv: arguments `mat` and `vec` expected [n, m] and [m], got shapes {list(m.shape)} and "
                           f"{list(v.shape)}")
    return _scaled_sum("addmv", _require_tensor("addmv", "input", input), m @ v, beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    a, b = _require_tensor("addr", "vec1", vec1), _require_tensor("addr", "vec2", vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"addr: arguments `vec1` and `vec2` expected 1-D tensors, got shapes {list(a.shape)} and "
                           f"{list(b.shape)}")
    return _scaled_sum("addr", _require_tensor("addr", "input", input), a.outer(b), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Number = 1, alpha: Number = 1) -> Tensor:
    """beta * input + alpha * Σ_b batch1[b] @ batch2[b]."""
    a, b = _require_tensor("addbmm", "batch1", batch1), _require_tensor("addbmm", "batch2", batch2)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"addbmm: arguments `batch1` and `batch2` expected [B, n, k] and [B, k, m], got shapes "
                           f"{list(a.shape)} and {list(b.shape)}")
    return _scaled_sum("addbmm", _require_tensor("addbmm", "input", input), (a @ b).sum(0), beta, alpha)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of the matrices, left to right."""
    if not matrices:
        raise RuntimeError("chain_matmul: expected at least one matrix, got none")
    for i, m in enumerate(matrices):
        if _require_tensor("chain_matmul", f"matrices[{i}]", m).ndim != 2:
            raise RuntimeError(f"chain_matmul: argument `matrices[{i}]` expected a 2-D tensor, got shape "
                               f"{list(m.shape)}")
    return reduce(lambda a, b: a @ b, matrices)


def _identity_like(A: Tensor) -> Tensor:
    n = A.shape[-1]
    eye = Tensor.from_numpy(np.eye(n, dtype=np.float32)).to(A.device)
    return eye.expand(*A.shape) if A.ndim > 2 else eye


def _square(op: str, A: Tensor) -> Tensor:
    if _require_tensor(op, "input", A).ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: argument `input` expected a square matrix or a batch of them, got shape "
                           f"{list(A.shape)}")
    return A


def matrix_power(input: Tensor, n: int) -> Tensor:
    """The n-th power of a square matrix (or batch) by repeated squaring; n < 0 takes the inverse's
    power, n = 0 the identity."""
    A = _square("matrix_power", input)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"matrix_power: argument `n` expected an int, got {n!r}")
    if n < 0:
        A, n = linalg.inv(A), -n
    result: Optional[Tensor] = None
    while n:
        if n & 1:
            result = A if result is None else result @ A
        n >>= 1
        if n:
            A = A @ A
    return result if result is not None else _identity_like(input)


def matrix_exp(input: Tensor) -> Tensor:
    """exp(A) of a square matrix (or batch) by scaling and squaring: A / 2^s with s chosen so its
    largest absolute row sum is at most 1/2 (read on the host), the Taylor series to degree 12
    (truncation below 1e-13 there), then s squarings."""
    A = _square("matrix_exp", input)
    norm = float(A.detach().abs().sum(-1).max().item()) if A.numel() else 0.0
    squarings = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0 else 0
    scaled = A / (2.0 ** squarings)
    identity = _identity_like(A)
    # Horner's form: I + X (I + X/2 (I + X/3 (... (I + X/12)))).
    total = identity
    for k in range(12, 0, -1):
        total = identity + (scaled @ total) / k
    for _ in range(squarings):
        total = total @ total
    return total


def cov(input: Tensor, *, correction: int = 1, fweights: Optional[Tensor] = None,
        aweights: Optional[Tensor] = None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in its columns;
    a 1-D tensor is one variable), with PyTorch's frequency and observation weights and
    ``correction`` (1: Bessel's)."""
    x = _require_tensor("cov", "input", input)
    if x.ndim > 2:
        raise ValueError(f"cov: argument `input` expected at most 2 dimensions, got shape {list(x.shape)}")
    rows = x.reshape(1, -1) if x.ndim < 2 else x
    observations = rows.shape[1]
    weights = None
    for name, w in (("fweights", fweights), ("aweights", aweights)):
        if w is not None and (w.ndim != 1 or w.shape[0] != observations):
            raise ValueError(f"cov: argument `{name}` expected a 1-D tensor of {observations} weights, got shape "
                             f"{list(w.shape)}")
        if w is not None:
            w = w.float()
            weights = w if weights is None else weights * w
    if weights is None:
        centred = rows - rows.mean(1, keepdim=True)
        out = centred @ centred.transpose(0, 1) / max(observations - correction, 0)
    else:
        total = weights.sum()
        centred = rows - (rows * weights).sum(1, keepdim=True) / total
        if correction == 0:
            factor = total
        elif aweights is None:
            factor = total - correction
        else:
            factor = total - correction * (weights * aweights.float()).sum() / total
        out = (centred * weights) @ centred.transpose(0, 1) / factor.clamp(min=0)
    return out.reshape([]) if x.ndim < 2 else out


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows' variables, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    spread = c.diagonal().sqrt()
    return (c / spread.unsqueeze(1) / spread.unsqueeze(0)).clamp(-1.0, 1.0)


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor (``torch.cholesky``; ``linalg.cholesky`` is the current name)."""
    return linalg.cholesky(input, upper=upper)


def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """The inverse of A from its Cholesky factor (A = L Lᵀ, or Uᵀ U with ``upper``)."""
    factor = input.transpose(-2, -1) if upper else input
    return linalg.inv(factor @ factor.transpose(-2, -1))


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """The solution X of A X = B from A's Cholesky factor ``L`` (``U`` with ``upper``)."""
    factor = L.transpose(-2, -1) if upper else L
    return linalg.solve(factor @ factor.transpose(-2, -1), B)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The Moore–Penrose pseudo-inverse, singular values below ``rcond`` times the largest dropped."""
    return linalg.pinv(input, rtol=rcond)


def slogdet(input: Tensor) -> linalg.SlogdetResult:
    """The sign and log-magnitude of the determinant."""
    return linalg.slogdet(input)


class SvdResult(NamedTuple):
    """``torch.svd``'s result: ``U``, the singular values ``S`` and ``V`` (not Vᴴ)."""

    U: Tensor
    S: Tensor
    V: Tensor


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SvdResult:
    """The singular value decomposition A = U diag(S) Vᵀ (reduced when ``some``); without
    ``compute_uv`` U and V are zero matrices, as in PyTorch."""
    U, S, Vh = linalg.svd(input, full_matrices=not some)
    V = Vh.transpose(-2, -1)
    if not compute_uv:
        return SvdResult(U.detach() * 0, S, V.detach() * 0)
    return SvdResult(U, S, V)


FUNCTIONS = (inner, vdot, addmv, addr, addbmm, chain_matmul, matrix_power, matrix_exp, cov, corrcoef, cholesky,
             cholesky_inverse, cholesky_solve, pinverse, slogdet, svd)
_LINALG_METHODS: dict[str, Any] = {"inverse": linalg.inv, "det": linalg.det, "logdet": linalg.logdet,
                                   "qr": linalg.qr, "lstsq": linalg.lstsq}


def install() -> None:
    """Attaches the method forms that :class:`Tensor` lacks (``t.matrix_power(3)``, ``t.det()``)."""
    for function in FUNCTIONS:
        if function is not chain_matmul and not hasattr(Tensor, function.__name__):
            setattr(Tensor, function.__name__, function)
    for name, function in _LINALG_METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, function)
