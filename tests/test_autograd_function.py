"""Custom operations through ``fg.autograd.Function`` (PyTorch's ``torch.autograd.Function``):
values and gradients against JAX and by hand, straight-through and BPDA estimators, double
backward, several outputs, PyTorch 2's ``setup_context`` form, and the errors of a malformed
backward."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
from ferrograd.autograd import Function, once_differentiable


class ScaledCube(Function):
    """``alpha * x ** 3 + y``, with a non-tensor argument."""

    @staticmethod
    def forward(ctx, x, alpha, y):
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return alpha * x * x * x + y

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * ctx.alpha * x * x, None, grad


class StraightThroughRound(Function):
    """Rounding forward, identity backward (the straight-through estimator)."""

    @staticmethod
    def forward(ctx, x):
        return x.round()

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_values_and_gradients_match_jax():
    rng = np.random.default_rng(0)
    xv = rng.standard_normal((3, 4)).astype(np.float32)
    yv = rng.standard_normal((3, 4)).astype(np.float32)
    x, y = fg.tensor(xv, requires_grad=True), fg.tensor(yv, requires_grad=True)
    out = ScaledCube.apply(x, 0.5, y)
    assert out.requires_grad and not out.is_leaf
    np.testing.assert_allclose(out.detach().numpy(), 0.5 * xv**3 + yv, rtol=1e-6)
    (out * out).sum().backward()
    gx, gy = jax.grad(lambda a, b: jnp.sum((0.5 * a**3 + b) ** 2), argnums=(0, 1))(xv, yv)
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), gy, rtol=1e-5, atol=1e-6)


def test_needs_input_grad_and_no_recording_without_grad():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            seen["recording"] = fg.is_grad_enabled()
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    a, b = fg.ones(2, requires_grad=True), fg.ones(2)
    out = Probe.apply(a, b)
    assert seen == {"needs": (True, False), "recording": False}
    assert out.requires_grad
    assert not Probe.apply(fg.ones(2), b).requires_grad
    with fg.no_grad():
        assert not Probe.apply(a, b).requires_grad


def test_straight_through_estimator_trains_through_rounding():
    w = fg.tensor([0.2, 1.7, -2.6], requires_grad=True)
    target = fg.tensor([1.0, 1.0, 1.0])
    out = StraightThroughRound.apply(w * 2.0)
    np.testing.assert_array_equal(out.detach().numpy(), [0.0, 3.0, -5.0])
    ((out - target) ** 2).sum().backward()
    # d/dw of sum((round(2w) - 1)^2) with round's gradient taken as 1: 2 * (round(2w) - 1) * 2.
    np.testing.assert_allclose(w.grad.numpy(), [-4.0, 8.0, -24.0])


def test_bpda_attack_gradient_passes_a_non_differentiable_defence():
    """BPDA: a quantising defence computed through numpy, its backward the identity; the
    attack's input gradient equals the model's gradient at the defended input."""

    class Quantise(Function):
        @staticmethod
        def forward(ctx, x):
            return fg.tensor(np.round(x.detach().numpy() * 4) / 4)

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            return grad

    weight = fg.tensor([[1.0, -2.0, 0.5]])
    x = fg.tensor([[0.1, 0.4, 0.9]], requires_grad=True)
    logit = (Quantise.apply(x) * weight).sum()
    (gx,) = fg.autograd.grad(logit, x)
    np.testing.assert_array_equal(gx.numpy(), weight.numpy())
    np.testing.assert_allclose(logit.item(), 0.0 * 1 - 0.5 * 2 + 1.0 * 0.5)


def test_double_backward_through_a_differentiable_backward():
    xv = np.array([0.3, -1.2, 2.0], np.float32)
    x = fg.tensor(xv, requires_grad=True)
    y = fg.zeros(3, requires_grad=True)
    (g,) = fg.autograd.grad(ScaledCube.apply(x, 2.0, y).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 6.0 * xv**2, rtol=1e-6)
    (gg,) = fg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 12.0 * xv, rtol=1e-6)


def test_once_differentiable_refuses_a_second_derivative():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2.0 * x * grad

    x = fg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = fg.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [2.0, 4.0])
    with pytest.raises(NotImplementedError, match="autograd_function_once"):
        fg.autograd.grad(g.sum(), x)


def test_malformed_backward_and_forward_raise_clear_errors():
    class WrongCount(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad

    class NotATensor(Function):
        @staticmethod
        def forward(ctx, a):
            return 3.0

    class RaisesInside(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise KeyError("from the user's backward")

    a = fg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongCount.backward: expected 2 gradients .* got 1"):
        WrongCount.apply(a, fg.ones(3)).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShape.backward: gradient 0 expected shape \(3,\), got \(\)"):
        WrongShape.apply(a).backward()
    with pytest.raises(TypeError, match="NotATensor.forward: expected to return a Tensor or a tuple holding Tensors, got float"):
        NotATensor.apply(a)
    with pytest.raises(KeyError, match="from the user's backward"):
        RaisesInside.apply(a).sum().backward()
    # The failed passes left the graph usable: a good backward still runs.
    ScaledCube.apply(a, 1.0, fg.zeros(3)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0, 3.0])


class ProductAndSum(Function):
    """``(x * y, x + y)``: two outputs, each with its own gradient in ``backward``."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y, x + y

    @staticmethod
    def backward(ctx, grad_product, grad_sum):
        x, y = ctx.saved_tensors
        return grad_product * y + grad_sum, grad_product * x + grad_sum


def test_two_outputs_get_their_own_gradients():
    rng = np.random.default_rng(1)
    xv, yv = (rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2))
    x, y = fg.tensor(xv, requires_grad=True), fg.tensor(yv, requires_grad=True)
    product, total = ProductAndSum.apply(x, y)
    np.testing.assert_allclose(product.detach().numpy(), xv * yv, rtol=1e-6)
    np.testing.assert_allclose(total.detach().numpy(), xv + yv, rtol=1e-6)
    assert product.shape == (2, 3) and product.requires_grad
    (product.sin().sum() + (total * total).sum()).backward()
    gx, gy = jax.grad(lambda a, b: jnp.sum(jnp.sin(a * b)) + jnp.sum((a + b) ** 2), argnums=(0, 1))(xv, yv)
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), gy, rtol=1e-5, atol=1e-6)
    # An output the loss does not reach gets a zero gradient in backward.
    x.grad = y.grad = None
    ProductAndSum.apply(x, y)[1].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((2, 3)))
    np.testing.assert_allclose(y.grad.numpy(), np.ones((2, 3)))


def test_non_differentiable_outputs_and_non_tensor_values():
    """A sort returning values, int64 indices, a float mask marked non-differentiable and a Python
    number: only the values are recorded, and backward sees zeros for the tensors it ignores."""
    seen = {}

    class SortWithExtras(Function):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort()
            mask = (values > 0).to("float32")
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(indices)
            return values, indices, mask, 7

        @staticmethod
        def backward(ctx, grad_values, grad_indices, grad_mask, grad_count):
            seen["rest"] = (float(grad_indices.abs().sum()), float(grad_mask.abs().sum()), grad_count)
            (indices,) = ctx.saved_tensors
            return fg.zeros_like(grad_values).scatter(0, indices, grad_values)

    xv = np.array([0.5, -2.0, 3.0, 1.0], np.float32)
    x = fg.tensor(xv, requires_grad=True)
    values, indices, mask, count = SortWithExtras.apply(x)
    assert count == 7 and indices.dtype == "int64" and not mask.requires_grad and values.requires_grad
    np.testing.assert_array_equal(indices.numpy(), np.argsort(xv))
    (values * fg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    # d/dx of sum(sorted(x) * w): each x gets the weight of its sorted position.
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 1.0, 4.0, 3.0])
    assert seen["rest"] == (0.0, 0.0, None)


def test_double_backward_through_two_outputs():
    class SquareAndCube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x, x * x * x

        @staticmethod
        def backward(ctx, g2, g3):
            (x,) = ctx.saved_tensors
            return g2 * 2.0 * x + g3 * 3.0 * x * x

    xv = np.array([0.5, -1.5, 2.0], np.float32)
    x = fg.tensor(xv, requires_grad=True)
    square, cube = SquareAndCube.apply(x)
    (g,) = fg.autograd.grad((square + cube).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * xv + 3 * xv**2, rtol=1e-6)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 + 6 * xv, rtol=1e-6)


def test_setup_context_form():
    """PyTorch 2's split form: forward without ctx, setup_context filling it."""

    class Scale(Function):
        @staticmethod
        def forward(x, factor):
            return x * factor

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.factor = inputs[1]

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor, None

    x = fg.tensor([1.0, -2.0], requires_grad=True)
    out = Scale.apply(x, 3.0)
    np.testing.assert_allclose(out.detach().numpy(), [3.0, -6.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
