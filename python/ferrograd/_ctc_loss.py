"""Connectionist temporal classification loss (``F.ctc_loss``), composed from tensor ops on the
input's device: the forward (alpha) recursion of Graves et al. over the targets with blanks
between and around their labels, in log space, one step per time frame for the whole batch.
Autograd differentiates the recursion, which gives the posterior-occupation gradient the
alpha-beta pass computes.

PyTorch's own kernels return, for ``log_probs``, that gradient plus ``exp(log_probs)``, a term that
sums to one over classes and vanishes once it flows back through the ``log_softmax`` that produces
``log_probs``; here ``log_probs.grad`` is the exact partial derivative, and gradients of the
logits before a ``log_softmax`` equal PyTorch's."""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np

from ._core import Tensor, where_ as _where
from ._extra_functional import _check_reduction

Lengths = Union[Tensor, Sequence[int]]

# A finite stand-in for log(0): sums and differences of it stay finite, so gradients through
# unreachable states are 0 instead of NaN.
_LOG_ZERO = -1e30


def _host_ints(name: str, values: Lengths) -> np.ndarray:
    array = values.detach().cpu().numpy() if isinstance(values, Tensor) else np.asarray(values)
    if array.dtype.kind not in "iu" and not (array.dtype.kind == "f" and (array == np.round(array)).all()):
        raise TypeError(f"ctc_loss: argument `{name}` expected integer lengths, got dtype {array.dtype}")
    return array.astype(np.int64).reshape(-1)


def _log_sum_exp3(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
    top = a.maximum(b).maximum(c)
    return top + ((a - top).exp() + (b - top).exp() + (c - top).exp()).log()


def _shifted(alpha: Tensor, by: int) -> Tensor:
    """alpha moved ``by`` states to the right along the last axis, log(0) flowing in."""
    from . import cat, full

    filler = full((alpha.shape[0], by), _LOG_ZERO, device=alpha.device)
    return cat([filler, alpha[:, : alpha.shape[1] - by]], 1)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Lengths, target_lengths: Lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The CTC loss of ``log_probs`` (``[T, N, C]`` log-probabilities over C classes, blank
    included; ``[T, C]`` for one sequence) against ``targets`` (``[N, S]`` padded, or the
    ``target_lengths`` concatenated in one 1-D tensor), as ``torch.nn.functional.ctc_loss``:
    ``reduction='mean'`` divides each sequence's loss by its target length before averaging.
    A target that cannot fit its input length has an infinite loss (0 with ``zero_infinity``) and
    passes no gradient (PyTorch's are NaN there without ``zero_infinity``)."""
    from . import tensor

    _check_reduction("ctc_loss", reduction)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets.ndim == 1 else targets
    if log_probs.ndim != 3:
        raise ValueError(f"ctc_loss: argument `log_probs` expected shape [T, N, C] or [T, C], got "
                         f"{list(log_probs.shape)}")
    frames, batch, classes = (int(s) for s in log_probs.shape)
    if not 0 <= blank < classes:
        raise ValueError(f"ctc_loss: argument `blank` expected a class index in [0, {classes}), got {blank}")
    input_len = _host_ints("input_lengths", input_lengths)
    target_len = _host_ints("target_lengths", target_lengths)
    for name, lengths in (("input_lengths", input_len), ("target_lengths", target_len)):
        if lengths.shape != (batch,):
            raise ValueError(f"ctc_loss: argument `{name}` expected {batch} lengths (one per sequence), got "
                             f"{lengths.size}")
    if (input_len < 0).any() or (input_len > frames).any():
        raise ValueError(f"ctc_loss: argument `input_lengths` expected values in [0, {frames}], got {input_len.tolist()}")
    labels = _padded_labels(targets.detach().cpu().numpy(), target_len, batch)
    longest = labels.shape[1]
    used = labels[np.arange(longest) < target_len[:, None]]
    if used.size and ((used < 0) | (used >= classes) | (used == blank)).any():
        raise ValueError(f"ctc_loss: argument `targets` expected class indices in [0, {classes}) other than the "
                         f"blank {blank}, got values from {used.min()} to {used.max()}")
    states = 2 * longest + 1
    # The extended label sequence: blank, l1, blank, l2, ..., blank (states past a target's end
    # never feed its readout, which sits at or before them).
    extended = np.full((batch, states), blank, dtype=np.int64)
    extended[:, 1::2] = np.where(np.arange(longest) < target_len[:, None], labels, blank)
    skip = np.zeros((batch, states), dtype=bool)
    skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    device = log_probs.device
    index = tensor(extended).to(device)
    emissions = log_probs.gather(2, index.unsqueeze(0).expand(frames, batch, states))  # [T, N, S]
    may_skip = tensor(skip).to(device)
    alpha = _initial_alpha(emissions, states)
    for t in range(1, int(input_len.max(initial=0))):
        stepped = _log_sum_exp3(alpha, _shifted(alpha, 1), _where(may_skip, _shifted(alpha, 2), _LOG_ZERO))
        running = tensor((t < input_len).reshape(batch, 1)).to(device)
        alpha = _where(running, stepped + emissions[t], alpha)
    last = tensor(np.stack([2 * target_len, np.maximum(2 * target_len - 1, 0)], 1)).to(device)
    ends = alpha.gather(1, last)
    ends = _where(tensor((target_len == 0).reshape(batch, 1) & np.array([[False, True]])).to(device), _LOG_ZERO, ends)
    top = ends.max(1, keepdim=True).values
    nll = -(top + (ends - top).exp().sum(1, keepdim=True).log()).squeeze(1)
    # No path: the readout is log(0) (a target longer than its frames allow, or no frames).
    impossible = tensor((input_len == 0) | (target_len > input_len)).to(device) | (nll > 1e29)
    nll = _where(impossible, 0.0 if zero_infinity else float("inf"), nll)
    if reduction == "none":
        return nll.squeeze(0) if unbatched else nll
    if reduction == "sum":
        return nll.sum()
    per_label = nll / tensor(np.maximum(target_len, 1).astype(np.float32)).to(device)
    return per_label.mean()


def _padded_labels(targets: Any, target_len: np.ndarray, batch: int) -> np.ndarray:
    """``[N, max length]`` labels from padded or concatenated targets."""
    longest = int(target_len.max(initial=0))
    if (target_len < 0).any():
        raise ValueError(f"ctc_loss: argument `target_lengths` expected non-negative values, got {target_len.tolist()}")
    labels = np.zeros((batch, longest), dtype=np.int64)  # past each target's length: unused
    if targets.ndim == 2:
        if targets.shape[0] != batch or targets.shape[1] < longest:
            raise ValueError(f"ctc_loss: argument `targets` expected shape [{batch}, >= {longest}] (padded), got "
                             f"{list(targets.shape)}")
        for n, length in enumerate(target_len):
            labels[n, :length] = targets[n, :length]
        return labels
    if targets.ndim != 1 or targets.size != target_len.sum():
        raise ValueError(f"ctc_loss: argument `targets` expected a padded [N, S] tensor or the {target_len.sum()} "
                         f"labels of all targets concatenated, got shape {list(targets.shape)}")
    offsets = np.concatenate([[0], np.cumsum(target_len)])
    for n, length in enumerate(target_len):
        labels[n, :length] = targets[offsets[n]:offsets[n] + length]
    return labels


def _initial_alpha(emissions: Tensor, states: int) -> Tensor:
    """log alpha at t = 0: the first blank or the first label."""
    from . import cat, full

    first = emissions[0]
    reachable = min(states, 2)
    rest = full((first.shape[0], states - reachable), _LOG_ZERO, device=first.device)
    return cat([first[:, :reachable], rest], 1)
