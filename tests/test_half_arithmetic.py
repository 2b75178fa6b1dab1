"""float16 and bfloat16 tensors in arithmetic, math functions, products and sums: computed in
float32 and rounded once to the operands' precision, as PyTorch does on the CPU, with PyTorch's
result dtypes and gradients in the leaves' own precision."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg

HALF_TYPES = [("float16", np.float16), ("bfloat16", jnp.bfloat16)]


def _pair(dtype: str, seed: int) -> tuple[fg.Tensor, fg.Tensor, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a32 = rng.standard_normal((4, 5)).astype(np.float32)
    b32 = rng.standard_normal((4, 5)).astype(np.float32)
    a, b = fg.tensor(a32).to(dtype), fg.tensor(b32).to(dtype)
    # The values the half tensors hold, widened exactly to float32.
    return a, b, a.float().numpy(), b.float().numpy()


@pytest.mark.parametrize("dtype,np_type", HALF_TYPES)
def test_pointwise_results_are_float32_results_rounded_once(dtype, np_type):
    a, b, av, bv = _pair(dtype, 0)
    cases = [
        (a * b, av * bv), (a + b, av + bv), (a - 2.5, av - 2.5), (a / b, av / bv),
        (a.exp(), np.exp(av)), (a.relu(), np.maximum(av, 0)), (a.tanh(), np.tanh(av)),
        (fg.maximum(a, b), np.maximum(av, bv)),
    ]
    for got, want in cases:
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.float().numpy(), want.astype(np_type).astype(np.float32))


@pytest.mark.parametrize("dtype,np_type", HALF_TYPES)
def test_products_sums_and_linear_layers(dtype, np_type):
    a, b, av, bv = _pair(dtype, 1)
    # float32 sums in another order than numpy's: within one unit in the last place of the result.
    spacing = {"float16": 2.0**-10, "bfloat16": 2.0**-7}[dtype]

    def close(got: fg.Tensor, want: np.ndarray) -> None:
        assert got.dtype == dtype
        np.testing.assert_allclose(got.detach().float().numpy(), want, rtol=2 * spacing, atol=2 * spacing)

    close(a @ b.T, av @ bv.T)
    close(a.sum(), av.sum())
    close(a.sum(1), av.sum(1))
    layer = fg.nn.Linear(5, 3)
    weight = layer.weight.detach().numpy()
    layer = layer.half() if dtype == "float16" else layer.bfloat16()
    w16, b16 = layer.weight.float().detach().numpy(), layer.bias.float().detach().numpy()
    np.testing.assert_allclose(w16, weight, rtol=spacing)
    close(layer(a), av @ w16.T + b16)


def test_result_dtypes_follow_pytorch_promotion():
    h, b, f = fg.ones(3).half(), fg.ones(3).bfloat16(), fg.ones(3)
    assert (h * h).dtype == "float16" and (b + b).dtype == "bfloat16"
    assert (h * f).dtype == "float32" and (h + b).dtype == "float32"
    assert (h * fg.tensor([1, 2, 3])).dtype == "float16"
    assert (h * 2).dtype == "float16"


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_gradients_reach_half_leaves_in_their_precision(dtype):
    a, b, av, bv = _pair(dtype, 2)
    a.requires_grad_(True)
    b.requires_grad_(True)
    ((a * b).sum() + (a @ b.T).sum()).backward()
    assert a.grad.dtype == dtype and b.grad.dtype == dtype
    spacing = {"float16": 2.0**-10, "bfloat16": 2.0**-7}[dtype]
    want_a = bv + bv.sum(0, keepdims=True)
    np.testing.assert_allclose(a.grad.float().numpy(), want_a, rtol=4 * spacing, atol=4 * spacing)


@pytest.mark.parametrize("dtype,np_type", HALF_TYPES)
def test_softmax_norms_and_convolutions_compute_in_float32(dtype, np_type):
    """softmax, log_softmax, layer_norm and conv2d on half tensors: the float32 op on the widened
    values, rounded once to the input's dtype (PyTorch's CPU kernels do the same), with gradients
    reaching the half leaves in their own dtype; logsumexp rounds after each step, as PyTorch's
    composite does."""
    import ferrograd.functional as F

    rng = np.random.default_rng(5)
    x = fg.tensor(rng.standard_normal((3, 2, 6, 7)).astype(np.float32)).to(dtype).requires_grad_()
    w = fg.tensor(rng.standard_normal((4, 2, 3, 3)).astype(np.float32) * 0.3).to(dtype).requires_grad_()
    b = fg.tensor(rng.standard_normal(4).astype(np.float32)).to(dtype)
    gamma = fg.tensor(rng.standard_normal(7).astype(np.float32))  # float32 affine on a half input
    x32, w32, b32 = (t.detach().float() for t in (x, w, b))

    def rounded(t: fg.Tensor) -> np.ndarray:
        return t.detach().to(dtype).float().numpy()

    cases = [
        (x.softmax(-1), x32.softmax(-1)),
        (F.log_softmax(x, 1), F.log_softmax(x32, 1)),
        (F.layer_norm(x, (7,), gamma), F.layer_norm(x32, (7,), gamma)),
        (F.conv2d(x, w, b, padding=1), F.conv2d(x32, w32, b32, padding=1)),
    ]
    for got, want in cases:
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.detach().float().numpy(), rounded(want))
    # The same values through numpy: the half softmax is the float32 one rounded.
    xv = x32.numpy()
    e = np.exp(xv - xv.max(-1, keepdims=True))
    spacing = {"float16": 2.0**-10, "bfloat16": 2.0**-7}[dtype]
    np.testing.assert_allclose(cases[0][0].detach().float().numpy(), e / e.sum(-1, keepdims=True), rtol=spacing)
    # logsumexp step by step in the half dtype: x - max, exp, sum, log, + max, each rounded.
    def half(a: np.ndarray) -> np.ndarray:
        return a.astype(np_type).astype(np.float32)

    top = xv.max(3, keepdims=True)
    steps = half(np.log(half(half(np.exp(half(xv - top))).sum(3, keepdims=True)))) + top
    got = x.logsumexp(3)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.detach().float().numpy(), half(steps)[..., 0], rtol=spacing, atol=spacing)
    (F.conv2d(x, w, b, padding=1).float().sum() + x.softmax(-1).float().pow(2).sum()).backward()
    assert x.grad is not None and x.grad.dtype == dtype and w.grad is not None and w.grad.dtype == dtype
    x32.requires_grad_()
    w32.requires_grad_()
    (F.conv2d(x32, w32, b32, padding=1).sum() + x32.softmax(-1).pow(2).sum()).backward()
    np.testing.assert_allclose(x.grad.float().numpy(), x32.grad.numpy(), rtol=4 * spacing, atol=4 * spacing)
    np.testing.assert_allclose(w.grad.float().numpy(), w32.grad.numpy(), rtol=4 * spacing, atol=4 * spacing)
