"""The README's demo on scikit-learn's bundled 8x8 digits (no download): a small CNN trained with
``model.fit`` and evaluated with its classification report; then attacked (FGSM, PGD) in a
robustness report, adversarially trained (Fast-AT) and attacked again."""

from __future__ import annotations

import numpy as np

from . import data, manual_seed, nn, optim
from .attacks import PGD, robustness
from .training import FastAT
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


def run(epochs: int = 8, batch_size: int = 32, seed: int = 0, verbose: bool = True, robust: bool = True) -> float:
    """Trains and evaluates the demo model, printing progress and the reports; with ``robust``, also
    attacks it, trains a second model adversarially and attacks that. Returns the first model's
    test accuracy."""
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
    if robust:
        _robustness(train, test, epochs, batch_size, model, verbose)
    return report.accuracy


def _robustness(train: data.Dataset, test: data.Dataset, epochs: int, batch_size: int, model: nn.Module,
                verbose: bool) -> None:
    eps = [0.0, 0.05, 0.1, 0.2]
    print("\nRobust accuracy of the standard model (attacks run in Rust):")
    print(robustness(model, test, ["fgsm", "pgd"], eps=eps))
    robust_model = _model()
    opt = optim.Adam(robust_model.parameters(), lr=2e-3)
    print("\nFast adversarial training (FGSM from a random start, eps 0.1, alpha 0.125):")
    robust_model.fit(train, epochs=epochs, batch_size=batch_size, optimizer=opt,
                     schedule=optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs),
                     adversarial=FastAT(robust_model, eps=0.1, alpha=0.125), val=test,
                     val_attack=PGD(robust_model, eps=0.1, alpha=0.025, steps=10), verbose=verbose)
    print("\nRobust accuracy after adversarial training:")
    print(robustness(robust_model, test, ["fgsm", "pgd"], eps=eps))
