"""`fg.special`'s normal-distribution, Bessel and Airy kernels and its orthogonal polynomials
against scipy in float64: kernel values within one float32 rounding (they are evaluated in double
and rounded once), gradients and second derivatives against scipy's closed-form derivatives."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
from scipy import special as sp

import ferrograd as fg
from ferrograd import _core

S = fg.special


def _wide(rng: np.random.Generator) -> np.ndarray:
    """Arguments across every branch: near 0, the series ranges, the integral and the tails."""
    return np.concatenate([rng.uniform(-40, 40, 2000), np.exp(rng.uniform(-15, 5, 1000)),
                           -np.exp(rng.uniform(-15, 4, 500)), [0.0, 2.0, 12.0, 15.0, -8.0]]).astype(np.float32)


# name, reference, the domain checked (beyond it the conventions test below applies)
KERNELS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "erfcx": (sp.erfcx, lambda x: x > -9),
    "log_ndtr": (sp.log_ndtr, lambda x: x == x),
    "bessel_j0": (sp.j0, lambda x: x == x),
    "bessel_j1": (sp.j1, lambda x: x == x),
    "bessel_y0": (sp.y0, lambda x: x > 0),
    "bessel_y1": (sp.y1, lambda x: x > 0),
    "modified_bessel_k0": (sp.k0, lambda x: (x > 0) & (x < 85)),
    "modified_bessel_k1": (sp.k1, lambda x: (x > 0) & (x < 85)),
    "scaled_modified_bessel_k0": (sp.k0e, lambda x: x > 0),
    "scaled_modified_bessel_k1": (sp.k1e, lambda x: x > 0),
    "airy_ai": (lambda x: sp.airy(x)[0], lambda x: x < 25),
}


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_values_are_float32_roundings_of_scipy(name: str, rng: np.random.Generator) -> None:
    reference, domain = KERNELS[name]
    x = _wide(rng)
    x = x[domain(x.astype(np.float64))]
    got = getattr(S, name)(fg.tensor(x)).numpy().astype(np.float64)
    want = reference(x.astype(np.float64))
    # Within one float32 rounding of the float64 value (observed: at most 0.5 ulp); near the zeros
    # of J, Y and Ai an absolute 1e-12 (the series' cancellation in double).
    np.testing.assert_allclose(got, want, rtol=1.2e-7, atol=1e-12, err_msg=name)


def test_ndtri_keeps_its_relative_accuracy_in_both_tails(rng: np.random.Generator) -> None:
    p = np.concatenate([rng.uniform(0, 1, 2000), np.exp(rng.uniform(-100, -1, 1000)),
                        1 - np.exp(rng.uniform(-16, -1, 500))]).astype(np.float32)
    np.testing.assert_allclose(S.ndtri(fg.tensor(p)).numpy(), sp.ndtri(p.astype(np.float64)), rtol=1.2e-7, atol=1e-30)


def test_edge_conventions() -> None:
    inf, nan = float("inf"), float("nan")
    assert S.ndtri(fg.tensor([0.0, 1.0, 0.5, -0.1, 1.1, nan])).numpy().tolist()[:3] == [-inf, inf, 0.0]
    assert np.isnan(S.ndtri(fg.tensor([-0.1, 1.1, nan])).numpy()).all()
    assert S.bessel_y0(fg.tensor([0.0])).item() == -inf and np.isnan(S.bessel_y1(fg.tensor([-1.0])).item())
    assert S.modified_bessel_k1(fg.tensor([0.0, inf])).numpy().tolist() == [inf, 0.0]
    assert np.isnan(S.scaled_modified_bessel_k0(fg.tensor([-1.0])).item())
    assert S.bessel_j0(fg.tensor([0.0])).item() == 1.0 and S.bessel_j1(fg.tensor([0.0])).item() == 0.0
    assert S.erfcx(fg.tensor([inf])).item() == 0.0 and S.log_ndtr(fg.tensor([-inf, inf])).numpy().tolist() == [-inf, 0.0]
    # J1 is odd and J0 even, exactly.
    x = fg.tensor([0.3, 7.0, 25.0])
    assert S.bessel_j1(-x).numpy().tolist() == (-S.bessel_j1(x)).numpy().tolist()
    assert S.bessel_j0(-x).numpy().tolist() == S.bessel_j0(x).numpy().tolist()


def test_integers_promote_and_the_kernel_names_are_checked() -> None:
    out = S.bessel_j0(fg.tensor([1, 2], dtype=fg.int64))
    assert out.dtype == fg.float32
    np.testing.assert_allclose(out.numpy(), sp.j0([1.0, 2.0]), rtol=1.2e-7)
    with pytest.raises(ValueError, match='argument `name` expected one of erfcx, .*, got "bessel_j2"'):
        _core.special_function("bessel_j2", fg.tensor([1.0]))


def _airy_prime(x: np.ndarray) -> np.ndarray:
    return sp.airy(x)[1]


# name, argument range, first and second derivatives in float64
DERIVATIVES = {
    "erfcx": ((-3, 8), lambda x: 2 * x * sp.erfcx(x) - 2 / np.sqrt(np.pi),
              lambda x: 2 * sp.erfcx(x) + 2 * x * (2 * x * sp.erfcx(x) - 2 / np.sqrt(np.pi))),
    "log_ndtr": ((-30, 6), lambda x: np.exp(-0.5 * x * x - sp.log_ndtr(x)) / np.sqrt(2 * np.pi), None),
    "bessel_j0": ((-30, 30), lambda x: sp.jvp(0, x, 1), lambda x: sp.jvp(0, x, 2)),
    "bessel_j1": ((-30, 30), lambda x: sp.jvp(1, x, 1), lambda x: sp.jvp(1, x, 2)),
    "bessel_y0": ((0.1, 30), lambda x: sp.yvp(0, x, 1), lambda x: sp.yvp(0, x, 2)),
    "bessel_y1": ((0.1, 30), lambda x: sp.yvp(1, x, 1), lambda x: sp.yvp(1, x, 2)),
    "modified_bessel_k0": ((0.05, 30), lambda x: sp.kvp(0, x, 1), lambda x: sp.kvp(0, x, 2)),
    "modified_bessel_k1": ((0.05, 30), lambda x: sp.kvp(1, x, 1), lambda x: sp.kvp(1, x, 2)),
    "scaled_modified_bessel_k0": ((0.05, 30), lambda x: np.exp(x) * (sp.k0(x) + sp.kvp(0, x, 1)), None),
    "scaled_modified_bessel_k1": ((0.05, 30), lambda x: np.exp(x) * (sp.k1(x) + sp.kvp(1, x, 1)), None),
    "airy_ai": ((-20, 10), _airy_prime, lambda x: x * sp.airy(x)[0]),
}


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_gradients_and_second_derivatives_match_scipy(name: str, rng: np.random.Generator) -> None:
    (low, high), first, second = DERIVATIVES[name]
    x = rng.uniform(low, high, 300).astype(np.float32)
    x64 = x.astype(np.float64)
    t = fg.tensor(x, requires_grad=True)
    (g,) = fg.autograd.grad(getattr(S, name)(t).sum(), [t], create_graph=True)
    scale = np.abs(first(x64)).max()
    # The derivative is float32 tensor arithmetic on correctly rounded values.
    np.testing.assert_allclose(g.detach().numpy(), first(x64), rtol=2e-5, atol=2e-6 * scale, err_msg=name)
    if second is not None:
        (h,) = fg.autograd.grad(g.sum(), [t])
        # Away from 0, where J1'' = -J1 - J1'/x + J1/x² cancels terms of size 1/x in float32.
        away = np.abs(x64) > 0.5
        np.testing.assert_allclose(h.numpy()[away], second(x64)[away], rtol=1e-4,
                                   atol=1e-5 * np.abs(second(x64)).max(), err_msg=name)


def test_ndtri_gradient_is_the_reciprocal_density(rng: np.random.Generator) -> None:
    p = rng.uniform(1e-6, 1 - 1e-6, 200).astype(np.float32)
    t = fg.tensor(p, requires_grad=True)
    S.ndtri(t).sum().backward()
    z = sp.ndtri(p.astype(np.float64))
    np.testing.assert_allclose(t.grad.numpy(), np.sqrt(2 * np.pi) * np.exp(0.5 * z * z), rtol=1e-5)


POLYNOMIALS = {
    "chebyshev_polynomial_t": sp.eval_chebyt,
    "chebyshev_polynomial_u": sp.eval_chebyu,
    "chebyshev_polynomial_v": lambda n, x: sp.eval_jacobi(n, -0.5, 0.5, x) / sp.eval_jacobi(n, -0.5, 0.5, 1.0),
    "chebyshev_polynomial_w": lambda n, x: (2 * n + 1) * sp.eval_jacobi(n, 0.5, -0.5, x) / sp.eval_jacobi(n, 0.5, -0.5, 1.0),
    "shifted_chebyshev_polynomial_t": sp.eval_sh_chebyt,
    "shifted_chebyshev_polynomial_u": sp.eval_sh_chebyu,
    "hermite_polynomial_h": sp.eval_hermite,
    "hermite_polynomial_he": sp.eval_hermitenorm,
    "laguerre_polynomial_l": sp.eval_laguerre,
    "legendre_polynomial_p": sp.eval_legendre,
}


@pytest.mark.parametrize("name", sorted(POLYNOMIALS))
def test_orthogonal_polynomials_match_scipy(name: str, rng: np.random.Generator) -> None:
    x = rng.uniform(-1, 1, 40).astype(np.float32)
    if name.startswith("shifted"):
        x = (x + 1) / 2
    for n in (0, 1, 2, 5, 12):
        got = getattr(S, name)(fg.tensor(x), n).numpy()
        want = POLYNOMIALS[name](n, x.astype(np.float64))
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5 * np.abs(want).max(), err_msg=f"{name} n={n}")
    # A tensor of degrees, broadcast against x, truncated toward zero; negative degrees give 0.
    degrees = fg.tensor([[3.7], [-1.0], [0.0], [6.0]])
    got = getattr(S, name)(fg.tensor(x), degrees).numpy()
    want = np.stack([POLYNOMIALS[name](n, x.astype(np.float64)) for n in (3, 0, 0, 6)])
    want[1] = 0.0
    assert got.shape == (4, 40)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5 * np.abs(want).max(), err_msg=name)


def test_the_degree_also_comes_as_an_integer_tensor_and_x_as_a_number() -> None:
    got = S.chebyshev_polynomial_t(0.5, fg.tensor([0, 1, 2, 3], dtype=fg.int64)).numpy()
    np.testing.assert_allclose(got, sp.eval_chebyt([0, 1, 2, 3], 0.5), rtol=1e-6)
    with pytest.raises(TypeError, match="hermite_polynomial_h: expected a Tensor for `input` or `n`"):
        S.hermite_polynomial_h(0.5, 3)


def test_polynomials_are_differentiable_in_x(rng: np.random.Generator) -> None:
    # T_n' = n U_{n-1}; He_n' = n He_{n-1}; L_n' = -L^{(1)}_{n-1}.
    x = rng.uniform(-0.9, 0.9, 30).astype(np.float32)
    x64 = x.astype(np.float64)
    for name, n, derivative in (("chebyshev_polynomial_t", 7, 7 * sp.eval_chebyu(6, x64)),
                                ("hermite_polynomial_he", 5, 5 * sp.eval_hermitenorm(4, x64)),
                                ("laguerre_polynomial_l", 4, -sp.eval_genlaguerre(3, 1, x64))):
        t = fg.tensor(x, requires_grad=True)
        getattr(S, name)(t, n).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), derivative, rtol=1e-4, atol=1e-5, err_msg=name)


def test_zeta_matches_scipy_with_pytorch_conventions(rng: np.random.Generator) -> None:
    x = np.concatenate([rng.uniform(1, 6, 400), 1 + np.exp(rng.uniform(-15, 0, 100)), rng.uniform(6, 60, 100)])
    q = np.concatenate([rng.uniform(0, 4, 400), np.exp(rng.uniform(-10, 15, 200))])
    x, q = x.astype(np.float32), q.astype(np.float32)
    got = S.zeta(fg.tensor(x), fg.tensor(q)).numpy()
    want = sp.zeta(x.astype(np.float64), q.astype(np.float64))
    representable = want <= np.finfo(np.float32).max
    np.testing.assert_allclose(got[representable], want[representable], rtol=1.2e-7, atol=1e-37)
    assert (got[~representable] == np.inf).all()
    # Negative q with integer x (the shifted sum), Riemann's zeta from a number, the conventions.
    negative = S.zeta(fg.tensor([2.0, 3.0, 4.0]), fg.tensor([-1.5, -0.25, -7.75])).numpy()
    reference = [sum((qv + k) ** -xv for k in range(200000)) for xv, qv in ((2, -1.5), (3, -0.25), (4, -7.75))]
    np.testing.assert_allclose(negative, reference, rtol=1e-5)
    np.testing.assert_allclose(S.zeta(fg.tensor([2.0, 4.0]), 1.0).numpy(), [np.pi ** 2 / 6, np.pi ** 4 / 90], rtol=1.2e-7)
    np.testing.assert_allclose(S.zeta(3, fg.tensor([1, 2], dtype=fg.int64)).numpy(), sp.zeta(3.0, [1.0, 2.0]), rtol=1.2e-7)
    edges = S.zeta(fg.tensor([1.0, 0.5, 2.0, 2.0, 2.5, float("nan")]), fg.tensor([1.0, 1.0, 0.0, -3.0, -1.5, 1.0])).numpy()
    assert edges[0] == np.inf and edges[2] == np.inf and edges[3] == np.inf
    assert np.isnan(edges[[1, 4, 5]]).all()
    with pytest.raises(TypeError, match="zeta: expected a Tensor for `input` or `other`"):
        S.zeta(2.0, 1.0)


def test_zeta_is_differentiable_in_q_only(rng: np.random.Generator) -> None:
    x = rng.uniform(1.2, 6, 100).astype(np.float32)
    q_values = rng.uniform(0.1, 10, 100).astype(np.float32)
    q = fg.tensor(q_values, requires_grad=True)
    S.zeta(fg.tensor(x), q).sum().backward()
    x64, q64 = x.astype(np.float64), q_values.astype(np.float64)
    np.testing.assert_allclose(q.grad.numpy(), -x64 * sp.zeta(x64 + 1, q64), rtol=1e-5)
    exponent = fg.tensor(x, requires_grad=True)
    with pytest.raises(NotImplementedError, match="zeta: no derivative with respect to `input`"):
        S.zeta(exponent, fg.tensor(q_values)).sum().backward()
