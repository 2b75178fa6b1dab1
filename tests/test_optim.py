"""Optimizers and schedules against PyTorch's update formulas written out in numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.optim import lr_scheduler

STEPS = 4


def _run(make_opt, grads: list[np.ndarray], p0: np.ndarray) -> np.ndarray:
    """Applies the optimizer to one parameter with a fixed gradient sequence."""
    p = fg.tensor(p0.copy(), requires_grad=True)
    opt = make_opt([p])
    for g in grads:
        p.grad = fg.tensor(g)
        opt.step()
    return p.detach().numpy()


def _adam_moments(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, decoupled: bool, lr: float, wd: float,
                  b1: float, b2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The float64 moment update Adam, RAdam and NAdam share: decoupled decay scales p, L2 decay
    adds wd * p to the gradient; returns (p, the gradient used, m, v)."""
    if decoupled:
        p = p * (1 - lr * wd)
    else:
        g = g + wd * p
    return p, g, b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g


@pytest.fixture(params=[50, 20011], ids=["small", "several-chunks"])
def problem(rng, request):
    """A start and a gradient sequence; the larger size spans several of the CPU update's
    per-thread slices and chunks."""
    size = request.param
    p0 = rng.standard_normal(size).astype(np.float32)
    grads = [rng.standard_normal(size).astype(np.float32) for _ in range(STEPS)]
    return p0, grads


def test_sgd_momentum_nesterov_weight_decay(problem):
    p0, grads = problem
    lr, mom, wd = 0.1, 0.9, 0.01
    for nesterov, dampening in [(False, 0.0), (True, 0.0), (False, 0.3)]:
        p, buf = p0.astype(np.float64), None
        for g in grads:
            d = g + wd * p
            buf = d.copy() if buf is None else mom * buf + (1 - dampening) * d
            p = p - lr * (d + mom * buf if nesterov else buf)
        got = _run(lambda ps: fg.optim.SGD(ps, lr=lr, momentum=mom, dampening=dampening, weight_decay=wd, nesterov=nesterov), grads, p0)
        np.testing.assert_allclose(got, p, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_and_adamw(problem, amsgrad, decoupled):
    p0, grads = problem
    lr, (b1, b2), eps, wd = 0.01, (0.8, 0.95), 1e-6, 0.1
    p = p0.astype(np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    for t, g in enumerate(grads, 1):
        p, g, m, v = _adam_moments(p, g, m, v, decoupled, lr, wd, b1, b2)
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax if amsgrad else v) / math.sqrt(1 - b2**t) + eps
        p = p - lr / (1 - b1**t) * m / denom
    cls = fg.optim.AdamW if decoupled else fg.optim.Adam
    got = _run(lambda ps: cls(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, amsgrad=amsgrad), grads, p0)
    np.testing.assert_allclose(got, p, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.9)])
def test_rmsprop(problem, centered, momentum):
    p0, grads = problem
    lr, alpha, eps, wd = 0.01, 0.9, 1e-8, 0.05
    p = p0.astype(np.float64)
    sq = np.zeros_like(p)
    ga = np.zeros_like(p)
    buf = np.zeros_like(p)
    for g in grads:
        g = g + wd * p
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
    got = _run(lambda ps: fg.optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=momentum, centered=centered), grads, p0)
    np.testing.assert_allclose(got, p, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("maximize", [False, True])
def test_adagrad(problem, maximize):
    """torch.optim.Adagrad's update: a rate decaying from the second step, L2 decay, a sum of
    squares starting at ``initial_accumulator_value``."""
    p0, grads = problem
    lr, lr_decay, wd, init, eps = 0.05, 0.3, 0.02, 0.1, 1e-10
    p = p0.astype(np.float64)
    total = np.full_like(p, init)
    for t, g in enumerate(grads, 1):
        g = (-g if maximize else g) + wd * p
        total = total + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(total) + eps)
    got = _run(lambda ps: fg.optim.Adagrad(ps, lr=lr, lr_decay=lr_decay, weight_decay=wd, initial_accumulator_value=init,
                                           eps=eps, maximize=maximize), grads, p0)
    np.testing.assert_allclose(got, p, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("maximize", [False, True])
def test_adamax(problem, maximize):
    p0, grads = problem
    lr, (b1, b2), eps, wd = 0.02, (0.8, 0.9), 1e-6, 0.05
    p = p0.astype(np.float64)
    m, u = np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, 1):
        g = (-g if maximize else g) + wd * p
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        p = p - lr / (1 - b1**t) * m / u
    got = _run(lambda ps: fg.optim.Adamax(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, maximize=maximize),
               grads, p0)
    np.testing.assert_allclose(got, p, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("decoupled", [False, True])
def test_radam_before_and_after_rectification(rng, decoupled):
    """With b2 = 0.9 the rectification is undefined for the first five steps (plain
    bias-corrected momentum: rho_t <= 5) and applies from the sixth; eight steps cover both."""
    p0 = rng.standard_normal(300).astype(np.float32)
    grads = [rng.standard_normal(300).astype(np.float32) for _ in range(8)]
    lr, (b1, b2), eps, wd = 0.01, (0.8, 0.9), 1e-7, 0.1
    p = p0.astype(np.float64)
    m, v = np.zeros_like(p), np.zeros_like(p)
    rho_inf = 2 / (1 - b2) - 1
    rectified = []
    for t, g in enumerate(grads, 1):
        p, g, m, v = _adam_moments(p, g, m, v, decoupled, lr, wd, b1, b2)
        corrected = m / (1 - b1**t)
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        rectified.append(rho_t > 5)
        if rho_t > 5:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            p = p - corrected * lr * (math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)) * rect
        else:
            p = p - corrected * lr
    assert not any(rectified[:5]) and all(rectified[5:])
    got = _run(lambda ps: fg.optim.RAdam(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd,
                                         decoupled_weight_decay=decoupled), grads, p0)
    np.testing.assert_allclose(got, p, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("decoupled,maximize", [(False, False), (True, False), (False, True)])
def test_nadam(problem, decoupled, maximize):
    """torch.optim.NAdam's update: the momentum coefficient mu_t warms up with the momentum decay,
    and the step mixes gradient and momentum with weights from the product of the mu_t."""
    p0, grads = problem
    lr, (b1, b2), eps, wd, psi = 0.01, (0.8, 0.9), 1e-7, 0.1, 0.05
    p = p0.astype(np.float64)
    m, v = np.zeros_like(p), np.zeros_like(p)
    product = 1.0
    for t, g in enumerate(grads, 1):
        p, g, m, v = _adam_moments(p, -g if maximize else g, m, v, decoupled, lr, wd, b1, b2)
        mu, mu_next = (b1 * (1 - 0.5 * 0.96 ** (s * psi)) for s in (t, t + 1))
        product *= mu
        denom = np.sqrt(v / (1 - b2**t)) + eps
        p = p - lr * (1 - mu) / (1 - product) * g / denom - lr * mu_next / (1 - product * mu_next) * m / denom
    got = _run(lambda ps: fg.optim.NAdam(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, momentum_decay=psi,
                                         decoupled_weight_decay=decoupled, maximize=maximize), grads, p0)
    np.testing.assert_allclose(got, p, rtol=1e-5, atol=1e-6)


def test_nadam_mu_product_is_zero_dim_state_that_round_trips(problem, tmp_path):
    """``mu_product`` is a 0-d float32 tensor beside the buffers, as in PyTorch: it survives
    ``state_dict``/``load_state_dict`` and a training checkpoint, and a wrong shape is named."""
    from ferrograd.training.checkpoint import load_training_checkpoint, save_training_checkpoint

    p0, grads = problem
    x = fg.tensor(p0.copy(), requires_grad=True)
    o1 = fg.optim.NAdam([x], lr=0.02, momentum_decay=0.1)
    for g in grads[:2]:
        x.grad = fg.tensor(g)
        o1.step()
    product = o1.state[x]["mu_product"]
    assert product.shape == () and product.dtype == "float32" and str(product.device) == "cpu"
    mus = [np.float32(0.9 * (1 - 0.5 * 0.96 ** (t * 0.1))) for t in (1, 2)]
    assert product.item() == np.float32(np.float32(1.0) * mus[0]) * mus[1]
    y = fg.tensor(x.detach().numpy(), requires_grad=True)
    o2 = fg.optim.NAdam([y], lr=0.02, momentum_decay=0.1)
    o2.load_state_dict(o1.state_dict())
    # A checkpoint holds a model and a loader position too; the optimizer's state is what is checked.
    model = fg.nn.Linear(1, 1)
    loader = fg.data.DataLoader(fg.data.from_numpy(np.zeros((2, 1), np.float32), np.zeros(2, np.int64)), 1)
    save_training_checkpoint(tmp_path / "nadam.ckpt", model, o1, None, loader, 0, fg.training.History())
    w = fg.tensor(x.detach().numpy(), requires_grad=True)
    o3 = fg.optim.NAdam([w], lr=0.02, momentum_decay=0.1)
    load_training_checkpoint(tmp_path / "nadam.ckpt", model, o3, None, None)
    for o, t in ((o1, x), (o2, y), (o3, w)):
        t.grad = fg.tensor(grads[2])
        o.step()
    np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    np.testing.assert_array_equal(x.detach().numpy(), w.detach().numpy())
    bad = o1.state_dict()
    bad["state"][0]["mu_product"] = np.ones(3, np.float32)
    with pytest.raises(ValueError, match=r"optimizer state `mu_product`: expected shape \[\] \(one value\), got \[3\]"):
        o2.load_state_dict(bad)
    with pytest.raises(ValueError, match="momentum_decay"):
        fg.optim.NAdam([x], momentum_decay=-1.0)


def test_asgd_keeps_eta_and_mu_as_zero_dim_state_and_averages_after_t0(problem):
    """ASGD's ``eta`` and ``mu`` are 0-d float32 CPU tensors beside ``ax``, as in PyTorch; they
    round-trip through ``state_dict``; ``ax`` is the iterate until t0 and an average after."""
    p0, grads = problem
    x = fg.tensor(p0.copy(), requires_grad=True)
    opt = fg.optim.ASGD([x], lr=0.05, lambd=0.1, alpha=0.5, t0=1)
    iterates = []
    for g in grads[:3]:
        x.grad = fg.tensor(g)
        opt.step()
        iterates.append(x.detach().numpy().astype(np.float64))
    state = opt.state[x]
    for name in ("eta", "mu"):
        assert state[name].shape == () and state[name].dtype == "float32" and str(state[name].device) == "cpu"
    assert state["eta"].item() == np.float32(0.05 / (1 + 0.1 * 0.05 * 3) ** 0.5)
    assert state["mu"].item() == np.float32(1 / 2)
    # mu was 1 for steps 1 and 2 (ax copied the iterate), then 1 / (2 - 1) = 1 for step 3 as well.
    np.testing.assert_array_equal(state["ax"].numpy(), iterates[-1].astype(np.float32))
    y = fg.tensor(x.detach().numpy(), requires_grad=True)
    twin = fg.optim.ASGD([y], lr=0.05, lambd=0.1, alpha=0.5, t0=1)
    twin.load_state_dict(opt.state_dict())
    for o, t in ((opt, x), (twin, y)):
        t.grad = fg.tensor(grads[3])
        o.step()
    np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    # Step 4 averages with mu = 1/2: ax = ax + (p - ax) / 2.
    np.testing.assert_allclose(opt.state[x]["ax"].numpy(), (iterates[-1] + x.detach().numpy()) / 2, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="argument `lambd` expected a value in >= 0.0, got -1.0"):
        fg.optim.ASGD([x], lambd=-1.0)


@pytest.mark.parametrize("maximize", [False, True])
def test_adadelta(problem, maximize):
    p0, grads = problem
    lr, rho, eps, wd = 0.5, 0.8, 1e-6, 0.05
    p = p0.astype(np.float64)
    square_avg, acc_delta = np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = (-g if maximize else g) + wd * p
        square_avg = rho * square_avg + (1 - rho) * g * g
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta * delta
        p = p - lr * delta
    got = _run(lambda ps: fg.optim.Adadelta(ps, lr=lr, rho=rho, eps=eps, weight_decay=wd, maximize=maximize), grads, p0)
    np.testing.assert_allclose(got, p, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("maximize", [False, True])
def test_rprop_equals_its_float32_formula_exactly(rng, maximize):
    """Rprop only multiplies step sizes and moves by them, so float32 arithmetic written out in
    numpy gives the same bits. Gradients drift around a fixed mean so that signs both persist
    (sizes grow to the cap) and flip (sizes shrink, the step is skipped); some are exactly 0."""
    n, lr, (eta_minus, eta_plus), (low, high) = 5000, 0.01, (0.4, 1.3), (1e-4, 0.03)
    mean = rng.standard_normal(n).astype(np.float32)
    grads = [(mean + rng.standard_normal(n)).astype(np.float32) for _ in range(12)]
    grads[4][:100] = 0.0
    p0 = rng.standard_normal(n).astype(np.float32)
    f = np.float32
    p, prev, size = p0.copy(), np.zeros(n, f), np.full(n, f(lr))
    for g in grads:
        g = -g if maximize else g
        agreement = np.sign(g * prev)
        factor = np.where(agreement > 0, f(eta_plus), np.where(agreement < 0, f(eta_minus), f(1)))
        size = np.clip(size * factor, f(low), f(high))
        used = np.where(agreement < 0, f(0), g)
        p = p - np.sign(used) * size
        prev = used
    assert (size == f(high)).any() and (size < f(lr)).any()
    got = _run(lambda ps: fg.optim.Rprop(ps, lr=lr, etas=(eta_minus, eta_plus), step_sizes=(low, high),
                                         maximize=maximize), grads, p0)
    np.testing.assert_array_equal(got, p)


def test_adadelta_and_rprop_options_are_checked():
    x = fg.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"Adadelta: argument `rho` expected a value in \[0, 1\], got 1.5"):
        fg.optim.Adadelta([x], rho=1.5)
    with pytest.raises(ValueError, match=r"Rprop: argument `etas` expected 0 < etas\[0\] < 1 < etas\[1\], got \(1.2, 0.5\)"):
        fg.optim.Rprop([x], etas=(1.2, 0.5))
    with pytest.raises(ValueError, match=r"Rprop: argument `step_sizes` expected 0 <= min <= max, got \(1.0, 0.1\)"):
        fg.optim.Rprop([x], step_sizes=(1.0, 0.1))


def test_adagrad_state_round_trips_and_bad_options_are_named(problem):
    p0, grads = problem
    x = fg.tensor(p0.copy(), requires_grad=True)
    o1 = fg.optim.Adagrad([x], lr=0.1, lr_decay=0.5, initial_accumulator_value=0.2)
    x.grad = fg.tensor(grads[0])
    o1.step()
    state = o1.state[x]
    assert state["step"] == 1
    np.testing.assert_allclose(state["sum"].numpy(), 0.2 + grads[0].astype(np.float64) ** 2, rtol=1e-6)
    y = fg.tensor(x.detach().numpy(), requires_grad=True)
    o2 = fg.optim.Adagrad([y], lr=0.1, lr_decay=0.5, initial_accumulator_value=0.2)
    o2.load_state_dict(o1.state_dict())
    for o, t in ((o1, x), (o2, y)):
        t.grad = fg.tensor(grads[1])
        o.step()
    np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    for option in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
        with pytest.raises(ValueError, match=option):
            fg.optim.Adagrad([x], **{option: -1.0})


def test_param_groups_skip_missing_grads_and_state_dict(problem):
    p0, grads = problem
    a = fg.tensor(p0.copy(), requires_grad=True)
    b = fg.tensor(p0.copy(), requires_grad=True)
    opt = fg.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.0}], lr=0.5)
    a.grad = fg.tensor(grads[0])
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), p0 - 0.5 * grads[0], rtol=1e-6)
    np.testing.assert_array_equal(b.detach().numpy(), p0)
    # Adam state survives a state_dict round trip: two optimizers continue identically.
    x = fg.tensor(p0.copy(), requires_grad=True)
    o1 = fg.optim.Adam([x], lr=0.1)
    x.grad = fg.tensor(grads[0])
    o1.step()
    y = fg.tensor(x.detach().numpy(), requires_grad=True)
    o2 = fg.optim.Adam([y], lr=0.1)
    o2.load_state_dict(o1.state_dict())
    for o, t in ((o1, x), (o2, y)):
        t.grad = fg.tensor(grads[1])
        o.step()
    np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())
    with pytest.raises(ValueError, match="lr"):
        fg.optim.Adam([x], lr=-1)


def test_clip_grad_norm():
    a = fg.tensor([3.0, 0.0], requires_grad=True)
    b = fg.tensor([0.0, 4.0], requires_grad=True)
    a.grad, b.grad = fg.tensor([3.0, 0.0]), fg.tensor([0.0, 4.0])
    total = fg.optim.clip_grad_norm_([a, b], 1.0)
    assert isinstance(total, fg.Tensor) and tuple(total.shape) == () and total.dtype == "float32"
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), [3 / (5 + 1e-6), 0], rtol=1e-6)
    b.grad = fg.tensor([0.0, 0.5])
    assert float(fg.optim.clip_grad_norm_([b], 1.0, norm_type=float("inf"))) == pytest.approx(0.5)
    np.testing.assert_allclose(b.grad.numpy(), [0, 0.5])


def _lrs(sched_factory, n: int, lr: float = 1.0) -> list[float]:
    opt = fg.optim.SGD([fg.zeros(1, requires_grad=True)], lr=lr)
    sched = sched_factory(opt)
    out = [opt.lr]
    for _ in range(n):
        opt.step()
        sched.step()
        out.append(opt.lr)
    return out


def test_one_cycle_cycles_momentum_or_beta1_as_pytorch():
    """PyTorch's default cycle_momentum: the momentum (beta1 for Adam) falls from max_momentum to
    base_momentum while the rate warms up, then rises back, on the same annealing."""
    expected = []
    for t in range(10):
        lo, hi, pct = (0.9, 0.8, t / 2) if t <= 2 else (0.8, 0.9, (t - 2) / 7)
        expected.append(hi + (lo - hi) / 2 * (math.cos(math.pi * pct) + 1))
    for make in (lambda ps: fg.optim.SGD(ps, lr=1.0, momentum=0.5), lambda ps: fg.optim.Adam(ps, lr=1.0, betas=(0.5, 0.99))):
        opt = make([fg.zeros(1, requires_grad=True)])
        sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, base_momentum=0.8, max_momentum=0.9)
        got = []
        for _ in range(10):
            group = opt.param_groups[0]
            got.append(group["betas"][0] if "betas" in group else group["momentum"])
            assert group.get("betas", (0, 0.99))[1] == 0.99
            opt.step()
            sched.step()
        np.testing.assert_allclose(got, expected, rtol=1e-12)
    fixed = fg.optim.SGD([fg.zeros(1, requires_grad=True)], lr=1.0, momentum=0.5)
    lr_scheduler.OneCycleLR(fixed, max_lr=1.0, total_steps=10, cycle_momentum=False)
    assert fixed.param_groups[0]["momentum"] == 0.5
    with pytest.raises(ValueError, match="OneCycleLR: argument `optimizer` must have a momentum or beta1 to cycle"):
        lr_scheduler.OneCycleLR(fg.optim.Adagrad([fg.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=10)


def test_one_cycle_three_phase_epochs_and_per_group_rates_as_pytorch():
    """three_phase: up to max_lr over pct_start of the steps, back down to the initial rate over
    as many, then to the minimum, the momentum mirroring the first two phases and then staying
    at max_momentum; the length from epochs * steps_per_epoch; one max_lr per group."""
    w, b = fg.zeros(1, requires_grad=True), fg.zeros(1, requires_grad=True)
    opt = fg.optim.SGD([{"params": [w]}, {"params": [b]}], lr=1.0, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=[1.0, 0.5], epochs=4, steps_per_epoch=5, pct_start=0.25,
                                    div_factor=10, final_div_factor=100, three_phase=True)
    assert sched.total_steps == 20

    def cos(start: float, end: float, pct: float) -> float:
        return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)

    for t in range(20):
        for group, peak in zip(opt.param_groups, (1.0, 0.5)):
            initial = peak / 10
            if t <= 4:
                want, momentum = cos(initial, peak, t / 4), cos(0.95, 0.85, t / 4)
            elif t <= 8:
                want, momentum = cos(peak, initial, (t - 4) / 4), cos(0.85, 0.95, (t - 4) / 4)
            else:
                want, momentum = cos(initial, initial / 100, (t - 8) / 11), 0.95
            assert group["lr"] == pytest.approx(want, rel=1e-12), t
            assert group["momentum"] == pytest.approx(momentum, rel=1e-12), t
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="expected `total_steps`, or both `epochs` and `steps_per_epoch`"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, epochs=3)
    with pytest.raises(ValueError, match="argument `max_lr` expected 2 values"):
        lr_scheduler.OneCycleLR(opt, max_lr=[1.0], total_steps=10)
    with pytest.raises(ValueError, match="argument `pct_start` expected a value in \\[0, 1\\], got 1.5"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.5)


def test_cyclic_lr_modes_per_group_rates_and_momentum():
    """CyclicLR as PyTorch defines it: a triangle from base_lr up to max_lr over step_size_up
    steps and down over step_size_down; triangular2 halves the amplitude each cycle, exp_range
    scales it by gamma^t; the momentum mirrors the rate between max and base momentum."""
    w, b = fg.zeros(1, requires_grad=True), fg.zeros(1, requires_grad=True)

    def height(t: int) -> float:  # up over 2 steps, down over 3
        x = t % 5
        return x / 2 if x <= 2 else (5 - x) / 3

    for mode, scale in (("triangular", lambda t: 1.0), ("triangular2", lambda t: 0.5 ** (t // 5)),
                        ("exp_range", lambda t: 0.9**t)):
        opt = fg.optim.SGD([{"params": [w]}, {"params": [b]}], lr=1.0, momentum=0.5)
        sched = lr_scheduler.CyclicLR(opt, base_lr=[0.1, 0.2], max_lr=1.0, step_size_up=2, step_size_down=3,
                                      mode=mode, gamma=0.9, base_momentum=0.8, max_momentum=0.9)
        for t in range(12):
            for group, base in zip(opt.param_groups, (0.1, 0.2)):
                assert group["lr"] == pytest.approx(base + (1.0 - base) * height(t) * scale(t), rel=1e-12), (mode, t)
                assert group["momentum"] == pytest.approx(0.9 - 0.1 * height(t) * scale(t), rel=1e-12), (mode, t)
            opt.step()
            sched.step()
    adam = fg.optim.Adam([w], lr=1.0, betas=(0.5, 0.99))
    lr_scheduler.CyclicLR(adam, base_lr=0.1, max_lr=1.0, step_size_up=2)
    assert adam.param_groups[0]["betas"] == (0.9, 0.99)
    with pytest.raises(ValueError, match="CyclicLR: argument `mode` expected"):
        lr_scheduler.CyclicLR(adam, base_lr=0.1, max_lr=1.0, mode="sawtooth")
    with pytest.raises(ValueError, match="CyclicLR: argument `max_lr` expected 1 values"):
        lr_scheduler.CyclicLR(adam, base_lr=0.1, max_lr=[1.0, 2.0])


def test_cycled_momentum_ranges_per_group():
    """base_momentum and max_momentum may be one value per parameter group, as in PyTorch: each
    group's momentum (beta1 for Adam) cycles over its own range, set by ``step()`` and, per
    optimizer step, inside ``fit``'s Rust loop."""
    w, b = fg.zeros(1, requires_grad=True), fg.zeros(1, requires_grad=True)

    def cos(start: float, end: float, pct: float) -> float:
        return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)

    ranges = [(0.8, 0.9), (0.6, 0.95)]  # (base, max) per group
    opt = fg.optim.Adam([{"params": [w]}, {"params": [b]}], lr=1.0)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, base_momentum=[r[0] for r in ranges],
                                    max_momentum=[r[1] for r in ranges])
    for t in range(10):
        for group, (base, peak) in zip(opt.param_groups, ranges):
            want = cos(peak, base, t / 2) if t <= 2 else cos(base, peak, (t - 2) / 7)
            assert group["betas"][0] == pytest.approx(want, rel=1e-12), t
        opt.step()
        sched.step()
    opt = fg.optim.SGD([{"params": [w]}, {"params": [b]}], lr=1.0, momentum=0.5)
    cyclic = lr_scheduler.CyclicLR(opt, base_lr=0.1, max_lr=1.0, step_size_up=2, base_momentum=[0.8, 0.6],
                                   max_momentum=[0.9, 0.95])
    assert cyclic.momenta_at(1) == pytest.approx([0.85, 0.775], rel=1e-12)
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.95]
    with pytest.raises(ValueError, match="CyclicLR: argument `base_momentum` expected 2 values"):
        lr_scheduler.CyclicLR(opt, base_lr=0.1, max_lr=1.0, base_momentum=[0.8])

    # Inside fit: two groups stepping through a 1cycle schedule; the momenta the Rust loop used
    # show in each group's SGD momentum buffer (lr 0 keeps the weights, unit gradients).
    model = fg.nn.Linear(1, 1, bias=True)
    x, y = np.ones((8, 1), dtype=np.float32), np.zeros(8, dtype=np.int64)
    sgd = fg.optim.SGD([{"params": [model.weight]}, {"params": [model.bias]}], lr=0.0, momentum=0.5)
    one_cycle = lr_scheduler.OneCycleLR(sgd, max_lr=0.0, total_steps=4, base_momentum=[0.8, 0.6],
                                        max_momentum=[0.9, 0.95])
    planned = [one_cycle.momenta_at(t) for t in range(4)]
    model.fit((x, y), epochs=1, batch_size=2, shuffle=False, optimizer=sgd, schedule=one_cycle,
              loss=lambda out, target: out.sum(), verbose=False)
    for i, p in enumerate([model.weight, model.bias]):
        grad = 2.0  # d(out.sum())/dp over a batch of two ones
        buf = 0.0
        for t in range(4):
            buf = grad if t == 0 else planned[t][i] * buf + grad
        np.testing.assert_allclose(sgd.state[p]["momentum_buffer"].numpy(), [[buf]] if i == 0 else [buf], rtol=1e-6)


def test_multiplicative_lr_multiplies_step_by_step():
    w, b = fg.zeros(1, requires_grad=True), fg.zeros(1, requires_grad=True)
    opt = fg.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=1.0)
    sched = lr_scheduler.MultiplicativeLR(opt, [lambda t: 0.5, lambda t: 1.0 + t])
    for t in range(5):
        assert [g["lr"] for g in opt.param_groups] == [0.5**t, 0.5 * math.factorial(t + 1)]
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="MultiplicativeLR: argument `lr_lambda` expected 2 functions"):
        lr_scheduler.MultiplicativeLR(opt, [lambda t: 0.5])


def test_schedules_match_closed_forms():
    np.testing.assert_allclose(_lrs(lambda o: lr_scheduler.StepLR(o, 2, 0.5), 5), [1, 1, 0.5, 0.5, 0.25, 0.25])
    np.testing.assert_allclose(_lrs(lambda o: lr_scheduler.MultiStepLR(o, [1, 3], 0.1), 4), [1, 0.1, 0.1, 0.01, 0.01])
    cos = _lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, 4, 0.1), 4)
    np.testing.assert_allclose(cos, [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)])
    np.testing.assert_allclose(_lrs(lambda o: lr_scheduler.LinearLR(o, 0.25, 1.0, 3), 4), [0.25, 0.5, 0.75, 1.0, 1.0])
    # OneCycle with PyTorch's phase boundaries: warm-up ends at pct_start * total - 1 = 2.
    oc = _lrs(lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=0.3, div_factor=10, final_div_factor=100), 9)
    initial, final = 0.1, 0.001
    expected = []
    for t in range(10):
        if t <= 2:
            pct, lo, hi = t / 2, initial, 1.0
        else:
            pct, lo, hi = (t - 2) / 7, 1.0, final
        expected.append(hi + (lo - hi) / 2 * (math.cos(math.pi * pct) + 1))
    np.testing.assert_allclose(oc, expected, rtol=1e-9)
    warm_then_cos = _lrs(lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, 0.5, 1.0, 2), lr_scheduler.CosineAnnealingLR(o, 2)], [2]), 4)
    np.testing.assert_allclose(warm_then_cos, [0.5, 0.75, 1.0, 0.5, 0.0], atol=1e-12)


def test_leaves_never_share_a_gradient_buffer():
    # Backward of a + b hands one buffer to both inputs; clipping must still scale each grad once.
    a = fg.tensor([3.0, 0.0], requires_grad=True)
    b = fg.tensor([0.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    total = fg.optim.clip_grad_norm_([a, b], 1.0)
    assert float(total) == pytest.approx(2.0)
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.5], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 0.5], rtol=1e-5)


def test_grad_does_not_alias_a_user_supplied_gradient():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    seed = fg.tensor([1.0, 1.0])
    x.backward(seed)  # the seed itself becomes the leaf's gradient unless it is copied
    x.grad.copy_(fg.tensor([5.0, 5.0]))
    np.testing.assert_array_equal(seed.numpy(), [1.0, 1.0])


def test_more_closed_form_schedules_match_pytorch():
    """Sequences as torch.optim.lr_scheduler 2.15 produces them for the same arguments."""
    np.testing.assert_allclose(_lrs(lambda o: lr_scheduler.ConstantLR(o, 0.25, 3), 6), [0.25] * 3 + [1.0] * 4)
    np.testing.assert_allclose(_lrs(lambda o: lr_scheduler.PolynomialLR(o, 4, 2.0), 6),
                               [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(_lrs(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, 3, 1, 0.1), 7),
                               [1.0, 0.775, 0.325] * 2 + [1.0, 0.775], rtol=1e-12)
    # T_mult = 2: cycles of 2, 4 and 8 steps, each starting again at the base rate.
    lengths = [2, 4, 8, 16]
    starts = np.cumsum([0] + lengths[:-1])
    expected = []
    for t in range(17):
        i = int(np.searchsorted(starts, t, side="right")) - 1
        expected.append((1 + math.cos(math.pi * (t - starts[i]) / lengths[i])) / 2)
    np.testing.assert_allclose(_lrs(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, 2, 2), 16), expected, atol=1e-12)


def test_reduce_lr_on_plateau_follows_pytorch():
    metrics = [5, 4, 4, 4, 4, 3.9999, 3.9, 3.9, 3.9, 3.9, 3.9, 3.9, 2, 2, 2, 2, 2, 2, 2, 2]

    def run(sched_factory):
        opt = fg.optim.SGD([fg.zeros(1, requires_grad=True)], lr=1.0)
        sched = sched_factory(opt)
        out = []
        for m in metrics:
            sched.step(m)
            out.append(opt.lr)
        return out, sched

    # Relative threshold 1e-3 (3.9999 is no improvement on 4), patience 2, cooldown 1, floor 0.1.
    lrs, sched = run(lambda o: lr_scheduler.ReduceLROnPlateau(o, "min", 0.5, 2, 1e-3, "rel", 1, 0.1))
    assert lrs == [1.0] * 4 + [0.5] * 5 + [0.25] * 6 + [0.125] * 4 + [0.1]
    # The last step reduced the rate, so its cooldown has started.
    assert sched.state_dict() == {"best": 2.0, "num_bad_epochs": 0, "cooldown_counter": 1, "last_epoch": 20}
    # Mode max with an absolute threshold: the metric only falls, so every step past the first reduces.
    lrs, _ = run(lambda o: lr_scheduler.ReduceLROnPlateau(o, "max", 0.1, 0, 0.5, "abs"))
    np.testing.assert_allclose(lrs[:6], [1.0, 0.1, 0.01, 1e-3, 1e-4, 1e-5])
    with pytest.raises(ValueError, match="ReduceLROnPlateau: argument `factor` expected a value in \\[0, 1\\), got 2"):
        lr_scheduler.ReduceLROnPlateau(fg.optim.SGD([fg.zeros(1, requires_grad=True)], lr=1.0), factor=2)


def test_adagrad_steps_in_fit_equal_a_python_loop(rng):
    """The Rust training loop steps the same optimizer object: one unshuffled epoch of `fit` with
    Adagrad leaves the parameters of the hand-written loop."""
    x = rng.standard_normal((96, 6)).astype(np.float32)
    y = rng.integers(0, 3, 96).astype(np.int64)
    data = fg.data.from_numpy(x, y)
    fg.manual_seed(0)
    a = fg.nn.Sequential(fg.nn.Linear(6, 8), fg.nn.Tanh(), fg.nn.Linear(8, 3))
    b = fg.nn.Sequential(fg.nn.Linear(6, 8), fg.nn.Tanh(), fg.nn.Linear(8, 3))
    b.load_state_dict(a.state_dict())
    start = a[0].weight.detach().numpy().copy()
    opt_a, opt_b = (fg.optim.Adagrad(m.parameters(), lr=0.2, lr_decay=0.1, weight_decay=1e-3) for m in (a, b))
    a.fit(data, epochs=1, batch_size=32, optimizer=opt_a, shuffle=False, verbose=False)
    for i in range(0, 96, 32):
        opt_b.zero_grad()
        fg.functional.cross_entropy(b(fg.tensor(x[i:i + 32])), fg.tensor(y[i:i + 32])).backward()
        opt_b.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pa.detach().numpy(), pb.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert opt_a.state[a[0].weight]["step"] == 3
    assert np.abs(a[0].weight.detach().numpy() - start).max() > 1e-2


def test_chained_schedules_multiply_as_pytorch_chains_them():
    """Sequences as torch.optim.lr_scheduler.ChainedScheduler 2.15 produces them (printed from a
    run of it with lr=1): warm-up times decay, cosine with eta_min=0, and step decays."""
    chained = _lrs(lambda o: lr_scheduler.ChainedScheduler(
        [lr_scheduler.ConstantLR(o, factor=0.1, total_iters=2), lr_scheduler.ExponentialLR(o, gamma=0.9)]), 8)
    np.testing.assert_allclose(chained, [0.1, 0.09, 0.81, 0.729, 0.6561, 0.59049, 0.531441, 0.4782969, 0.43046721],
                               rtol=1e-12)
    cosine = _lrs(lambda o: lr_scheduler.ChainedScheduler(
        [lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=3), lr_scheduler.CosineAnnealingLR(o, T_max=6)]), 8)
    np.testing.assert_allclose(cosine, [0.25, 0.4665063509461097, 0.5625, 0.5, 0.25, 0.06698729810778065, 0.0,
                                        0.06698729810778065, 0.25], rtol=1e-12, atol=1e-15)
    steps = _lrs(lambda o: lr_scheduler.ChainedScheduler(
        [lr_scheduler.StepLR(o, 2, 0.5), lr_scheduler.MultiStepLR(o, [3, 5], 0.1)]), 8)
    np.testing.assert_allclose(steps, [1.0, 1.0, 0.5, 0.05, 0.025, 0.0025, 0.00125, 0.00125, 0.000625], rtol=1e-12)


def test_chained_scheduler_refuses_schedules_that_do_not_multiply():
    opt = fg.optim.SGD([fg.zeros(1, requires_grad=True)], lr=1.0)
    other = fg.optim.SGD([fg.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="ChainedScheduler: scheduler 1 expected a schedule that multiplies the rate "
                                         r".* got CosineAnnealingLR with eta_min != 0"):
        lr_scheduler.ChainedScheduler([lr_scheduler.LinearLR(opt), lr_scheduler.CosineAnnealingLR(opt, 5, eta_min=0.1)])
    with pytest.raises(ValueError, match="ChainedScheduler: scheduler 0 expected .* got OneCycleLR"):
        lr_scheduler.ChainedScheduler([lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)])
    with pytest.raises(ValueError, match=r"ChainedScheduler: scheduler 1 \(ExponentialLR\) expected to schedule the "
                                         "chain's optimizer"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ExponentialLR(opt, 0.9), lr_scheduler.ExponentialLR(other, 0.9)])
    with pytest.raises(ValueError, match="ChainedScheduler: argument `schedulers` expected at least one scheduler"):
        lr_scheduler.ChainedScheduler([])
