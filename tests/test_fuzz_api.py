"""Fuzzes the Python API with hypothesis: any shapes, dtypes and values may be rejected, but only
with the documented exception types — never a panic (pyo3 raises PanicException, a BaseException)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ferrograd as fg
import ferrograd.functional as F

DOCUMENTED = (ValueError, TypeError, IndexError, RuntimeError, NotImplementedError)

dtypes = st.sampled_from([np.float32, np.float64, np.float16, np.int64, np.int32, np.uint8, np.bool_])
arrays = dtypes.flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
                          elements={"allow_nan": True} if np.issubdtype(dt, np.floating) else None)
)

UNARY_CALLS = [
    lambda t: t.exp(), lambda t: t.log(), lambda t: t.relu(), lambda t: t.sum(0), lambda t: t.mean(-1),
    lambda t: t.max(), lambda t: t.max(1), lambda t: t.argmax(0), lambda t: t.var(), lambda t: t.reshape(-1, 2),
    lambda t: t.permute(1, 0), lambda t: t.T, lambda t: t[0], lambda t: t[:, 1:], lambda t: t[..., None],
    lambda t: t.unsqueeze(5), lambda t: t.squeeze(0), lambda t: t.expand(3, 2), lambda t: t.flatten(1),
    lambda t: t.clamp(0, 1), lambda t: t ** 2, lambda t: t.item(), lambda t: t.tolist(),
    lambda t: fg.functional.one_hot(t, 3), lambda t: fg.functional.pad(t, (1, 1)), lambda t: t.gather(0, t),
    lambda t: t.index_select(0, t), lambda t: t.sum().backward(), lambda t: fg.cat([t, t], 2), lambda t: fg.stack([t, t], -1),
    lambda t: F.softmax(t, 1), lambda t: F.log_softmax(t, -1), lambda t: F.max_pool2d(t, 2), lambda t: F.avg_pool2d(t, 3, 1, 1),
    lambda t: F.adaptive_avg_pool2d(t, 2), lambda t: F.batch_norm(t, None, None, training=True), lambda t: F.layer_norm(t, t.shape[-1:]),
    lambda t: F.dropout(t, 0.3), lambda t: F.conv2d(t, t), lambda t: F.conv2d(t, fg.ones(2, 1, 2, 2), groups=2),
    lambda t: F.cross_entropy(t, t), lambda t: F.cross_entropy(t, t.argmax(-1)), lambda t: F.mse_loss(t, t),
    lambda t: F.binary_cross_entropy(t, t), lambda t: F.kl_div(t, t, reduction="batchmean"), lambda t: F.nll_loss(t, t),
    lambda t: fg.nn.Linear(3, 2)(t), lambda t: fg.nn.Embedding(4, 2)(t), lambda t: t.half(), lambda t: t.bfloat16(),
    lambda t: t.bfloat16().numpy(), lambda t: t.half().float().tolist(), lambda t: F.scaled_dot_product_attention(t, t, t),
    lambda t: F.scaled_dot_product_attention(t.bfloat16(), t.bfloat16(), t.bfloat16()),
    lambda t: t.cumsum(1), lambda t: t.flip((0, -1)), lambda t: t.repeat(2, 1, 1), lambda t: t.tril(1),
    lambda t: t.norm(), lambda t: t.norm(float("inf"), dim=0), lambda t: t.std(0), lambda t: t.sort(descending=True),
    lambda t: t.topk(2), lambda t: t.split(2, 1), lambda t: t.chunk(3, -1), lambda t: t.unbind(1),
    lambda t: t.narrow(0, 1, 1), lambda t: t.masked_fill(t > 0, 1.0), lambda t: t.isfinite(), lambda t: t.any(0),
    lambda t: t.add_(1), lambda t: t.new_zeros(2), lambda t: fg.where(t > 0, t, 0.5), lambda t: fg.max(t, 1),
    lambda t: F.conv1d(t, t), lambda t: F.max_pool1d(t, 2), lambda t: F.avg_pool1d(t, 3, 1, 1), lambda t: F.group_norm(t, 2),
    lambda t: F.instance_norm(t), lambda t: F.interpolate(t, scale_factor=2), lambda t: F.interpolate(t, size=4),
    lambda t: F.elu(t), lambda t: F.hardswish(t), lambda t: F.mish(t), lambda t: F.logsigmoid(t),
    lambda t: t[t > 0], lambda t: t[..., t[0] > 0], lambda t: (t == t).sum(), lambda t: t + t.long(), lambda t: t.long() * 3,
    lambda t: t.sin(), lambda t: t.round(), lambda t: t.log1p(), lambda t: t.long().max(0), lambda t: -t.long(),
    lambda t: t.long() ** 2, lambda t: t.unique(return_counts=True), lambda t: t.long().bincount(),
    lambda t: t.repeat_interleave(2, 0), lambda t: t.contiguous(memory_format=fg.channels_last).relu(),
    lambda t: t.__setitem__(t > 0, 0.5), lambda t: F.normalize(t), lambda t: t.stride(),
    lambda t: fg.einsum("ij,jk->ik", t, t), lambda t: fg.einsum("ijk->k", t),
]

BINARY_CALLS = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a @ b,
                lambda a, b: a < b, lambda a, b: fg.where(a > 0, a, b), lambda a, b: a.maximum(b),
                lambda a, b: fg.cat([a, b], 0), lambda a, b: fg.functional.embedding(a, b), lambda a, b: a.outer(b),
                lambda a, b: a.mm(b), lambda a, b: a.lerp(b, 0.5), lambda a, b: a.allclose(b), lambda a, b: a.equal(b),
                lambda a, b: a.expand_as(b), lambda a, b: a.masked_fill(b, 0.0), lambda a, b: fg.max(a, b)]


def _call(fn, *args):
    try:
        fn(*args)
    except DOCUMENTED:
        pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arr=arrays, which=st.integers(0, len(UNARY_CALLS) - 1), requires_grad=st.booleans())
def test_unary_api_raises_only_documented_errors(arr, which, requires_grad):
    try:
        t = fg.tensor(arr, requires_grad=requires_grad)
    except DOCUMENTED:
        return
    _call(UNARY_CALLS[which], t)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=arrays, b=arrays, which=st.integers(0, len(BINARY_CALLS) - 1))
def test_binary_api_raises_only_documented_errors(a, b, which):
    _call(BINARY_CALLS[which], fg.tensor(a), fg.tensor(b))
