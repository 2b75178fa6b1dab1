"""The Rust training loop behind Module.fit / evaluate / predict: parity with a Python loop,
reproducibility, interrupt and resume, callbacks, metrics against scikit-learn, and learning on
real data (MNIST, the CIFAR-10 subset)."""

from __future__ import annotations

import _thread
import math
import signal
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn, optim
from ferrograd.data import transforms as T
from ferrograd.training import EarlyStopping, History, ModelCheckpoint, ReduceLROnPlateau
from ferrograd.training.callbacks import Callback

MNIST_NORM = [T.Normalize([0.1307], [0.3081])]


def small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(512, 10),
    )


def tiny_mlp() -> nn.Sequential:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))


@pytest.fixture(scope="module")
def mnist_ds(data_dir: Path) -> tuple[fg.data.Dataset, fg.data.Dataset]:
    return fg.data.mnist(data_dir / "mnist")


@pytest.fixture(scope="module")
def mnist_small(mnist_ds: tuple) -> tuple[fg.data.Dataset, fg.data.Dataset]:
    train, test = mnist_ds
    return train.subset(list(range(2048))), test.subset(list(range(1000)))


def params(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def without_time(h: History) -> dict[str, list[float]]:
    return {k: v for k, v in h.history.items() if k != "time"}


# -- parity with the same loop written in Python -----------------------------------------------------


def _one_cycle(opt: optim.Optimizer, steps: int, warm_up: bool) -> optim.lr_scheduler.LRScheduler:
    """OneCycleLR over ``steps``, or after ``warm_up`` a LinearLR for three steps and then a
    OneCycleLR over the rest, as one per-step SequentialLR."""
    if not warm_up:
        return optim.lr_scheduler.OneCycleLR(opt, 0.1, steps)
    # Built first, as in PyTorch: OneCycleLR sets the groups' initial rate that LinearLR scales.
    cycle = optim.lr_scheduler.OneCycleLR(opt, 0.1, steps - 3)
    linear = optim.lr_scheduler.LinearLR(opt, 0.5, 1.0, 3)
    schedule = optim.lr_scheduler.SequentialLR(opt, [linear, cycle], [3])
    schedule.interval = "step"
    return schedule


@pytest.mark.parametrize("accumulate,grad_clip,algorithm,warm_up",
                         [(1, None, "sgd", False), (2, 0.5, "sgd", False), (1, None, "adam", False), (1, None, "adam", True)])
def test_fit_epoch_equals_a_python_loop(mnist_small: tuple, accumulate: int, grad_clip: float | None,
                                        algorithm: str, warm_up: bool) -> None:
    """One epoch of fit (no shuffle) gives the parameters of the equivalent hand-written loop:
    same batches, loss / accumulate, global-norm clipping, SGD with momentum or Adam, and a
    per-step schedule that cycles the rate and the momentum (or beta1), alone or after a
    warm-up that leaves the momentum alone."""
    train, _ = mnist_small
    sub = train.subset(list(range(320)))
    fg.manual_seed(3)
    a = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    b = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    b.load_state_dict(a.state_dict())
    make = (lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9)) if algorithm == "sgd" else \
        (lambda m: optim.Adam(m.parameters(), lr=0.1))
    opt_a, opt_b = make(a), make(b)
    steps = math.ceil(10 / accumulate)
    sched_a, sched_b = _one_cycle(opt_a, steps, warm_up), _one_cycle(opt_b, steps, warm_up)
    hist = a.fit(sub, epochs=1, batch_size=32, optimizer=opt_a, schedule=sched_a, shuffle=False, accumulate=accumulate,
                 grad_clip=grad_clip, verbose=False)

    loader = fg.data.DataLoader(sub, 32, shuffle=False, as_tensors=True)
    losses = []
    for i, (x, y) in enumerate(loader):
        loss = F.cross_entropy(b(x), y)
        losses.append(loss.item() * len(y))
        (loss * (1.0 / accumulate) if accumulate > 1 else loss).backward()
        if (i + 1) % accumulate == 0 or i + 1 == len(loader):
            if grad_clip is not None:
                optim.clip_grad_norm_(b.parameters(), grad_clip)
            opt_b.step()
            opt_b.zero_grad()
            sched_b.step()
    for (name, pa), pb in zip(params(a).items(), params(b).values()):
        np.testing.assert_allclose(pa, pb, rtol=1e-5, atol=1e-6, err_msg=name)
    assert sched_a.last_epoch == sched_b.last_epoch == steps
    assert opt_a.lr == pytest.approx(opt_b.lr)
    options = [{k: v for k, v in o.param_groups[0].items() if k != "params"} for o in (opt_a, opt_b)]
    assert options[0] == options[1]  # the cycled momentum or beta1 too
    assert hist["loss"][0] == pytest.approx(sum(losses) / 320, rel=1e-5)


# -- reproducibility, interrupt and resume --------------------------------------------------------


def _run(mnist_small: tuple, epochs: int, seed: int = 0, **kw) -> tuple[nn.Module, History]:
    train, test = mnist_small
    fg.manual_seed(seed)
    model = tiny_mlp()
    opt = optim.AdamW(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.OneCycleLR(opt, 3e-3, 3 * 32)
    hist = model.fit(train, epochs=epochs, batch_size=64, optimizer=opt, schedule=sched, val=test, transforms=MNIST_NORM,
                     augment=[T.RandomCrop(28, padding=2)], verbose=False, **kw)
    return model, hist


def test_same_seed_gives_identical_history_and_weights(mnist_small: tuple) -> None:
    m1, h1 = _run(mnist_small, 2)
    m2, h2 = _run(mnist_small, 2)
    assert without_time(h1) == without_time(h2)
    for (k, a), b in zip(params(m1).items(), params(m2).values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    assert h1["loss"][1] < h1["loss"][0]
    _, h3 = _run(mnist_small, 2, seed=1)
    assert without_time(h3) != without_time(h1)


def test_same_seed_trains_a_cnn_to_bitwise_identical_weights(mnist_small: tuple) -> None:
    """Convolution weight gradients sum per-chunk partials in a fixed order, so CNN training with
    the same seed is reproducible to the bit, as the MLP above."""
    train, _ = mnist_small

    def run() -> tuple[nn.Module, History]:
        fg.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(8, 16, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 6 * 6, 10))
        hist = model.fit(train, epochs=1, batch_size=100, optimizer=optim.Adam(model.parameters(), lr=3e-3),
                         transforms=MNIST_NORM, verbose=False, seed=0)
        return model, hist

    (m1, h1), (m2, h2) = run(), run()
    assert without_time(h1) == without_time(h2)
    for (k, a), b in zip(params(m1).items(), params(m2).values()):
        np.testing.assert_array_equal(a, b, err_msg=k)


@pytest.fixture(autouse=True)
def _ctrl_c_raises() -> Iterator[None]:
    """Python's own Ctrl-C handler for these tests: a runner started in the background inherits an
    ignored SIGINT, and then `interrupt_main` does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class _InterruptAt(Callback):
    """Sends the process a real Ctrl-C (SIGINT) after the given batch of the given epoch."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, epoch: int, progress: dict[str, float]) -> None:
        if epoch == self.epoch and progress["batch"] == self.batch:
            _thread.interrupt_main()


def test_interrupt_then_resume_equals_an_uninterrupted_run(mnist_small: tuple, tmp_path: Path) -> None:
    full_model, full_hist = _run(mnist_small, 3)

    ckpt = tmp_path / "train.ckpt"
    with pytest.raises(KeyboardInterrupt):
        _run(mnist_small, 3, checkpoint=ckpt, callbacks=[_InterruptAt(epoch=2, batch=10)], progress_every=1)
    assert ckpt.exists() and not list(tmp_path.glob("*.tmp*"))

    # A fresh process would build everything anew: a different seed proves the checkpoint restores it all.
    resumed_model, resumed_hist = _run(mnist_small, 3, seed=99, resume=ckpt, checkpoint=ckpt)
    assert resumed_hist.epoch == [0, 1, 2]
    assert without_time(resumed_hist) == without_time(full_hist)
    for (k, a), b in zip(params(full_model).items(), params(resumed_model).values()):
        np.testing.assert_array_equal(a, b, err_msg=k)


def test_interrupt_leaves_the_model_consistent(mnist_small: tuple) -> None:
    train, _ = mnist_small
    fg.manual_seed(0)
    model = tiny_mlp()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(train, epochs=1, batch_size=64, optimizer=opt, callbacks=[_InterruptAt(0, 5)], progress_every=1,
                  verbose=False)
    assert all(p.grad is None for p in model.parameters())
    assert all(s["step"] == 5 for s in opt.state.values())
    assert all(np.isfinite(v).all() for v in params(model).values())


def test_errors_in_python_callbacks_keep_their_type(mnist_small: tuple) -> None:
    train, _ = mnist_small

    class Boom(Callback):
        def on_batch_end(self, epoch: int, progress: dict[str, float]) -> None:
            raise ZeroDivisionError("from a callback")

    with pytest.raises(ZeroDivisionError, match="from a callback"):
        tiny_mlp().fit(train, batch_size=256, callbacks=[Boom()], verbose=False)


# -- models and losses written in Python run inside the Rust loop --------------------------------


class Residual(nn.Module):
    """A user-defined module (no Rust counterpart): its forward is called back from the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
        self.scale = 0.5

    def forward(self, x: fg.Tensor) -> fg.Tensor:
        return x + self.inner(x) * self.scale


def test_python_modules_and_losses_train_in_the_loop(mnist_small: tuple) -> None:
    train, test = mnist_small
    fg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), Residual(), nn.Linear(64, 10))
    hist = model.fit(train, epochs=2, batch_size=64, optimizer=optim.Adam(model.parameters(), lr=2e-3),
                     loss=lambda out, y: F.cross_entropy(out, y, label_smoothing=0.1), transforms=MNIST_NORM, verbose=False)
    assert hist["loss"][1] < hist["loss"][0]
    assert model.evaluate(test, transforms=MNIST_NORM).accuracy > 0.8

    class Broken(nn.Module):
        def forward(self, x: fg.Tensor) -> fg.Tensor:
            raise KeyError("custom forward failed")

    with pytest.raises(KeyError, match="custom forward failed"):
        nn.Sequential(nn.Flatten(), nn.Linear(784, 10), Broken()).fit(train, verbose=False)


def test_loss_modules_match_their_functional_forms(mnist_small: tuple) -> None:
    train, _ = mnist_small
    sub = train.subset(list(range(256)))
    runs = []
    for loss in (nn.CrossEntropyLoss(label_smoothing=0.2), lambda o, y: F.cross_entropy(o, y, label_smoothing=0.2)):
        fg.manual_seed(5)
        m = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
        h = m.fit(sub, batch_size=64, optimizer=optim.SGD(m.parameters(), lr=0.1), loss=loss, shuffle=False, verbose=False)
        runs.append((h["loss"][0], params(m)))
    assert runs[0][0] == pytest.approx(runs[1][0], rel=1e-6)
    for k in runs[0][1]:
        np.testing.assert_allclose(runs[0][1][k], runs[1][1][k], rtol=1e-6, atol=1e-7)
    fg.manual_seed(5)
    m = nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.LogSoftmax(1))
    h = m.fit(sub, batch_size=64, optimizer=optim.SGD(m.parameters(), lr=0.1), loss=nn.NLLLoss(), shuffle=False, verbose=False)
    fg.manual_seed(5)
    m2 = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    h2 = m2.fit(sub, batch_size=64, optimizer=optim.SGD(m2.parameters(), lr=0.1), loss="cross_entropy", shuffle=False,
                verbose=False)
    assert h["loss"][0] == pytest.approx(h2["loss"][0], rel=1e-5)


# -- callbacks --------------------------------------------------------------------------------------


def test_early_stopping_stops_and_restores_the_best_weights(mnist_small: tuple) -> None:
    train, test = mnist_small
    fg.manual_seed(0)
    model = tiny_mlp()
    # A learning rate that makes training diverge after the first epochs, so val_loss stops improving.
    opt = optim.SGD(model.parameters(), lr=0.05)
    stop = EarlyStopping(monitor="val_accuracy", patience=1, restore_best_weights=True)
    seen: list[dict[str, np.ndarray]] = []

    class Snapshot(Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
            seen.append(params(self.model))

    sched = optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0 if e < 2 else 0.0)
    hist = model.fit(train, epochs=10, batch_size=64, optimizer=opt, schedule=sched, val=test, transforms=MNIST_NORM,
                     callbacks=[Snapshot(), stop], verbose=False)
    # From epoch 2 on the rate is 0: val_accuracy cannot improve, so training stops after patience + 1 epochs.
    assert len(hist) == stop.stopped_epoch + 1 <= 5
    best = int(np.argmax(hist["val_accuracy"]))
    assert stop.best_epoch == best
    for k, v in params(model).items():
        if "num_batches_tracked" not in k:
            np.testing.assert_array_equal(v, seen[best][k], err_msg=k)


def test_model_checkpoint_keeps_the_best_epoch(mnist_small: tuple, tmp_path: Path) -> None:
    train, test = mnist_small
    fg.manual_seed(0)
    model = tiny_mlp()
    path = tmp_path / "best.safetensors"
    ckpt = ModelCheckpoint(path, monitor="val_loss")
    hist = model.fit(train, epochs=3, batch_size=64, val=test, transforms=MNIST_NORM, callbacks=[ckpt], verbose=False)
    assert ckpt.best_epoch == int(np.argmin(hist["val_loss"]))
    restored = tiny_mlp()
    restored.load(str(path))
    report = restored.evaluate(test, transforms=MNIST_NORM)
    assert report.loss == pytest.approx(hist["val_loss"][ckpt.best_epoch], rel=1e-5)


# -- evaluate / predict ---------------------------------------------------------------------------


def test_predict_and_evaluate_read_back_many_batches_in_order(mnist_small: tuple) -> None:
    """With small batches (more than the loop's read-back group of 16, and a partial last one)
    the predictions equal the model's forward pass row for row and the mean loss equals the
    cross-entropy over all samples."""
    _, test = mnist_small
    subset = test.subset(list(range(301)))
    fg.manual_seed(1)
    model = tiny_mlp()
    logits = model.predict(subset, batch_size=8, transforms=MNIST_NORM)
    full = model.predict(subset, batch_size=512, transforms=MNIST_NORM)
    np.testing.assert_allclose(logits, full, rtol=1e-5, atol=1e-6)
    report = model.evaluate(subset, batch_size=8, transforms=MNIST_NORM)
    y = subset.labels
    shifted = logits - logits.max(1, keepdims=True)
    nll = -(shifted[np.arange(len(y)), y] - np.log(np.exp(shifted).sum(1)))
    assert report.loss == pytest.approx(float(nll.mean()), rel=1e-5)


def test_evaluate_equals_scikit_learn(mnist_small: tuple) -> None:
    sk = pytest.importorskip("sklearn.metrics")
    train, test = mnist_small
    fg.manual_seed(0)
    model = tiny_mlp()
    model.fit(train, epochs=1, batch_size=64, transforms=MNIST_NORM, verbose=False)
    r = model.evaluate(test, transforms=MNIST_NORM, top_k=(1, 3, 5))
    logits = model.predict(test, transforms=MNIST_NORM)
    probs = model.predict(test, transforms=MNIST_NORM, probabilities=True)
    y = test.labels
    pred = logits.argmax(1)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(r.confusion_matrix, sk.confusion_matrix(y, pred, labels=range(10)))
    assert r.accuracy == sk.accuracy_score(y, pred)
    for avg in ("micro", "macro", "weighted"):
        p, rc, f, _ = sk.precision_recall_fscore_support(y, pred, average=avg, zero_division=0)
        assert r.averages[avg] == pytest.approx((p, rc, f), abs=1e-12)
    p, rc, f, s = sk.precision_recall_fscore_support(y, pred, labels=range(10), zero_division=0)
    np.testing.assert_allclose(r.precision, p, atol=1e-12)
    np.testing.assert_allclose(r.recall, rc, atol=1e-12)
    np.testing.assert_allclose(r.f1, f, atol=1e-12)
    np.testing.assert_array_equal(r.support, s)
    for k in (1, 3, 5):
        assert r.top_k[k] == pytest.approx(sk.top_k_accuracy_score(y, logits, k=k, labels=range(10)), abs=1e-12)
    probs64 = probs.astype(np.float64)
    probs64 /= probs64.sum(1, keepdims=True)
    assert r.loss == pytest.approx(sk.log_loss(y, probs64, labels=range(10)), rel=1e-4)
    names = test.classes
    for digits in (2, 4):
        expected = sk.classification_report(y, pred, labels=range(10), target_names=names, digits=digits, zero_division=0)
        assert r.report(digits=digits, print_report=False) == expected
    assert r["macro_f1"] == r.averages["macro"][2]


def test_predict_matches_the_module_forward_in_eval_mode(mnist_small: tuple) -> None:
    _, test = mnist_small
    fg.manual_seed(0)
    model = small_cnn()
    x, _ = test.get_batch(list(range(50)))
    out = model.predict(x)
    assert model.training  # predict restores the mode
    model.eval()
    with fg.no_grad():
        ref = model(fg.tensor(x)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


# -- History ----------------------------------------------------------------------------------------


def test_history_renders_and_plots(mnist_small: tuple) -> None:
    train, test = mnist_small
    fg.manual_seed(0)
    hist = tiny_mlp().fit(train.subset(list(range(256))), epochs=2, batch_size=64, val=test, verbose=False)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert len(hist) == 2 and hist.epoch == [0, 1]
    html = hist._repr_html_()
    assert html.count("<tr>") == 3 and "val_accuracy" in html
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    fig = hist.plot()
    assert len(fig.axes) == 2
    assert [line.get_label() for line in fig.axes[0].lines] == ["loss", "val_loss"]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), hist["loss"])


def test_progress_bar_runs_with_tqdm(mnist_small: tuple, capsys: pytest.CaptureFixture[str]) -> None:
    train, _ = mnist_small
    tiny_mlp().fit(train.subset(list(range(256))), epochs=1, batch_size=64, verbose=True, progress_every=1)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "4/4" in err


# -- bad input ----------------------------------------------------------------------------------------


def test_bad_arguments_raise_clear_errors(mnist_small: tuple) -> None:
    train, _ = mnist_small
    model = tiny_mlp()
    with pytest.raises(ValueError, match="epochs"):
        model.fit(train, epochs=-1)
    with pytest.raises(ValueError, match="accumulate"):
        model.fit(train, accumulate=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(train, batch_size=0)
    with pytest.raises(ValueError, match="loss"):
        model.fit(train, loss="hinge")
    with pytest.raises(TypeError, match="train"):
        model.fit([1, 2, 3])
    with pytest.raises(fg.DeviceError, match="cuda"):
        model.fit(train, device="cuda")
    with pytest.raises(ValueError, match="grad_clip"):
        model.fit(train, grad_clip=-1.0, verbose=False)
    with pytest.raises(ValueError, match="not a ferrograd training checkpoint"):
        path = Path(__file__).parent / "_weights_only.safetensors"
        try:
            model.save(str(path))
            model.fit(train, resume=path, verbose=False)
        finally:
            path.unlink(missing_ok=True)
    with pytest.raises(ValueError, match="val_loss"):
        model.fit(train.subset(list(range(64))), callbacks=[EarlyStopping()], verbose=False)


# -- learning on real data ----------------------------------------------------------------------------


def test_small_cnn_through_fit_reaches_98_5_percent_on_mnist(mnist_ds: tuple) -> None:
    train, test = mnist_ds
    fg.manual_seed(0)
    model = small_cnn()
    opt = optim.Adam(model.parameters(), lr=2e-3)
    sched = optim.lr_scheduler.OneCycleLR(opt, 2e-3, 2 * 938)
    hist = model.fit(train, epochs=2, batch_size=64, optimizer=opt, schedule=sched, transforms=MNIST_NORM, seed=0,
                     verbose=False)
    acc = model.evaluate(test, transforms=MNIST_NORM).accuracy
    assert hist["loss"][1] < hist["loss"][0]
    assert acc >= 0.985, f"test accuracy {acc:.4f} < 0.985"


def test_cnn_with_augmentation_reaches_35_percent_on_the_cifar_subset(data_dir: Path) -> None:
    train, test = fg.data.cifar10(data_dir / "cifar10_subset")
    assert (len(train), len(test)) == (4000, 846)
    fg.manual_seed(0)

    def block(i: int, o: int) -> list[nn.Module]:
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]

    model = nn.Sequential(*block(3, 32), *block(32, 64), *block(64, 128), nn.Flatten(), nn.Dropout(0.2), nn.Linear(2048, 10))
    epochs = 4
    opt = optim.Adam(model.parameters(), lr=3e-3)
    norm = [T.Normalize([0.49, 0.48, 0.45], [0.25, 0.24, 0.26])]
    hist = model.fit(train, epochs=epochs, batch_size=64, optimizer=opt, augment=[T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()],
                     transforms=norm, schedule=optim.lr_scheduler.OneCycleLR(opt, 3e-3, epochs * 63), seed=0, verbose=False)
    acc = model.evaluate(test, transforms=norm).accuracy
    assert hist["loss"][-1] < hist["loss"][0]
    assert acc >= 0.35, f"test accuracy {acc:.4f} < 0.35"


# -- the Rust module tree built from Python modules ---------------------------------------------------


def test_rust_layers_match_python_modules_and_share_their_state() -> None:
    """Every built-in layer's Rust form computes what its Python forward computes, names its
    tensors as the state dict does, and updates the same running statistics."""
    fg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, stride=2), nn.BatchNorm2d(8), nn.LeakyReLU(0.1), nn.MaxPool2d(2, 1),
        nn.Conv2d(8, 8, 3, groups=2, dilation=2, padding=2), nn.GELU("tanh"), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(3),
        nn.Flatten(), nn.Linear(72, 16), nn.LayerNorm(16), nn.SiLU(), nn.Dropout(0.0), nn.Softplus(2.0, 10.0),
        nn.Linear(16, 12, bias=False), nn.Tanh(), nn.Identity(), nn.Sigmoid(), nn.LogSoftmax(1),
    )
    x = fg.randn(4, 3, 16, 16)
    layer = model._to_layer()
    assert [n for n, _ in layer.state_dict()] == list(model.state_dict())
    assert [n for n, _ in layer.named_parameters()] == [n for n, _ in model.named_parameters()]
    for training in (True, False):
        model.train(training)
        before = model[1].running_mean.numpy().copy()
        ref = model(x).detach().numpy()
        python_stats = model[1].running_mean.numpy().copy()
        model[1].running_mean.copy_(fg.tensor(before))
        model[1].num_batches_tracked.copy_(int(model[1].num_batches_tracked.item()) - int(training))
        out = model._to_layer()(x).detach().numpy()
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(model[1].running_mean.numpy(), python_stats, rtol=1e-6, atol=1e-7)


def test_embedding_layer_matches_its_module() -> None:
    fg.manual_seed(0)
    emb = nn.Embedding(10, 4)
    ids = fg.tensor(np.array([[1, 2], [9, 0]], dtype=np.int64))
    np.testing.assert_array_equal(emb._to_layer()(ids).detach().numpy(), emb(ids).detach().numpy())


def test_a_diverging_loss_stops_fit_at_its_batch() -> None:
    """A non-finite loss stops the epoch with an error naming the batch where it appeared (here a
    NaN input in the third batch of ten), before the optimizer steps on it."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 4)).astype(np.float32)
    x[25, 1] = np.nan
    y = rng.integers(0, 3, 60)
    model = nn.Linear(4, 3)
    with pytest.raises(RuntimeError, match="loss became NaN at batch 3 of the epoch"):
        model.fit((x, y), epochs=1, batch_size=10, shuffle=False, optimizer=optim.SGD(model.parameters(), lr=0.1),
                  verbose=False)
    assert np.all(np.isfinite(model.weight.detach().numpy()))


def test_reduce_lr_on_plateau_callback_lowers_the_rate_of_the_next_epoch(mnist_small: tuple) -> None:
    train, _ = mnist_small
    fg.manual_seed(0)
    model = tiny_mlp()
    opt = optim.SGD(model.parameters(), lr=0.08)
    # min_delta larger than any change of the loss: only the first epoch counts as an improvement.
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_delta=1e9, cooldown=1, min_lr=0.011)
    hist = model.fit(train, epochs=9, batch_size=128, optimizer=opt, transforms=MNIST_NORM, callbacks=[plateau],
                     verbose=False)
    # Bad epochs 1 and 2 reduce the rate after epoch 2. As in Keras, a cooldown of 1 runs out in the
    # next epoch, which then counts as the first bad one again: epochs 3 and 4 reduce after 4, 5 and
    # 6 after 6 (to the floor of 0.011 rather than 0.01).
    np.testing.assert_allclose(hist["lr"], [0.08, 0.08, 0.08, 0.04, 0.04, 0.02, 0.02, 0.011, 0.011], rtol=1e-6)
    with pytest.raises(TypeError, match="fit: argument `schedule` expected a closed-form LRScheduler"):
        model.fit(train, optimizer=opt, schedule=optim.lr_scheduler.ReduceLROnPlateau(opt), verbose=False)
