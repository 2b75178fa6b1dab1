"""Gradients of gradients (``create_graph=True``) against JAX's nested ``jax.grad`` in float32.

Each test builds a first gradient with a recorded backward pass, then differentiates a function of
it (a Hessian-vector product, a gradient-norm penalty, an input-gradient alignment term) and
compares with JAX differentiating the same expression twice. Tolerances: 2e-4 relative for
pointwise chains, 5e-4 for networks (float32 sums over a few hundred terms in another order).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn

jax.config.update("jax_platforms", "cpu")

UNARY = {
    "tanh": (lambda x: x.tanh(), jnp.tanh),
    "sigmoid": (lambda x: x.sigmoid(), jax.nn.sigmoid),
    "exp": (lambda x: x.exp(), jnp.exp),
    "log": (lambda x: (x.abs() + 0.5).log(), lambda x: jnp.log(jnp.abs(x) + 0.5)),
    "sqrt": (lambda x: (x.square() + 0.3).sqrt(), lambda x: jnp.sqrt(x * x + 0.3)),
    "recip": (lambda x: 1.0 / (x.square() + 1.0), lambda x: 1.0 / (x * x + 1.0)),
    "sin": (lambda x: x.sin(), jnp.sin),
    "cos": (lambda x: x.cos(), jnp.cos),
    "pow": (lambda x: (x.abs() + 0.2) ** 2.5, lambda x: (jnp.abs(x) + 0.2) ** 2.5),
    "softplus": (lambda x: F.softplus(x, beta=2.0), lambda x: jax.nn.softplus(2.0 * x) / 2.0),
    "erf": (lambda x: x.erf(), jax.scipy.special.erf),
    "erfc": (lambda x: x.erfc(), jax.scipy.special.erfc),
    "tan": (lambda x: (x * 0.4).tan(), lambda x: jnp.tan(x * 0.4)),
    "asin_acos": (lambda x: (x * 0.3).tanh().asin() * (x * 0.2).tanh().acos(),
                  lambda x: jnp.arcsin(jnp.tanh(x * 0.3)) * jnp.arccos(jnp.tanh(x * 0.2))),
    "atan": (lambda x: x.atan(), jnp.arctan),
    "sinh_cosh": (lambda x: x.sinh() * x.cosh(), lambda x: jnp.sinh(x) * jnp.cosh(x)),
    "asinh_acosh": (lambda x: x.asinh() * (x.square() + 1.5).acosh(),
                    lambda x: jnp.arcsinh(x) * jnp.arccosh(x * x + 1.5)),
    "atanh": (lambda x: (x * 0.3).tanh().atanh(), lambda x: jnp.arctanh(jnp.tanh(x * 0.3))),
    "log2_log10": (lambda x: (x.abs() + 0.5).log2() * (x.square() + 0.5).log10(),
                   lambda x: jnp.log2(jnp.abs(x) + 0.5) * jnp.log10(x * x + 0.5)),
    "atan2": (lambda x: fg.atan2(x, x.square() + 0.5), lambda x: jnp.arctan2(x, x * x + 0.5)),
    "lgamma": (lambda x: (x.abs() + 0.5).lgamma(), lambda x: jax.scipy.special.gammaln(jnp.abs(x) + 0.5)),
    "digamma": (lambda x: (x.abs() + 0.5).digamma(), lambda x: jax.scipy.special.digamma(jnp.abs(x) + 0.5)),
    "polygamma": (lambda x: (x.abs() + 0.5).polygamma(2),
                  lambda x: jax.scipy.special.polygamma(2, jnp.abs(x) + 0.5)),
    "erfinv": (lambda x: (x * 0.3).tanh().erfinv(), lambda x: jax.scipy.special.erfinv(jnp.tanh(x * 0.3))),
    "bessel": (lambda x: x.i0() * (x + 0.3).i1() + (x * 2).i0e() * (x - 0.2).i1e(),
               lambda x: (jax.scipy.special.i0(x) * jax.scipy.special.i1(x + 0.3)
                          + jax.scipy.special.i0e(x * 2) * jax.scipy.special.i1e(x - 0.2))),
    "gelu": (lambda x: F.gelu(x), lambda x: jax.nn.gelu(x, approximate=False)),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: jax.nn.gelu(x, approximate=True)),
    "silu": (lambda x: F.silu(x), jax.nn.silu),
    "log1p": (lambda x: x.abs().log1p(), lambda x: jnp.log1p(jnp.abs(x))),
    "expm1": (lambda x: x.expm1(), jnp.expm1),
    "relu_square": (lambda x: F.relu(x) * x, lambda x: jax.nn.relu(x) * x),
    "leaky_relu_square": (lambda x: F.leaky_relu(x, 0.1) * x, lambda x: jnp.where(x > 0, x, 0.1 * x) * x),
    "clamp_square": (lambda x: x.clamp(-0.5, 0.7) * x, lambda x: jnp.clip(x, -0.5, 0.7) * x),
}


def _jax_hvp(f: Callable[[jnp.ndarray], jnp.ndarray], x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The gradient of <grad f(x), v>: a Hessian-vector product."""
    return np.asarray(jax.grad(lambda x: jnp.vdot(jax.grad(f)(x), v))(jnp.asarray(x)))


def assert_penalty_gradients_match(ours: Callable[..., fg.Tensor], theirs: Callable[..., jnp.ndarray],
                                   arrays: tuple[np.ndarray, ...]) -> None:
    """Back-propagates the penalty ``||d ours / d first argument||^2`` to every argument and
    compares with JAX differentiating ``theirs`` twice (tolerances scaled to each gradient)."""
    tensors = [fg.tensor(a, requires_grad=True) for a in arrays]
    (first,) = fg.autograd.grad(ours(*tensors), tensors[0], create_graph=True)
    first.square().sum().backward()

    def penalty(*args: jnp.ndarray) -> jnp.ndarray:
        return jnp.sum(jax.grad(theirs)(*args) ** 2)

    expected = jax.grad(penalty, argnums=tuple(range(len(arrays))))(*(jnp.asarray(a) for a in arrays))
    for t, e in zip(tensors, expected):
        scale = float(np.abs(np.asarray(e)).max())
        np.testing.assert_allclose(t.grad.numpy(), np.asarray(e), rtol=2e-3, atol=2e-4 * scale)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_hessian_vector_products_of_pointwise_ops(name: str, rng: np.random.Generator) -> None:
    ours, theirs = UNARY[name]
    x_np = rng.standard_normal((3, 7)).astype(np.float32)
    v_np = rng.standard_normal((3, 7)).astype(np.float32)
    x = fg.tensor(x_np, requires_grad=True)
    (g,) = fg.autograd.grad(ours(x).sum(), x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), np.asarray(jax.grad(lambda x: theirs(x).sum())(x_np)),
                               rtol=2e-5, atol=2e-6)
    (hv,) = fg.autograd.grad((g * fg.tensor(v_np)).sum(), x)
    np.testing.assert_allclose(hv.numpy(), _jax_hvp(lambda x: theirs(x).sum(), x_np, v_np), rtol=2e-4, atol=2e-5)


def test_binary_ops_broadcasting_and_reductions_twice(rng: np.random.Generator) -> None:
    a_np = rng.standard_normal((4, 5)).astype(np.float32)
    b_np = (rng.standard_normal((1, 5)) + 2.5).astype(np.float32)

    def ours(a: fg.Tensor, b: fg.Tensor) -> fg.Tensor:
        mixed = fg.where(a > 0, a * b, a / b) - fg.maximum(a, b * 0.1) + (a @ b.T).mean()
        return (mixed.square().sum(dim=1) ** 1.5).sum() + fg.cat([a[:, 1:3], b[:, 2:4]], dim=0).tanh().sum()

    def theirs(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
        mixed = jnp.where(a > 0, a * b, a / b) - jnp.maximum(a, b * 0.1) + (a @ b.T).mean()
        return (jnp.sum(mixed ** 2, axis=1) ** 1.5).sum() + jnp.tanh(jnp.concatenate([a[:, 1:3], b[:, 2:4]], 0)).sum()

    a, b = fg.tensor(a_np, requires_grad=True), fg.tensor(b_np, requires_grad=True)
    ga, gb = fg.autograd.grad(ours(a, b), [a, b], create_graph=True)
    penalty = ga.square().sum() + (gb * ga[:1]).sum()
    da, db = fg.autograd.grad(penalty, [a, b])

    def jax_penalty(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
        ga, gb = jax.grad(theirs, argnums=(0, 1))(a, b)
        return jnp.sum(ga ** 2) + jnp.sum(gb * ga[:1])

    ja, jb = jax.grad(jax_penalty, argnums=(0, 1))(jnp.asarray(a_np), jnp.asarray(b_np))
    np.testing.assert_allclose(da.numpy(), np.asarray(ja), rtol=5e-4, atol=5e-4)
    np.testing.assert_allclose(db.numpy(), np.asarray(jb), rtol=5e-4, atol=5e-4)


def test_third_derivative_through_nested_create_graph() -> None:
    x_np = np.linspace(-2.0, 2.0, 9, dtype=np.float32)
    x = fg.tensor(x_np, requires_grad=True)
    (d1,) = fg.autograd.grad(x.sin().sum(), x, create_graph=True)
    (d2,) = fg.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = fg.autograd.grad(d2.sum(), x)
    np.testing.assert_allclose(d1.detach().numpy(), np.cos(x_np), atol=1e-6)
    np.testing.assert_allclose(d2.detach().numpy(), -np.sin(x_np), atol=1e-6)
    np.testing.assert_allclose(d3.numpy(), -np.cos(x_np), atol=1e-6)


@pytest.mark.parametrize("smoothing,weighted,reduction", [(0.0, False, "mean"), (0.1, True, "mean"),
                                                          (0.0, True, "sum"), (0.2, False, "none")])
def test_softmax_family_and_cross_entropy_twice(smoothing: float, weighted: bool, reduction: str,
                                                 rng: np.random.Generator) -> None:
    logits_np = rng.standard_normal((6, 5)).astype(np.float32)
    labels_np = np.array([0, 3, -100, 4, 1, 3], dtype=np.int64)
    weight_np = rng.uniform(0.5, 1.5, 5).astype(np.float32)
    v_np = rng.standard_normal((6, 5)).astype(np.float32)
    weight = fg.tensor(weight_np) if weighted else None

    def ours(z: fg.Tensor) -> fg.Tensor:
        ce = F.cross_entropy(z, fg.tensor(labels_np), weight=weight, ignore_index=-100,
                             label_smoothing=smoothing, reduction=reduction)
        ce = ce.sum() if reduction == "none" else ce
        return ce + (F.softmax(z, dim=0) * F.log_softmax(z, dim=1)).sum()

    def theirs(z: jnp.ndarray) -> jnp.ndarray:
        logp = jax.nn.log_softmax(z, axis=1)
        w = jnp.asarray(weight_np) if weighted else jnp.ones(5)
        keep = labels_np != -100
        safe = np.where(keep, labels_np, 0)
        hard = -logp[np.arange(6), safe] * w[safe]
        soft = -(logp * w).sum(1) / 5
        rows = jnp.where(keep, (1 - smoothing) * hard + smoothing * soft, 0.0)
        if reduction == "mean":
            ce = rows.sum() / jnp.where(keep, w[safe], 0.0).sum()
        else:
            ce = rows.sum()
        return ce + (jax.nn.softmax(z, axis=0) * logp).sum()

    z = fg.tensor(logits_np, requires_grad=True)
    (g,) = fg.autograd.grad(ours(z), z, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.asarray(jax.grad(theirs)(logits_np)), rtol=1e-5, atol=1e-6)
    (hv,) = fg.autograd.grad((g * fg.tensor(v_np)).sum(), z)
    np.testing.assert_allclose(hv.numpy(), _jax_hvp(theirs, logits_np, v_np), rtol=2e-4, atol=2e-5)


def _mlp_params(rng: np.random.Generator) -> list[np.ndarray]:
    shapes = [(16, 10), (16,), (3, 16), (3,)]
    return [(rng.standard_normal(s) * 0.4).astype(np.float32) for s in shapes]


def test_input_gradient_penalty_of_an_mlp_reaches_the_weights(rng: np.random.Generator) -> None:
    x_np = rng.standard_normal((8, 10)).astype(np.float32)
    y_np = rng.integers(0, 3, 8)
    params_np = _mlp_params(rng)

    params = [fg.tensor(p, requires_grad=True) for p in params_np]
    x = fg.tensor(x_np, requires_grad=True)
    w1, b1, w2, b2 = params
    hidden = F.relu(F.linear(x, w1, b1)) + 0.5 * F.linear(x, w1, b1).tanh()
    loss = F.cross_entropy(F.linear(hidden, w2, b2), fg.tensor(y_np))
    (gx,) = fg.autograd.grad(loss, x, create_graph=True)
    total = loss + 10.0 * gx.square().sum()
    total.backward()

    def jax_total(ps: list[jnp.ndarray], x: jnp.ndarray) -> jnp.ndarray:
        def jax_loss(x: jnp.ndarray) -> jnp.ndarray:
            w1, b1, w2, b2 = ps
            pre = x @ w1.T + b1
            hidden = jax.nn.relu(pre) + 0.5 * jnp.tanh(pre)
            logp = jax.nn.log_softmax(hidden @ w2.T + b2, axis=1)
            return -logp[np.arange(8), y_np].mean()

        return jax_loss(x) + 10.0 * jnp.sum(jax.grad(jax_loss)(x) ** 2)

    expected = jax.grad(jax_total)([jnp.asarray(p) for p in params_np], jnp.asarray(x_np))
    for p, e in zip(params, expected):
        np.testing.assert_allclose(p.grad.numpy(), np.asarray(e), rtol=5e-4, atol=5e-5)


def _jax_conv(x: jnp.ndarray, w: jnp.ndarray, b: jnp.ndarray, stride: int, padding: int, dilation: int,
              groups: int) -> jnp.ndarray:
    out = jax.lax.conv_general_dilated(x, w, (stride, stride), [(padding, padding)] * 2,
                                       rhs_dilation=(dilation, dilation), feature_group_count=groups,
                                       dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return out + b[None, :, None, None]


def _jax_max_pool(x: jnp.ndarray) -> jnp.ndarray:
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 2), (1, 2, 2, 1)])
def test_gradient_alignment_penalty_of_a_cnn_matches_jax(stride: int, padding: int, dilation: int, groups: int,
                                                         rng: np.random.Generator) -> None:
    """GradAlign-style: the cosine between input gradients at two points, back-propagated to the
    weights, through conv2d, its fused ReLU and max-pool forms (nn.Sequential fuses them), a
    plain max pool, a flatten and a linear layer."""
    fg.manual_seed(3)
    side = (12 + 2 * padding - 2 * dilation - 1) // stride + 1
    features = 4 * (side // 2 - 1) ** 2
    net = nn.Sequential(nn.Conv2d(2, 4, 3, stride=stride, padding=padding, dilation=dilation, groups=groups),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 2), nn.ReLU(), nn.Flatten(),
                        nn.Linear(features, 3))
    x_np = rng.uniform(0, 1, (3, 2, 12, 12)).astype(np.float32)
    delta_np = rng.uniform(-0.1, 0.1, x_np.shape).astype(np.float32)
    y_np = np.array([0, 2, 1])
    params = list(net.parameters())
    params_np = [p.detach().numpy().copy() for p in params]

    def input_gradient(x_np: np.ndarray) -> fg.Tensor:
        x = fg.tensor(x_np, requires_grad=True)
        (g,) = fg.autograd.grad(F.cross_entropy(net(x), fg.tensor(y_np)), x, create_graph=True)
        # The recorded backward pass gives the fused kernels' values.
        (plain,) = fg.autograd.grad(F.cross_entropy(net(x), fg.tensor(y_np)), x)
        np.testing.assert_allclose(g.detach().numpy(), plain.numpy(), rtol=1e-5, atol=1e-7)
        return g.reshape(3, -1)

    g1, g2 = input_gradient(x_np), input_gradient(x_np + delta_np)
    cos = (g1 * g2).sum(dim=1) / ((g1.square().sum(dim=1) * g2.square().sum(dim=1)).sqrt() + 1e-12)
    (1.0 - cos).mean().backward()

    def jax_objective(ps: list[jnp.ndarray]) -> jnp.ndarray:
        w1, b1, w2, b2, w3, b3 = ps

        def loss(x: jnp.ndarray) -> jnp.ndarray:
            h = _jax_max_pool(jax.nn.relu(_jax_conv(x, w1, b1, stride, padding, dilation, groups)))
            h = jax.nn.relu(_jax_conv(h, w2, b2, 1, 0, 1, 1)).reshape(3, -1)
            logp = jax.nn.log_softmax(h @ w3.T + b3, axis=1)
            return -logp[np.arange(3), y_np].mean()

        a = jax.grad(loss)(jnp.asarray(x_np)).reshape(3, -1)
        b = jax.grad(loss)(jnp.asarray(x_np + delta_np)).reshape(3, -1)
        cos = (a * b).sum(1) / (jnp.sqrt((a * a).sum(1) * (b * b).sum(1)) + 1e-12)
        return (1.0 - cos).mean()

    expected = jax.grad(jax_objective)([jnp.asarray(p) for p in params_np])
    for p, e in zip(params, expected):
        scale = float(np.abs(np.asarray(e)).max())
        assert scale > 0
        np.testing.assert_allclose(p.grad.numpy(), np.asarray(e), rtol=5e-3, atol=5e-4 * scale)


def test_backward_with_create_graph_keeps_the_graph_in_grad(rng: np.random.Generator) -> None:
    w_np = rng.standard_normal((4, 3)).astype(np.float32)
    x_np = rng.standard_normal((5, 4)).astype(np.float32)
    w = fg.tensor(w_np, requires_grad=True)
    (fg.tensor(x_np) @ w).tanh().sum().backward(create_graph=True)
    assert w.grad is not None and w.grad.requires_grad
    (hw,) = fg.autograd.grad(w.grad.square().sum(), w)

    def first(w: jnp.ndarray) -> jnp.ndarray:
        return jnp.tanh(jnp.asarray(x_np) @ w).sum()

    expected = jax.grad(lambda w: jnp.sum(jax.grad(first)(w) ** 2))(jnp.asarray(w_np))
    np.testing.assert_allclose(hw.numpy(), np.asarray(expected), rtol=2e-4, atol=2e-5)


def test_gradient_penalty_through_leaky_relu_critic_matches_jax(rng: np.random.Generator) -> None:
    """WGAN-GP: (||d critic / d x_hat|| - 1)^2 at interpolates, back-propagated to the critic."""
    fg.manual_seed(5)
    critic = nn.Sequential(nn.Linear(6, 12), nn.LeakyReLU(0.2), nn.Linear(12, 1))
    x_np = rng.standard_normal((5, 6)).astype(np.float32)
    params_np = [p.detach().numpy().copy() for p in critic.parameters()]
    x = fg.tensor(x_np, requires_grad=True)
    out = critic(x)
    (g,) = fg.autograd.grad(out, x, grad_outputs=fg.ones_like(out), create_graph=True)
    ((g.square().sum(dim=1).sqrt() - 1.0) ** 2).mean().backward()

    def penalty(ps: list[jnp.ndarray]) -> jnp.ndarray:
        w1, b1, w2, b2 = ps

        def critic_sum(x: jnp.ndarray) -> jnp.ndarray:
            h = x @ w1.T + b1
            return (jnp.where(h > 0, h, 0.2 * h) @ w2.T + b2).sum()

        g = jax.grad(critic_sum)(jnp.asarray(x_np))
        return ((jnp.sqrt((g ** 2).sum(1)) - 1.0) ** 2).mean()

    expected = jax.grad(penalty)([jnp.asarray(p) for p in params_np])
    # The input gradient depends on the biases only through the activation's piecewise-constant
    # slope, so they are not in the penalty's graph: no gradient, where JAX gives zeros.
    assert [p.grad is None for p in critic.parameters()] == [False, True, False, True]
    for p, e in zip(critic.parameters(), expected):
        got = np.zeros_like(np.asarray(e)) if p.grad is None else p.grad.numpy()
        np.testing.assert_allclose(got, np.asarray(e), rtol=5e-4, atol=1e-5)


def test_an_op_without_a_recorded_backward_raises_only_when_differentiated_again(
        rng: np.random.Generator) -> None:
    """Max pooling is twice differentiable, but the op its recorded backward uses
    (``max_pool2d_backward``) is not: a third derivative has the right values and raises only
    when differentiated once more."""
    x = fg.tensor(rng.standard_normal((1, 1, 4, 6)).astype(np.float32), requires_grad=True)

    def second(create_graph: bool) -> fg.Tensor:
        (g1,) = fg.autograd.grad(F.max_pool2d(x.tanh(), 2).square().sum(), x, create_graph=True)
        (g2,) = fg.autograd.grad(g1.square().sum(), x, create_graph=create_graph)
        return g2

    g, plain = second(True), second(False)
    np.testing.assert_array_equal(g.detach().numpy(), plain.numpy())
    assert g.requires_grad
    with pytest.raises(NotImplementedError, match="max_pool2d_backward"):
        g.square().sum().backward()


def _unfold_reference(x: jnp.ndarray, k: int, stride: int, padding: int, dilation: int) -> jnp.ndarray:
    """torch.nn.functional.unfold written with indexing: [N, C * k * k, L], rows (c, ki, kj)."""
    n, c, h, w = x.shape
    padded = jnp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (h + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    ow = (w + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    rows = [padded[:, :, ki * dilation + stride * np.arange(oh)][:, :, :, kj * dilation + stride * np.arange(ow)]
            for ki in range(k) for kj in range(k)]
    return jnp.stack(rows, 2).reshape(n, c * k * k, oh * ow)


def test_unfold_and_fold_twice(rng: np.random.Generator) -> None:
    """A gradient penalty through unfold (with padding, stride and dilation) and back through
    fold: each op's backward is the other, recorded."""
    x_np = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    v_np = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    w_np = rng.standard_normal((12, 12)).astype(np.float32)
    k, stride, padding, dilation = 2, 2, 1, 2

    def ours(x: fg.Tensor, w: fg.Tensor) -> fg.Tensor:
        cols = F.unfold(x, k, dilation=dilation, padding=padding, stride=stride)  # [2, 12, L]
        mixed = (w @ cols).tanh()
        return (F.fold(mixed, (6, 5), k, dilation=dilation, padding=padding, stride=stride) * fg.tensor(v_np)).sum()

    def theirs(x: jnp.ndarray, w: jnp.ndarray) -> jnp.ndarray:
        cols = _unfold_reference(x, k, stride, padding, dilation)
        mixed = jnp.tanh(w @ cols)
        back = jax.vjp(lambda y: _unfold_reference(y, k, stride, padding, dilation), x)[1](mixed)[0]
        return (back * v_np).sum()

    assert_penalty_gradients_match(ours, theirs, (x_np, w_np))


def test_indexing_and_extrema_twice(rng: np.random.Generator) -> None:
    """gather, index_select, embedding and max / min (along an axis and overall): each backward is
    recorded, so a penalty on the gradients differentiates through them as JAX does."""
    x_np = rng.standard_normal((5, 6)).astype(np.float32)
    table_np = rng.standard_normal((7, 4)).astype(np.float32)
    gather_at = np.array([[5, 0, 2], [1, 1, 3], [2, 4, 4], [3, 3, 0], [0, 5, 1]], dtype=np.int64)
    rows_at = np.array([4, 0, 4], dtype=np.int64)
    ids = np.array([[0, 3], [6, 3], [2, 2]], dtype=np.int64)

    def ours(x: fg.Tensor, table: fg.Tensor) -> fg.Tensor:
        picked = x.tanh().gather(1, fg.tensor(gather_at)).square().sum()
        rows = x.index_select(0, fg.tensor(rows_at)).sin().sum()
        embedded = (F.embedding(fg.tensor(ids), table).square().sum(-1) * x[:3, :2]).sum()
        extremes = (x * x).max(dim=1).values.sum() + x.sin().min(dim=0).values.square().sum() + x.exp().max()
        return picked + rows + embedded + extremes

    def theirs(x: jnp.ndarray, table: jnp.ndarray) -> jnp.ndarray:
        picked = jnp.sum(jnp.take_along_axis(jnp.tanh(x), gather_at, 1) ** 2)
        rows = jnp.sum(jnp.sin(x[rows_at]))
        embedded = jnp.sum(jnp.sum(table[ids] ** 2, -1) * x[:3, :2])
        extremes = jnp.sum(jnp.max(x * x, 1)) + jnp.sum(jnp.min(jnp.sin(x), 0) ** 2) + jnp.max(jnp.exp(x))
        return picked + rows + embedded + extremes

    x, table = fg.tensor(x_np, requires_grad=True), fg.tensor(table_np, requires_grad=True)
    gx, gt = fg.autograd.grad(ours(x, table), [x, table], create_graph=True)
    dx, dt = fg.autograd.grad(gx.square().sum() + (gt * gt.tanh()).sum(), [x, table])

    def jax_penalty(x: jnp.ndarray, table: jnp.ndarray) -> jnp.ndarray:
        gx, gt = jax.grad(theirs, argnums=(0, 1))(x, table)
        return jnp.sum(gx ** 2) + jnp.sum(gt * jnp.tanh(gt))

    jx, jt = jax.grad(jax_penalty, argnums=(0, 1))(jnp.asarray(x_np), jnp.asarray(table_np))
    np.testing.assert_allclose(dx.numpy(), np.asarray(jx), rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(dt.numpy(), np.asarray(jt), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("kind", ["layer_norm", "batch_norm_train", "batch_norm_eval"])
def test_normalisation_layers_twice(kind: str, rng: np.random.Generator) -> None:
    """An input-gradient penalty through layer or batch norm (batch statistics or running ones),
    back-propagated to the input and the affine parameters."""
    x_np = rng.standard_normal((4, 3, 2, 5)).astype(np.float32)
    w_np = rng.uniform(0.5, 1.5, 3 if kind != "layer_norm" else (2, 5)).astype(np.float32)
    b_np = rng.standard_normal(w_np.shape).astype(np.float32)
    mean_np = rng.standard_normal(3).astype(np.float32)
    var_np = rng.uniform(0.5, 2.0, 3).astype(np.float32)
    v_np = rng.standard_normal(x_np.shape).astype(np.float32)
    eps = 1e-5

    def ours(x: fg.Tensor, w: fg.Tensor, b: fg.Tensor) -> fg.Tensor:
        if kind == "layer_norm":
            y = F.layer_norm(x, (2, 5), w, b, eps)
        else:
            y = F.batch_norm(x, fg.tensor(mean_np.copy()), fg.tensor(var_np.copy()), w, b,
                             training=kind == "batch_norm_train", eps=eps)
        return (y.tanh() * fg.tensor(v_np)).sum()

    def theirs(x: jnp.ndarray, w: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
        if kind == "layer_norm":
            mean, var = x.mean((2, 3), keepdims=True), x.var((2, 3), keepdims=True)
            y = (x - mean) / jnp.sqrt(var + eps) * w + b
        else:
            if kind == "batch_norm_train":
                mean, var = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
            else:
                mean, var = mean_np.reshape(1, 3, 1, 1), var_np.reshape(1, 3, 1, 1)
            y = (x - mean) / jnp.sqrt(var + eps) * w.reshape(1, 3, 1, 1) + b.reshape(1, 3, 1, 1)
        return (jnp.tanh(y) * v_np).sum()

    assert_penalty_gradients_match(ours, theirs, (x_np, w_np, b_np))


def test_average_pools_twice(rng: np.random.Generator) -> None:
    x_np = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    v_np = rng.standard_normal(x_np.shape).astype(np.float32)

    def ours(x: fg.Tensor) -> fg.Tensor:
        a = F.avg_pool2d(x.tanh(), 3, stride=2, padding=1)
        b = F.adaptive_avg_pool2d(x.square(), (2, 2))
        return (a.square()).sum() + (b * a[:, :, :2, :2]).sum()

    def theirs(x: jnp.ndarray) -> jnp.ndarray:
        padded = jnp.pad(jnp.tanh(x), ((0, 0), (0, 0), (1, 1), (1, 1)))
        a = jax.lax.reduce_window(padded, 0.0, jax.lax.add, (1, 1, 3, 3), (1, 1, 2, 2), "VALID") / 9.0
        b = jax.lax.reduce_window(x * x, 0.0, jax.lax.add, (1, 1, 3, 3), (1, 1, 3, 3), "VALID") / 9.0
        return (a ** 2).sum() + (b * a[:, :, :2, :2]).sum()

    x = fg.tensor(x_np, requires_grad=True)
    (g,) = fg.autograd.grad(ours(x), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), np.asarray(jax.grad(theirs)(x_np)), rtol=1e-5, atol=1e-6)
    (hv,) = fg.autograd.grad((g * fg.tensor(v_np)).sum(), x)
    np.testing.assert_allclose(hv.numpy(), _jax_hvp(theirs, x_np, v_np), rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("causal,masked", [(False, False), (True, False), (False, True)])
def test_attention_twice(causal: bool, masked: bool, rng: np.random.Generator) -> None:
    """A gradient-norm penalty through the fused CPU attention (recomposed from matmul and softmax
    for the second derivative), with a causal or an additive mask, against JAX."""
    q_np, k_np, v_np = (rng.standard_normal((2, 3, 5, 4)).astype(np.float32) for _ in range(3))
    w_np = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    mask_np = np.where(rng.random((5, 5)) < 0.3, -1e9, 0.0).astype(np.float32) if masked else None
    if mask_np is not None:
        mask_np[:, 0] = 0.0  # every query keeps a key

    def ours(q: fg.Tensor, k: fg.Tensor, v: fg.Tensor) -> fg.Tensor:
        mask = fg.tensor(mask_np) if mask_np is not None else None
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
        return (out * fg.tensor(w_np)).sum()

    def theirs(q: jnp.ndarray, k: jnp.ndarray, v: jnp.ndarray) -> jnp.ndarray:
        scores = q @ jnp.swapaxes(k, -1, -2) / 2.0
        if causal:
            scores = jnp.where(jnp.tril(jnp.ones((5, 5), bool)), scores, -jnp.inf)
        if mask_np is not None:
            scores = scores + mask_np
        return (jax.nn.softmax(scores, -1) @ v * w_np).sum()

    q, k, v = (fg.tensor(a, requires_grad=True) for a in (q_np, k_np, v_np))
    gq, gk = fg.autograd.grad(ours(q, k, v), [q, k], create_graph=True)
    (gq.square().sum() + gk.square().sum()).backward()

    def penalty(q: jnp.ndarray, k: jnp.ndarray, v: jnp.ndarray) -> jnp.ndarray:
        first = jax.grad(theirs, argnums=(0, 1))(q, k, v)
        return jnp.sum(first[0] ** 2) + jnp.sum(first[1] ** 2)

    expected = jax.grad(penalty, argnums=(0, 1, 2))(jnp.asarray(q_np), jnp.asarray(k_np), jnp.asarray(v_np))
    for t, e in zip((q, k, v), expected):
        scale = float(np.abs(np.asarray(e)).max())
        np.testing.assert_allclose(t.grad.numpy(), np.asarray(e), rtol=2e-3, atol=2e-4 * scale)


def test_attention_with_dropout_raises_only_when_differentiated_again(rng: np.random.Generator) -> None:
    q = fg.tensor(rng.standard_normal((1, 4, 3)).astype(np.float32), requires_grad=True)
    fg.manual_seed(0)
    (g,) = fg.autograd.grad(F.scaled_dot_product_attention(q, q, q, dropout_p=0.5).sum(), q, create_graph=True)
    fg.manual_seed(0)
    (plain,) = fg.autograd.grad(F.scaled_dot_product_attention(q, q, q, dropout_p=0.5).sum(), q)
    np.testing.assert_array_equal(g.detach().numpy(), plain.numpy())
    with pytest.raises(NotImplementedError, match="scaled_dot_product_attention"):
        g.square().sum().backward()


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_recurrent_layers_twice(kind: str, rng: np.random.Generator) -> None:
    """An input-gradient penalty through a recurrent layer (its fused cells recompose themselves
    for the second derivative), back-propagated to the input and the weights, against JAX."""
    fg.manual_seed(1)
    layer = getattr(nn, kind)(3, 4, batch_first=True)
    params = {name: p.detach().numpy().copy() for name, p in layer.named_parameters()}
    x_np = rng.standard_normal((2, 5, 3)).astype(np.float32)
    w_np = rng.standard_normal((2, 5, 4)).astype(np.float32)
    hidden = 4

    def theirs(x: jnp.ndarray, p: dict) -> jnp.ndarray:
        h = jnp.zeros((2, hidden))
        c = jnp.zeros((2, hidden))
        outs = []
        for t in range(5):
            gx = x[:, t] @ p["weight_ih_l0"].T + p["bias_ih_l0"]
            gh = h @ p["weight_hh_l0"].T + p["bias_hh_l0"]
            if kind == "LSTM":
                i, f, g, o = jnp.split(gx + gh, 4, axis=1)
                c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
                h = jax.nn.sigmoid(o) * jnp.tanh(c)
            else:
                xr, xz, xn = jnp.split(gx, 3, axis=1)
                hr, hz, hn = jnp.split(gh, 3, axis=1)
                r, z = jax.nn.sigmoid(xr + hr), jax.nn.sigmoid(xz + hz)
                n = jnp.tanh(xn + r * hn)
                h = (1 - z) * n + z * h
            outs.append(h)
        return (jnp.stack(outs, 1) * w_np).sum()

    x = fg.tensor(x_np, requires_grad=True)
    out, _ = layer(x)
    (gx,) = fg.autograd.grad((out * fg.tensor(w_np)).sum(), x, create_graph=True)
    gx.square().sum().backward()

    def penalty(x: jnp.ndarray, p: dict) -> jnp.ndarray:
        return jnp.sum(jax.grad(theirs)(x, p) ** 2)

    jp = {k: jnp.asarray(v) for k, v in params.items()}
    ex, ep = jax.grad(penalty, argnums=(0, 1))(jnp.asarray(x_np), jp)
    np.testing.assert_allclose(x.grad.numpy(), np.asarray(ex), rtol=2e-3, atol=1e-5)
    for name, p in layer.named_parameters():
        e = np.asarray(ep[name])
        np.testing.assert_allclose(p.grad.numpy(), e, rtol=2e-3, atol=2e-4 * float(np.abs(e).max()))


@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups",
                         [(2, 1, 1, 1, 1), (1, 0, 0, 1, 2), (1, 1, 1, 2, 1), (3, 2, 2, 1, 1)])
def test_transposed_convolution_twice(stride: int, padding: int, output_padding: int, dilation: int, groups: int,
                                      rng: np.random.Generator) -> None:
    """An input-gradient penalty through conv_transpose2d (a generator's upsampling), back-propagated
    to the input, weight and bias, against JAX's transposed convolution (the vjp of the convolution
    it reverses) differentiated twice. (1, 1, 1, 2, 1) has an output_padding of the stride, which
    dilation 2 allows: the convolution then reaches one row and column past the input, which the
    transposed one never reads."""
    x_np = rng.standard_normal((2, 4, 4, 3)).astype(np.float32)
    w_np = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b_np = rng.standard_normal(3 * groups).astype(np.float32)
    span = dilation * 2 + output_padding + 1
    out_h, out_w = (4 - 1) * stride - 2 * padding + span, (3 - 1) * stride - 2 * padding + span
    v_np = rng.standard_normal((2, 3 * groups, out_h, out_w)).astype(np.float32)

    def ours(x: fg.Tensor, w: fg.Tensor, b: fg.Tensor) -> fg.Tensor:
        y = F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
        return (y.tanh() * fg.tensor(v_np)).sum()

    def transposed(x: jnp.ndarray, w: jnp.ndarray) -> jnp.ndarray:
        def conv(y: jnp.ndarray) -> jnp.ndarray:  # cut to the input's size (see the docstring's last case)
            out = jax.lax.conv_general_dilated(y, w, (stride, stride), [(padding, padding)] * 2,
                                               rhs_dilation=(dilation, dilation),
                                               dimension_numbers=("NCHW", "OIHW", "NCHW"), feature_group_count=groups)
            return out[:, :, :4, :3]
        y0 = jnp.zeros((2, 3 * groups, out_h, out_w), jnp.float32)
        return jax.vjp(conv, y0)[1](x)[0]

    def theirs(x: jnp.ndarray, w: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
        return (jnp.tanh(transposed(x, w) + b[None, :, None, None]) * v_np).sum()

    assert_penalty_gradients_match(ours, theirs, (x_np, w_np, b_np))
