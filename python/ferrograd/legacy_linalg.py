"""The older ``torch.*`` spellings of the factorizations (``torch.lu``, ``lu_unpack``,
``lu_solve``, ``triangular_solve``, ``qr``), LAPACK's Householder interface (``geqrf``, ``orgqr``,
``ormqr``) and the ``nuclear_norm`` / ``frobenius_norm`` functions, over ``fg.linalg``.
``install()`` attaches the Tensor methods PyTorch has for them."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Sequence, Union

import numpy as np

from ._core import Tensor
from . import linalg
from .linalg import _back, _check, _mT, _to_host
from .linalg_extras import _permutation_of, _unpack, householder_product, lu_factor_ex, solve_triangular
from .tensor_layout_forms import slice_scatter


class LUUnpackResult(NamedTuple):
    """``torch.lu_unpack``'s result: ``A = P L U``."""

    P: Tensor
    L: Tensor
    U: Tensor


class TriangularSolveResult(NamedTuple):
    """``torch.triangular_solve``'s result: the solution and a copy of the coefficients."""

    solution: Tensor
    cloned_coefficient: Tensor


class GeqrfResult(NamedTuple):
    """``torch.geqrf``'s result: the reflectors below the diagonal with ``R`` on and above it, and
    the reflectors' scale factors."""

    a: Tensor
    tau: Tensor


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple[Tensor, ...]:
    """``(A_LU, pivots)``, or ``(A_LU, pivots, infos)`` with ``get_infos``: the packed LU
    factorization with partial pivoting (``torch.lu``; :func:`ferrograd.linalg.lu_factor_ex`).
    Without ``get_infos`` a zero pivot raises, as in PyTorch."""
    result = lu_factor_ex(A, pivot=pivot, check_errors=not get_infos)
    return (result.LU, result.pivots, result.info) if get_infos else (result.LU, result.pivots)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True) -> LUUnpackResult:
    """``P``, ``L`` and ``U`` of packed LU factors (``torch.lu_unpack``): ``P`` m x m, ``L`` m x k
    unit lower-trapezoidal, ``U`` k x n; the parts not asked for are empty tensors."""
    _check("lu_unpack", "LU_data", LU_data, square=False)
    empty = _back(np.zeros(0), LU_data)
    L, U = _unpack(LU_data) if unpack_data else (empty, empty)
    P = _permutation_of(LU_pivots, LU_data.shape[-2], LU_data) if unpack_pivots else empty
    return LUUnpackResult(P, L, U)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """The solution of ``A X = b`` from ``torch.lu``'s factors (``torch.lu_solve``)."""
    return linalg.lu_solve(LU_data, LU_pivots, b)


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> TriangularSolveResult:
    """The solution of ``A X = b`` (``A^T X = b`` with ``transpose``) for triangular ``A``, and a
    copy of ``A`` (``torch.triangular_solve``; :func:`ferrograd.linalg.solve_triangular`)."""
    coefficients = _mT(A) if transpose else A
    solution = solve_triangular(coefficients, b, upper=upper != transpose, unitriangular=unitriangular)
    return TriangularSolveResult(solution, A.clone())


def qr(input: Tensor, some: bool = True) -> linalg.QRResult:
    """``Q`` and ``R`` (``torch.qr``): reduced with ``some``, else complete."""
    return linalg.qr(input, "reduced" if some else "complete")


def geqrf(input: Tensor) -> GeqrfResult:
    """LAPACK's Householder QR (``torch.geqrf``): ``R`` on and above the diagonal, the reflectors
    ``v_i`` (unit first entry implied) below it, and their factors ``tau``, so that
    ``Q = H_1 ... H_k`` with ``H_i = I - tau_i v_i v_i^T`` (:func:`orgqr` builds it). Computed in
    float64 on the host; like PyTorch's, it has no gradient."""
    _check("geqrf", "input", input, square=False)
    a = _to_host(input.detach())
    m, n = a.shape[-2:]
    flat = a.reshape(-1, m, n)
    packed = np.empty_like(flat)
    tau = np.empty((flat.shape[0], min(m, n)))
    for i, matrix in enumerate(flat):
        h, t = np.linalg.qr(matrix, mode="raw")
        packed[i], tau[i] = h.T, t
    return GeqrfResult(_back(packed.reshape(a.shape), input), _back(tau.reshape(a.shape[:-2] + (min(m, n),)), input))


def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """The first ``n`` columns of ``Q`` from :func:`geqrf`'s reflectors (``torch.orgqr``;
    :func:`ferrograd.linalg.householder_product`)."""
    return householder_product(input, tau)


def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True, transpose: bool = False) -> Tensor:
    """``Q other`` (``other Q`` when not ``left``; ``Q^T`` with ``transpose``) for the full m x m
    ``Q = H_1 ... H_k`` of :func:`geqrf`'s reflectors (``torch.ormqr``). Differentiable."""
    _check("ormqr", "input", input, square=False)
    _check("ormqr", "other", other, square=False)
    m, n = input.shape[-2:]
    if m < n:
        raise ValueError(f"ormqr: argument `input` expected at least as many rows as columns, got shape "
                         f"{list(input.shape)}")
    # Q is the product of k reflectors: the columns past k and their factors are zero, giving the
    # identity reflectors that complete it to m x m.
    square = input if m == n else slice_scatter(input.new_zeros(*input.shape[:-1], m), input, -1, 0, n)
    full_tau = tau if m == tau.shape[-1] else slice_scatter(tau.new_zeros(*tau.shape[:-1], m), tau, -1, 0, tau.shape[-1])
    Q = householder_product(square, full_tau)
    Q = _mT(Q) if transpose else Q
    return Q @ other if left else other @ Q


def nuclear_norm(input: Tensor, dim: Optional[Sequence[int]] = None, keepdim: bool = False) -> Tensor:
    """The sum of the singular values over the two dimensions ``dim`` (the last two by default)."""
    return linalg.matrix_norm(input, "nuc", tuple(dim) if dim is not None else (-2, -1), keepdim)


def frobenius_norm(input: Tensor, dim: Union[int, Sequence[int]] = (-2, -1), keepdim: bool = False) -> Tensor:
    """The 2-norm of the entries over ``dim`` (the last two by default)."""
    return linalg.vector_norm(input, 2, dim, keepdim)


METHOD_FORMS = ("lu", "lu_solve", "triangular_solve", "geqrf", "orgqr", "ormqr")


def _method(name: str) -> Any:
    function = globals()[name]

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        return function(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = function.__doc__
    return method


def install() -> None:
    """Attaches the method forms (``A.lu()``, ``b.lu_solve(LU, pivots)``,
    ``b.triangular_solve(A)``, ``a.geqrf()``, ``a.orgqr(tau)``, ``a.ormqr(tau, other)``)."""
    for name in METHOD_FORMS:
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _method(name))
