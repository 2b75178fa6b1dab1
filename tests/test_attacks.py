"""Attacks (iterations in Rust): parity with numpy references, budgets and bounds, MNIST
robustness numbers, the robustness report's checks, and adversarial training inside fit."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn, optim
from ferrograd.attacks import UPGD, Jitter, PGDRS, PGDRSL2, PIFGSM, PIFGSMPP, LGV, Pixle, SparseFool, CW, EADL1, JSMA, SPSA, DIFGSM, EOTPGD, FFGSM, TPGD, FAB, FABT, SINIFGSM, TIFGSM, VMIFGSM, VNIFGSM, APGD, DeepFool, APGDT, BIM, FGSM, MIFGSM, NIFGSM, PGD, PGDL2, RFGSM, AutoAttack, RobustnessWarning, Square
from ferrograd.training import History

# -- parity with a numpy reference -----------------------------------------------------------------


def _tanh_mlp() -> tuple[nn.Module, list[np.ndarray]]:
    fg.manual_seed(11)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 5))
    w1, b1, w2, b2 = (p.detach().numpy().copy() for p in model.parameters())
    return model, [w1, b1, w2, b2]


def _reference_grad(params: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d(sum of per-sample cross-entropies)/dx of the tanh MLP, by hand."""
    w1, b1, w2, b2 = params
    flat = x.reshape(len(x), -1)
    h = np.tanh(flat @ w1.T + b1)
    z = h @ w2.T + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    dpre = (p @ w2) * (1.0 - h * h)
    return (dpre @ w1).reshape(x.shape)


def _data(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((n, 1, 4, 4), dtype=np.float32), rng.integers(0, 5, n).astype(np.int64)


def test_fgsm_equals_the_numpy_reference() -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    eps = 0.1
    expected = np.clip(x + eps * np.sign(_reference_grad(params, x, y)), 0.0, 1.0)
    result = FGSM(model, eps)(x, y)
    np.testing.assert_allclose(result.adversarial, expected, atol=1e-6)
    np.testing.assert_array_equal(result.inputs, x)


def test_pgd_with_random_start_equals_the_numpy_reference() -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    eps, alpha, steps, seed = 0.2, 0.03, 7, 5
    # The attack's random start reads the Philox stream `seed` from offset 0, as fg.rand does after manual_seed.
    fg.manual_seed(seed)
    u = fg.rand(x.size).numpy().reshape(x.shape)
    adv = np.clip(x + eps * (2 * u - 1), 0.0, 1.0)
    for _ in range(steps):
        adv = adv + alpha * np.sign(_reference_grad(params, adv, y))
        adv = np.clip(x + np.clip(adv - x, -eps, eps), 0.0, 1.0)
    result = PGD(model, eps, alpha, steps, seed=seed)(x, y)
    np.testing.assert_allclose(result.adversarial, adv, atol=1e-6)


def test_pgd_l2_steps_and_projection_equal_the_numpy_reference() -> None:
    model, params = _tanh_mlp()
    x, y = _data()
    eps, alpha, steps = 0.5, 0.2, 5
    adv = x.copy()
    for _ in range(steps):
        g = _reference_grad(params, adv, y).reshape(len(x), -1)
        adv = adv + alpha * (g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)).reshape(x.shape)
        d = (adv - x).reshape(len(x), -1)
        n = np.linalg.norm(d, axis=1, keepdims=True)
        d = d * np.where(n > eps, eps / n, 1.0)
        adv = np.clip(x + d.reshape(x.shape), 0.0, 1.0)
    result = PGDL2(model, eps, alpha, steps, random_start=False)(x, y)
    np.testing.assert_allclose(result.adversarial, adv, atol=1e-5)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_attacks_equal_the_numpy_reference(nesterov: bool) -> None:
    """MI-FGSM (Dong et al.) and NI-FGSM (Lin et al., as their code scales the look-ahead: the
    accumulated gradient of mean-normalised gradients) on the tanh MLP, step by step."""
    model, params = _tanh_mlp()
    x, y = _data()
    eps, alpha, steps, decay = 0.3, 0.05, 6, 0.9
    accumulated = np.zeros_like(x)
    adv = x.copy()
    for _ in range(steps):
        at = adv + alpha * decay * accumulated if nesterov else adv
        g = _reference_grad(params, at, y)
        accumulated = decay * accumulated + g / np.abs(g).mean(axis=(1, 2, 3), keepdims=True)
        adv = adv + alpha * np.sign(accumulated)
        adv = np.clip(x + np.clip(adv - x, -eps, eps), 0.0, 1.0)
    attack = NIFGSM if nesterov else MIFGSM
    result = attack(model, eps, alpha, steps, decay=decay)(x, y)
    np.testing.assert_allclose(result.adversarial, adv, atol=1e-5)
    assert (np.abs(result.adversarial - x) <= eps + 1e-6).all()


def _smoothed(g: np.ndarray, side: int, profile: str, nsig: float) -> np.ndarray:
    """``g`` [N, C, H, W] correlated per channel with TI's normalised kernel, zero-padded:
    torchattacks' gkern (a Gaussian density over [-nsig, nsig]), lkern (a tent) or ukern."""
    offsets = np.linspace((1 - side) / 2, (side - 1) / 2, side)
    z = {"gaussian": np.exp(-0.5 * np.linspace(-nsig, nsig, side) ** 2),
         "linear": 1 - np.abs(offsets / (side + 1) * 2),
         "uniform": np.ones(side)}[profile]
    kernel = np.outer(z, z) / np.outer(z, z).sum()
    r = side // 2
    padded = np.pad(g, ((0, 0), (0, 0), (r, r), (r, r)))
    h, w = g.shape[2:]
    return sum(kernel[i, j] * padded[:, :, i:i + h, j:j + w] for i in range(side) for j in range(side))


TRANSFER_VARIANTS = {
    # DI with probability 0 is I-FGSM; TI smooths each gradient; SI averages scaled copies;
    # VNI with beta = 0 has every neighbour at the iterate, so its variance is the gradient there
    # minus the look-ahead gradient.
    "di_off": (lambda m: DIFGSM(m, 0.3, 0.05, 6, diversity_prob=0.0), dict(decay=0.0)),
    "ti": (lambda m: TIFGSM(m, 0.3, 0.05, 6, decay=0.9, len_kernel=3, nsig=1.0, diversity_prob=0.0),
           dict(decay=0.9, smoothing=(3, "gaussian", 1.0))),
    "ti_linear": (lambda m: TIFGSM(m, 0.3, 0.05, 6, kernel_name="linear", len_kernel=3, diversity_prob=0.0),
                  dict(decay=0.0, smoothing=(3, "linear", 0.0))),
    "ti_uniform": (lambda m: TIFGSM(m, 0.3, 0.05, 6, kernel_name="uniform", len_kernel=3, diversity_prob=0.0),
                   dict(decay=0.0, smoothing=(3, "uniform", 0.0))),
    "sini": (lambda m: SINIFGSM(m, 0.3, 0.05, 6, decay=0.9, m=3), dict(decay=0.9, nesterov=True, scales=3)),
    "vni": (lambda m: VNIFGSM(m, 0.3, 0.05, 6, decay=0.9, N=2, beta=0.0), dict(decay=0.9, nesterov=True, variance=True)),
}


@pytest.mark.parametrize("variant", list(TRANSFER_VARIANTS))
def test_transfer_attacks_equal_the_numpy_reference(variant: str) -> None:
    """DI-, TI-, SI-NI- and VNI-FGSM on the tanh MLP, step by step against numpy."""
    make, spec = TRANSFER_VARIANTS[variant]
    model, params = _tanh_mlp()
    x, y = _data()
    eps, alpha, decay = 0.3, 0.05, spec["decay"]

    def gradient(at: np.ndarray) -> np.ndarray:
        m = spec.get("scales", 1)
        g = sum(_reference_grad(params, at / 2 ** i, y) / 2 ** i for i in range(m)) / m
        return _smoothed(g, *spec["smoothing"]) if "smoothing" in spec else g

    accumulated, variance, adv = np.zeros_like(x), np.zeros_like(x), x.copy()
    for _ in range(6):
        at = adv + alpha * decay * accumulated if spec.get("nesterov") else adv
        g = gradient(at)
        if spec.get("variance"):
            g, variance = g + variance, gradient(adv) - g
        accumulated = decay * accumulated + g / np.abs(g).mean(axis=(1, 2, 3), keepdims=True)
        adv = adv + alpha * np.sign(accumulated)
        adv = np.clip(x + np.clip(adv - x, -eps, eps), 0.0, 1.0)
    result = make(model)(x, y)
    np.testing.assert_allclose(result.adversarial, adv, atol=1e-5)


# -- MNIST ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_model(data_dir: Path) -> tuple[nn.Module, fg.data.Dataset]:
    """A small CNN trained normally for one epoch (normalisation inside the model)."""
    train, test = fg.data.mnist(data_dir / "mnist")
    fg.manual_seed(0)
    model = nn.Sequential(nn.Normalize([0.1307], [0.3081]), nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 5), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(512, 10))
    model.fit(train, epochs=1, batch_size=64, optimizer=optim.Adam(model.parameters(), lr=2e-3), seed=0, verbose=False)
    return model, test.subset(list(range(500)))


ALL_ATTACKS = [
    ("fgsm", lambda m: FGSM(m, 0.3), np.inf, 0.3),
    ("rfgsm", lambda m: RFGSM(m, 0.3, 0.1), np.inf, 0.3),
    ("ffgsm", lambda m: FFGSM(m, 0.3, 0.375), np.inf, 0.3),
    ("tpgd", lambda m: TPGD(m, 0.3, 0.05, 8), np.inf, 0.3),
    ("eotpgd", lambda m: EOTPGD(m, 0.3, 0.05, 8, eot_iter=2), np.inf, 0.3),
    ("bim", lambda m: BIM(m, 0.3, 0.05, 8), np.inf, 0.3),
    ("pgd", lambda m: PGD(m, 0.3, 0.05, 8, restarts=2), np.inf, 0.3),
    ("pgd_margin", lambda m: PGD(m, 0.3, 0.05, 8, loss="margin"), np.inf, 0.3),
    ("mifgsm", lambda m: MIFGSM(m, 0.3, 0.05, 8), np.inf, 0.3),
    ("nifgsm", lambda m: NIFGSM(m, 0.3, 0.05, 8), np.inf, 0.3),
    ("pgdl2", lambda m: PGDL2(m, 2.0, 0.5, 8), 2, 2.0),
    ("apgd_l2", lambda m: APGD(m, 2.0, steps=10, norm="l2"), 2, 2.0),
    ("square", lambda m: Square(m, 0.3, queries=200), np.inf, 0.3),
    ("spsa", lambda m: SPSA(m, 0.3, lr=0.03, nb_iter=20, nb_sample=32), np.inf, 0.3),
    ("difgsm", lambda m: DIFGSM(m, 0.3, 0.05, 8, decay=1.0), np.inf, 0.3),
    ("tifgsm", lambda m: TIFGSM(m, 0.3, 0.05, 8, len_kernel=5), np.inf, 0.3),
    ("vmifgsm", lambda m: VMIFGSM(m, 0.3, 0.05, 8, N=3), np.inf, 0.3),
    ("sinifgsm", lambda m: SINIFGSM(m, 0.3, 0.05, 8, m=3), np.inf, 0.3),
    ("fab", lambda m: FAB(m, 0.3, steps=10), np.inf, 0.3),
    ("fab_t", lambda m: FABT(m, 0.3, steps=10, n_target_classes=2), np.inf, 0.3),
    ("fab_l2", lambda m: FAB(m, 2.0, norm="l2", steps=10), 2, 2.0),
    ("upgd", lambda m: UPGD(m, 0.3, 0.05, 8, loss="dlr"), np.inf, 0.3),
    ("jitter", lambda m: Jitter(m, 0.3, 0.05, 8), np.inf, 0.3),
    ("pgdrs", lambda m: PGDRS(m, 0.3, 0.05, 8, noise_sd=0.1), np.inf, 0.3),
    ("pgdrsl2", lambda m: PGDRSL2(m, 3.0, 0.75, 8, noise_sd=0.1), 2, 3.0),
    ("pifgsm", lambda m: PIFGSM(m, 0.3, 8), np.inf, 0.3),
    ("pifgsmpp", lambda m: PIFGSMPP(m, 0.3, 8), np.inf, 0.3),
]


@pytest.mark.parametrize("name,make,p,eps", ALL_ATTACKS, ids=[a[0] for a in ALL_ATTACKS])
def test_every_attack_stays_within_its_budget_and_bounds(mnist_model: tuple, name: str, make, p: float, eps: float) -> None:
    model, test = mnist_model
    result = make(model)(test)
    assert result.norms(p).max() <= eps + 1e-5
    assert result.adversarial.min() >= 0.0 and result.adversarial.max() <= 1.0
    assert result.robust_accuracy < result.clean_accuracy - 0.3, f"{name} barely hurt the model: {result}"
    # Predictions reported by the loop are those of the returned inputs.
    np.testing.assert_array_equal(model.predict(result.adversarial).argmax(1), result.adversarial_predictions)


def test_mnist_robustness_numbers(mnist_model: tuple) -> None:
    model, test = mnist_model
    clean = model.evaluate(test).accuracy
    assert clean > 0.95
    pgd = PGD(model, eps=0.3, alpha=0.01, steps=40)(test)
    assert pgd.robust_accuracy <= 0.02
    assert pgd.clean_accuracy == pytest.approx(clean)
    assert PGD(model, eps=0.0, alpha=0.01, steps=5)(test).robust_accuracy == pytest.approx(clean)
    accs = [PGD(model, eps=e, alpha=e / 8, steps=10)(test).robust_accuracy for e in (0.05, 0.1, 0.2)]
    assert accs == sorted(accs, reverse=True)
    assert pgd.robust_accuracy <= FGSM(model, 0.3)(test).robust_accuracy


def test_restarts_keep_every_success_and_targeted_attacks_reach_their_targets(mnist_model: tuple) -> None:
    model, test = mnist_model
    one = PGD(model, 0.15, 0.02, 5, restarts=1, seed=3)(test)
    three = PGD(model, 0.15, 0.02, 5, restarts=3, seed=3)(test)
    assert (three.success | ~one.success).all()  # every success of the first restart is kept
    assert three.success.sum() >= one.success.sum()
    targets = (test.labels + 1) % 10
    targeted = PGD(model, 0.3, 0.02, 20)(test, targets=targets)
    assert targeted.targeted and targeted.success_rate > 0.9
    np.testing.assert_array_equal(targeted.success, targeted.adversarial_predictions == targets)


class _no_robustness_warnings:
    """Turns RobustnessWarning into an error inside the block."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error", RobustnessWarning)

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)


def test_robustness_report_is_consistent_and_quiet_for_a_healthy_model(mnist_model: tuple) -> None:
    model, test = mnist_model
    small = test.subset(list(range(200)))
    with _no_robustness_warnings():
        report = fg.robustness(model, small, ["fgsm", "pgd"], eps=[0.0, 0.1, 0.3])
    assert report.warnings == []
    assert report.table["pgd"][0] == pytest.approx(report.clean_accuracy)
    for i in range(3):
        assert report.worst_case[i] <= min(report.table["fgsm"][i], report.table["pgd"][i]) + 1e-12
    assert "worst case" in str(report) and "<table>" in report._repr_html_()


def test_robustness_report_flags_a_broken_evaluation(mnist_model: tuple) -> None:
    model, test = mnist_model
    broken = nn.Sequential(*[m for _, m in model.named_children()], nn.Softmax(1))
    with pytest.warns(RobustnessWarning) as caught:
        report = fg.robustness(broken, test.subset(list(range(100))), ["fgsm"], eps=[0.0, 0.6])
    messages = " ".join(str(w.message) for w in caught)
    assert "probabilities" in messages
    assert report.warnings and all(w in messages for w in report.warnings)


# -- adversarial training -------------------------------------------------------------------------------


def test_adversarial_fit_equals_training_on_attacked_batches() -> None:
    """fit(adversarial=FGSM) replaces each batch by its FGSM version (computed on the current
    weights) before the step: the same as a hand-written loop."""
    x, y = _data(64)
    a, _ = _tanh_mlp()
    b, _ = _tanh_mlp()
    opt_a, opt_b = optim.SGD(a.parameters(), lr=0.5), optim.SGD(b.parameters(), lr=0.5)
    a.fit((x, y), epochs=1, batch_size=16, optimizer=opt_a, shuffle=False, adversarial=FGSM(a, 0.1), verbose=False)
    for start in range(0, 64, 16):
        xb, yb = x[start:start + 16], y[start:start + 16]
        adv = FGSM(b, 0.1)(xb, yb).adversarial
        opt_b.zero_grad()
        F.cross_entropy(b(fg.tensor(adv)), fg.tensor(yb)).backward()
        opt_b.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pa.detach().numpy(), pb.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def fast_at(data_dir: Path) -> tuple[nn.Module, fg.data.Dataset, History]:
    """Fast-AT (FGSM from a uniform random start, α = 1.25 ε = 0.375) for 2 epochs on 20k MNIST images."""
    from ferrograd.training import FastAT

    train, test = fg.data.mnist(data_dir / "mnist")
    train, test = train.subset(list(range(20000))), test.subset(list(range(500)))
    fg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(512, 100), nn.ReLU(), nn.Linear(100, 10))
    opt = optim.Adam(model.parameters(), lr=5e-3)
    sched = optim.lr_scheduler.OneCycleLR(opt, 5e-3, 2 * 157, pct_start=0.5, anneal_strategy="linear")
    hist = model.fit(train, epochs=2, batch_size=128, optimizer=opt, schedule=sched, adversarial=FastAT(model, 0.3, 0.375),
                     val=test, val_attack=PGD(model, 0.3, 0.03, 10), seed=0, verbose=False)
    return model, test, hist


def test_fast_adversarial_training_makes_mnist_robust(fast_at: tuple) -> None:
    """A normally trained model falls to <= 2 % under PGD at eps = 0.3 (test above); this one keeps a real margin."""
    model, test, hist = fast_at
    assert hist["val_robust_accuracy"][1] > hist["val_robust_accuracy"][0]
    assert model.evaluate(test).accuracy >= 0.9
    assert PGD(model, 0.3, 0.03, 20)(test).robust_accuracy >= 0.2


@pytest.mark.slow
def test_fast_at_with_the_published_mnist_recipe_matches_the_reference_implementation(data_dir: Path) -> None:
    """Wong et al.'s MNIST recipe: their CNN (two 4x4 stride-2 convolutions, fc 100), eps 0.3,
    alpha 0.375, batch 100, 10 epochs, Adam with a cyclic rate rising linearly to 5e-3 over 4 epochs
    and back to 0, no normalisation. Evaluated as they do: the whole test set under PGD-50
    (alpha 0.01) with 10 restarts. About 8 minutes on 2 cores.

    Published: 98.50 % clean, 88.77 % robust. The authors' script, run in PyTorch on this machine
    with seed 0, gives 98.49 % / 83.64 %; this test gave 98.93 % / 84.10 % here, and builds whose
    conv-gradient sums ran in another order gave 85.14 % and 86.77 %: the recipe's own spread is
    a few points. The robust bound is therefore parity with the reference run (83 %), not the
    issue's 85 %, which sits inside that spread."""
    from ferrograd.training import FastAT

    train, test = fg.data.mnist(data_dir / "mnist")
    fg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 4, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 4, stride=2, padding=1),
                          nn.ReLU(), nn.Flatten(), nn.Linear(32 * 7 * 7, 100), nn.ReLU(), nn.Linear(100, 10))
    epochs, batches = 10, 600
    opt = optim.Adam(model.parameters(), lr=5e-3)
    cyclic = optim.lr_scheduler.LambdaLR(opt, lambda t: float(np.interp((t + 1) / batches, [0, 4, epochs], [0, 1, 0])))
    cyclic.interval = "step"
    history = model.fit(train, epochs=epochs, batch_size=100, optimizer=opt, schedule=cyclic,
                        adversarial=FastAT(model, eps=0.3, alpha=0.375), seed=0, verbose=False)
    clean = model.evaluate(test).accuracy
    robust = PGD(model, 0.3, 0.01, 50, restarts=10)(test).robust_accuracy
    print(f"Fast-AT, published MNIST recipe: losses {np.round(history['loss'], 4)}, clean {clean:.4f}, "
          f"PGD-50x10 {robust:.4f}")
    assert clean >= 0.975
    assert robust >= 0.83


def test_apgd_family_and_autoattack(fast_at: tuple) -> None:
    """On a robust model (where step sizes matter) APGD beats PGD with as many iterations, the
    ensemble is at least as strong as each member, and every result respects the budget."""
    model, test, _ = fast_at
    test = test.subset(list(range(200)))
    pgd = PGD(model, 0.3, 0.01, 40)(test)
    apgd_ce = APGD(model, 0.3, steps=40)(test)
    apgd_dlr = APGD(model, 0.3, steps=40, loss="dlr")(test)
    apgd_t = APGDT(model, 0.3, steps=20, n_target_classes=3)(test)
    auto = AutoAttack(model, 0.3, steps=20, n_target_classes=3, queries=100)
    aa = auto(test)
    for r in (apgd_ce, apgd_dlr, apgd_t, aa):
        assert r.norms().max() <= 0.3 + 1e-5
        assert r.adversarial.min() >= 0.0 and r.adversarial.max() <= 1.0
        np.testing.assert_array_equal(r.success, r.adversarial_predictions != r.labels)
        np.testing.assert_array_equal(model.predict(r.adversarial).argmax(1), r.adversarial_predictions)
    assert apgd_ce.robust_accuracy < pgd.robust_accuracy
    assert apgd_t.robust_accuracy <= apgd_ce.clean_accuracy
    first = APGD(model, 0.3, steps=20)(test)
    assert aa.robust_accuracy <= first.robust_accuracy
    assert auto.robust_after == sorted(auto.robust_after, reverse=True)
    assert auto.robust_after[-1] == pytest.approx(aa.robust_accuracy)


def test_catastrophic_overfitting_stop_restores_the_most_robust_weights() -> None:
    from ferrograd.training import CatastrophicOverfittingStop

    model, _ = _tanh_mlp()
    guard = CatastrophicOverfittingStop(drop=0.2)
    guard.model = model
    snapshots = []
    for epoch, robust in enumerate([0.5, 0.6, 0.55, 0.3]):
        with fg.no_grad():
            for p in model.parameters():
                p.copy_(p + 1.0)
        snapshots.append([p.detach().numpy().copy() for p in model.parameters()])
        guard.on_epoch_end(epoch, {"val_robust_accuracy": robust})
        if guard.stop_training:
            break
    assert guard.stop_training and guard.stopped_epoch == 3 and guard.best_epoch == 1
    for p, saved in zip(model.parameters(), snapshots[1]):
        np.testing.assert_array_equal(p.detach().numpy(), saved)


class _Binarize(nn.Module):
    """Thresholds inputs at 0.5: a zero-gradient front end that masks gradients."""

    def forward(self, x: fg.Tensor) -> fg.Tensor:
        return (x - 0.5).sign() * 0.5 + 0.5


def test_robustness_report_detects_gradient_masking(mnist_model: tuple) -> None:
    """Behind a zero-gradient binarization, white-box attacks see no gradient while Square still
    works from outputs alone: the report must say both."""
    model, test = mnist_model
    masked = nn.Sequential(_Binarize(), *[m for _, m in model.named_children()])
    with pytest.warns(RobustnessWarning) as caught:
        report = fg.robustness(masked, test.subset(list(range(100))), ["pgd", "square"], eps=[0.0, 0.3])
    messages = " ".join(str(w.message) for w in caught)
    assert "exactly zero" in messages
    assert "black-box" in messages
    assert report.table["square"][1] < report.table["pgd"][1]


class _Noisy(nn.Module):
    """A randomised defence: strong Gaussian noise on the input at every call (also in eval mode)."""

    def forward(self, x: fg.Tensor) -> fg.Tensor:
        return x + fg.randn(*x.shape)


def test_eot_averages_gradients_of_randomised_models() -> None:
    model, params = _tanh_mlp()
    x, y = _data(64)
    # A deterministic model: averaging k identical gradients changes nothing.
    np.testing.assert_allclose(PGD(model, 0.2, 0.05, 5, eot_iter=3)(x, y).adversarial,
                               PGD(model, 0.2, 0.05, 5)(x, y).adversarial, atol=1e-6)
    noisy = nn.Sequential(_Noisy(), *[m for _, m in model.named_children()])
    # One signed step from the input: the perturbation's sign is the (averaged) gradient's sign.
    fg.manual_seed(0)
    plain = PGD(noisy, 0.2, 0.2, 1, random_start=False)(x, y)
    fg.manual_seed(0)
    eot = PGD(noisy, 0.2, 0.2, 1, random_start=False, eot_iter=16)(x, y)
    assert eot.norms().max() <= 0.2 + 1e-6
    expected = np.sign(_reference_grad(params, x, y))
    agree_plain = float((np.sign(plain.perturbation) == expected).mean())
    agree_eot = float((np.sign(eot.perturbation) == expected).mean())
    assert agree_eot > agree_plain + 0.03, (agree_plain, agree_eot)


def test_trades_with_beta_zero_is_plain_training() -> None:
    from ferrograd.training import TRADES

    x, y = _data(64)
    a, _ = _tanh_mlp()
    b, _ = _tanh_mlp()
    ha = a.fit((x, y), epochs=2, batch_size=16, optimizer=optim.SGD(a.parameters(), lr=0.5), shuffle=False, verbose=False,
               adversarial=TRADES(a, eps=0.1, alpha=0.02, steps=3, beta=0.0))
    hb = b.fit((x, y), epochs=2, batch_size=16, optimizer=optim.SGD(b.parameters(), lr=0.5), shuffle=False, verbose=False)
    assert ha["loss"] == pytest.approx(hb["loss"], rel=1e-6)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pa.detach().numpy(), pb.detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("method", ["trades", "mart"])
def test_regularised_adversarial_training_makes_mnist_robust(data_dir: Path, method: str) -> None:
    """TRADES and MART each leave a CNN robust where normal training keeps <= 2% under this PGD.
    MART trains on attacked inputs only, so clean accuracy comes slower (0.82 after its 3 epochs
    here)."""
    from ferrograd.training import MART, TRADES

    train, test = fg.data.mnist(data_dir / "mnist")
    train, test = train.subset(list(range(10000))), test.subset(list(range(300)))
    fg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(512, 100), nn.ReLU(), nn.Linear(100, 10))
    adversarial, epochs, clean = {"trades": (TRADES(model, 0.3, 0.05, 5, beta=3.0), 2, 0.85),
                                  "mart": (MART(model, 0.3, 0.05, 5, beta=5.0), 3, 0.75)}[method]
    hist = model.fit(train, epochs=epochs, batch_size=128, optimizer=optim.Adam(model.parameters(), lr=2e-3),
                     adversarial=adversarial, seed=0, verbose=False)
    assert hist["loss"] == sorted(hist["loss"], reverse=True)
    assert model.evaluate(test).accuracy >= clean
    assert PGD(model, 0.3, 0.03, 20)(test).robust_accuracy >= 0.15


def test_carlini_wagner_finds_small_l2_perturbations(mnist_model: tuple) -> None:
    model, test = mnist_model
    test = test.subset(list(range(100)))
    r = CW(model, c=1.0, steps=50, lr=0.05, search_steps=4)(test)
    assert r.success_rate >= 0.9
    assert r.adversarial.min() >= 0.0 and r.adversarial.max() <= 1.0
    np.testing.assert_array_equal(model.predict(r.adversarial).argmax(1)[r.success], r.adversarial_predictions[r.success])
    l2 = r.norms(2)[r.success & (r.clean_predictions == r.labels)]
    assert np.median(l2) < 2.5
    # CW's perturbations are small: a fixed-budget L2 attack limited to half of CW's median
    # distance breaks far fewer points.
    assert PGDL2(model, 0.5 * float(np.median(l2)), 0.1, 20)(test).success_rate < r.success_rate - 0.3


def test_ead_finds_smaller_l1_perturbations_than_carlini_wagner(mnist_model: tuple) -> None:
    """EAD's L1 term and shrinkage make its perturbations smaller in L1 than CW-L2's, on the same
    images, with every point broken."""
    model, test = mnist_model
    test = test.subset(list(range(100)))
    cw = CW(model, c=1.0, steps=50, lr=0.05, search_steps=4)(test)
    ead = EADL1(model, binary_search_steps=5, max_iterations=50, initial_const=0.1)(test)
    assert ead.success_rate >= 0.95
    assert ead.adversarial.min() >= 0.0 and ead.adversarial.max() <= 1.0
    np.testing.assert_array_equal(model.predict(ead.adversarial).argmax(1), ead.adversarial_predictions)
    both = ead.success & cw.success & (ead.clean_predictions == ead.labels)
    assert np.median(ead.norms(1)[both]) < 0.8 * np.median(cw.norms(1)[both])


def test_jsma_changes_few_pixels_of_mnist_digits(mnist_model: tuple) -> None:
    """JSMA (theta 1, gamma 0.1) breaks most digits by saturating a few dozen of the 784 pixels and
    never more than 10% of them."""
    model, test = mnist_model
    test = test.subset(list(range(100)))
    r = JSMA(model)(test)
    changed = (r.perturbation.reshape(len(r.labels), -1) != 0).sum(1)
    assert r.success_rate >= 0.8
    assert changed.max() <= 78 and np.median(changed[r.success]) <= 40
    assert r.adversarial.min() >= 0.0 and r.adversarial.max() <= 1.0
    np.testing.assert_array_equal(model.predict(r.adversarial).argmax(1), r.adversarial_predictions)


def test_deepfool_finds_near_minimal_perturbations(mnist_model: tuple) -> None:
    model, test = mnist_model
    test = test.subset(list(range(100)))
    r = DeepFool(model, steps=50)(test)
    assert r.success_rate >= 0.95
    assert r.adversarial.min() >= 0.0 and r.adversarial.max() <= 1.0
    np.testing.assert_array_equal(model.predict(r.adversarial).argmax(1), r.adversarial_predictions)
    ok = r.success & (r.clean_predictions == r.labels)
    assert np.median(r.norms(2)[ok]) < 2.5
    # Near-minimal: half of each perturbation leaves most points correctly classified.
    half = np.clip(r.inputs + 0.5 * r.perturbation, 0.0, 1.0)
    still_right = model.predict(half[ok]).argmax(1) == r.labels[ok]
    assert still_right.mean() >= 0.5


def test_lgv_collects_snapshots_and_attacks_through_them(mnist_model: tuple, data_dir: Path) -> None:
    """LGV trains a copy of the model at a high learning rate (the model itself unchanged),
    collects epochs × nb_models_epoch distinct snapshots, and its BIM through them (one member per
    gradient, a shuffled cycle) transfers back to the model: robust accuracy 0.056 in a run at
    ε 0.2. With the model itself as the only member it is BIM on the model, bit for bit."""
    model, test = mnist_model
    train, _ = fg.data.mnist(data_dir / "mnist")
    subset = test.subset(list(range(200)))
    before = [p.detach().numpy().copy() for p in model.parameters()]
    attack = LGV(model, train.subset(list(range(8000))), epochs=2, nb_models_epoch=2, eps=0.2, alpha=0.01, steps=50,
                 verbose=False)
    r = attack(subset)
    assert all((b == p.detach().numpy()).all() for b, p in zip(before, model.parameters()))
    assert len(attack.models) == 4
    first_weights = [next(iter(m.parameters())).detach().numpy() for m in attack.models]
    assert all(not np.array_equal(a, b) for a, b in zip(first_weights, first_weights[1:] + [before[0]]))
    assert np.abs(r.adversarial - r.inputs).max() <= 0.2 + 1e-6
    assert r.adversarial.min() >= 0.0 and r.adversarial.max() <= 1.0
    np.testing.assert_array_equal(r.adversarial_predictions, model.predict(r.adversarial).argmax(1))
    assert r.robust_accuracy < r.clean_accuracy - 0.5, r
    alone = LGV(model, train, eps=0.2, alpha=0.01, steps=20)
    alone.load_models([model])
    np.testing.assert_array_equal(alone(subset).adversarial, BIM(model, 0.2, 0.01, 20)(subset).adversarial)


def test_the_lgv_ensemble_cycles_through_every_member() -> None:
    from ferrograd.attacks.lgv import _CyclingEnsemble

    members = [nn.Linear(2, 1) for _ in range(3)]
    for i, m in enumerate(members):
        nn.init.constant_(m.weight, 0.0)
        nn.init.constant_(m.bias, float(i))
    ensemble = _CyclingEnsemble(members, n_grad=1, seed=0)
    x = fg.tensor(np.zeros((1, 2), dtype=np.float32))
    seen = [float(ensemble(x).item()) for _ in range(6)]
    assert sorted(seen[:3]) == [0.0, 1.0, 2.0] and sorted(seen[3:]) == [0.0, 1.0, 2.0]
    assert float(_CyclingEnsemble(members, n_grad=3, seed=0)(x).item()) == pytest.approx(1.0)


def test_pixle_rearranges_pixels_and_breaks_the_model(mnist_model: tuple) -> None:
    """Pixle only moves clean pixels: every value of an adversarial image is a value of its clean
    image. With the defaults it breaks ≥ 90% of 100 digits (100% in a run, a median of 74.5
    pixels changed); targeted toward label + 1 with 40 restarts it reaches the target on ≥ 70%
    (91% in a run)."""
    model, test = mnist_model
    subset = test.subset(list(range(100)))
    r = Pixle(model, seed=3)(subset)
    assert r.success_rate >= 0.9
    for adv, clean in zip(r.adversarial, r.inputs):
        assert np.isin(adv, clean).all()
    np.testing.assert_array_equal(model.predict(r.adversarial).argmax(1), r.adversarial_predictions)
    targets = (r.labels + 1) % 10
    t = Pixle(model, restarts=40, seed=3)(subset, targets=targets)
    np.testing.assert_array_equal(t.success, t.adversarial_predictions == targets)
    assert t.success_rate >= 0.7, t
    # Seeded: the same seed gives the same images.
    np.testing.assert_array_equal(Pixle(model, seed=3)(subset).adversarial, r.adversarial)
    with pytest.raises(ValueError, match="pixel_mapping"):
        Pixle(model, pixel_mapping="nearest")


def test_sparsefool_changes_few_pixels(mnist_model: tuple) -> None:
    """SparseFool (defaults: 10 rounds, lam 3) breaks ≥ 85% of 100 digits (94% in a run) changing a
    median of under 40 pixels (19.5 in that run; DeepFool's L2 steps change ~500)."""
    model, test = mnist_model
    r = SparseFool(model)(test.subset(list(range(100))))
    assert r.success_rate >= 0.85
    assert r.adversarial.min() >= 0.0 and r.adversarial.max() <= 1.0
    changed = (np.abs(r.perturbation.reshape(len(r.labels), -1)) > 0).sum(1)
    assert np.median(changed[r.success]) < 40
    np.testing.assert_array_equal(model.predict(r.adversarial).argmax(1), r.adversarial_predictions)
    np.testing.assert_array_equal(r.success, r.adversarial_predictions != r.labels)


def test_transfer_attacks_fool_a_model_they_never_saw(mnist_model: tuple, data_dir: Path) -> None:
    """Adversarial examples computed on the CNN, evaluated on an MLP trained separately: momentum
    with input diversity, translation invariance, variance tuning and patch-wise steps (PI-FGSM:
    0.604 MLP accuracy against I-FGSM's 0.808 in a run; PI-FGSM++ 0.732) each transfer better than
    plain iterative FGSM with the same budget and steps."""
    model, test = mnist_model
    train, _ = fg.data.mnist(data_dir / "mnist")
    fg.manual_seed(1)
    other = nn.Sequential(nn.Normalize([0.1307], [0.3081]), nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    other.fit(train, epochs=1, batch_size=64, optimizer=optim.Adam(other.parameters(), lr=1e-3), seed=1, verbose=False)
    eps = 0.2

    def other_accuracy(attack: Any) -> float:
        r = attack(test)
        assert r.robust_accuracy < 0.1  # each breaks the model it attacks
        return float((other.predict(r.adversarial).argmax(1) == r.labels).mean())

    plain = other_accuracy(BIM(model, eps, eps / 10, 10))
    assert plain < 0.95  # some transfer even without help
    for attack in (DIFGSM(model, eps, eps / 10, 10, decay=1.0), TIFGSM(model, eps, eps / 10, 10, len_kernel=5),
                   VMIFGSM(model, eps, eps / 10, 10), PIFGSM(model, eps, 10), PIFGSMPP(model, eps, 10)):
        transferred = other_accuracy(attack)
        assert transferred < plain - 0.04, (type(attack).__name__, transferred, plain)


def _exact_minimal_distances(weight: np.ndarray, bias: np.ndarray, x: np.ndarray, norm: str,
                              regions: list[list[list[tuple[int, int]]]]) -> np.ndarray:
    """Per sample, the smallest L∞ (a linear program) or L2 (a quadratic program) perturbation
    inside [0, 1] that takes the affine model's scores into one of the sample's ``regions``, each
    a list of pairs (k, j) asking for z_k >= z_j."""
    from scipy.optimize import linprog, minimize

    d = x.shape[1]
    out = np.full(len(x), np.inf)
    for n in range(len(x)):
        box = [(-float(x[n, i]), 1.0 - float(x[n, i])) for i in range(d)]
        for region in regions[n]:
            # Each constraint: lifted + g·δ >= 0.
            g = np.array([weight[k] - weight[j] for k, j in region], dtype=np.float64)
            lifted = np.array([bias[k] - bias[j] for k, j in region], dtype=np.float64) + g @ x[n]
            if norm == "linf":
                # Variables (δ, t): minimise t with -t <= δ_i <= t.
                eye = np.eye(d)
                a_ub = np.vstack([np.c_[-g, np.zeros(len(g))], np.c_[eye, -np.ones(d)], np.c_[-eye, -np.ones(d)]])
                r = linprog(np.r_[np.zeros(d), 1.0], A_ub=a_ub, b_ub=np.r_[lifted, np.zeros(2 * d)],
                            bounds=box + [(0, None)])
                value = r.fun if r.status == 0 else np.inf
            else:
                r = minimize(lambda v: v @ v, np.zeros(d), jac=lambda v: 2 * v, method="SLSQP", bounds=box,
                             constraints=[{"type": "ineq", "fun": lambda v: lifted + g @ v, "jac": lambda v: g}],
                             options=dict(ftol=1e-12, maxiter=500))
                value = float(np.sqrt(r.fun)) if r.success and (lifted + g @ r.x).min() > -1e-6 else np.inf
            out[n] = min(out[n], value)
    return out


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_fab_finds_the_exact_minimal_perturbation_of_an_affine_model(norm: str) -> None:
    """For an affine classifier the linearised boundaries are exact, so FAB must land within its
    overshoot (eta = 1.05, then pulled back) of the true minimal distance, which a linear or
    quadratic program gives."""
    pytest.importorskip("scipy")
    rng = np.random.default_rng(0)
    d, c, n = 20, 4, 30
    weight, bias = rng.normal(size=(c, d)).astype(np.float32), rng.normal(size=c).astype(np.float32)
    model = nn.Linear(d, c)
    with fg.no_grad():
        model.weight.copy_(fg.tensor(weight))
        model.bias.copy_(fg.tensor(bias))
    x = rng.uniform(0.2, 0.8, size=(n, d)).astype(np.float32)
    y = (x @ weight.T + bias).argmax(1)
    p = np.inf if norm == "linf" else 2
    untargeted = FAB(model, math.inf, norm=norm, steps=100)(x, y)
    exact = _exact_minimal_distances(weight, bias, x, norm, [[[(k, y[i])] for k in range(c) if k != y[i]] for i in range(n)])
    assert untargeted.success.all()
    ratio = untargeted.norms(p) / exact
    assert ratio.min() >= 1 - 1e-4 and ratio.max() <= 1.01, ratio
    # Targeted, the target must beat every class: where two rivals' boundaries meet at the
    # minimum, single-boundary steps can stop short of it under L∞, so most samples (not all)
    # reach the exact distance; with restarts every reachable one is broken.
    targets = (y + 1) % c
    targeted = FAB(model, math.inf, norm=norm, steps=100, restarts=5)(x, y, targets=targets)
    exact = _exact_minimal_distances(weight, bias, x, norm, [[[(t, j) for j in range(c) if j != t]] for t in targets])
    reachable = np.isfinite(exact)
    np.testing.assert_array_equal(targeted.success, reachable)
    np.testing.assert_array_equal(targeted.adversarial_predictions[reachable], targets[reachable])
    ratio = targeted.norms(p)[reachable] / exact[reachable]
    assert ratio.min() >= 1 - 1e-4 and (ratio <= 1.01).mean() >= (0.85 if norm == "linf" else 1.0), ratio
    # A budget below a sample's minimal distance leaves it unbroken, and its input untouched.
    budget = float(np.median(untargeted.norms(p)))
    capped = FAB(model, budget, norm=norm, steps=100)(x, y)
    np.testing.assert_array_equal(capped.success, untargeted.norms(p) <= budget)
    np.testing.assert_array_equal(capped.adversarial[~capped.success], x[~capped.success])


def test_fab_finds_near_minimal_perturbations_on_mnist(mnist_model: tuple) -> None:
    """FAB's perturbations are near-minimal: scaled down by 10% they leave every point correctly
    classified, and FAB-L2's are smaller than DeepFool's."""
    model, test = mnist_model
    test = test.subset(list(range(100)))
    for norm, p in (("linf", np.inf), ("l2", 2)):
        r = FAB(model, math.inf, norm=norm, steps=20)(test)
        ok = r.success & (r.clean_predictions == r.labels)
        assert ok.mean() >= 0.95
        np.testing.assert_array_equal(model.predict(r.adversarial).argmax(1), r.adversarial_predictions)
        shrunk = np.clip(r.inputs + 0.9 * r.perturbation, 0.0, 1.0)
        assert (model.predict(shrunk[ok]).argmax(1) == r.labels[ok]).mean() >= 0.95
        if norm == "l2":
            deepfool = DeepFool(model, steps=50)(test)
            both = ok & deepfool.success
            assert np.median(r.norms(2)[both]) < np.median(deepfool.norms(2)[both])
        else:
            assert 0.02 < np.median(r.norms(p)[ok]) < 0.2


def test_robustness_report_plots_accuracy_against_eps(mnist_model: tuple) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    model, test = mnist_model
    report = fg.robustness(model, test.subset(list(range(100))), ["fgsm", "bim"], eps=[0.0, 0.1, 0.2])
    fig = report.plot()
    lines = fig.axes[0].lines
    assert [line.get_label() for line in lines] == ["fgsm", "bim", "worst case"]
    np.testing.assert_allclose(lines[1].get_ydata(), report.table["bim"])
    np.testing.assert_allclose(lines[0].get_xdata(), [0.0, 0.1, 0.2])


def test_fast_at_step_equals_the_numpy_reference_of_its_clipping_rules() -> None:
    """FastAT's FGSM as Wong et al.'s MNIST code runs it: an unclipped uniform start, the gradient
    taken at that (possibly out-of-bounds) point, one step of alpha projected onto the eps-box, then
    clipped to [0, 1]."""
    from ferrograd import _core
    from ferrograd.training import FastAT

    model, params = _tanh_mlp()
    x, y = _data()
    x = np.where(x < 0.3, 0.0, x).astype(np.float32)  # saturated pixels, as in MNIST backgrounds
    eps, alpha, seed = 0.3, 0.375, 4
    fg.manual_seed(seed)
    delta = eps * (2 * fg.rand(x.size).numpy().reshape(x.shape) - 1)
    raw = x + delta
    assert ((raw < 0) | (raw > 1)).any()
    g = _reference_grad(params, raw, y)
    expected = np.clip(x + np.clip(delta + alpha * np.sign(g), -eps, eps), 0, 1)
    loader = fg.data.DataLoader(fg.data.from_numpy(x, y), 64, shuffle=False)
    model.eval()
    out = _core.attack(model._to_layer(), loader, FastAT(model, eps, alpha).options(), seed=seed)
    np.testing.assert_allclose(out["adversarial"], expected, atol=1e-6)
