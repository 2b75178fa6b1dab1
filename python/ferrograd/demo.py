"""The README's demo: a small CNN trained on scikit-learn's bundled 8x8 digits (no download)."""

from __future__ import annotations

import time

import numpy as np

from . import functional as F
from . import manual_seed, nn, no_grad, optim, tensor


def _digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise SystemExit("the demo needs scikit-learn: pip install 'ferrograd[demo]'") from e
    d = load_digits()
    return (d.images / 16.0).astype(np.float32)[:, None], d.target.astype(np.int64)


def _model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 4 * 4, 10),
    )


def _accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with no_grad():
        pred = model(tensor(x)).argmax(1).numpy()
    return float((pred == y).mean())


def run(epochs: int = 8, batch_size: int = 32, seed: int = 0) -> float:
    """Trains and evaluates the demo model; returns the test accuracy."""
    manual_seed(seed)
    x, y = _digits()
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(0.8 * len(x))
    (x_train, y_train), (x_test, y_test) = (x[order[:split]], y[order[:split]]), (x[order[split:]], y[order[split:]])
    model = _model()
    print(model)
    print(f"{model.num_parameters():,} parameters; {len(x_train)} training and {len(x_test)} test images of 8x8 digits\n")
    opt = optim.Adam(model.parameters(), lr=2e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        model.train()
        start, total, seen = time.perf_counter(), 0.0, 0
        perm = rng.permutation(len(x_train))
        for i in range(0, len(perm), batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(model(tensor(x_train[idx])), tensor(y_train[idx]))
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        sched.step()
        rate = seen / (time.perf_counter() - start)
        print(f"epoch {epoch:2d}  loss {total / seen:.4f}  test accuracy {_accuracy(model, x_test, y_test):.4f}  ({rate:,.0f} images/s)")
    acc = _accuracy(model, x_test, y_test)
    print(f"\nfinal test accuracy: {acc:.4f}")
    return acc
