"""MultiheadAttention's full PyTorch surface (separate key/value widths, learned bias rows, a zero
key, 2-D and 3-D masks, unbatched inputs) against a numpy reference from the module's weights."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn


def _reference(m: nn.MultiheadAttention, q: np.ndarray, k: np.ndarray, v: np.ndarray,
               key_padding_mask: np.ndarray | None, attn_mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Sequence-first [L, N, E] inputs; returns the output and the head-averaged weights."""
    s = {name: t.detach().numpy().astype(np.float64) for name, t in m.state_dict().items()}
    e, h = m.embed_dim, m.num_heads
    d = e // h
    if "in_proj_weight" in s:
        wq, wk, wv = np.split(s["in_proj_weight"], 3)
    else:
        wq, wk, wv = s["q_proj_weight"], s["k_proj_weight"], s["v_proj_weight"]
    bq, bk, bv = np.split(s["in_proj_bias"], 3) if "in_proj_bias" in s else (0.0, 0.0, 0.0)
    qp, kp, vp = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    n, keys = q.shape[1], k.shape[0]
    bias = np.zeros((n, h, q.shape[0], keys))
    if attn_mask is not None:
        bias = bias + (attn_mask.reshape(n, h, q.shape[0], keys) if attn_mask.ndim == 3 else attn_mask)
    if key_padding_mask is not None:
        bias = bias + np.where(key_padding_mask, -1e30, 0.0)[:, None, None, :]
    if "bias_k" in s:
        kp = np.concatenate([kp, np.broadcast_to(s["bias_k"], (1, n, e))])
        vp = np.concatenate([vp, np.broadcast_to(s["bias_v"], (1, n, e))])
        bias = np.concatenate([bias, np.zeros(bias.shape[:3] + (1,))], 3)
    split = lambda x: x.reshape(x.shape[0], n, h, d).transpose(1, 2, 0, 3)  # noqa: E731
    qh, kh, vh = split(qp), split(kp), split(vp)
    if m.add_zero_attn:
        kh = np.concatenate([kh, np.zeros((n, h, 1, d))], 2)
        vh = np.concatenate([vh, np.zeros((n, h, 1, d))], 2)
        bias = np.concatenate([bias, np.zeros(bias.shape[:3] + (1,))], 3)
    scores = qh @ kh.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    context = (p @ vh).transpose(2, 0, 1, 3).reshape(q.shape[0], n, e)
    out = context @ s["out_proj.weight"].T + s.get("out_proj.bias", 0.0)
    return out, p.mean(1)


CASES = [dict(), dict(add_bias_kv=True), dict(add_zero_attn=True), dict(kdim=5, vdim=3),
         dict(add_bias_kv=True, add_zero_attn=True, kdim=5, vdim=7, bias=False)]


@pytest.mark.parametrize("options", CASES, ids=["packed", "bias_kv", "zero_attn", "kdim_vdim", "everything"])
def test_multi_head_attention_equals_the_reference(options: dict) -> None:
    fg.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, **options)
    rng = np.random.default_rng(0)
    length, keys, n = 4, 6, 3
    q = rng.standard_normal((length, n, 8)).astype(np.float32)
    k = rng.standard_normal((keys, n, options.get("kdim", 8))).astype(np.float32)
    v = rng.standard_normal((keys, n, options.get("vdim", 8))).astype(np.float32)
    padding = np.zeros((n, keys), bool)
    padding[0, -2:] = True
    mask2, mask3 = rng.standard_normal((length, keys)).astype(np.float32), rng.standard_normal((n * 2, length, keys)).astype(np.float32)
    for kpm, am in [(None, None), (padding, None), (None, mask2), (padding, mask3)]:
        out, weights = m(fg.tensor(q), fg.tensor(k), fg.tensor(v), key_padding_mask=None if kpm is None else fg.tensor(kpm),
                         attn_mask=None if am is None else fg.tensor(am))
        ref_out, ref_weights = _reference(m, q, k, v, kpm, am)
        np.testing.assert_allclose(out.detach().numpy(), ref_out, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(weights.detach().numpy(), ref_weights, rtol=1e-5, atol=1e-6)
    single, single_weights = m(fg.tensor(q[:, 0]), fg.tensor(k[:, 0]), fg.tensor(v[:, 0]))
    ref_out, ref_weights = _reference(m, q[:, :1], k[:, :1], v[:, :1], None, None)
    np.testing.assert_allclose(single.detach().numpy(), ref_out[:, 0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(single_weights.detach().numpy(), ref_weights[0], rtol=1e-5, atol=1e-6)


def test_parameter_names_and_the_functional_form() -> None:
    fg.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=5, vdim=3)
    assert list(m.state_dict()) == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                                    "out_proj.weight", "out_proj.bias"]
    q, kv = fg.randn(4, 2, 8), fg.randn(6, 2, 5)
    value = fg.randn(6, 2, 3)
    out, _ = F.multi_head_attention_forward(q, kv, value, 8, 2, None, m.in_proj_bias, m.bias_k, m.bias_v, False, 0.0,
                                            m.out_proj.weight, m.out_proj.bias, use_separate_proj_weight=True,
                                            q_proj_weight=m.q_proj_weight, k_proj_weight=m.k_proj_weight,
                                            v_proj_weight=m.v_proj_weight, need_weights=False)
    np.testing.assert_allclose(out.detach().numpy(), m(q, kv, value, need_weights=False)[0].detach().numpy(), rtol=1e-6)
