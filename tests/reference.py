"""Helpers comparing ferrograd against JAX (on CPU, float32) for values and gradients."""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

import ferrograd as fg

jax.config.update("jax_platforms", "cpu")


def check_op(
    fg_fn: Callable[..., fg.Tensor],
    jax_fn: Callable[..., jnp.ndarray],
    inputs: Sequence[np.ndarray],
    rtol: float = 1e-5,
    atol: float = 1e-5,
    grad_rtol: float | None = None,
    grad_atol: float | None = None,
    differentiable: Sequence[bool] | None = None,
) -> None:
    """Asserts that ``fg_fn`` matches ``jax_fn`` forward, and that the gradients of
    ``sum(out * w)`` (w a fixed random weighting) match JAX's for each differentiable input."""
    differentiable = differentiable or [np.issubdtype(x.dtype, np.floating) for x in inputs]
    tensors = [fg.tensor(x, requires_grad=d) for x, d in zip(inputs, differentiable)]
    out = fg_fn(*tensors)
    expected = np.asarray(jax_fn(*[jnp.asarray(x) for x in inputs]))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=rtol, atol=atol)
    if not any(differentiable):
        return
    w = np.random.default_rng(0).standard_normal(expected.shape).astype(np.float32)
    (out * fg.tensor(w)).sum().backward()
    idx = [i for i, d in enumerate(differentiable) if d]

    def objective(*diff_args: jnp.ndarray) -> jnp.ndarray:
        args = [jnp.asarray(x) for x in inputs]
        for i, a in zip(idx, diff_args):
            args[i] = a
        return jnp.sum(jax_fn(*args) * w)

    grads = jax.grad(objective, argnums=tuple(range(len(idx))))(*[jnp.asarray(inputs[i]) for i in idx])
    for i, g in zip(idx, grads):
        got = tensors[i].grad
        assert got is not None, f"input {i} received no gradient"
        np.testing.assert_allclose(
            got.numpy(), np.asarray(g), rtol=grad_rtol or rtol * 10, atol=grad_atol or atol * 10, err_msg=f"gradient of input {i}"
        )
