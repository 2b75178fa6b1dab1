"""Weight averaging (`fg.optim.swa_utils`): AveragedModel's equal and exponential averages,
update_bn's recomputed statistics and SWALR's annealing, against closed forms, and SWA on MNIST."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn
from ferrograd.optim import swa_utils


def _net(seed: int) -> nn.Sequential:
    fg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _weights(model: nn.Module) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in model.parameters()]


def _train_step(model: nn.Module, rng: np.random.Generator) -> None:
    """Moves the weights and the batch-norm statistics (one SGD step on a random batch)."""
    opt = fg.optim.SGD(model.parameters(), lr=0.5)
    model(fg.tensor(rng.standard_normal((8, 3)).astype(np.float32))).square().mean().backward()
    opt.step()


def test_swa_is_the_equal_average_and_copies_buffers() -> None:
    rng = np.random.default_rng(0)
    model = _net(0)
    swa = swa_utils.AveragedModel(model)
    snapshots = []
    for _ in range(4):
        _train_step(model, rng)
        snapshots.append(_weights(model))
        swa.update_parameters(model)
    assert int(swa.n_averaged.item()) == 4
    for got, *seen in zip(_weights(swa.module), *snapshots):
        np.testing.assert_allclose(got, np.mean(np.stack(seen).astype(np.float64), axis=0), rtol=1e-6, atol=1e-7)
    for mine, theirs in zip(swa.module.buffers(), model.buffers()):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert "n_averaged" in swa.state_dict() and "module.0.weight" in swa.state_dict()
    x = fg.tensor(rng.standard_normal((5, 3)).astype(np.float32))
    swa.eval()
    with fg.no_grad():
        np.testing.assert_array_equal(swa(x).numpy(), swa.module(x).numpy())


@pytest.mark.parametrize("multi", [False, True])
def test_ema_follows_its_recurrence(multi: bool) -> None:
    rng = np.random.default_rng(1)
    model = _net(1)
    kw = {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)} if multi else {"avg_fn": swa_utils.get_ema_avg_fn(0.9)}
    ema = swa_utils.AveragedModel(model, **kw)
    expected = None
    for _ in range(5):
        _train_step(model, rng)
        now = [w.astype(np.float64) for w in _weights(model)]
        expected = now if expected is None else [0.9 * e + 0.1 * w for e, w in zip(expected, now)]
        ema.update_parameters(model)
    for got, want in zip(_weights(ema.module), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="argument `decay` expected a value in \\[0, 1\\], got 1.5"):
        swa_utils.get_ema_avg_fn(1.5)


def test_use_buffers_averages_the_batch_norm_statistics_too() -> None:
    rng = np.random.default_rng(2)
    model = _net(2)
    swa = swa_utils.AveragedModel(model, use_buffers=True)
    means, counts = [], []
    for _ in range(3):
        _train_step(model, rng)
        means.append(model[1].running_mean.numpy().astype(np.float64))
        counts.append(int(model[1].num_batches_tracked.item()))
        swa.update_parameters(model)
    np.testing.assert_allclose(swa.module[1].running_mean.numpy(), np.mean(means, axis=0), rtol=1e-6, atol=1e-7)
    # The integer count is averaged in float32 and truncated back at each update, as PyTorch's
    # copy into it does: 1, then 1 + (2 - 1) / 2 -> 1, then 1 + (3 - 1) / 3 -> 1.
    assert counts == [1, 2, 3] and int(swa.module[1].num_batches_tracked.item()) == 1


def test_update_bn_recomputes_statistics_as_the_plain_average() -> None:
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model.eval()
    batches = [rng.standard_normal((6, 3)).astype(np.float32) for _ in range(4)]
    with fg.no_grad():
        hidden = [model[0](fg.tensor(b)).numpy().astype(np.float64) for b in batches]
    swa_utils.update_bn([(fg.tensor(b), 0) for b in batches], model)
    bn = model[1]
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([h.mean(0) for h in hidden], axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([h.var(0, ddof=1) for h in hidden], axis=0), rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 4
    assert bn.momentum == 0.1 and not model.training


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_swalr_anneals_from_the_current_rate_to_swa_lr(strategy: str) -> None:
    w, b = fg.zeros(1, requires_grad=True), fg.zeros(1, requires_grad=True)
    opt = fg.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.2}], lr=0.5)
    sched = swa_utils.SWALR(opt, swa_lr=[0.05, 0.01], anneal_epochs=3, anneal_strategy=strategy)

    def alpha(t: int) -> float:
        x = min(1.0, t / 3)
        return (1 - math.cos(math.pi * x)) / 2 if strategy == "cos" else x

    for t in range(6):
        for group, start, swa in zip(opt.param_groups, (0.5, 0.2), (0.05, 0.01)):
            assert group["lr"] == pytest.approx(swa * alpha(t) + start * (1 - alpha(t)), rel=1e-12)
        opt.step()
        sched.step()
    immediate = fg.optim.SGD([w], lr=0.5)
    swa_utils.SWALR(immediate, swa_lr=0.05, anneal_epochs=0)
    assert immediate.param_groups[0]["lr"] == 0.05
    with pytest.raises(ValueError, match="SWALR: argument `anneal_strategy` expected 'cos' or 'linear', got 'step'"):
        swa_utils.SWALR(immediate, swa_lr=0.05, anneal_strategy="step")


def test_swa_over_the_last_epochs_classifies_mnist(data_dir: Path) -> None:
    """SGD on 10,000 MNIST digits; the average of the last three epochs' weights, with its batch
    statistics recomputed by update_bn, classifies held-out digits as well as the last model."""
    train, test = fg.data.mnist(data_dir / "mnist")
    train, test = train.subset(list(range(10000))), test.subset(list(range(2000)))
    fg.manual_seed(0)
    model = nn.Sequential(nn.Normalize([0.1307], [0.3081]), nn.Flatten(), nn.Linear(784, 64), nn.BatchNorm1d(64),
                          nn.ReLU(), nn.Linear(64, 10))
    opt = fg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    swa = swa_utils.AveragedModel(model)
    for epoch in range(5):
        model.fit(train, epochs=1, batch_size=64, optimizer=opt, seed=epoch, verbose=False)
        if epoch >= 2:
            swa.update_parameters(model)
    loader = fg.data.DataLoader(train, 256, shuffle=False, as_tensors=True)
    swa_utils.update_bn(loader, swa)

    def accuracy(m: nn.Module) -> float:
        m.eval()
        correct = 0
        with fg.no_grad():
            for x, y in fg.data.DataLoader(test, 500, shuffle=False, as_tensors=True):
                correct += int((m(x).argmax(1) == y).sum().item())
        return correct / 2000

    last, averaged = accuracy(model), accuracy(swa)
    assert averaged >= 0.92 and averaged >= last - 0.01, (averaged, last)


@pytest.mark.parametrize("kind", ["swa", "swa_multi", "ema", "ema_products"])
def test_fit_folds_the_average_in_after_every_step_as_a_python_loop_would(kind: str, data_dir: Path) -> None:
    """WeightAveraging in fit (the average updated inside the Rust loop) against the same
    training written in Python with update_parameters after each optimizer step; averaging starts
    at the second epoch, and the count covers the steps averaged."""
    from ferrograd.training import WeightAveraging

    train, _ = fg.data.mnist(data_dir / "mnist")
    train = train.subset(list(range(512)))
    kw = {"swa": {}, "swa_multi": {"multi_avg_fn": swa_utils.get_swa_multi_avg_fn()},
          "ema": {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)},
          "ema_products": {"avg_fn": swa_utils.get_ema_avg_fn(0.9)}}[kind]

    def mlp() -> nn.Sequential:
        fg.manual_seed(4)
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))

    a, b = mlp(), mlp()
    avg_a, avg_b = swa_utils.AveragedModel(a, **kw), swa_utils.AveragedModel(b, **kw)
    opt_a, opt_b = fg.optim.SGD(a.parameters(), lr=0.05, momentum=0.9), fg.optim.SGD(b.parameters(), lr=0.05, momentum=0.9)
    a.fit(train, epochs=2, batch_size=64, optimizer=opt_a, shuffle=False, verbose=False,
          callbacks=[WeightAveraging(avg_a, start_epoch=1)])
    loader = fg.data.DataLoader(train, 64, shuffle=False, as_tensors=True)
    b.train()
    for epoch in range(2):
        for x, y in loader:
            fg.nn.functional.cross_entropy(b(x), y).backward()
            opt_b.step()
            opt_b.zero_grad()
            if epoch >= 1:
                avg_b.update_parameters(b)
    assert int(avg_a.n_averaged.item()) == int(avg_b.n_averaged.item()) == 8
    for (name, got), want in zip(avg_a.state_dict().items(), avg_b.state_dict().values()):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    # The averaged weights differ from the last ones (an average of eight steps, not a copy).
    assert not np.allclose(avg_a.module[1].weight.detach().numpy(), a[1].weight.detach().numpy())


def test_weight_averaging_refuses_custom_functions_and_needs_matching_tensors() -> None:
    from ferrograd.training import WeightAveraging

    model = _net(5)
    custom = swa_utils.AveragedModel(model, avg_fn=lambda avg, x, n: (avg + x) / 2)
    with pytest.raises(ValueError, match="got a custom function; call averaged.update_parameters"):
        WeightAveraging(custom)
    with pytest.raises(TypeError, match="expected a swa_utils.AveragedModel, got Sequential"):
        WeightAveraging(model)  # type: ignore[arg-type]
    other = WeightAveraging(swa_utils.AveragedModel(nn.Linear(3, 4)))
    x = fg.tensor(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match="does not have the trained model's tensors"):
        model.fit((x.numpy(), np.zeros(4, np.int64)), epochs=1, batch_size=2, callbacks=[other], verbose=False)
