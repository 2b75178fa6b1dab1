"""``linear_cross_entropy``: the cross-entropy of a linear layer's logits, PyTorch's reference
definition (a ``linear`` then ``cross_entropy``; the fused cross-entropy kernel writes the
logits' gradient in the same pass, so the logits are never differentiated separately)."""

from __future__ import annotations

from typing import Any, Optional

from ._core import Tensor


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *, linear_bias: Optional[Tensor] = None,
                         weight: Optional[Tensor] = None, reduction: str = "mean", ignore_index: Optional[int] = None,
                         label_smoothing: float = 0.0, options: Any = None) -> Tensor:
    """``cross_entropy(linear(input, W, b), target)`` with ``W`` ``[C, *out_features, in_features]``
    (flattened for the product; the logits reshaped to ``[..., C, *out_features]``), as
    ``torch.nn.functional.linear_cross_entropy``. ``ignore_index=None`` ignores no class. The
    chunking ``options`` of PyTorch's memory-saving path are not supported (None only)."""
    from .functional import cross_entropy, linear

    if options is not None:
        raise NotImplementedError("linear_cross_entropy: argument `options` (PyTorch's chunked path) is not "
                                  "supported; pass None")
    if input.ndim not in (1, 2):
        raise ValueError(f"linear_cross_entropy: argument `input` expected 1 or 2 dimensions ([in_features] or "
                         f"[N, in_features]), got shape {list(input.shape)}")
    if linear_weight.ndim < 2:
        raise ValueError(f"linear_cross_entropy: argument `linear_weight` expected [C, *out_features, in_features], "
                         f"got shape {list(linear_weight.shape)}")
    classes, out_features, in_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1]), linear_weight.shape[-1]
    logits = linear(input, linear_weight.reshape(-1, in_features),
                    None if linear_bias is None else linear_bias.reshape(-1))
    logits = logits.reshape(*input.shape[:-1], classes, *out_features)
    return cross_entropy(logits, target, weight, -100 if ignore_index is None else ignore_index, reduction,
                         label_smoothing)
