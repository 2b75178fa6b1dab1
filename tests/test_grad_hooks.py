"""Tensor gradient hooks and retained gradients: hooks see the complete gradient of the tensor
they are on, may replace it (what flows on changes accordingly), can be removed, and re-raise
their exceptions from ``backward``; ``retain_grad`` keeps a non-leaf's gradient, which gives
Grad-CAM its activation gradients; post-accumulate hooks run on leaves once ``.grad`` is
updated. Values against analytic gradients."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg


def test_hook_sees_the_complete_gradient_and_can_replace_it() -> None:
    x = fg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    h = x * 2
    seen: list[list[float]] = []
    handle = h.register_hook(lambda g: seen.append(g.tolist()))
    # h is used twice: the hook runs once, on the sum of both consumers' gradients.
    (h * h + 3 * h).sum().backward()
    assert seen == [[7.0, -5.0, 15.0]]  # 2h + 3
    assert x.grad.tolist() == [14.0, -10.0, 30.0]
    handle.remove()
    handle.remove()
    x.grad = None
    doubled = x * 2
    doubled.register_hook(lambda g: g * 0.5)
    doubled.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0] and len(seen) == 1


def test_leaf_hooks_change_what_is_accumulated_and_errors_propagate() -> None:
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    w.register_hook(lambda g: g.clamp(max=1.0))
    (w * fg.tensor([3.0, 0.5])).sum().backward()
    assert w.grad.tolist() == [1.0, 0.5]

    def broken(_: fg.Tensor) -> None:
        raise KeyError("from the hook")

    v = fg.ones(2, requires_grad=True)
    v.register_hook(broken)
    with pytest.raises(KeyError, match="from the hook"):
        (v * 2).sum().backward()
    u = fg.ones(2, requires_grad=True)
    u.register_hook(lambda g: fg.ones(3))
    with pytest.raises(ValueError, match="a hook returned a gradient of shape \\[3\\] for a tensor of shape \\[2\\]"):
        u.sum().backward()
    with pytest.raises(TypeError, match="argument `hook` expected a callable"):
        u.register_hook(3)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="register_hook: the tensor does not require grad"):
        fg.ones(2).register_hook(lambda g: g)


def test_retain_grad_keeps_activation_gradients_for_grad_cam(rng: np.random.Generator) -> None:
    fg.manual_seed(0)
    conv = fg.nn.Conv2d(1, 4, 3, padding=1)
    head = fg.nn.Linear(4, 3)
    x = fg.tensor(rng.normal(size=(2, 1, 6, 6)).astype(np.float32))
    features = conv(x)
    features.retain_grad()
    assert features.retains_grad and not features.is_leaf
    pooled = features.mean(dim=(2, 3))
    scores = head(pooled)
    scores[:, 1].sum().backward()
    # d score_1 / d features[n, c, i, j] = head.weight[1, c] / 36 for every position.
    expected = np.broadcast_to(head.weight.detach().numpy()[1][None, :, None, None] / 36.0, (2, 4, 6, 6))
    np.testing.assert_allclose(features.grad.numpy(), expected, rtol=1e-6)
    weights = features.grad.mean(dim=(2, 3), keepdim=True)
    cam = (weights * features.detach()).sum(1).relu()
    assert cam.shape == (2, 6, 6)
    with pytest.raises(RuntimeError, match="retain_grad: the tensor does not require grad"):
        fg.ones(2).retain_grad()


def test_post_accumulate_hooks_can_step_parameters_during_backward() -> None:
    """The optimizer-in-backward pattern: each parameter is stepped by SGD as soon as its
    gradient is accumulated, and its gradient cleared; the result equals a normal step."""
    rng = np.random.default_rng(0)
    x = fg.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    w0 = rng.standard_normal((3, 2)).astype(np.float32)
    seen: list[list[float]] = []

    def step(param: fg.Tensor) -> None:
        seen.append(param.grad.numpy().ravel().tolist())
        with fg.no_grad():
            param.sub_(param.grad * 0.1)
        param.grad = None

    w = fg.tensor(w0, requires_grad=True)
    handle = w.register_post_accumulate_grad_hook(step)
    ((x @ w) ** 2).sum().backward()
    reference = fg.tensor(w0, requires_grad=True)
    ((x @ reference) ** 2).sum().backward()
    np.testing.assert_allclose(seen[0], reference.grad.numpy().ravel(), rtol=1e-6)
    np.testing.assert_allclose(w.detach().numpy(), w0 - 0.1 * reference.grad.numpy(), rtol=1e-6)
    assert w.grad is None
    handle.remove()
    ((x @ w) ** 2).sum().backward()
    assert len(seen) == 1 and w.grad is not None
    with pytest.raises(RuntimeError, match="register_post_accumulate_grad_hook: expected a leaf tensor"):
        (w * 2).register_post_accumulate_grad_hook(step)
    with pytest.raises(TypeError, match="argument `hook` expected a callable"):
        w.register_post_accumulate_grad_hook(3)
