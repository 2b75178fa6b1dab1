"""LGV (Gubri et al., 2022): a transfer attack from a surrogate of weights collected along a
high-learning-rate SGD run, with torchattacks' names and defaults."""

from __future__ import annotations

import copy
from typing import Any, Optional

import numpy as np

from .. import nn
from ..training.inputs import as_dataset
from .base import Attack, AttackResult
from .gradient import BIM


class _CyclingEnsemble(nn.Module):
    """The mean logits of ``n_grad`` members per forward pass, taken in turn from an order
    reshuffled after each pass through all of them (all members when ``n_grad`` covers them)."""

    def __init__(self, members: list[Any], n_grad: int, seed: int) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.n_grad = n_grad
        self._rng = np.random.default_rng(seed)
        self._queue: list[int] = []

    def _next_members(self) -> list[int]:
        if self.n_grad >= len(self.members):
            return list(range(len(self.members)))
        chosen: list[int] = []
        while len(chosen) < self.n_grad:
            if not self._queue:
                self._queue = [int(i) for i in self._rng.permutation(len(self.members))]
            chosen.append(self._queue.pop(0))
        return chosen

    def forward(self, x: Any) -> Any:
        chosen = self._next_members()
        total = self.members[chosen[0]](x)
        for i in chosen[1:]:
            total = total + self.members[i](x)
        return total / len(chosen) if len(chosen) > 1 else total


class LGV(Attack):
    """LGV, "large geometric vicinity" (Gubri et al., 2022; torchattacks' LGV): a copy of
    ``model`` is trained on ``trainloader`` (a Dataset, DataLoader or ``(X, y)`` arrays; batches
    of ``train_batch_size`` unless it is a DataLoader) by SGD with a high constant learning rate
    ``lr`` (momentum 0.9, weight decay ``wd``) for ``epochs`` epochs, and ``nb_models_epoch``
    copies of its weights are collected per epoch. ``attack_class`` (BIM by default, with
    ``eps``, ``alpha``, ``steps`` and any other ``attack_kwargs``) then attacks the collection,
    each gradient through ``n_grad`` of its members in a shuffled cycle. The examples are meant to
    transfer: the result's predictions and ``success`` are ``model``'s. ``model`` itself is not
    changed; the collection is built on the first call (or by :meth:`collect_models`) and kept in
    ``models`` (:meth:`load_models` takes one made elsewhere)."""

    def __init__(self, model: Any, trainloader: Any, lr: float = 0.05, epochs: int = 10, nb_models_epoch: int = 4,
                 wd: float = 1e-4, n_grad: int = 1, verbose: bool = True, attack_class: type = BIM,
                 eps: float = 4 / 255, alpha: float = 4 / 255 / 10, steps: int = 50, train_batch_size: int = 64,
                 seed: int = 0, batch_size: int = 256, **attack_kwargs: Any) -> None:
        super().__init__(model, eps, seed=seed, batch_size=batch_size)
        if not lr > 0 or epochs < 1 or nb_models_epoch < 1 or not wd >= 0 or n_grad < 1 or train_batch_size < 1:
            raise ValueError(f"LGV: expected lr > 0, epochs >= 1, nb_models_epoch >= 1, wd >= 0, n_grad >= 1 and "
                             f"train_batch_size >= 1, got {lr}, {epochs}, {nb_models_epoch}, {wd}, {n_grad} and "
                             f"{train_batch_size}")
        self.trainloader, self.lr, self.epochs, self.nb_models_epoch = trainloader, float(lr), int(epochs), int(nb_models_epoch)
        self.wd, self.n_grad, self.verbose, self.attack_class = float(wd), int(n_grad), verbose, attack_class
        self.train_batch_size = int(getattr(trainloader, "batch_size", None) or train_batch_size)
        self.attack_kwargs = dict(eps=eps, alpha=alpha, steps=steps, **attack_kwargs)
        self.models: list[Any] = []

    def collect_models(self) -> list[Any]:
        """Trains a copy of the model with SGD at the high learning rate and collects
        ``nb_models_epoch`` snapshots per epoch (each after its share of the epoch's batches)."""
        from ..optim import SGD

        data = self.trainloader
        data = getattr(data, "dataset", data)
        ds = as_dataset(data, "trainloader", "LGV")
        surrogate = copy.deepcopy(self.model)
        surrogate.train()
        optimizer = SGD(surrogate.parameters(), lr=self.lr, momentum=0.9, weight_decay=self.wd)
        share = len(ds) // self.nb_models_epoch
        if share < 1:
            raise ValueError(f"LGV: argument `trainloader` expected at least nb_models_epoch={self.nb_models_epoch} "
                             f"samples, got {len(ds)}")
        order = np.random.default_rng(self.seed)
        self.models = []
        for epoch in range(self.epochs):
            permutation = order.permutation(len(ds))
            for k in range(self.nb_models_epoch):
                part = ds.subset(permutation[k * share:(k + 1) * share].tolist())
                surrogate.fit(part, epochs=1, batch_size=self.train_batch_size, optimizer=optimizer, shuffle=False,
                              verbose=False)
                snapshot = copy.deepcopy(surrogate)
                snapshot.eval()
                self.models.append(snapshot)
            if self.verbose:
                print(f"LGV: epoch {epoch + 1}/{self.epochs}, {len(self.models)} models collected")
        return self.models

    def load_models(self, models: list[Any]) -> None:
        """Uses ``models`` (e.g. collected by another LGV) as the collection."""
        if not models:
            raise ValueError("LGV: argument `models` expected a non-empty list of models")
        self.models = list(models)

    def _options(self) -> dict[str, Any]:
        return dict(lr=self.lr, epochs=self.epochs, nb_models_epoch=self.nb_models_epoch, n_grad=self.n_grad,
                    attack=self.attack_class.__name__)

    def __call__(self, data: Any, labels: Optional[np.ndarray] = None, targets: Optional[np.ndarray] = None) -> AttackResult:
        """Attacks ``data`` (a Dataset, ``(X, y)`` arrays, or ``X`` with ``labels``) through the
        collection; predictions and success are the original model's."""
        if not self.models:
            self.collect_models()
        if isinstance(data, np.ndarray):
            if labels is None:
                raise ValueError("LGV: pass `labels` with an array of inputs")
            data = (data, np.asarray(labels))
        ds = as_dataset(data, "data", "LGV")
        goal = np.asarray(targets, dtype=np.int64) if targets is not None else self._mode_targets(ds)
        surrogate = _CyclingEnsemble(self.models, self.n_grad, self.seed)
        inner = self.attack_class(surrogate, seed=self.seed, batch_size=self.batch_size, **self.attack_kwargs)
        if self._normalization is not None:
            inner.set_normalization_used(*self._normalization)
        crafted = inner(ds, targets=goal)
        model = self.attacked_model
        clean = model.predict(crafted.inputs, batch_size=self.batch_size).argmax(1)
        adversarial = model.predict(crafted.adversarial, batch_size=self.batch_size).argmax(1)
        success = adversarial == goal if goal is not None else adversarial != crafted.labels
        raw = {"adversarial": crafted.adversarial, "labels": crafted.labels, "clean_predictions": clean,
               "adversarial_predictions": adversarial, "success": success}
        return AttackResult(raw, crafted.inputs, goal is not None)
