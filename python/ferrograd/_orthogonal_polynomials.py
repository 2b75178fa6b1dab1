"""``fg.special``'s orthogonal polynomials (Chebyshev T, U, V, W and their shifted forms,
Hermite H and He, Laguerre L, Legendre P) at ``x`` of degree ``n``, each from its three-term
recurrence in tensor ops, so they run on the input's device and are differentiable in ``x``. As
in PyTorch, ``n`` (a number or a tensor broadcast against ``x``) is truncated to an integer and a
negative degree gives 0."""

from __future__ import annotations

from typing import Any, Callable

from ._core import Tensor, where_

#: p_{k+1} from (x, k, p_k, p_{k-1}).
Recurrence = Callable[[Tensor, int, Tensor, Tensor], Tensor]


def _evaluate(name: str, x: Any, n: Any, first: Callable[[Tensor], Tensor], step: Recurrence) -> Tensor:
    """Runs the recurrence from p_0 = 1 and p_1 = ``first(x)`` to the largest degree asked for,
    keeping each element's value at its own degree."""
    if not isinstance(x, Tensor):
        if not isinstance(n, Tensor):
            raise TypeError(f"{name}: expected a Tensor for `input` or `n`, got {type(x).__name__} and {type(n).__name__}")
        x = n.float().new_tensor(x)
    x = x if x.is_floating_point() else x.float()
    if isinstance(n, Tensor):
        degrees = n.trunc() if n.is_floating_point() else n.float()
    else:
        degrees = x.new_tensor(float(int(n)))
    top = int(degrees.max().item()) if degrees.numel() else 0
    previous, current = x * 0 + 1, first(x)
    result = where_(degrees == 0, previous, previous * 0)
    for k in range(1, top + 1):
        result = where_(degrees == k, current, result)
        previous, current = current, step(x, k, current, previous)
    return result


def _chebyshev(name: str, first: Callable[[Tensor], Tensor]) -> Callable[[Any, Any], Tensor]:
    def polynomial(input: Any, n: Any) -> Tensor:
        return _evaluate(name, input, n, first, lambda x, k, p, q: 2 * x * p - q)
    return polynomial


def _shifted(polynomial: Callable[[Any, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
    def shifted(input: Any, n: Any) -> Tensor:
        x = input if isinstance(input, Tensor) else n.float().new_tensor(input)
        return polynomial(2 * x - 1, n)
    return shifted


_chebyshev_t = _chebyshev("chebyshev_polynomial_t", lambda x: x)
_chebyshev_u = _chebyshev("chebyshev_polynomial_u", lambda x: 2 * x)
_chebyshev_v = _chebyshev("chebyshev_polynomial_v", lambda x: 2 * x - 1)
_chebyshev_w = _chebyshev("chebyshev_polynomial_w", lambda x: 2 * x + 1)


def chebyshev_polynomial_t(input: Any, n: Any) -> Tensor:
    """The Chebyshev polynomial of the first kind T_n(x) (T_{k+1} = 2x T_k - T_{k-1})."""
    return _chebyshev_t(input, n)


def chebyshev_polynomial_u(input: Any, n: Any) -> Tensor:
    """The Chebyshev polynomial of the second kind U_n(x) (U_1 = 2x)."""
    return _chebyshev_u(input, n)


def chebyshev_polynomial_v(input: Any, n: Any) -> Tensor:
    """The Chebyshev polynomial of the third kind V_n(x) (V_1 = 2x - 1)."""
    return _chebyshev_v(input, n)


def chebyshev_polynomial_w(input: Any, n: Any) -> Tensor:
    """The Chebyshev polynomial of the fourth kind W_n(x) (W_1 = 2x + 1)."""
    return _chebyshev_w(input, n)


def shifted_chebyshev_polynomial_t(input: Any, n: Any) -> Tensor:
    """T_n(2x - 1), the first-kind Chebyshev polynomial moved to [0, 1]."""
    return _shifted(_chebyshev_t)(input, n)


def shifted_chebyshev_polynomial_u(input: Any, n: Any) -> Tensor:
    """U_n(2x - 1), the second-kind Chebyshev polynomial moved to [0, 1]."""
    return _shifted(_chebyshev_u)(input, n)


def shifted_chebyshev_polynomial_v(input: Any, n: Any) -> Tensor:
    """V_n(2x - 1), the third-kind Chebyshev polynomial moved to [0, 1]."""
    return _shifted(_chebyshev_v)(input, n)


def shifted_chebyshev_polynomial_w(input: Any, n: Any) -> Tensor:
    """W_n(2x - 1), the fourth-kind Chebyshev polynomial moved to [0, 1]."""
    return _shifted(_chebyshev_w)(input, n)


def hermite_polynomial_h(input: Any, n: Any) -> Tensor:
    """The physicists' Hermite polynomial H_n(x) (H_{k+1} = 2x H_k - 2k H_{k-1})."""
    return _evaluate("hermite_polynomial_h", input, n, lambda x: 2 * x, lambda x, k, p, q: 2 * x * p - 2 * k * q)


def hermite_polynomial_he(input: Any, n: Any) -> Tensor:
    """The probabilists' Hermite polynomial He_n(x) (He_{k+1} = x He_k - k He_{k-1})."""
    return _evaluate("hermite_polynomial_he", input, n, lambda x: x, lambda x, k, p, q: x * p - k * q)


def laguerre_polynomial_l(input: Any, n: Any) -> Tensor:
    """The Laguerre polynomial L_n(x) ((k+1) L_{k+1} = (2k + 1 - x) L_k - k L_{k-1})."""
    return _evaluate("laguerre_polynomial_l", input, n, lambda x: 1 - x,
                     lambda x, k, p, q: ((2 * k + 1 - x) * p - k * q) / (k + 1))


def legendre_polynomial_p(input: Any, n: Any) -> Tensor:
    """The Legendre polynomial P_n(x) ((k+1) P_{k+1} = (2k+1) x P_k - k P_{k-1})."""
    return _evaluate("legendre_polynomial_p", input, n, lambda x: x,
                     lambda x, k, p, q: ((2 * k + 1) * x * p - k * q) / (k + 1))
