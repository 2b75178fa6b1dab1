"""PGD against randomized-smoothing classifiers (SmoothAdv), with torchattacks' names and
defaults. The noisy copies, their mean softmax and every step run in the Rust attack loop."""

from __future__ import annotations

from typing import Any, Optional

from .gradient import PGD

#: torchattacks spells the Gaussian noise "guassian"; both spellings are accepted.
_NOISE_TYPES = {"gaussian": "gaussian", "guassian": "gaussian", "uniform": "uniform"}


class PGDRS(PGD):
    """PGD on the smoothed classifier (Salman et al., 2019: SmoothAdv; torchattacks' PGDRS), under
    L∞. Each step sees every sample through ``noise_batch_size`` copies of its point clamped to
    the bounds plus noise (``noise_type`` "gaussian": ``noise_sd * N(0, I)``; "uniform": uniform
    in ``[-noise_sd, noise_sd]``), and ascends the cross-entropy of the copies' mean softmax, the
    smoothed classifier's soft vote. As in the published code the iterate starts at the input, is
    projected onto the ε-ball only, and is clamped to the bounds at the end.

    The result's predictions and ``success`` are the base model's on the final point; evaluate
    the smoothed classifier itself with :class:`Smooth`. ``batch_max`` caps the noisy copies per
    forward pass (batches of ``batch_max // noise_batch_size`` samples) unless ``batch_size`` is
    given."""

    def __init__(self, model: Any, eps: float = 8 / 255, alpha: float = 2 / 255, steps: int = 10,
                 noise_type: str = "gaussian", noise_sd: float = 0.5, noise_batch_size: int = 5,
                 batch_max: int = 2048, batch_size: Optional[int] = None, **kw: Any) -> None:
        name = type(self).__name__
        if noise_type not in _NOISE_TYPES:
            raise ValueError(f"{name}: argument `noise_type` expected 'gaussian' or 'uniform', got {noise_type!r}")
        if not noise_sd >= 0:
            raise ValueError(f"{name}: argument `noise_sd` expected a value >= 0, got {noise_sd}")
        if noise_batch_size < 1:
            raise ValueError(f"{name}: argument `noise_batch_size` expected >= 1, got {noise_batch_size}")
        if batch_size is None:
            if batch_max < 1:
                raise ValueError(f"{name}: argument `batch_max` expected >= 1, got {batch_max}")
            batch_size = max(1, batch_max // noise_batch_size)
        super().__init__(model, eps, alpha, steps, random_start=False, batch_size=batch_size, **kw)
        self.noise_type, self.noise_sd = _NOISE_TYPES[noise_type], float(noise_sd)
        self.noise_batch_size = int(noise_batch_size)

    def _options(self) -> dict[str, Any]:
        return super()._options() | {"smoothed": (self.noise_type, self.noise_sd, self.noise_batch_size)}


class PGDRSL2(PGDRS):
    """:class:`PGDRS` under L2: steps along the L2-normalised gradient, the iterate projected onto
    the L2 ball of radius ``eps``."""

    norm = "l2"

    def __init__(self, model: Any, eps: float = 1.0, alpha: float = 0.2, steps: int = 10,
                 noise_type: str = "gaussian", noise_sd: float = 0.5, noise_batch_size: int = 5,
                 batch_max: int = 2048, **kw: Any) -> None:
        super().__init__(model, eps, alpha, steps, noise_type, noise_sd, noise_batch_size, batch_max, **kw)
