"""Poisson draws from uniform draws, with tensor ops on the rates' device: Knuth's product of
uniforms below a rate of 10 (about rate + 1 rounds), Hörmann's transformed rejection (PTRS, about
1.15 candidates per draw) from 10 up. Each round draws for every entry and keeps the entries still
waiting, until none is left (one read of a flag per round)."""

from __future__ import annotations

from typing import Callable, Optional

from ._core import Tensor, where_ as _where
from ._generator import Generator, uniform
from .autograd import no_grad


def draw_poisson(op: str, rates: Tensor, generator: Optional[Generator] = None) -> Tensor:
    """Poisson counts (float32) for the non-negative ``rates``, without gradient."""
    with no_grad():
        rate = rates.detach().to("float32")
        shape, device = list(rate.shape), rate.device

        def draw() -> Tensor:
            return uniform(op, generator, shape, device=device)

        small = rate < 10
        counts = rate * 0
        if bool(small.any()):
            counts = _knuth(rate, small, counts, draw)
        if not bool(small.all()):
            counts = _transformed_rejection(rate, ~small, counts, draw)
        return counts


def _knuth(rate: Tensor, chosen: Tensor, counts: Tensor, draw: Callable[[], Tensor]) -> Tensor:
    """The number of uniforms multiplied before the product falls to exp(-rate), less one."""
    threshold = (-rate).exp()
    product = draw()
    active = chosen & (product > threshold)
    while bool(active.any()):
        counts = counts + active.to("float32")
        product = _where(active, product * draw(), product)
        active = active & (product > threshold)
    return counts


def _transformed_rejection(rate: Tensor, chosen: Tensor, counts: Tensor, draw: Callable[[], Tensor]) -> Tensor:
    """PTRS (Hörmann 1993): k = floor((2a / us + b) u + rate + 0.43) for u uniform on
    [-1/2, 1/2) and us = 1/2 - |u|, accepted at once inside a box under the hat, else by comparing
    the hat with the Poisson mass."""
    lam = _where(chosen, rate, 10.0)  # the other entries only need finite arithmetic
    log_lam = lam.log()
    b = 0.931 + 2.53 * lam.sqrt()
    a = -0.059 + 0.02483 * b
    log_inverse_alpha = (1.1239 + 1.1328 / (b - 3.4)).log()
    v_r = 0.9277 - 3.6224 / (b - 2)
    done = ~chosen
    while not bool(done.all()):
        u = draw() - 0.5
        v = draw()
        us = 0.5 - u.abs()
        k = ((2 * a / us + b) * u + lam + 0.43).floor()
        at_once = (us >= 0.07) & (v <= v_r)
        candidate = (k >= 0) & ~((us < 0.013) & (v > us))
        hat = v.log() + log_inverse_alpha - (a / (us * us) + b).log()
        under_mass = hat <= -lam + k * log_lam - (k + 1).lgamma()
        accepted = (at_once | (candidate & under_mass)) & ~done
        counts = _where(accepted, k, counts)
        done = done | accepted
    return counts
