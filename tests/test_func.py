"""``ferrograd.func``: functional_call, grad, vmap (per-sample gradients), jacrev and hessian,
against direct computations."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import func, nn


def _model() -> nn.Module:
    fg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))


def test_functional_call_runs_with_given_tensors_and_restores_the_module() -> None:
    model = _model().eval()
    other = _model()
    with fg.no_grad():
        for p in other.parameters():
            p.copy_(p * 2.0 + 0.1)
    other.eval()
    state = {k: v.detach() for k, v in other.state_dict().items()}
    x = fg.randn(5, 4)
    np.testing.assert_allclose(func.functional_call(model, state, (x,)).detach().numpy(),
                               other(x).detach().numpy(), rtol=1e-6)
    before = model(x).detach().numpy()
    np.testing.assert_array_equal(model(x).detach().numpy(), before)  # the module's own tensors are back
    # Gradients reach the tensors passed in, not the module's parameters.
    params = {k: v.detach().clone().requires_grad_(True) for k, v in model.named_parameters()}
    func.functional_call(model, params, x).sum().backward()
    assert all(p.grad is not None for p in params.values())
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(KeyError, match="no parameters or buffers"):
        func.functional_call(model, {"nope": x}, x)
    with pytest.raises(KeyError, match="strict"):
        func.functional_call(model, params, x, strict=True)  # the buffers are missing


def test_grad_and_per_sample_gradients_through_vmap() -> None:
    model = _model().eval()
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, y = fg.randn(6, 4), fg.tensor(np.array([0, 1, 2, 0, 1, 2]))

    def loss(p: dict, xi: fg.Tensor, yi: fg.Tensor) -> fg.Tensor:
        out = func.functional_call(model, p, xi.unsqueeze(0))
        return F.cross_entropy(out, yi.unsqueeze(0))

    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    assert tuple(per_sample["0.weight"].shape) == (6, 8, 4)
    for i in range(6):
        one = func.grad(loss)(params, x[i], y[i])
        for k in params:
            np.testing.assert_allclose(per_sample[k][i].numpy(), one[k].numpy(), rtol=1e-6)
    # Their mean is the gradient of the mean loss (an eval-mode model: no batch interaction).
    batch = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    F.cross_entropy(func.functional_call(model, batch, x), y).backward()
    for k in params:
        np.testing.assert_allclose(per_sample[k].mean(0).numpy(), batch[k].grad.numpy(), rtol=1e-5, atol=1e-7)
    g, value = func.grad_and_value(lambda a, b: (a * b).sum(), argnums=(0, 1))(fg.tensor([1.0, 2.0]), fg.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(g[0].numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(g[1].numpy(), [1.0, 2.0])
    assert value.item() == 11.0


def test_vmap_dims_jacrev_and_hessian() -> None:
    w = fg.randn(3, 4)
    mapped = func.vmap(lambda a, m: m @ a, in_dims=(1, None), out_dims=1)(fg.randn(4, 5), w)
    assert tuple(mapped.shape) == (3, 5)
    x = fg.randn(4)
    jac = func.jacrev(lambda v: (w @ v).tanh())(x)
    expected = (1 - (w @ x).tanh().numpy() ** 2)[:, None] * w.numpy()
    np.testing.assert_allclose(jac.numpy(), expected, rtol=1e-5, atol=1e-6)
    hess = func.hessian(lambda v: (v ** 3).sum())(x)
    np.testing.assert_allclose(hess.numpy(), np.diag(6 * x.numpy()), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="common size"):
        func.vmap(lambda a, b: a + b)(fg.randn(3), fg.randn(4))
