"""torchattacks' conveniences around the attacks: targeted modes, declared input normalisation,
saving results, MultiAttack, and the simple members (FFGSM, EOTPGD, TPGD, GN), against numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from ferrograd.training.inputs import as_dataset
from ferrograd.attacks import EADEN, JSMA, SPSA, OnePixel, EADL1, EOTPGD, FFGSM, GN, PGD, TPGD, APGD, MultiAttack

from test_attacks import _data, _reference_grad, _tanh_mlp


def _logit_backprop(params: list[np.ndarray], x: np.ndarray, dz: np.ndarray) -> np.ndarray:
    """The input gradient of the tanh MLP for the gradient ``dz`` at its logits."""
    w1, b1, w2, _ = params
    h = np.tanh(x.reshape(len(x), -1) @ w1.T + b1)
    return (((dz @ w2) * (1.0 - h * h)) @ w1).reshape(x.shape)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def _logits(params: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    w1, b1, w2, b2 = params
    return np.tanh(x.reshape(len(x), -1) @ w1.T + b1) @ w2.T + b2


def test_ffgsm_equals_the_numpy_reference() -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    eps, alpha, seed = 0.2, 0.25, 3
    fg.manual_seed(seed)
    u = fg.rand(x.size).numpy().reshape(x.shape)
    adv = np.clip(x + eps * (2 * u - 1), 0.0, 1.0)
    adv = adv + alpha * np.sign(_reference_grad(params, adv, y))
    adv = np.clip(x + np.clip(adv - x, -eps, eps), 0.0, 1.0)
    np.testing.assert_allclose(FFGSM(model, eps, alpha, seed=seed)(x, y).adversarial, adv, atol=1e-6)


def test_tpgd_ascends_the_kl_divergence_from_the_clean_prediction() -> None:
    """From x + 0.001 N(0, I) (the seed's Philox normals), signed steps along the gradient of
    KL(softmax(f(x)) || softmax(f(x'))), whose logit gradient is q - p."""
    model, params = _tanh_mlp()
    x, y = _data()
    eps, alpha, steps, seed = 0.3, 0.05, 5, 2
    fg.manual_seed(seed)
    adv = np.clip(x + 0.001 * fg.randn(x.size).numpy().reshape(x.shape), 0.0, 1.0)
    p = _softmax(_logits(params, x))
    for _ in range(steps):
        q = _softmax(_logits(params, adv))
        adv = adv + alpha * np.sign(_logit_backprop(params, adv, q - p))
        adv = np.clip(x + np.clip(adv - x, -eps, eps), 0.0, 1.0)
    result = TPGD(model, eps, alpha, steps, seed=seed)(x, y)
    np.testing.assert_allclose(result.adversarial, adv, atol=1e-5)
    np.testing.assert_array_equal(result.adversarial_predictions, _logits(params, adv).argmax(1))
    with pytest.raises(NotImplementedError, match="TPGD"):
        TPGD(model, eps)(x, y, targets=y)


def test_eotpgd_averages_passes_and_gn_adds_seeded_noise() -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    # A deterministic model: the average of identical passes is the plain PGD gradient.
    np.testing.assert_allclose(EOTPGD(model, 0.2, 0.05, 4, eot_iter=3)(x, y).adversarial,
                               PGD(model, 0.2, 0.05, 4)(x, y).adversarial, atol=1e-6)
    r = GN(model, std=0.2, seed=4)(x, y)
    noise = np.random.default_rng(4).standard_normal(x.shape).astype(np.float32)
    np.testing.assert_allclose(r.adversarial, np.clip(x + 0.2 * noise, 0.0, 1.0))
    np.testing.assert_array_equal(r.adversarial_predictions, _logits(params, r.adversarial).argmax(1))
    np.testing.assert_array_equal(r.clean_predictions, _logits(params, x).argmax(1))


def test_targeted_modes_pick_torchattacks_targets() -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    logits = _logits(params, x)
    attack = PGD(model, 0.5, 0.1, 10)
    attack.set_mode_targeted_least_likely(kth_min=2)
    assert attack.targeted
    r = attack(x, y)
    second_least = np.argsort(logits, axis=1, kind="stable")[:, 1]
    np.testing.assert_array_equal(r.success, r.adversarial_predictions == second_least)
    assert r.success.mean() > 0.5 and r.targeted

    attack.set_mode_targeted_random(seed=1)
    targets = attack._mode_targets(as_dataset((x, y), "data", "test"))
    assert (targets != y).all() and len(np.unique(targets)) >= 3
    np.testing.assert_array_equal(targets, attack._mode_targets(as_dataset((x, y), "data", "test")))
    r = attack(x, y)
    np.testing.assert_array_equal(r.success, r.adversarial_predictions == targets)

    attack.set_mode_targeted_by_function(lambda inputs, labels: (labels + 1) % 5)
    r = attack(x, y)
    np.testing.assert_array_equal(r.success, r.adversarial_predictions == (y + 1) % 5)
    attack.set_mode_default()
    assert not attack.targeted and not attack(x, y).targeted
    with pytest.raises(ValueError, match="kth_min"):
        attack.set_mode_targeted_least_likely(0)


def test_declared_normalisation_equals_normalising_inside_the_model() -> None:
    model, _ = _tanh_mlp()
    x, y = _data()
    mean, std = [0.4], [0.3]
    inside = nn.Sequential(nn.Normalize(mean, std), model)
    expected = PGD(inside, 0.2, 0.05, 5)(x, y)
    attack = PGD(model, 0.2, 0.05, 5)
    attack.set_normalization_used(mean, std)
    model.train()
    got = attack(x, y)
    assert model.training  # the user's mode comes back
    np.testing.assert_array_equal(got.adversarial, expected.adversarial)
    np.testing.assert_array_equal(got.adversarial_predictions, expected.adversarial_predictions)
    with pytest.raises(ValueError, match="Normalize"):
        attack.set_normalization_used([0.5], [0.0])


def test_multiattack_keeps_each_samples_first_success_and_save_writes_whole_files(tmp_path: Path) -> None:
    model, _ = _tanh_mlp()
    x, y = _data(60)
    weak, strong = PGD(model, 0.02, 0.01, 3), APGD(model, 0.3, steps=10)
    both = MultiAttack([weak, strong])
    r = both(x, y)
    first, second = weak(x, y), strong(x, y)
    np.testing.assert_array_equal(r.success, first.success | second.success)
    np.testing.assert_array_equal(r.adversarial[first.success], first.adversarial[first.success])
    assert both.robust_after[0] == pytest.approx(first.robust_accuracy)
    assert both.robust_after[-1] == pytest.approx(r.robust_accuracy) and r.robust_accuracy <= second.robust_accuracy
    assert r.norms().max() <= 0.3 + 1e-6

    path = tmp_path / "adv.npz"
    saved = weak.save((x, y), str(path))
    with np.load(path) as f:
        np.testing.assert_array_equal(f["adversarial"], saved.adversarial)
        np.testing.assert_array_equal(f["labels"], y)
        np.testing.assert_array_equal(f["adversarial_predictions"], saved.adversarial_predictions)
    assert [p.name for p in tmp_path.iterdir()] == ["adv.npz"]


def _ead_reference(params: list[np.ndarray], x: np.ndarray, y: np.ndarray, c0: float, beta: float, lr: float,
                   steps: int, searches: int, rule: str) -> np.ndarray:
    """EAD by hand: FISTA on the elastic-net objective with the binary search over c."""
    n = len(x)
    rows = np.arange(n)
    c, low, high = np.full(n, c0), np.zeros(n), np.full(n, np.inf)
    best, best_distance = x.copy(), np.full(n, np.inf)
    for _ in range(searches):
        current, slack, succeeded = x.copy(), x.copy(), np.zeros(n, bool)
        for k in range(steps):
            z = _logits(params, slack)
            others = z.copy()
            others[rows, y] = -np.inf
            rival = others.argmax(1)
            active = (z[rows, y] - z[rows, rival]) > 0.0  # the margin above -kappa = 0
            dz = np.zeros_like(z)
            dz[rows, y] = c * active
            dz[rows, rival] -= c * active
            g = _logit_backprop(params, slack, dz) + 2 * (slack - x)
            moved = slack - lr * np.sqrt(1 - k / steps) * g
            d = moved - x
            nxt = np.clip(x + np.sign(d) * np.maximum(np.abs(d) - beta, 0.0), 0.0, 1.0)
            slack = nxt + k / (k + 3) * (nxt - current)
            current = nxt
            delta = (current - x).reshape(n, -1)
            l1 = np.abs(delta).sum(1)
            distance = l1 if rule == "L1" else beta * l1 + (delta ** 2).sum(1)
            wrong = _logits(params, current).argmax(1) != y
            closer = wrong & (distance < best_distance)
            best[closer], best_distance[closer] = current[closer], distance[closer]
            succeeded |= wrong
        high = np.where(succeeded, np.minimum(high, c), high)
        low = np.where(succeeded, low, np.maximum(low, c))
        c = np.where(succeeded | np.isfinite(high), (low + high) / 2, c * 10)
    return best


@pytest.mark.parametrize("rule", ["EN", "L1"])
def test_ead_equals_the_numpy_reference(rule: str) -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    attack = (EADEN if rule == "EN" else EADL1)(model, lr=0.05, binary_search_steps=4, max_iterations=30,
                                                initial_const=0.5, beta=0.01)
    result = attack(x, y)
    expected = _ead_reference(params, x, y, 0.5, 0.01, 0.05, 30, 4, rule)
    np.testing.assert_allclose(result.adversarial, expected, atol=1e-4)
    assert result.success.mean() > 0.5


def _jsma_reference(params: list[np.ndarray], x: np.ndarray, targets: np.ndarray, theta: float,
                    gamma: float) -> np.ndarray:
    """JSMA by hand on the tanh MLP: logit Jacobians, the best qualifying pair, saturation."""
    w1, b1, w2, _ = params
    adv = x.reshape(len(x), -1).astype(np.float64).copy()
    for n in range(len(adv)):
        t, x0 = targets[n], adv[n].copy()
        free = adv[n] < 1.0
        while True:
            z = _logits(params, adv[n:n + 1].astype(np.float32).reshape(1, *x.shape[1:]))[0]
            changed = int((adv[n] != x0).sum())
            if z.argmax() == t or changed + 2 > int(np.floor(np.float32(gamma) * adv.shape[1])):
                break
            h = np.tanh(adv[n] @ w1.T + b1)
            jac = (w2 * (1 - h * h)) @ w1  # [classes, features]
            a, b = jac[t], jac.sum(0) - jac[t]
            best = None
            idx = np.flatnonzero(free)
            for i, p in enumerate(idx):
                for q in idx[i + 1:]:
                    alpha, beta = a[p] + a[q], b[p] + b[q]
                    if alpha > 0 and beta < 0 and (best is None or -alpha * beta > best[0]):
                        best = (-alpha * beta, p, q)
            if best is None:
                break
            for i in best[1:]:
                adv[n, i] = min(adv[n, i] + theta, 1.0)
                free[i] = adv[n, i] < 1.0
    return adv.reshape(x.shape).astype(np.float32)


def test_jsma_equals_the_numpy_reference() -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    targets = (y + 1) % 5
    result = JSMA(model, theta=0.4, gamma=0.5)(x, y, targets=targets)
    expected = _jsma_reference(params, x, targets, 0.4, 0.5)
    np.testing.assert_allclose(result.adversarial, expected, atol=1e-6)
    np.testing.assert_array_equal(result.success, _logits(params, expected).argmax(1) == targets)
    assert result.success.mean() > 0.3
    changed = (result.adversarial != x).reshape(len(x), -1).sum(1)
    assert changed.max() <= 8
    # Untargeted: toward the most likely wrong class, success when misclassified.
    logits = _logits(params, x)
    runner_up = np.where(np.eye(5, dtype=bool)[y], -np.inf, logits).argmax(1)
    r = JSMA(model, theta=0.4, gamma=0.5)(x, y)
    np.testing.assert_allclose(r.adversarial, _jsma_reference(params, x, runner_up, 0.4, 0.5), atol=1e-6)
    np.testing.assert_array_equal(r.success, r.adversarial_predictions != y)


def test_spsa_equals_the_numpy_reference() -> None:
    """SPSA's sign vectors are the seed's Philox uniforms (below 0.5: -1), drawn one batch-sized
    block per sample; the estimate of the margin objective's gradient is ascended with Adam."""
    model, params = _tanh_mlp()
    x, y = _data()
    eps, delta, lr, steps, samples, seed = 0.3, 0.01, 0.05, 3, 8, 6
    fg.manual_seed(seed)
    draws = [np.where(fg.rand(x.size).numpy() < 0.5, -1.0, 1.0).reshape(x.shape) for _ in range(steps * samples)]
    rows = np.arange(len(y))

    def objective(points: np.ndarray) -> np.ndarray:
        z = _logits(params, points.astype(np.float32))
        others = z.copy()
        others[rows, y] = -np.inf
        return others.max(1) - z[rows, y]

    adv, m, v = x.astype(np.float64), np.zeros(x.shape), np.zeros(x.shape)
    for t in range(1, steps + 1):
        g = np.zeros(x.shape)
        for s in range(samples):
            sign = draws[(t - 1) * samples + s]
            diff = (objective(adv + delta * sign) - objective(adv - delta * sign)) / (2 * delta)
            g += sign * diff[:, None, None, None]
        g /= samples
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        adv = adv + lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        adv = np.clip(x + np.clip(adv - x, -eps, eps), 0.0, 1.0)
    result = SPSA(model, eps, delta, lr, nb_iter=steps, nb_sample=samples, seed=seed)(x, y)
    np.testing.assert_allclose(result.adversarial, adv, atol=2e-4)
    assert np.abs(result.adversarial - x).max() <= eps + 1e-6
    assert result.robust_accuracy < result.clean_accuracy


def test_one_pixel_finds_a_pixel_that_flips_the_class() -> None:
    """An affine two-class model whose class-1 weights form a bump centred on pixel (5, 2) of
    8 x 8 images: only setting a pixel near the centre to about 1 flips a dim image to class 1
    (checked by brute force), and the evolution, guided by the falling probability, must find
    one such pixel, changing nothing else."""
    rows, cols = np.mgrid[0:8, 0:8]
    bump = (4.0 * np.exp(-((rows - 5) ** 2 + (cols - 2) ** 2) / 8.0)).astype(np.float32)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    with fg.no_grad():
        model[1].weight.copy_(fg.tensor(np.stack([np.zeros(64, np.float32), bump.ravel()])))
        model[1].bias.copy_(fg.tensor(np.array([0.0, -5.0], dtype=np.float32)))
    x = np.random.default_rng(0).uniform(0.0, 0.05, (12, 1, 8, 8)).astype(np.float32)
    y = np.zeros(12, dtype=np.int64)
    base = (x[:, 0] * bump).sum((1, 2)) - 5.0
    flips = base[:, None, None] + bump * (1.0 - x[:, 0]) > 0  # [N, 8, 8]: pixels whose saturation flips
    assert (base < 0).all() and flips.any((1, 2)).all() and flips.mean() < 0.2
    for targets in (None, np.ones(12, dtype=np.int64)):
        r = OnePixel(model, steps=30, popsize=10, seed=1)(x, y, targets=targets)
        assert r.success.all() and (r.adversarial_predictions == 1).all()
        changed = np.argwhere(r.adversarial != x)
        assert len(changed) == 12 and (np.bincount(changed[:, 0]) == 1).all()  # one pixel per image
        assert flips[changed[:, 0], changed[:, 2], changed[:, 3]].all()
        assert r.adversarial.min() >= 0.0 and r.adversarial.max() <= 1.0


def test_mart_loss_equals_the_numpy_reference() -> None:
    """One MART batch with a zero learning rate: the reported loss equals MART's formula on PGD-CE
    examples from x + 0.001 N(0, I) (the adversary's Philox normals), computed here by hand."""
    from ferrograd import optim
    from ferrograd.training import MART

    model, params = _tanh_mlp()
    x, y = _data(16)
    eps, alpha, steps, beta, seed = 0.3, 0.05, 4, 5.0, 7
    fg.manual_seed(seed)
    adv = np.clip(x + 0.001 * fg.randn(x.size).numpy().reshape(x.shape), 0.0, 1.0)
    for _ in range(steps):
        adv = adv + alpha * np.sign(_reference_grad(params, adv, y))
        adv = np.clip(x + np.clip(adv - x, -eps, eps), 0.0, 1.0)
    rows = np.arange(len(y))
    z_adv, z_clean = _logits(params, adv).astype(np.float64), _logits(params, x).astype(np.float64)
    p_adv, p_clean = _softmax(z_adv), _softmax(z_clean)
    ce = -np.log(p_adv[rows, y]).mean()
    wrong = p_adv.copy()
    wrong[rows, y] = -1.0
    boost = -np.log(1.0001 - p_adv[rows, wrong.argmax(1)] + 1e-12).mean()
    kl = (p_clean * (np.log(p_clean) - np.log(p_adv + 1e-12))).sum(1)
    expected = ce + boost + beta * (kl * (1.0000001 - p_clean[rows, y])).mean()
    history = model.fit((x, y), epochs=1, batch_size=16, optimizer=optim.SGD(model.parameters(), lr=0.0), shuffle=False,
                        verbose=False,
                        adversarial=MART(model, eps, alpha, steps, beta=beta, seed=seed))
    assert history["loss"][0] == pytest.approx(expected, rel=1e-5)
