"""Mixed precision (``fg.autocast``, ``fit(precision="bf16")``).

Semantics under test: inside a bf16 scope a product (matmul, linear, convolution, attention)
multiplies its operands rounded to bfloat16 with float32 accumulation, and the gradient reaching
its output is rounded to bfloat16 before the backward products. References: an independent numpy
bfloat16 rounding (nearest of the two neighbouring bf16 values, ties to even) and float64 numpy
products of the rounded operands, within float32 accumulation error (rtol 1e-5, atol 1e-5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn, optim
from ferrograd.data import transforms as T


def bf16_reference(x: np.ndarray) -> np.ndarray:
    """The nearest bfloat16 values of float32 ``x`` (ties to even), as float32: picks between the
    value truncated to bf16 and the next bf16 value away from zero by their distance in float64."""
    x = np.ascontiguousarray(x, np.float32)
    bits = x.view(np.uint32)
    with np.errstate(invalid="ignore"):
        down = (bits & np.uint32(0xFFFF0000)).view(np.float32).astype(np.float64)
    with np.errstate(invalid="ignore"):  # NaN inputs; they are passed through below
        exact = x.astype(np.float64)
    exponent = ((bits >> 23) & 0xFF).astype(np.int64)
    spacing = np.ldexp(1.0, np.maximum(exponent, 1) - 127 - 7)
    up = down + np.where(exact < 0, -spacing, spacing)
    down_is_even = ((bits >> 16) & 1) == 0
    with np.errstate(invalid="ignore"):
        err_down, err_up = np.abs(exact - down), np.abs(up - exact)
        pick_up = (err_up < err_down) | ((err_up == err_down) & ~down_is_even)
    with np.errstate(over="ignore"):
        out = np.where(pick_up, up, down).astype(np.float32)
    return np.where(np.isfinite(x), out, x)


def leaf(a: np.ndarray) -> fg.Tensor:
    return fg.tensor(a, requires_grad=True)


def test_round_to_bf16_matches_an_independent_reference(rng: np.random.Generator) -> None:
    scales = 10.0 ** rng.integers(-44, 38, size=4000)
    x = (rng.standard_normal(4000) * scales).astype(np.float32)
    # Exact ties (the dropped half is 0x8000) with even and odd kept bits, and special values.
    ties = (rng.integers(0, 0x7F000000, size=200, dtype=np.uint32) & np.uint32(0xFFFF0000)) | np.uint32(0x8000)
    ties |= rng.integers(0, 2, size=200, dtype=np.uint32) << np.uint32(31)
    specials = np.array([0.0, -0.0, 1.0, np.finfo(np.float32).max, -np.finfo(np.float32).max, np.inf, -np.inf,
                         np.finfo(np.float32).tiny, 1e-45, 3.3961776e38], np.float32)
    x = np.concatenate([x, ties.view(np.float32), specials])
    got = fg.tensor(x).round_to_bf16().numpy()
    expected = bf16_reference(x)
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))
    assert np.isnan(fg.tensor(np.array([np.nan], np.float32)).round_to_bf16().numpy()).all()
    # Rounding is real: most random values change, by at most bf16's unit roundoff 2^-8.
    finite = np.isfinite(x[:4000]) & (np.abs(x[:4000]) > 1e-37)
    rel = np.abs(got[:4000][finite] - x[:4000][finite]) / np.abs(x[:4000][finite])
    assert (rel > 0).mean() > 0.9 and rel.max() <= 2.0**-8


def test_round_to_bf16_passes_the_gradient_unchanged(rng: np.random.Generator) -> None:
    x = leaf(rng.standard_normal((3, 4)).astype(np.float32))
    g = rng.standard_normal((3, 4)).astype(np.float32)
    x.round_to_bf16().backward(fg.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), g)


def test_linear_under_autocast_matches_numpy_on_bf16_operands(rng: np.random.Generator) -> None:
    x_np = rng.standard_normal((16, 48)).astype(np.float32)
    w_np = rng.standard_normal((24, 48)).astype(np.float32) * 0.2
    b_np = rng.standard_normal(24).astype(np.float32)
    g_np = rng.standard_normal((16, 24)).astype(np.float32)
    x, w, b = leaf(x_np), leaf(w_np), leaf(b_np)
    with fg.autocast("bf16"):
        y = F.linear(x, w, b)
    y.backward(fg.tensor(g_np))
    xr, wr, gr = (bf16_reference(a).astype(np.float64) for a in (x_np, w_np, g_np))
    expected = xr @ wr.T + b_np
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), gr @ wr, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), gr.T @ xr, rtol=1e-5, atol=1e-5)
    # The bias is added in float32 but its gradient is the rounded one reaching the layer's output.
    np.testing.assert_allclose(b.grad.numpy(), gr.sum(0), rtol=1e-5, atol=1e-5)
    # The float32 layer differs by far more than the tolerance: the check above can fail.
    full = x_np.astype(np.float64) @ w_np.T.astype(np.float64) + b_np
    assert np.abs(y.detach().numpy() - full).max() > 1e-3


def test_matmul_backward_inside_or_outside_the_scope_keeps_bf16_products(rng: np.random.Generator) -> None:
    a_np = rng.standard_normal((2, 5, 7)).astype(np.float32)
    b_np = rng.standard_normal((7, 3)).astype(np.float32)
    g_np = rng.standard_normal((2, 5, 3)).astype(np.float32)
    a, b = leaf(a_np), leaf(b_np)
    with fg.autocast():
        y = a @ b
    assert not fg.is_autocast_enabled()
    y.backward(fg.tensor(g_np))  # recorded inside the scope, run outside it
    ar, br, gr = (bf16_reference(t).astype(np.float64) for t in (a_np, b_np, g_np))
    np.testing.assert_allclose(y.detach().numpy(), ar @ br, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a.grad.numpy(), gr @ br.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), np.einsum("bmk,bmn->kn", ar, gr), rtol=1e-5, atol=1e-5)
    # Run inside the scope instead, backward gives the same gradients: it keeps the precision
    # each op recorded in its forward pass.
    outside = (a.grad.numpy().copy(), b.grad.numpy().copy())
    a.grad, b.grad = None, None
    with fg.autocast():
        y = a @ b
        y.backward(fg.tensor(g_np))
    np.testing.assert_array_equal(a.grad.numpy(), outside[0])
    np.testing.assert_array_equal(b.grad.numpy(), outside[1])


def test_a_float32_layer_keeps_float32_gradients_when_backward_runs_in_a_scope(rng: np.random.Generator) -> None:
    """The linear layer's backward multiplies through the public matmul; run inside a bf16 scope,
    it must still use the precision its forward pass recorded (float32 here), not the scope's."""
    x_np = rng.standard_normal((8, 12)).astype(np.float32)
    w_np = rng.standard_normal((5, 12)).astype(np.float32)
    g_np = rng.standard_normal((8, 5)).astype(np.float32)
    grads = []
    for scoped in (False, True):
        x, w = leaf(x_np), leaf(w_np)
        y = F.linear(x, w)
        with fg.autocast(enabled=scoped):
            y.backward(fg.tensor(g_np))
        grads.append((x.grad.numpy(), w.grad.numpy()))
    np.testing.assert_array_equal(grads[1][0], grads[0][0])
    np.testing.assert_array_equal(grads[1][1], grads[0][1])
    np.testing.assert_allclose(grads[0][0], g_np.astype(np.float64) @ w_np, rtol=1e-5, atol=1e-5)


def _outputs_and_grads(fn, inputs: list[fg.Tensor], upstream: np.ndarray) -> list[np.ndarray]:
    for t in inputs:
        t.grad = None
    out = fn(*inputs)
    out.backward(fg.tensor(upstream))
    return [out.detach().numpy(), *(t.grad.numpy() for t in inputs)]


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d", "attention"])
def test_convolutions_and_attention_equal_their_float32_ops_on_rounded_values(op: str,
                                                                             rng: np.random.Generator) -> None:
    if op == "conv2d":
        arrays = [rng.standard_normal((2, 4, 9, 9)), rng.standard_normal((6, 2, 3, 3))]
        fn = lambda x, w: F.relu(F.conv2d(x, w, stride=2, padding=1, groups=2))  # noqa: E731
    elif op == "conv_transpose2d":
        arrays = [rng.standard_normal((2, 4, 5, 5)), rng.standard_normal((4, 3, 3, 3))]
        fn = lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1)  # noqa: E731
    else:
        arrays = [rng.standard_normal((2, 3, 6, 8)), rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((2, 3, 7, 8))]
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v)  # noqa: E731
    arrays = [a.astype(np.float32) for a in arrays]
    with fg.no_grad():
        shape = fn(*(fg.tensor(a) for a in arrays)).shape
    upstream = rng.standard_normal(shape).astype(np.float32)
    with fg.autocast():
        got = _outputs_and_grads(fn, [leaf(a) for a in arrays], upstream)
    expected = _outputs_and_grads(fn, [leaf(bf16_reference(a)) for a in arrays], bf16_reference(upstream))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)
    full = _outputs_and_grads(fn, [leaf(a) for a in arrays], upstream)
    assert np.abs(full[0] - got[0]).max() > 1e-3


def test_scopes_nest_restore_and_decorate() -> None:
    assert fg.get_autocast_dtype() == "float32"
    with fg.autocast("bfloat16"):
        assert fg.is_autocast_enabled() and fg.get_autocast_dtype() == "bfloat16"
        with fg.autocast(enabled=False):
            assert not fg.is_autocast_enabled()
        assert fg.get_autocast_dtype() == "bfloat16"
    assert not fg.is_autocast_enabled()

    @fg.autocast()
    def inside() -> str:
        return fg.get_autocast_dtype()

    assert inside() == "bfloat16" and fg.get_autocast_dtype() == "float32"
    with pytest.raises(RuntimeError), fg.autocast():
        raise RuntimeError("leaves the scope")
    assert fg.get_autocast_dtype() == "float32"
    with pytest.raises(ValueError, match=r"autocast: argument `dtype` expected 'bf16'.*got 'float16'"):
        fg.autocast("float16")


def test_fit_in_bf16_learns_mnist_like_float32(data_dir: Path) -> None:
    train, test = fg.data.mnist(data_dir / "mnist")
    norm = [T.Normalize([0.1307], [0.3081])]
    results = {}
    for precision in ("f32", "bf16"):
        fg.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = optim.Adam(model.parameters(), lr=1e-3)
        hist = model.fit(train, epochs=2, batch_size=128, optimizer=opt, seed=0, verbose=False, precision=precision,
                         val=test.subset(list(range(2000))), transforms=norm)
        results[precision] = (model.evaluate(test, transforms=norm).accuracy, hist, model[1].weight.detach().numpy())
    (acc32, h32, w32), (acc16, h16, w16) = results["f32"], results["bf16"]
    assert acc16 >= 0.96, f"bf16 test accuracy {acc16:.4f}"
    assert abs(acc16 - acc32) <= 0.01, f"bf16 {acc16:.4f} vs f32 {acc32:.4f}"
    # The precision took effect: the same seed gives other weights, and validation ran in bf16 too.
    assert np.abs(w16 - w32).max() > 1e-4
    assert h16["val_loss"][0] != h32["val_loss"][0]
    assert not fg.is_autocast_enabled()
    with pytest.raises(ValueError, match=r"fit: argument `precision` expected 'bf16'.*got 'fp16'"):
        model.fit(train.subset(list(range(64))), precision="fp16", verbose=False)
