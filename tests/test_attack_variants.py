"""torchattacks' remaining PGD variants against numpy references on the tanh MLP, step by step:
UPGD, Jitter (its tie-sharing L∞ norms and the division by the perturbation's size included), PGD
on the randomized-smoothing classifier (PGDRS, PGDRSL2), PI-FGSM and PI-FGSM++, SparseFool's round and
VANILA; and PGDRSL2
against the smoothed classifier it targets, on MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn, optim
from ferrograd.attacks import PGD, PGDRS, PGDRSL2, UPGD, VANILA, DeepFool, Jitter, PIFGSM, PIFGSMPP, SparseFool

from test_attack_api import _logit_backprop, _logits, _softmax
from test_attacks import _data, _reference_grad, _smoothed, _tanh_mlp


def _project(adv: np.ndarray, x: np.ndarray, eps: float) -> np.ndarray:
    return np.clip(x + np.clip(adv - x, -eps, eps), 0.0, 1.0)


def test_upgd_equals_the_numpy_reference() -> None:
    """A uniform start, then MI-FGSM's signed steps along mean-normalised gradients plus the
    decayed momentum (torchattacks' UPGD loop)."""
    model, params = _tanh_mlp()
    x, y = _data()
    eps, alpha, steps, decay, seed = 0.3, 0.05, 6, 0.8, 4
    fg.manual_seed(seed)
    adv = np.clip(x + eps * (2 * fg.rand(x.size).numpy().reshape(x.shape) - 1), 0.0, 1.0)
    momentum = np.zeros_like(x)
    for _ in range(steps):
        g = _reference_grad(params, adv, y)
        momentum = g / np.abs(g).mean(axis=(1, 2, 3), keepdims=True) + decay * momentum
        adv = _project(adv + alpha * np.sign(momentum), x, eps)
    result = UPGD(model, eps, alpha, steps, random_start=True, decay=decay, seed=seed)(x, y)
    np.testing.assert_allclose(result.adversarial, adv, atol=1e-5)
    # No momentum and no random start: the basic iterative method.
    np.testing.assert_allclose(UPGD(model, eps, alpha, steps, decay=0.0)(x, y).adversarial,
                               PGD(model, eps, alpha, steps, random_start=False)(x, y).adversarial, atol=1e-6)


def _linf_with_ties(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise L∞ norms of ``v`` [B, n] and their gradient, shared equally between ties (as
    PyTorch differentiates ``torch.norm(p=inf)``)."""
    size = np.abs(v).max(1)
    at_max = np.abs(v) == size[:, None]
    return size, np.sign(v) * at_max / at_max.sum(1, keepdims=True)


def _jitter_gradient(params: list[np.ndarray], adv: np.ndarray, x: np.ndarray, y: np.ndarray, goal: np.ndarray,
                     noise: np.ndarray, scale: float, std: float, targeted: bool) -> np.ndarray:
    """d/dadv of sum_i cost_i, torchattacks' Jitter cost, by the chain rule."""
    z = _logits(params, adv)
    classes = z.shape[1]
    size_z, dsize_z = _linf_with_ties(z)
    h = _softmax(scale * z / size_z[:, None])
    diff = h + std * noise - np.eye(classes)[goal]
    sign = -1.0 if targeted else 1.0
    cost = sign * (diff ** 2).mean(1)
    dh = sign * 2 * diff / classes
    du = h * (dh - (h * dh).sum(1, keepdims=True))
    dz = scale * du / size_z[:, None] - scale / size_z[:, None] ** 2 * (du * z).sum(1, keepdims=True) * dsize_z
    r = (adv - x).reshape(len(x), -1).astype(np.float64)
    size_r, dsize_r = _linf_with_ties(r)
    divides = (z.argmax(1) != y) & (size_r > 0)
    dz[divides] /= size_r[divides, None]
    g = _logit_backprop(params, adv, dz).reshape(len(x), -1)
    g[divides] -= (cost / size_r ** 2)[divides, None] * dsize_r[divides]
    return g.reshape(x.shape)


@pytest.mark.parametrize("targeted", [False, True])
def test_jitter_equals_the_numpy_reference(targeted: bool) -> None:
    """From a uniform start, each step draws [B, classes] normals for the jitter (the seed's
    Philox stream after the start's uniforms)."""
    model, params = _tanh_mlp()
    x, y = _data()
    goal = (y + 1) % 5 if targeted else y
    eps, alpha, steps, scale, std, seed = 0.3, 0.05, 6, 10.0, 0.1, 7
    fg.manual_seed(seed)
    # The iterate stays in float32, as the attack's: which entries of the perturbation tie at its
    # largest magnitude depends on the rounding.
    adv = np.clip(x + np.float32(eps) * (2 * fg.rand(x.size).numpy().reshape(x.shape) - 1), 0.0, 1.0)
    for _ in range(steps):
        noise = fg.randn(len(x) * 5).numpy().reshape(len(x), 5).astype(np.float64)
        g = _jitter_gradient(params, adv, x, y, goal, noise, scale, std, targeted)
        adv = adv + np.float32(alpha) * np.sign(g).astype(np.float32)
        adv = np.clip(x + np.clip(adv - x, np.float32(-eps), np.float32(eps)), np.float32(0), np.float32(1))
    attack = Jitter(model, eps, alpha, steps, scale=scale, std=std, seed=seed)
    result = attack(x, y, targets=goal if targeted else None)
    np.testing.assert_allclose(result.adversarial, adv, atol=1e-5)
    # Without noise the result depends on no draw after the start.
    a = Jitter(model, eps, alpha, steps, std=0.0, seed=seed)(x, y).adversarial
    np.testing.assert_array_equal(a, Jitter(model, eps, alpha, steps, std=0.0, seed=seed)(x, y).adversarial)


def _smoothed_reference(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, eps: float, alpha: float, steps: int,
                        sd: float, copies: int, noise_type: str, l2: bool) -> np.ndarray:
    """torchattacks' PGDRS / PGDRSL2 loop: delta from 0, each sample's point clamped to [0, 1] and
    seen through ``copies`` noisy copies, ascending -log of the mean softmax at the label; delta
    projected onto the ball only, the point clamped at the end."""
    n, classes = len(x), 5
    delta = np.zeros_like(x, dtype=np.float64)
    for _ in range(steps):
        point = x + delta
        clamped = np.clip(point, 0.0, 1.0)
        if noise_type == "gaussian":
            noise = sd * fg.randn(n * copies * 16).numpy()
        else:
            noise = sd * (2 * fg.rand(n * copies * 16).numpy() - 1)
        seen = np.repeat(clamped, copies, axis=0) + noise.reshape(n * copies, 1, 4, 4)
        p = _softmax(_logits(params, seen))
        vote = p.reshape(n, copies, classes).mean(1)
        # d(-log vote_y)/dp at every copy: -1 / (copies * vote_y) on the label's column.
        dp = np.zeros_like(p)
        dp[np.arange(n * copies), np.repeat(y, copies)] = -1.0 / (copies * np.repeat(vote[np.arange(n), y], copies))
        dz = p * (dp - (p * dp).sum(1, keepdims=True))
        dseen = _logit_backprop(params, seen, dz).reshape(n, copies, *x.shape[1:]).sum(1)
        g = dseen * ((point > 0) & (point < 1))
        if l2:
            flat = g.reshape(n, -1)
            step = flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)
            d = delta.reshape(n, -1) + alpha * step
            d *= np.minimum(eps / np.linalg.norm(d, axis=1, keepdims=True), 1.0)
            delta = d.reshape(x.shape)
        else:
            delta = np.clip(delta + alpha * np.sign(g), -eps, eps)
    return np.clip(x + delta, 0.0, 1.0)


@pytest.mark.parametrize("variant", ["linf_gaussian", "linf_uniform", "l2_gaussian"])
def test_pgdrs_equals_the_numpy_reference(variant: str) -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    l2, noise_type = variant.startswith("l2"), variant.split("_")[1]
    eps, alpha = (0.8, 0.2) if l2 else (0.3, 0.05)
    steps, sd, copies, seed = 5, 0.25, 3, 9
    fg.manual_seed(seed)
    expected = _smoothed_reference(params, x, y, eps, alpha, steps, sd, copies, noise_type, l2)
    make = PGDRSL2 if l2 else PGDRS
    result = make(model, eps, alpha, steps, noise_type=noise_type, noise_sd=sd, noise_batch_size=copies, seed=seed)(x, y)
    np.testing.assert_allclose(result.adversarial, expected, atol=1e-5)
    assert result.norms(2 if l2 else np.inf).max() <= eps + 1e-5
    # torchattacks' spelling of the Gaussian is accepted; batch_max sets the batches.
    assert PGDRS(model, noise_type="guassian", batch_max=64, noise_batch_size=8).batch_size == 8
    with pytest.raises(ValueError, match="noise_type"):
        PGDRS(model, noise_type="laplace")


def test_vanila_returns_the_inputs() -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    r = VANILA(model)(x, y)
    np.testing.assert_array_equal(r.adversarial, x)
    np.testing.assert_array_equal(r.adversarial_predictions, _logits(params, x).argmax(1))
    np.testing.assert_array_equal(r.success, r.adversarial_predictions != y)
    assert r.robust_accuracy == r.clean_accuracy


def test_pgdrs_breaks_the_smoothed_classifier(data_dir: Path) -> None:
    """On an MNIST CNN trained with Gaussian noise (σ 0.25), the smoothed classifier (the majority
    vote over 100 noisy copies) is right on ≥ 95% of 100 test digits; PGDRSL2 at L2 radius 2 on it
    brings that below 75% (0.575 in a 200-digit run), within its budget and the bounds."""
    train, test = fg.data.mnist(data_dir / "mnist")
    fg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10))
    images, labels = train.get_batch(list(range(12000)))
    noisy = (np.asarray(images) + 0.25 * np.random.default_rng(0).standard_normal(np.shape(images))).astype(np.float32)
    model.fit((noisy, np.asarray(labels)), epochs=2, batch_size=64,
              optimizer=optim.Adam(model.parameters(), lr=2e-3), seed=0, verbose=False)
    model.eval()
    x, y = test.get_batch(list(range(100)))
    x, y = np.asarray(x), np.asarray(y)
    noise = (0.25 * np.random.default_rng(1).standard_normal((100, *x.shape[1:]))).astype(np.float32)

    def smoothed_accuracy(inputs: np.ndarray) -> float:
        votes = [np.bincount(model.predict(inputs[i][None] + noise).argmax(1), minlength=10).argmax()
                 for i in range(len(inputs))]
        return float(np.mean(np.asarray(votes) == y))

    result = PGDRSL2(model, 2.0, 0.5, 10, noise_sd=0.25, noise_batch_size=8)(x, y)
    assert result.norms(2).max() <= 2.0 + 1e-4
    assert result.adversarial.min() >= 0.0 and result.adversarial.max() <= 1.0
    clean, attacked = smoothed_accuracy(x), smoothed_accuracy(result.adversarial)
    assert clean >= 0.95 and attacked < 0.75, (clean, attacked)


def test_every_report_name_builds_its_attack_at_the_given_eps() -> None:
    from ferrograd.attacks.report import _NAMED

    model, _ = _tanh_mlp()
    for name, make in _NAMED.items():
        attack = make(model, 0.125)
        assert attack.eps == 0.125, name


def _linear_solve(x0: np.ndarray, normal: np.ndarray, point: np.ndarray) -> np.ndarray:
    """torchattacks' SparseFool linear solver on one flat sample: coordinates by decreasing
    |normal| (the first index among ties), each moved once by max(|f + margin| / |normal_k|,
    1e-4) along sign(normal_k) and clamped to [0, 1], until the side of the plane changes."""
    xi = x0.astype(np.float64).copy()
    side = float(normal @ (xi - point))
    start = np.sign(side)
    for k in sorted(np.flatnonzero(normal), key=lambda k: (-abs(normal[k]), k)):
        step = max(abs(side + 0.001 * start) / abs(normal[k]), 1e-4) * np.sign(normal[k])
        moved = min(max(xi[k] + step, 0.0), 1.0)
        side += normal[k] * (moved - xi[k])
        xi[k] = moved
        if np.sign(side) != start:
            break
    return xi


def test_a_sparsefool_round_equals_the_numpy_reference() -> None:
    """One round: DeepFool's point (the DeepFool attack, 50 steps, overshoot 0.02), pushed 3 times
    as far; the normal of z_rival - z_label there by hand; the linear solver; overshoot 0.02."""
    model, params = _tanh_mlp()
    x, y = _data()
    fooled = DeepFool(model, steps=50)(x, y)
    boundary = x + 3.0 * (fooled.adversarial - x)
    at_boundary = _logits(params, boundary).argmax(1)
    rival = np.where(at_boundary == y, fooled.adversarial_predictions, at_boundary)
    normals = _logit_backprop(params, boundary, np.eye(5)[rival] - np.eye(5)[y]).reshape(len(x), -1)
    expected = x.reshape(len(x), -1).astype(np.float64).copy()
    for i in np.flatnonzero((_logits(params, x).argmax(1) == y) & (rival != y)):
        normal = normals[i] / np.linalg.norm(normals[i])
        crossed = _linear_solve(expected[i], normal, boundary[i].ravel())
        expected[i] = np.clip(expected[i] + 1.02 * (crossed - expected[i]), 0.0, 1.0)
    result = SparseFool(model, steps=1)(x, y)
    np.testing.assert_allclose(result.adversarial, expected.reshape(x.shape), atol=1e-5)
    np.testing.assert_array_equal(result.adversarial_predictions, _logits(params, result.adversarial).argmax(1))
    with pytest.raises(NotImplementedError, match="SparseFool"):
        SparseFool(model)(x, y, targets=y)


def _ring_mean(v: np.ndarray) -> np.ndarray:
    """The mean of each pixel's eight neighbours (zero padding), per channel."""
    padded = np.pad(v, ((0, 0), (0, 0), (1, 1), (1, 1)))
    h, w = v.shape[2:]
    return sum(padded[:, :, i:i + h, j:j + w] for i in range(3) for j in range(3) if (i, j) != (1, 1)) / 8


@pytest.mark.parametrize("plus", [False, True])
def test_pifgsm_equals_the_numpy_reference(plus: bool) -> None:
    """torchattacks' PI-FGSM loop (amplified signed steps; the accumulated excess over ε spread to
    the neighbours; clipped to the ε-box) and PI-FGSM++ (gradients smoothed by the 3 × 3 Gaussian,
    the spread step scaled by project_factor and not accumulated). The step sizes are exact in
    binary, so the cut-off at ε is the same in float32 and float64."""
    model, params = _tanh_mlp()
    x, y = _data()
    eps, steps, amplification, factor = 0.25, 4, 3.0, 0.8
    alpha = eps / steps * amplification
    gamma = alpha * (factor if plus else 1.0)
    accumulated, adv = np.zeros_like(x, dtype=np.float64), x.astype(np.float64)
    for _ in range(steps):
        g = _reference_grad(params, adv, y)
        if plus:
            g = _smoothed(g, 3, "gaussian", 3.0)
        step = alpha * np.sign(g)
        accumulated += step
        cut = np.clip(np.abs(accumulated) - eps, 0, 1e4) * np.sign(accumulated)
        projection = gamma * np.sign(_ring_mean(cut))
        if not plus:
            accumulated += projection
        adv = _project(adv + step + projection, x, eps)
    attack = PIFGSMPP(model, eps, steps, amplification, project_factor=factor) if plus else PIFGSM(model, eps, steps, amplification)
    result = attack(x, y)
    np.testing.assert_allclose(result.adversarial, adv, atol=1e-5)
    assert np.abs(result.adversarial - x).max() <= eps + 1e-6
