"""Interval bound propagation: exact bounds for one linear layer (against numpy), soundness (every
perturbed input's outputs and margins lie within the bounds, random and PGD points alike) through
convolutions, batch norm, pooling and monotone activations, the elided margins at least as tight
as the logit-bound difference, and IBP training on MNIST giving certificates that PGD cannot
contradict."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from ferrograd.attacks import PGD, certify_interval, interval_bounds, interval_loss, margin_lower_bounds


def test_one_linear_layer_is_bounded_exactly(rng: np.random.Generator) -> None:
    layer = nn.Linear(6, 3)
    model = nn.Sequential(layer)
    x = rng.uniform(0.3, 0.7, (4, 6)).astype(np.float32)
    lower, upper = interval_bounds(model, fg.tensor(x), 0.1)
    W, b = layer.weight.detach().numpy().astype(np.float64), layer.bias.detach().numpy().astype(np.float64)
    centre, spread = x @ W.T + b, 0.1 * np.abs(W).sum(1)
    np.testing.assert_allclose(lower.detach().numpy(), centre - spread, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(upper.detach().numpy(), centre + spread, rtol=1e-5, atol=1e-6)
    # At eps 0 the box is the point.
    lower, upper = interval_bounds(model, fg.tensor(x), 0.0)
    np.testing.assert_allclose(lower.detach().numpy(), model(fg.tensor(x)).detach().numpy(), rtol=1e-6)
    np.testing.assert_array_equal(lower.detach().numpy(), upper.detach().numpy())


def _mixed_model() -> nn.Sequential:
    fg.manual_seed(2)
    model = nn.Sequential(nn.Normalize([0.5], [0.25]), nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.1),
                          nn.AvgPool2d(2), nn.Conv2d(4, 6, 3), nn.Tanh(), nn.MaxPool2d(2),
                          nn.Sequential(nn.Flatten(), nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 5)))
    model.train()
    model(fg.randn(16, 1, 8, 8))  # running statistics of the batch norm
    return model.eval()


def test_bounds_contain_every_perturbed_output(rng: np.random.Generator) -> None:
    model = _mixed_model()
    x = rng.uniform(0, 1, (6, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 5, 6)
    eps = 0.05
    lower, upper = (t.detach().numpy() for t in interval_bounds(model, fg.tensor(x), eps))
    margins = margin_lower_bounds(model, fg.tensor(x), fg.tensor(y), eps).detach().numpy()
    naive = lower[np.arange(6), y][:, None] - upper
    naive[np.arange(6), y] = 0.0
    assert np.all(margins >= naive - 1e-5)  # elision is never looser
    for _ in range(30):
        corner = np.sign(rng.standard_normal(x.shape)).astype(np.float32)
        for point in (np.clip(x + eps * corner, 0, 1), np.clip(x + rng.uniform(-eps, eps, x.shape), 0, 1)):
            out = model(fg.tensor(point.astype(np.float32))).detach().numpy()
            assert np.all(out >= lower - 1e-5) and np.all(out <= upper + 1e-5)
            actual = out[np.arange(6), y][:, None] - out
            assert np.all(actual >= margins - 1e-5)


def test_unsupported_models_and_modes_are_refused() -> None:
    with pytest.raises(TypeError, match="interval bounds: argument `model` expected an nn.Sequential"):
        interval_bounds(nn.Linear(2, 2), fg.zeros(1, 2), 0.1)
    with pytest.raises(NotImplementedError, match="no bound propagation for layer GELU"):
        interval_bounds(nn.Sequential(nn.Linear(2, 2), nn.GELU()), fg.zeros(1, 2), 0.1)
    with pytest.raises(ValueError, match="BatchNorm1d must be in eval mode"):
        interval_bounds(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)), fg.zeros(3, 2), 0.1)
    with pytest.raises(ValueError, match="argument `eps` expected a value >= 0"):
        interval_bounds(nn.Sequential(nn.Linear(2, 2)), fg.zeros(1, 2), -0.1)


def test_ibp_training_certifies_what_pgd_cannot_break(mnist: dict) -> None:
    fg.manual_seed(0)
    model = nn.Sequential(nn.Normalize([0.1307], [0.3081]), nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 32, 4, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 7 * 7, 100),
                          nn.ReLU(), nn.Linear(100, 10))
    opt = fg.optim.Adam(model.parameters(), lr=1e-3)
    x_train, y_train = mnist["x_train"][:10000], mnist["y_train"][:10000]
    step = 0
    for epoch in range(3):
        order = np.random.default_rng(epoch).permutation(len(x_train))
        for start in range(0, len(order), 64):
            batch = order[start:start + 64]
            x, y = fg.tensor(x_train[batch]), fg.tensor(y_train[batch])
            # Gowal et al.'s ramp: ε grows to its target while the robust term's weight rises.
            eps, kappa = min(0.1, 0.1 * step / 300), max(0.5, 1 - 0.5 * step / 300)
            loss = kappa * fg.functional.cross_entropy(model(x), y) + (1 - kappa) * interval_loss(model, x, y, eps)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    x_test, y_test = mnist["x_test"][:500], mnist["y_test"][:500]
    certificate = certify_interval(model, (x_test, y_test), 0.1)
    attack = PGD(model, eps=0.1, alpha=0.01, steps=40, seed=0)((x_test, y_test))
    # Observed: certified 0.70, PGD-40 0.84, clean 0.94.
    assert certificate.certified_accuracy > 0.5 and certificate.clean_accuracy > 0.9
    # A certified sample is correct and unbroken by any attack within eps.
    assert np.all(certificate.correct[certificate.certified])
    assert not np.any(attack.success[certificate.certified])
    assert certificate.certified_accuracy <= attack.robust_accuracy


def test_crown_ibp_is_exact_for_one_layer_and_sound_and_tighter_through_relus(rng: np.random.Generator) -> None:
    from ferrograd.attacks import crown_margin_lower_bounds

    layer = nn.Sequential(nn.Linear(6, 3))
    x, y = fg.tensor(rng.uniform(0.3, 0.7, (4, 6)).astype(np.float32)), fg.tensor(np.array([0, 1, 2, 0]))
    np.testing.assert_allclose(crown_margin_lower_bounds(layer, x, y, 0.1).detach().numpy(),
                               margin_lower_bounds(layer, x, y, 0.1).detach().numpy(), atol=1e-6)
    fg.manual_seed(1)
    model = nn.Sequential(nn.Normalize([0.5], [0.25]), nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(4 * 6 * 6, 16), nn.ReLU(), nn.Linear(16, 5)).eval()
    inputs, labels = rng.uniform(0, 1, (8, 1, 6, 6)).astype(np.float32), rng.integers(0, 5, 8)
    eps = 0.02
    crown = crown_margin_lower_bounds(model, fg.tensor(inputs), fg.tensor(labels), eps).detach().numpy()
    interval = margin_lower_bounds(model, fg.tensor(inputs), fg.tensor(labels), eps).detach().numpy()
    assert np.all(crown >= interval - 1e-5) and (crown - interval).mean() > 0.05
    for _ in range(50):
        corner = np.clip(inputs + eps * np.sign(rng.standard_normal(inputs.shape)), 0, 1).astype(np.float32)
        out = model(fg.tensor(corner)).detach().numpy()
        assert np.all(out[np.arange(8), labels][:, None] - out >= crown - 1e-4)
    with pytest.raises(NotImplementedError, match="no linear relaxation for layer Tanh"):
        crown_margin_lower_bounds(nn.Sequential(nn.Linear(2, 2), nn.Tanh()), fg.zeros(1, 2), fg.tensor([0]), 0.1)


def test_crown_certifies_more_of_a_standard_mnist_model(mnist: dict) -> None:
    from ferrograd.attacks import certify_crown

    fg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    model.fit((mnist["x_train"][:10000], mnist["y_train"][:10000]), epochs=2, batch_size=64,
              optimizer=fg.optim.Adam(model.parameters(), lr=1e-3), seed=0, verbose=False)
    x, y = mnist["x_test"][:300], mnist["y_test"][:300]
    crown, interval = certify_crown(model, (x, y), 0.01), certify_interval(model, (x, y), 0.01)
    attack = PGD(model, eps=0.01, alpha=0.002, steps=20, seed=0)((x, y))
    # Observed: CROWN-IBP 0.873, interval bounds 0.747, PGD-20 0.887, clean 0.933.
    assert crown.certified_accuracy >= interval.certified_accuracy + 0.05, (crown, interval)
    assert not np.any(attack.success[crown.certified]) and crown.certified_accuracy <= attack.robust_accuracy


def test_crown_ibp_loss_mixes_the_bounds_and_trains(rng: np.random.Generator) -> None:
    from ferrograd.attacks import crown_ibp_loss, crown_margin_lower_bounds

    fg.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    x = fg.tensor(rng.uniform(0, 1, (5, 1, 3, 4)).astype(np.float32))
    y = fg.tensor(rng.integers(0, 3, 5))
    crown = crown_margin_lower_bounds(model, x, y, 0.05).detach().numpy()
    interval = margin_lower_bounds(model, x, y, 0.05).detach().numpy()
    mixed = 0.3 * crown + 0.7 * interval
    logits = -mixed.astype(np.float64)
    want = np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(5), y.numpy()])
    loss = crown_ibp_loss(model, x, y, 0.05, beta=0.3)
    assert loss.item() == pytest.approx(want, rel=1e-5)
    loss.backward()
    # The CROWN term reaches the weights through the backward-propagated coefficients.
    assert all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0 for p in model.parameters())
    for p in model.parameters():
        p.grad = None
    crown_ibp_loss(model, x, y, 0.05, beta=1.0).backward()
    first_weight_grad = model[1].weight.grad.numpy().copy()
    # One weight's gradient against a central difference (the coefficients differentiate through
    # the layers' vector-Jacobian products).
    weight = model[1].weight
    step, (row, col) = 1e-2, np.unravel_index(int(np.argmax(np.abs(first_weight_grad))), first_weight_grad.shape)
    values = []
    for sign in (1.0, -1.0):
        with fg.no_grad():
            weight[row, col] += sign * step
        values.append(crown_ibp_loss(model, x, y, 0.05, beta=1.0).item())
        with fg.no_grad():
            weight[row, col] -= sign * step
    assert (values[0] - values[1]) / (2 * step) == pytest.approx(first_weight_grad[row, col], rel=2e-2)
    with pytest.raises(ValueError, match="crown_ibp_loss: argument `beta` expected a value in"):
        crown_ibp_loss(model, x, y, 0.05, beta=1.5)
