"""The README's demo: a small CNN trained with ``model.fit`` on scikit-learn's bundled 8x8 digits
(no download), evaluated with ``model.evaluate`` and its classification report."""

from __future__ import annotations

import numpy as np

from . import data, manual_seed, nn, optim
from .training import EvaluationReport


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


def run(epochs: int = 8, batch_size: int = 32, seed: int = 0, verbose: bool = True) -> float:
    """Trains and evaluates the demo model, printing progress and the report; returns the test accuracy."""
    manual_seed(seed)
    x, y = _digits()
    train, test = data.from_numpy(x, y).split(0.8, seed=seed)
    model = _model()
    print(model)
    print(f"{model.num_parameters():,} parameters; {len(train)} training and {len(test)} test images of 8x8 digits\n")
    opt = optim.Adam(model.parameters(), lr=2e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    history = model.fit(train, epochs=epochs, batch_size=batch_size, optimizer=opt, schedule=sched, val=test,
                        augment=[data.transforms.RandomCrop(8, padding=1)], verbose=verbose)
    print()
    for e, (loss, acc, val_acc, secs) in enumerate(zip(history["loss"], history["accuracy"], history["val_accuracy"],
                                                        history["time"])):
        print(f"epoch {e + 1:2d}  loss {loss:.4f}  train accuracy {acc:.4f}  test accuracy {val_acc:.4f}  "
              f"({len(train) / secs:,.0f} images/s)")
    report: EvaluationReport = model.evaluate(test)
    print()
    report.report(digits=4)
    print(f"final test accuracy: {report.accuracy:.4f}")
    return report.accuracy
