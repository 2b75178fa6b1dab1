"""In-place updates and augmented assignments: written into the same storage where no gradient
depends on them (views and other references see the change, as in PyTorch), recorded out of place
where one does, refused on a leaf that requires grad, and refused where the result cannot be
held (a float result in an integer tensor, a broadcast that grows the shape)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg


def test_augmented_assignment_writes_in_place_without_autograd() -> None:
    base = fg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    alias = base
    row = base[1]
    base += 1
    assert alias is base
    row *= 2
    base -= fg.tensor([1.0, 0.0, 1.0])
    np.testing.assert_array_equal(alias.numpy(), [[1, 3, 3], [9, 12, 13]])
    row /= 4
    np.testing.assert_array_equal(base.numpy()[1], [2.25, 3.0, 3.25])
    counts = fg.zeros(3, dtype="int64")
    counts += fg.tensor([1, 0, 2])
    assert counts.tolist() == [1, 0, 2]


def test_manual_sgd_step_keeps_the_parameter_a_leaf_that_requires_grad() -> None:
    x = fg.tensor([[1.0, 2.0], [3.0, -1.0]])
    y = fg.tensor([1.0, -2.0])
    w = fg.tensor([0.5, -0.5], requires_grad=True)
    original = w
    for _ in range(3):
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        grad = w.grad.numpy().copy()
        before = w.detach().numpy().copy()
        with fg.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
        assert w is original and w.requires_grad and w.is_leaf
        np.testing.assert_allclose(w.detach().numpy(), before - 0.1 * grad, rtol=1e-6)
    # Three steps of gradient descent on this least-squares problem: the analytic gradient in numpy.
    w_ref = np.array([0.5, -0.5])
    for _ in range(3):
        w_ref -= 0.1 * (2 * x.numpy().T @ (x.numpy() @ w_ref - y.numpy()) / 2)
    np.testing.assert_allclose(w.detach().numpy(), w_ref, rtol=1e-5)


def test_augmented_assignment_under_autograd_is_recorded() -> None:
    x = fg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    identity = fg.tensor([0.5, 0.5, 0.5], requires_grad=True)
    out = x * 3
    out += identity
    out *= x
    out.sum().backward()
    # out = (3x + i) * x: d/dx = 6x + i, d/di = x.
    np.testing.assert_allclose(x.grad.numpy(), [6.5, -11.5, 18.5])
    np.testing.assert_allclose(identity.grad.numpy(), [1.0, -2.0, 3.0])


def test_in_place_refusals_name_the_problem() -> None:
    w = fg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\+=: a leaf tensor that requires grad cannot be updated in place"):
        w += 1
    with pytest.raises(RuntimeError, match="add_: in-place updates are not recorded by autograd"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="mul_: in-place updates are not recorded by autograd"):
        fg.ones(3).mul_(w)
    ints = fg.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\+=: the result's dtype float32 cannot be written into a tensor of dtype "
                                        "int64"):
        ints += 0.5
    with pytest.raises(TypeError, match="div_: the result's dtype float32"):
        ints.div_(2)
    small = fg.ones(3)
    with pytest.raises(ValueError, match=r"\*=: the result's shape \[2, 3\] \(broadcast\) differs from the updated "
                                         r"tensor's shape \[3\]"):
        small *= fg.ones(2, 3)
    assert ints.tolist() == [1, 2] and small.tolist() == [1.0, 1.0, 1.0]


def test_named_in_place_methods_under_no_grad() -> None:
    w = fg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with fg.no_grad():
        assert w.add_(fg.ones(3), alpha=2.0) is w
        w.sub_(1.0).mul_(2.0).div_(4.0).clamp_(-1.0, 1.0)
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, -0.5, 1.0])
    with fg.no_grad():
        w.zero_()
    assert w.tolist() == [0.0, 0.0, 0.0] and w.requires_grad
    assert fg.zeros(2, dtype="int64").fill_(7).tolist() == [7, 7]
