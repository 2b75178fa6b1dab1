"""More activations and losses of ``torch.nn.functional``, composed from ferrograd's existing
differentiable ops (values and gradients follow PyTorch's formulas). Re-exported by
:mod:`ferrograd.functional`."""

from __future__ import annotations

import math
from typing import Callable, Optional, Union

import numpy as np

from . import _core
from ._composite_activations import elu, logsigmoid
from ._core import Tensor
from ._generator import Generator, uniform
from .tensor_in_place import in_place_result
from .tensor_methods import _axis

__all__ = [
    "selu", "celu", "glu", "softmin", "gumbel_softmax", "hardshrink", "softshrink", "tanhshrink", "threshold",
    "rrelu", "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "multi_margin_loss", "pairwise_distance", "triplet_margin_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "triplet_margin_with_distance_loss", "multilabel_margin_loss",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _reduce(op: str, loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"{op}: argument `reduction` expected one of 'none', 'mean', 'sum', got {reduction!r}")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{op}: argument `reduction` expected one of 'none', 'mean', 'sum', got {reduction!r}")


def _same_shape(op: str, name: str, t: Tensor, like_name: str, like: Tensor) -> None:
    if list(t.shape) != list(like.shape):
        raise ValueError(f"{op}: argument `{name}` expected the shape of `{like_name}`, {list(like.shape)}, got "
                         f"{list(t.shape)}")


# ---------------------------------------------------------------- activations


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with SELU's fixed ``alpha`` ≈ 1.6733 and ``scale`` ≈ 1.0507."""
    return in_place_result(input, elu(input, _SELU_ALPHA) * _SELU_SCALE, inplace, "selu")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``, i.e. ``alpha * elu(x / alpha)``."""
    if alpha == 0:
        raise ValueError("celu: argument `alpha` expected a nonzero value, got 0")
    return in_place_result(input, elu(input / alpha) * alpha, inplace, "celu")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the two halves of ``input``
    along ``dim`` (whose size must be even)."""
    if input.ndim == 0:
        raise ValueError("glu: argument `input` expected at least 1 dimension, got a 0-d tensor")
    axis = _axis(input, dim, "glu")
    if input.shape[axis] % 2:
        raise ValueError(f"glu: argument `input` expected an even size along dim {dim}, got shape {list(input.shape)}")
    a, b = input.chunk(2, axis)
    return a * b.sigmoid()


def softmin(input: Tensor, dim: Optional[int] = None) -> Tensor:
    """``softmax(-x)`` along ``dim``; ``dim=None`` picks PyTorch's legacy axis (0 for 0-, 1- and
    3-d inputs, else 1)."""
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    _axis(input, dim, "softmin")
    return _core.softmax(-input, dim, False)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1, *,
                   generator: Optional[Generator] = None) -> Tensor:
    """``softmax((logits + g) / tau)`` along ``dim`` with Gumbel(0, 1) noise ``g`` drawn from the
    seeded global generator (``ferrograd.manual_seed``) or ``generator``. ``hard=True`` returns
    one-hot rows whose gradient is the soft sample's (straight-through: ``y_hard - y_soft.detach()
    + y_soft``). ``eps`` is accepted for PyTorch code and unused, as in PyTorch."""
    if not tau > 0:
        raise ValueError(f"gumbel_softmax: argument `tau` expected a value > 0, got {tau!r}")
    axis = _axis(logits, dim, "gumbel_softmax")
    u = uniform("gumbel_softmax", generator, list(logits.shape), device=str(logits.device))
    if u.dtype != logits.dtype:
        u = u.to(logits.dtype)
    # -log(-log(u)) is Gumbel(0, 1); u = 0 is lifted to the smallest normal float32.
    gumbels = -((-(u.clamp(1.1754944e-38, None).log())).log())
    y_soft = _core.softmax((logits + gumbels) / tau, axis, False)
    if not hard:
        return y_soft
    index = y_soft.argmax(axis, keepdim=True)
    y_hard = _core.full(list(logits.shape), 0.0, y_soft.dtype, str(y_soft.device), False).scatter(axis, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0."""
    return _core.where_(input.abs() > lambd, input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0 (``lambd >= 0``)."""
    if not lambd >= 0:
        raise ValueError(f"softshrink: argument `lambd` expected a value >= 0, got {lambd!r}")
    return _core.where_(input > lambd, input - lambd, _core.where_(input < -lambd, input + lambd, 0.0))


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``."""
    return in_place_result(input, _core.where_(input > threshold, input, float(value)), inplace, "threshold")


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False, *, generator: Optional[Generator] = None) -> Tensor:
    """Randomized leaky ReLU: ``x`` for x > 0, else ``a * x``. In training each element draws its
    slope ``a`` uniformly from [lower, upper) (from the seeded generator, or ``generator``);
    otherwise ``a = (lower + upper) / 2``."""
    if not lower <= upper:
        raise ValueError(f"rrelu: arguments `lower` and `upper` expected lower <= upper, got {lower} and {upper}")
    if not training:
        return in_place_result(input, input.leaky_relu((lower + upper) / 2), inplace, "rrelu")
    slopes = uniform("rrelu", generator, list(input.shape), lower, upper, device=str(input.device))
    if slopes.dtype != input.dtype:
        slopes = slopes.to(input.dtype)
    return in_place_result(input, _core.where_(input > 0, input, input * slopes), inplace, "rrelu")


# ---------------------------------------------------------------- losses


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)`` with ``target`` in {1, -1}."""
    _check_reduction("margin_ranking_loss", reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(f"margin_ranking_loss: arguments `input1`, `input2` and `target` expected the same number of "
                         f"dimensions, got shapes {list(input1.shape)}, {list(input2.shape)} and {list(target.shape)}")
    return _reduce("margin_ranking_loss", (-target * (input1 - input2) + margin).relu(), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """``x`` where ``target == 1``, ``max(0, margin - x)`` where ``target == -1`` (PyTorch's form:
    other target values get both terms)."""
    _check_reduction("hinge_embedding_loss", reduction)
    margin_term = _core.where_(target != 1, (margin - input).relu(), 0.0)
    self_term = _core.where_(target != -1, input, 0.0)
    return _reduce("hinge_embedding_loss", margin_term + self_term, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``target == -1``; ``cos`` along the last axis of 1-d or 2-d inputs, with PyTorch's 1e-12 added
    to each squared norm."""
    _check_reduction("cosine_embedding_loss", reduction)
    if input1.ndim not in (1, 2) or list(input1.shape) != list(input2.shape):
        raise ValueError(f"cosine_embedding_loss: arguments `input1` and `input2` expected 1-d or 2-d tensors of "
                         f"one shape, got {list(input1.shape)} and {list(input2.shape)}")
    if target.ndim != input1.ndim - 1:
        raise ValueError(f"cosine_embedding_loss: argument `target` expected a {input1.ndim - 1}-d tensor, got shape "
                         f"{list(target.shape)}")
    dim = input1.ndim - 1
    dot = (input1 * input2).sum(dim)
    mag = ((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)
    cos = dot / mag.sqrt()
    pos = _core.where_(target == 1, 1.0 - cos, 0.0)
    neg = _core.where_(target == -1, (cos - margin).relu(), 0.0)
    return _reduce("cosine_embedding_loss", pos + neg, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-target * input))``, computed as a softplus."""
    _check_reduction("soft_margin_loss", reduction)
    _same_shape("soft_margin_loss", "target", target, "input", input)
    return _reduce("soft_margin_loss", (-target * input).softplus(1.0, 20.0), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Optional[Tensor] = None,
                                reduction: str = "mean") -> Tensor:
    """Per-class binary logistic loss ``-(y log σ(x) + (1 - y) log σ(-x))`` (times ``weight``),
    averaged over the last (class) axis, then reduced over the batch."""
    _check_reduction("multilabel_soft_margin_loss", reduction)
    _same_shape("multilabel_soft_margin_loss", "target", target, "input", input)
    if input.ndim == 0:
        raise ValueError("multilabel_soft_margin_loss: argument `input` expected at least 1 dimension, got a 0-d tensor")
    loss = -(target * logsigmoid(input) + (1.0 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce("multilabel_soft_margin_loss", loss, reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0, weight: Optional[Tensor] = None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: for each sample, ``sum_{i != y} w[y] * max(0, margin - x[y] +
    x[i])**p / C`` over ``input`` [N, C] (or [C]) and int64 class indices ``target`` [N] (or [])."""
    _check_reduction("multi_margin_loss", reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: argument `p` expected 1 or 2, got {p!r}")
    if input.ndim not in (1, 2):
        raise ValueError(f"multi_margin_loss: argument `input` expected a [N, C] or [C] tensor, got shape "
                         f"{list(input.shape)}")
    if target.dtype != "int64":
        raise TypeError(f"multi_margin_loss: argument `target` expected int64 class indices, got {target.dtype}")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    y = target.reshape(-1)
    n, c = x.shape[0], x.shape[1]
    if y.shape[0] != n:
        raise ValueError(f"multi_margin_loss: argument `target` expected {n} class indices, got shape "
                         f"{list(target.shape)}")
    if n and not (0 <= int(y.min().item()) and int(y.max().item()) < c):
        raise ValueError(f"multi_margin_loss: argument `target` expected class indices in [0, {c}), got values in "
                         f"[{int(y.min().item())}, {int(y.max().item())}]")
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != c):
        raise ValueError(f"multi_margin_loss: argument `weight` expected shape [{c}], got {list(weight.shape)}")
    idx = y.unsqueeze(1)
    z = (x - x.gather(1, idx) + margin).relu()
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.gather(0, y).unsqueeze(1)
    own = _core.one_hot(y, c).to("int64") == 1
    loss = _core.where_(own, 0.0, z).sum(1) / c
    if input.ndim == 1:
        loss = loss.reshape([])
    return _reduce("multi_margin_loss", loss, reduction)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` along the last axis, as ``torch.nn.functional.pairwise_distance``."""
    if x1.ndim == 0 or x2.ndim == 0:
        raise ValueError(f"pairwise_distance: arguments `x1` and `x2` expected at least 1 dimension, got shapes "
                         f"{list(x1.shape)} and {list(x2.shape)}")
    return (x1 - x2 + eps).norm(p, -1, keepdim)


def _triplet_loss(op: str, distance: Callable[[Tensor, Tensor], Tensor], anchor: Tensor, positive: Tensor,
                  negative: Tensor, margin: float, swap: bool, reduction: str) -> Tensor:
    _check_reduction(op, reduction)
    if not margin > 0:
        raise ValueError(f"{op}: argument `margin` expected a value > 0, got {margin!r}")
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_swap = distance(positive, negative)
        d_neg = _core.where_(d_swap < d_neg, d_swap, d_neg)
    return _reduce(op, (margin + d_pos - d_neg).relu(), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2.0,
                        eps: float = 1e-6, swap: bool = False, reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` = :func:`pairwise_distance`; ``swap``
    uses ``min(d(a, n), d(p, n))`` for the negative distance."""
    if not anchor.ndim == positive.ndim == negative.ndim or anchor.ndim not in (1, 2):
        raise ValueError(f"triplet_margin_loss: arguments `anchor`, `positive` and `negative` expected 1-d or 2-d "
                         f"tensors of one rank, got shapes {list(anchor.shape)}, {list(positive.shape)} and "
                         f"{list(negative.shape)}")
    return _triplet_loss("triplet_margin_loss", lambda a, b: pairwise_distance(a, b, p, eps), anchor, positive,
                         negative, margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Optional[Callable[[Tensor, Tensor], Tensor]] = None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """:func:`triplet_margin_loss` with any ``distance_function(x, y)`` (default
    :func:`pairwise_distance`), as ``torch.nn.functional.triplet_margin_with_distance_loss``."""
    return _triplet_loss("triplet_margin_with_distance_loss", distance_function or pairwise_distance, anchor,
                         positive, negative, margin, swap, reduction)


def multilabel_margin_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss over ``input`` [N, C] (or [C]): each sample's target classes are
    the entries of its int64 ``target`` row before the first -1, and its loss is
    ``sum_{j target, i not} max(0, 1 - (x[j] - x[i])) / C`` (a class listed twice counts twice,
    as in PyTorch)."""
    _check_reduction("multilabel_margin_loss", reduction)
    if input.ndim not in (1, 2) or tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"multilabel_margin_loss: arguments `input` and `target` expected [N, C] (or [C]) tensors of "
                         f"one shape, got {list(input.shape)} and {list(target.shape)}")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    labels = target.detach().cpu().numpy().reshape(x.shape[0], x.shape[1]).astype(np.int64)
    n, c = labels.shape
    listed = np.zeros((n, c), dtype=np.float32)  # how often each class is listed
    for row in range(n):
        for label in labels[row]:
            if label < 0:
                break
            if label >= c:
                raise ValueError(f"multilabel_margin_loss: argument `target` expected class indices in [0, {c}) "
                                 f"before the first -1, got {label}")
            listed[row, label] += 1
    pairs = listed[:, :, None] * (listed == 0)[:, None, :]
    weight = Tensor.from_numpy(pairs).to(x.device)
    hinge = (1.0 - x.unsqueeze(2) + x.unsqueeze(1)).relu()
    loss = (hinge * weight).sum((1, 2)) / c
    return _reduce("multilabel_margin_loss", loss if input.ndim == 2 else loss.squeeze(0), reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False, eps: float = 1e-8,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood: ``exp(x) - target * x`` with ``log_input``, else ``x -
    target * log(x + eps)``; ``full`` adds Stirling's ``t log t - t + 0.5 log(2 pi t)`` where the
    target exceeds 1."""
    _check_reduction("poisson_nll_loss", reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target.clamp(1.0, None)
        stirling = t * t.log() - t + 0.5 * (2 * math.pi * t).log()
        loss = loss + _core.where_(target > 1, stirling, 0.0)
    return _reduce("poisson_nll_loss", loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Union[Tensor, float], full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Gaussian negative log-likelihood ``0.5 * (log(var) + (input - target)**2 / var)`` (plus
    ``0.5 log(2 pi)`` with ``full``); ``var`` has ``input``'s shape, that shape less its last axis
    (one variance per row), a trailing 1 there, or is a float. ``var`` is clamped at ``eps`` for
    the values only, its gradient passing through unclamped, as in PyTorch."""
    _check_reduction("gaussian_nll_loss", reduction)
    if not isinstance(var, Tensor):
        var = _core.full(list(input.shape), float(var), input.dtype, str(input.device), False)
    in_shape, v_shape = list(input.shape), list(var.shape)
    if v_shape != in_shape:
        if in_shape[:-1] == v_shape:
            var = var.unsqueeze(-1)
        elif not (in_shape[:-1] == v_shape[:-1] and v_shape[-1:] == [1]):
            raise ValueError(f"gaussian_nll_loss: argument `var` expected shape {in_shape}, {in_shape[:-1]} or "
                             f"{in_shape[:-1] + [1]}, got {v_shape}")
    if var.numel() and float(var.min().item()) < 0:
        raise ValueError(f"gaussian_nll_loss: argument `var` expected non-negative entries, got a minimum of "
                         f"{float(var.min().item())}")
    var = var + (var.clamp(eps, None) - var).detach()
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce("gaussian_nll_loss", loss, reduction)
