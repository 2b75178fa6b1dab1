"""``multi_head_attention_forward``, the computation behind ``nn.MultiheadAttention``, with
PyTorch's arguments: sequence-first inputs ``[L, N, E]`` (or unbatched ``[L, E]``), one packed or
three separate projections (keys and values of other widths), learned bias key and value rows,
an appended zero key and value, and PyTorch's masks (bool True = may not attend; float masks are
added; ``attn_mask`` ``[L, S]`` or ``[N * heads, L, S]``). Every mask becomes one additive float
mask; each appended key column gets a zero (attendable) entry."""

from __future__ import annotations

from typing import Optional

import numpy as np

from . import _core
from ._core import Tensor


def _additive(mask: Tensor) -> Tensor:
    from .functional import attention_bias

    return attention_bias(mask == False) if mask.dtype == "bool" else mask  # noqa: E712


def _one_more_key(mask: Optional[Tensor]) -> Optional[Tensor]:
    """An additive mask with an attendable column for one appended key."""
    return None if mask is None else _core.pad(mask, [(0, 1)], 0.0)


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Optional[Tensor], in_proj_bias: Optional[Tensor], bias_k: Optional[Tensor],
        bias_v: Optional[Tensor], add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Optional[Tensor], training: bool = True, key_padding_mask: Optional[Tensor] = None,
        need_weights: bool = True, attn_mask: Optional[Tensor] = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Optional[Tensor] = None, k_proj_weight: Optional[Tensor] = None,
        v_proj_weight: Optional[Tensor] = None, static_k: Optional[Tensor] = None, static_v: Optional[Tensor] = None,
        average_attn_weights: bool = True, is_causal: bool = False) -> tuple[Tensor, Optional[Tensor]]:
    """Multi-head attention of ``query`` over ``key`` / ``value``, as
    ``torch.nn.functional.multi_head_attention_forward``; returns the output ``[L, N, E]`` and the
    attention weights (averaged over heads unless ``average_attn_weights=False``) or None.
    ``static_k`` / ``static_v`` ``[N * heads, S, E / heads]`` replace the projected keys / values."""
    from .functional import attention_weights, dropout, linear, scaled_dot_product_attention

    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if query.ndim != 3 or query.shape[-1] != embed_dim_to_check:
        raise ValueError(f"multi_head_attention_forward: query expected [L, N, {embed_dim_to_check}] or "
                         f"[L, {embed_dim_to_check}], got {list(query.shape)}")
    length, batch, e = (int(s) for s in query.shape)
    h = num_heads
    if e % h:
        raise ValueError(f"multi_head_attention_forward: embed_dim {e} expected a multiple of num_heads {h}")
    d = e // h
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError("multi_head_attention_forward: use_separate_proj_weight needs q_, k_ and v_proj_weight")
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        if in_proj_weight is None:
            raise ValueError("multi_head_attention_forward: argument `in_proj_weight` expected a [3E, E] tensor")
        weights = (in_proj_weight[:e], in_proj_weight[e:2 * e], in_proj_weight[2 * e:])
    biases = (None, None, None) if in_proj_bias is None else (in_proj_bias[:e], in_proj_bias[e:2 * e], in_proj_bias[2 * e:])
    q, k, v = (linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    attn = None if attn_mask is None else _additive(attn_mask)
    if attn is not None and attn.ndim == 3:
        attn = attn.reshape(batch, h, length, attn.shape[-1])
    padding = None if key_padding_mask is None else _additive(key_padding_mask)
    if padding is not None and tuple(padding.shape) != (batch, key.shape[0]):
        raise ValueError(f"multi_head_attention_forward: argument `key_padding_mask` expected shape "
                         f"{(batch, int(key.shape[0]))}, got {list(padding.shape)}")
    if bias_k is not None and bias_v is not None:
        k = _core.cat([k, bias_k.reshape(1, 1, e).expand(1, batch, e)], 0)
        v = _core.cat([v, bias_v.reshape(1, 1, e).expand(1, batch, e)], 0)
        attn, padding = _one_more_key(attn), _one_more_key(padding)

    def heads(x: Tensor) -> Tensor:  # [S, N, E] -> [N, h, S, d]
        return x.reshape(x.shape[0], batch, h, d).permute(1, 2, 0, 3)

    q, k, v = heads(q), heads(k), heads(v)
    if static_k is not None:
        k = static_k.reshape(batch, h, static_k.shape[1], d)
    if static_v is not None:
        v = static_v.reshape(batch, h, static_v.shape[1], d)
    if add_zero_attn:
        zeros = _core.full([batch, h, 1, d], 0.0, k.dtype, str(k.device), False)
        k, v = _core.cat([k, zeros], 2), _core.cat([v, zeros], 2)
        attn, padding = _one_more_key(attn), _one_more_key(padding)
    keys = int(k.shape[2])
    causal_in_op = is_causal and attn is None and padding is None and not need_weights
    mask = attn
    if is_causal and not causal_in_op:
        later = np.triu(np.full((length, keys), np.finfo(np.float32).min, np.float32), k=1)
        causal = Tensor.from_numpy(later).to(q.device)
        mask = causal if mask is None else mask + causal
    if padding is not None:
        bias = padding.reshape(batch, 1, 1, keys)
        mask = bias if mask is None else mask + bias
    if mask is not None and mask.device != q.device:
        mask = mask.to(q.device)
    probs: Optional[Tensor] = None
    if need_weights:
        probs = attention_weights(q, k, mask)
        context = (dropout(probs, dropout_p, True) if dropout_p > 0 and training else probs) @ v
    else:
        # The fused op (same dropout masks under the same seed), without the probabilities.
        context = scaled_dot_product_attention(q, k, v, mask, dropout_p, training, is_causal=causal_in_op)
    out = linear(context.permute(2, 0, 1, 3).reshape(length, batch, e), out_proj_weight, out_proj_bias)
    averaged = None if probs is None else (probs.mean(1) if average_attn_weights else probs)
    if unbatched:
        return out.squeeze(1), None if averaged is None else averaged.squeeze(0)
    return out, averaged
