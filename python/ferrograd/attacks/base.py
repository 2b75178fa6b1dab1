"""The Attack base class and its result."""

from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Optional, Sequence

import numpy as np

from .. import _core
from ..training.inputs import as_dataset, make_loader


class AttackResult:
    """What an attack produced, in input order: ``adversarial`` inputs, ``labels``,
    ``clean_predictions``, ``adversarial_predictions`` and ``success`` (misclassified, or classified
    as the target in targeted mode)."""

    def __init__(self, raw: dict[str, np.ndarray], inputs: np.ndarray, targeted: bool) -> None:
        self.adversarial: np.ndarray = raw["adversarial"]
        self.labels: np.ndarray = raw["labels"]
        self.clean_predictions: np.ndarray = raw["clean_predictions"]
        self.adversarial_predictions: np.ndarray = raw["adversarial_predictions"]
        self.success: np.ndarray = raw["success"]
        self.inputs = inputs
        self.targeted = targeted

    @property
    def clean_accuracy(self) -> float:
        """Accuracy on the unperturbed inputs."""
        return float((self.clean_predictions == self.labels).mean()) if len(self.labels) else 0.0

    @property
    def robust_accuracy(self) -> float:
        """Accuracy on the adversarial inputs."""
        return float((self.adversarial_predictions == self.labels).mean()) if len(self.labels) else 0.0

    @property
    def success_rate(self) -> float:
        """Fraction of samples the attack succeeded on (misclassified, or classified as the target)."""
        return float(self.success.mean()) if len(self.success) else 0.0

    @property
    def perturbation(self) -> np.ndarray:
        """``adversarial - inputs``."""
        return self.adversarial - self.inputs

    def norms(self, p: float = np.inf) -> np.ndarray:
        """Per-sample Lp norm of the perturbation (``p`` = inf, 2 or 1)."""
        flat = self.perturbation.reshape(len(self.labels), -1)
        return np.linalg.norm(flat, ord=p, axis=1)

    def __repr__(self) -> str:
        return (f"AttackResult(n={len(self.labels)}, clean_accuracy={self.clean_accuracy:.4f}, "
                f"robust_accuracy={self.robust_accuracy:.4f}, success_rate={self.success_rate:.4f})")


class Attack:
    """Base class of the attacks. Subclasses set the loop's options in ``_options``. Common
    arguments: ``bounds`` of the inputs, the ``seed`` of random starts, ``batch_size``, and
    ``eot_iter``: gradients averaged over that many passes (EOT, for randomised models).

    On a GPU the projected-gradient attacks (PGD, BIM, R-FGSM, and those inside ``fit(adversarial=...)``)
    replay each restart's steps as a CUDA graph after the first (a randomised model draws fresh
    numbers on every replay); set ``cuda_graphs = False`` on an attack to run every step op by op."""

    norm = "linf"
    #: Replay projected-gradient steps as CUDA graphs on a GPU.
    cuda_graphs = True
    #: Score-based attacks that read only outputs (the report compares them with white-box ones).
    black_box = False

    def __init__(self, model: Any, eps: float, bounds: tuple[float, float] = (0.0, 1.0), seed: int = 0,
                 batch_size: int = 256, eot_iter: int = 1) -> None:
        if not eps >= 0:
            raise ValueError(f"{type(self).__name__}: argument `eps` expected a value >= 0, got {eps}")
        if eot_iter < 1:
            raise ValueError(f"{type(self).__name__}: argument `eot_iter` expected >= 1, got {eot_iter}")
        self.model, self.eps, self.bounds, self.seed, self.batch_size = model, float(eps), bounds, seed, batch_size
        self.eot_iter = eot_iter
        self._normalization: Optional[tuple[list[float], list[float]]] = None
        self._target_mode: tuple[str, Any] = ("default", None)

    # -- torchattacks' settings -------------------------------------------------------------------

    def set_normalization_used(self, mean: Sequence[float], std: Sequence[float]) -> None:
        """Declares that ``model`` expects inputs normalised per channel by ``mean`` and ``std``:
        the attack then perturbs inputs in ``bounds`` and normalises them before the model (the
        same as putting :class:`ferrograd.nn.Normalize` first in the model)."""
        from ..nn import Normalize

        Normalize(mean, std)  # validates the statistics
        self._normalization = ([float(m) for m in mean], [float(s) for s in std])

    @property
    def attacked_model(self) -> Any:
        """The model the attack differentiates: ``model``, behind the normalisation declared with
        :meth:`set_normalization_used`."""
        if self._normalization is None:
            return self.model
        from ..nn import Normalize, Sequential

        wrapped = Sequential(Normalize(*self._normalization), self.model)
        wrapped.training = self.model.training
        return wrapped

    def set_mode_default(self) -> None:
        """Untargeted attacks (the default) unless ``targets=`` is passed."""
        self._target_mode = ("default", None)

    def set_mode_targeted_random(self, seed: int = 0) -> None:
        """Targeted toward a class drawn uniformly among those other than the label (seeded)."""
        self._target_mode = ("random", int(seed))

    def set_mode_targeted_least_likely(self, kth_min: int = 1) -> None:
        """Targeted toward the ``kth_min``-th least likely class of the model's clean prediction."""
        if kth_min < 1:
            raise ValueError(f"{type(self).__name__}: argument `kth_min` expected >= 1, got {kth_min}")
        self._target_mode = ("least_likely", int(kth_min))

    def set_mode_targeted_by_function(self, target_map_function: Callable[[np.ndarray, np.ndarray], Any]) -> None:
        """Targeted toward ``target_map_function(inputs, labels)`` (numpy arrays in, one class per
        sample out)."""
        if not callable(target_map_function):
            raise ValueError(f"{type(self).__name__}: argument `target_map_function` expected a callable, got "
                             f"{type(target_map_function).__name__}")
        self._target_mode = ("function", target_map_function)

    @property
    def targeted(self) -> bool:
        """Whether a targeted mode is set (``targets=`` makes any single call targeted too)."""
        return self._target_mode[0] != "default"

    def _mode_targets(self, ds: Any) -> Optional[np.ndarray]:
        """The targets the targeted mode picks for ``ds``, or None in the default mode."""
        mode, arg = self._target_mode
        if mode == "default":
            return None
        inputs, labels = ds.get_batch(list(range(len(ds))))
        labels = np.asarray(labels, dtype=np.int64)
        if mode == "function":
            return np.asarray(arg(np.asarray(inputs), labels), dtype=np.int64)
        logits = self.attacked_model.predict(ds)
        classes = logits.shape[1]
        if mode == "random":
            # A uniform draw among the other classes: label + 1 + U{0 .. classes - 2}, wrapped.
            offsets = np.random.default_rng(arg).integers(0, classes - 1, len(labels))
            return (labels + 1 + offsets) % classes
        return np.argsort(logits, axis=1, kind="stable")[:, arg - 1]

    def save(self, data: Any, path: str, labels: Optional[np.ndarray] = None) -> AttackResult:
        """Attacks ``data`` and writes the adversarial inputs, labels and adversarial predictions
        to ``path`` as a ``.npz`` archive (through a temporary file, renamed once complete)."""
        result = self(data, labels)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, adversarial=result.adversarial, labels=result.labels,
                         adversarial_predictions=result.adversarial_predictions, success=result.success)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        return result

    def _options(self) -> dict[str, Any]:
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """The loop's options (eps, alpha, steps, norm, start, ... bounds and eot), as the Rust side reads them."""
        return self._options() | {"bounds": tuple(self.bounds), "eot": self.eot_iter, "cuda_graphs": bool(self.cuda_graphs)}

    def __call__(self, data: Any, labels: Optional[np.ndarray] = None, targets: Optional[np.ndarray] = None) -> AttackResult:
        """Attacks ``data``: a Dataset, ``(X, y)`` arrays, or an array ``X`` with ``labels``.
        ``targets`` (one class per sample) makes the attack targeted."""
        if isinstance(data, np.ndarray):
            if labels is None:
                raise ValueError(f"{type(self).__name__}: pass `labels` with an array of inputs")
            data = (data, np.asarray(labels))
        ds = as_dataset(data, "data", type(self).__name__)
        loader = make_loader(ds, "data", type(self).__name__, self.batch_size, False, 0, [])
        target_list = None
        if targets is not None:
            t = np.asarray(targets, dtype=np.int64)
            if t.shape != (len(ds),):
                raise ValueError(f"{type(self).__name__}: argument `targets` expected shape ({len(ds)},), got {t.shape}")
            target_list = t.tolist()
        mode_targets = self._mode_targets(ds) if target_list is None else None
        if mode_targets is not None:
            target_list = mode_targets.tolist()
        was_training = self.model.training
        attacked = self.attacked_model
        attacked.eval()
        try:
            raw = _core.attack(attacked._loop_layer(), loader, self.options(), targets=target_list, seed=self.seed)
        finally:
            self.model.train(was_training)
        inputs, _ = ds.get_batch(list(range(len(ds))))
        return AttackResult(raw, np.asarray(inputs), target_list is not None)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self._options().items())
        return f"{type(self).__name__}({opts})"
