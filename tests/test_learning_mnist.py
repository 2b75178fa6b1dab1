"""Models trained from Python with this API must actually learn real data: MNIST, 2 epochs."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn


def _train_and_test(model: nn.Module, data: dict[str, np.ndarray], flatten: bool, epochs: int = 2, batch: int = 64) -> float:
    opt = fg.optim.Adam(model.parameters(), lr=1e-3)
    x_train, y_train = data["x_train"], data["y_train"]
    if flatten:
        x_train = x_train.reshape(len(x_train), -1)
    order_rng = np.random.default_rng(0)
    for _ in range(epochs):
        model.train()
        order = order_rng.permutation(len(x_train))
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(fg.tensor(x_train[idx])), fg.tensor(y_train[idx]))
            loss.backward()
            opt.step()
    model.eval()
    x_test = data["x_test"].reshape(len(data["x_test"]), -1) if flatten else data["x_test"]
    correct = 0
    with fg.no_grad():
        for start in range(0, len(x_test), 1000):
            pred = model(fg.tensor(x_test[start:start + 1000])).argmax(1).numpy()
            correct += int((pred == data["y_test"][start:start + 1000]).sum())
    return correct / len(x_test)


def test_mlp_learns_mnist(mnist):
    fg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    acc = _train_and_test(model, mnist, flatten=True)
    assert acc >= 0.97, f"MLP test accuracy {acc:.4f} < 0.97"


def test_small_cnn_learns_mnist(mnist):
    fg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.1), nn.Linear(512, 10),
    )
    acc = _train_and_test(model, mnist, flatten=False)
    assert acc >= 0.97, f"CNN test accuracy {acc:.4f} < 0.97"
