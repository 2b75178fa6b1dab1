"""Feature attributions (``ferrograd.attribution``), with Captum's class names and arguments:
which input features, or which channels of a layer, a model's output for a target class rests on.

- :class:`Saliency`: the input gradient of the target's score (its absolute value by default).
- :class:`InputXGradient`: input times gradient.
- :class:`IntegratedGradients` (Sundararajan et al., 2017): ``(x - x') ∫ ∇f(x' + α (x - x')) dα``
  over the straight path from a baseline ``x'``, by a quadrature rule (Gauss-Legendre or Riemann
  sums); the attributions add up to ``f(x) - f(x')`` up to the quadrature error, which
  ``return_convergence_delta`` reports.
- :class:`NoiseTunnel`: any of these averaged over noisy copies of the input (SmoothGrad, its
  squared form, VarGrad).
- :class:`LayerGradCam` (Selvaraju et al., 2017): a layer's activations weighted by the spatial
  mean of their gradients, summed over channels, through a ReLU.

Each computes input gradients with :func:`ferrograd.autograd.grad` (parameters' ``.grad`` stay
untouched), in batches of ``internal_batch_size`` scaled inputs where a method evaluates many."""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np

from ._core import Tensor, cat
from .autograd import grad, no_grad

Target = Union[None, int, Any]


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def _target_scores(output: Tensor, target: Target) -> Tensor:
    """The output entry each sample is attributed for: ``target`` (an int, or one per sample),
    or the whole output when it has one entry per sample."""
    if output.ndim == 1:
        return output
    if target is None:
        if output.shape[1] != 1:
            raise ValueError(f"attribution: argument `target` is needed for an output of shape {list(output.shape)}")
        return output[:, 0]
    classes = np.broadcast_to(np.asarray(target.numpy() if isinstance(target, Tensor) else target, dtype=np.int64),
                              (output.shape[0],))
    index = Tensor.from_numpy(np.ascontiguousarray(classes).reshape(-1, 1)).to(output.device)
    return output.gather(1, index).reshape(-1)


def _input_gradient(model: Any, x: Tensor, target: Target) -> Tensor:
    """The gradient of each sample's target score with respect to its input."""
    leaf = x.detach()
    leaf.requires_grad = True
    (g,) = grad(_target_scores(model(leaf), target).sum(), leaf)
    assert g is not None
    return g


class Saliency:
    """The input gradient of the target's score (Simonyan et al., 2014); ``abs=True`` (the
    default) returns its magnitude."""

    def __init__(self, forward_func: Any) -> None:
        self.forward_func = forward_func

    def attribute(self, inputs: Any, target: Target = None, abs: bool = True) -> Tensor:
        """Attributions shaped like ``inputs`` ([N, ...])."""
        g = _input_gradient(self.forward_func, _as_tensor(inputs), target)
        return g.abs() if abs else g


class InputXGradient:
    """``inputs * gradient`` of the target's score."""

    def __init__(self, forward_func: Any) -> None:
        self.forward_func = forward_func

    def attribute(self, inputs: Any, target: Target = None) -> Tensor:
        """Attributions shaped like ``inputs``."""
        x = _as_tensor(inputs)
        return x.detach() * _input_gradient(self.forward_func, x, target)


def _quadrature(method: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Points α in [0, 1] and weights of a rule for ∫_0^1: Gauss-Legendre, or Riemann sums
    (left, right, middle, trapezoid), as Captum names them."""
    if n_steps < 1:
        raise ValueError(f"IntegratedGradients: argument `n_steps` expected >= 1, got {n_steps}")
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n_steps)
        return (nodes + 1.0) / 2.0, weights / 2.0
    if method == "riemann_trapezoid":
        if n_steps < 2:
            raise ValueError("IntegratedGradients: the trapezoid rule needs n_steps >= 2")
        alphas = np.linspace(0.0, 1.0, n_steps)
        weights = np.full(n_steps, 1.0 / (n_steps - 1))
        weights[[0, -1]] /= 2.0
        return alphas, weights
    offsets = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}
    if method not in offsets:
        raise ValueError(f"IntegratedGradients: argument `method` expected 'gausslegendre', 'riemann_left', "
                         f"'riemann_right', 'riemann_middle' or 'riemann_trapezoid', got {method!r}")
    return (np.arange(n_steps) + offsets[method]) / n_steps, np.full(n_steps, 1.0 / n_steps)


class IntegratedGradients:
    """Integrated gradients along the straight path from ``baselines`` (zeros by default) to the
    inputs, by ``method``'s quadrature with ``n_steps`` points."""

    def __init__(self, forward_func: Any) -> None:
        self.forward_func = forward_func

    def attribute(self, inputs: Any, baselines: Any = None, target: Target = None, n_steps: int = 50,
                  method: str = "gausslegendre", internal_batch_size: Optional[int] = None,
                  return_convergence_delta: bool = False) -> Any:
        """Attributions shaped like ``inputs``; with ``return_convergence_delta`` also, per
        sample, ``sum(attributions) - (f(x) - f(baseline))`` for the target's score."""
        x = _as_tensor(inputs).detach()
        base = x * 0.0 if baselines is None else _as_tensor(baselines).detach() + x * 0.0
        alphas, weights = _quadrature(method, n_steps)
        n = int(x.shape[0])
        chunk = max(1, (internal_batch_size or n * n_steps) // max(n, 1))
        total: Optional[Tensor] = None
        for start in range(0, n_steps, chunk):
            part = range(start, min(start + chunk, n_steps))
            points = cat([base + (x - base) * float(alphas[i]) for i in part], 0)
            g = _input_gradient(self.forward_func, points, _repeat_target(target, len(part), n))
            for k, i in enumerate(part):
                term = g[k * n:(k + 1) * n] * float(weights[i])
                total = term if total is None else total + term
        assert total is not None
        attributions = (x - base) * total
        if not return_convergence_delta:
            return attributions
        with no_grad():
            ends = _target_scores(self.forward_func(x), target) - _target_scores(self.forward_func(base), target)
        delta = attributions.reshape(n, -1).sum(1) - ends
        return attributions, delta


def _repeat_target(target: Target, copies: int, n: int) -> Target:
    """``target`` for ``copies`` stacked copies of an ``n``-sample batch."""
    if target is None or isinstance(target, (int, np.integer)):
        return target
    per_sample = np.broadcast_to(np.asarray(target.numpy() if isinstance(target, Tensor) else target), (n,))
    return np.tile(per_sample, copies)


class NoiseTunnel:
    """Averages another method's attributions over ``nt_samples`` copies of the input with
    Gaussian noise of std ``stdevs``: ``"smoothgrad"`` (the mean), ``"smoothgrad_sq"`` (the mean
    of squares) or ``"vargrad"`` (the variance). The noise comes from the global generator."""

    def __init__(self, attribution_method: Any) -> None:
        self.attribution_method = attribution_method

    def attribute(self, inputs: Any, nt_type: str = "smoothgrad", nt_samples: int = 5, stdevs: float = 1.0,
                  **kwargs: Any) -> Tensor:
        """Attributions shaped like ``inputs``; ``kwargs`` go to the wrapped method."""
        from . import randn

        if nt_type not in ("smoothgrad", "smoothgrad_sq", "vargrad"):
            raise ValueError(f"NoiseTunnel: argument `nt_type` expected 'smoothgrad', 'smoothgrad_sq' or 'vargrad', "
                             f"got {nt_type!r}")
        if nt_samples < 1:
            raise ValueError(f"NoiseTunnel: argument `nt_samples` expected >= 1, got {nt_samples}")
        x = _as_tensor(inputs).detach()
        total: Optional[Tensor] = None
        squares: Optional[Tensor] = None
        for _ in range(nt_samples):
            noisy = x + randn(*x.shape, device=str(x.device)) * float(stdevs)
            a = self.attribution_method.attribute(noisy, **kwargs)
            total = a if total is None else total + a
            squares = a * a if squares is None else squares + a * a
        assert total is not None and squares is not None
        mean, mean_sq = total / float(nt_samples), squares / float(nt_samples)
        return {"smoothgrad": mean, "smoothgrad_sq": mean_sq, "vargrad": mean_sq - mean * mean}[nt_type]


class LayerGradCam:
    """Grad-CAM for ``layer`` (a module inside ``forward_func``): the layer's output activations
    [N, C, ...] weighted per channel by the spatial mean of the target score's gradient with
    respect to them, summed over channels, through a ReLU (``relu_attributions``, on by default
    as in the paper). The map has the layer's spatial shape; upsample it to overlay the input."""

    def __init__(self, forward_func: Any, layer: Any) -> None:
        self.forward_func, self.layer = forward_func, layer

    def attribute(self, inputs: Any, target: Target = None, relu_attributions: bool = True) -> Tensor:
        """The class-activation map, [N, 1, *spatial] of the layer's output."""
        seen: list[Tensor] = []
        handle = self.layer.register_forward_hook(lambda module, args, output: seen.append(output))
        try:
            leaf = _as_tensor(inputs).detach()
            leaf.requires_grad = True
            scores = _target_scores(self.forward_func(leaf), target)
        finally:
            handle.remove()
        if not seen:
            raise ValueError("LayerGradCam: the layer did not run in the forward pass")
        activations = seen[-1]
        if activations.ndim < 3:
            raise ValueError(f"LayerGradCam: expected layer outputs [N, C, ...], got {list(activations.shape)}")
        (g,) = grad(scores.sum(), activations)
        assert g is not None
        spatial = tuple(range(2, activations.ndim))
        weights = g.mean(spatial, keepdim=True)
        cam = (weights * activations.detach()).sum(1, keepdim=True)
        return cam.relu() if relu_attributions else cam
