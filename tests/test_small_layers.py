"""Small composed layers against JAX or numpy on CPU (values and gradients, float32): RMSNorm,
Softsign, Softmax2d, Bilinear, ChannelShuffle, 1-D adaptive pooling, InstanceNorm3d, the
similarity modules, channel dropout in one and three dimensions, and EmbeddingBag."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from reference import check_op

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(29)


@pytest.mark.parametrize("normalized_shape,eps", [((5,), None), ((3, 5), 1e-3)])
def test_rms_norm_matches_jax(rng, normalized_shape, eps) -> None:
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    w = rng.standard_normal(normalized_shape).astype(np.float32)
    axes = tuple(range(3 - len(normalized_shape), 3))
    e = float(np.finfo(np.float32).eps) if eps is None else eps
    check_op(lambda xv, wv: F.rms_norm(xv, normalized_shape, wv, eps),
             lambda xv, wv: xv / jnp.sqrt((xv * xv).mean(axes, keepdims=True) + e) * wv, [x, w], rtol=1e-5, atol=1e-6)
    layer = nn.RMSNorm(normalized_shape, eps=eps)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), np.ones(normalized_shape))
    np.testing.assert_allclose(layer(fg.tensor(x)).detach().numpy(), F.rms_norm(fg.tensor(x), normalized_shape, None, eps).numpy())
    with pytest.raises(ValueError, match="rms_norm: argument `normalized_shape` \\[4\\] expected to end"):
        F.rms_norm(fg.tensor(x), 4)


def test_softsign_softmax2d_bilinear_and_channel_shuffle_match_references(rng) -> None:
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    check_op(F.softsign, lambda v: v / (1 + jnp.abs(v)), [x])
    check_op(lambda v: nn.Softmax2d()(v), lambda v: jax.nn.softmax(v, axis=-3), [x])
    x1, x2 = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 2)).astype(np.float32)
    w, b = rng.standard_normal((5, 3, 2)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    check_op(F.bilinear, lambda a, c, wv, bv: jnp.einsum("ni,kij,nj->nk", a, wv, c) + bv, [x1, x2, w, b])
    layer = nn.Bilinear(3, 2, 5)
    assert tuple(layer.weight.shape) == (5, 3, 2) and np.abs(layer.weight.detach().numpy()).max() <= 1 / math.sqrt(3)
    shuffled = F.channel_shuffle(fg.tensor(np.arange(6, dtype=np.float32).reshape(1, 6, 1)), 3).numpy().ravel()
    np.testing.assert_array_equal(shuffled, [0, 2, 4, 1, 3, 5])
    np.testing.assert_array_equal(nn.ChannelShuffle(3)(fg.tensor(x.reshape(2, 6, 2, 4))).numpy(),
                                  x.reshape(2, 3, 2, 2, 4).transpose(0, 2, 1, 3, 4).reshape(2, 6, 2, 4))


@pytest.mark.parametrize("output_size", [1, 3, 4, 10])
def test_adaptive_pooling_in_one_dimension_uses_pytorchs_windows(rng, output_size) -> None:
    """Window i covers floor(i L / o) .. ceil((i + 1) L / o)."""
    x = rng.standard_normal((2, 3, 10)).astype(np.float32)
    starts = [math.floor(i * 10 / output_size) for i in range(output_size)]
    ends = [math.ceil((i + 1) * 10 / output_size) for i in range(output_size)]
    check_op(lambda v: F.adaptive_avg_pool1d(v, output_size),
             lambda v: jnp.stack([v[..., s:e].mean(-1) for s, e in zip(starts, ends)], -1), [x])
    check_op(lambda v: nn.AdaptiveMaxPool1d(output_size)(v),
             lambda v: jnp.stack([v[..., s:e].max(-1) for s, e in zip(starts, ends)], -1), [x])
    assert tuple(nn.AdaptiveAvgPool1d(output_size)(fg.tensor(x[0])).shape) == (3, output_size)


def test_instance_norm_3d_and_the_similarity_modules(rng) -> None:
    x = rng.standard_normal((2, 3, 2, 3, 4)).astype(np.float32) * 2 + 1
    mean, var = x.mean((2, 3, 4), keepdims=True), x.var((2, 3, 4), keepdims=True)
    np.testing.assert_allclose(nn.InstanceNorm3d(3)(fg.tensor(x)).numpy(), (x - mean) / np.sqrt(var + 1e-5),
                               rtol=1e-4, atol=1e-5)
    a, b = rng.standard_normal((4, 6)).astype(np.float32), rng.standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_allclose(nn.CosineSimilarity(dim=1)(fg.tensor(a), fg.tensor(b)).numpy(),
                               (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1), rtol=1e-5)
    np.testing.assert_allclose(nn.PairwiseDistance()(fg.tensor(a), fg.tensor(b)).numpy(),
                               np.linalg.norm(a - b + 1e-6, axis=1), rtol=1e-5)


@pytest.mark.parametrize("layer,shape", [(nn.Dropout1d, (8, 16, 5)), (nn.Dropout3d, (8, 16, 2, 3, 2))])
def test_channel_dropout_zeroes_whole_channels(layer, shape) -> None:
    fg.manual_seed(0)
    drop = layer(0.25)
    out = drop(fg.ones(*shape)).numpy().reshape(shape[0], shape[1], -1)
    assert np.all(out.min(-1) == out.max(-1))  # each (sample, channel) slice is all kept or all zeroed
    assert set(np.unique(out).tolist()) <= {0.0, float(np.float32(1 / 0.75))} and 0.1 < (out[..., 0] == 0).mean() < 0.4
    drop.eval()
    np.testing.assert_array_equal(drop(fg.ones(*shape)).numpy(), np.ones(shape))
    with pytest.raises(ValueError, match=f"{layer.__name__}: expected a \\[N, C, "):
        drop.train()
        drop(fg.ones(4))


def _bags_reference(table, bags, mode, weights=None, padding_idx=None):
    """Each bag's sum, mean or maximum of its rows of ``table`` (jax.numpy), padding left out."""
    out = []
    for k, bag in enumerate(bags):
        keep = [i for i, j in enumerate(bag) if j != padding_idx]
        if not keep:
            out.append(jnp.zeros(table.shape[1]))
            continue
        rows = table[np.asarray(bag)[keep]]
        if weights is not None:
            rows = rows * jnp.asarray(weights[k])[np.asarray(keep), None]
        out.append({"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode])
    return jnp.stack(out)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_a_bag_by_bag_reference(rng, mode) -> None:
    """2-D bags (with a padding index, so one bag is empty) and 1-D bags cut at offsets (one of
    them empty), values and the table's gradient against JAX."""
    table = rng.standard_normal((10, 4)).astype(np.float32)
    rows = np.array([[1, 2, 2, 0], [0, 0, 0, 0], [3, 0, 5, 5]])
    check_op(lambda w: F.embedding_bag(fg.tensor(rows), w, mode=mode, padding_idx=0),
             lambda w: _bags_reference(w, list(rows), mode, padding_idx=0), [table])
    flat, offsets = rng.integers(0, 10, 7), np.array([0, 2, 2, 5])
    bags = [flat[0:2], flat[2:2], flat[2:5], flat[5:7]]
    check_op(lambda w: F.embedding_bag(fg.tensor(flat), w, fg.tensor(offsets), mode=mode),
             lambda w: _bags_reference(w, bags, mode), [table])
    layer = nn.EmbeddingBag(10, 4, mode=mode, padding_idx=0)
    np.testing.assert_array_equal(layer.weight.detach().numpy()[0], np.zeros(4))
    assert tuple(layer(fg.tensor(rows)).shape) == (3, 4)


def test_embedding_bag_weights_samples_in_sum_mode(rng) -> None:
    table = rng.standard_normal((10, 4)).astype(np.float32)
    ids = rng.integers(0, 10, (3, 4))
    weights = rng.standard_normal((3, 4)).astype(np.float32)
    check_op(lambda w: F.embedding_bag(fg.tensor(ids), w, mode="sum", per_sample_weights=fg.tensor(weights)),
             lambda w: _bags_reference(w, list(ids), "sum", weights), [table])
    with pytest.raises(ValueError, match="embedding_bag: argument `per_sample_weights` expected mode 'sum'"):
        F.embedding_bag(fg.tensor(ids), fg.tensor(table), per_sample_weights=fg.tensor(weights))
    with pytest.raises(ValueError, match="embedding_bag: argument `offsets` expected non-decreasing starts"):
        F.embedding_bag(fg.tensor(ids.reshape(-1)), fg.tensor(table), fg.tensor(np.array([0, 5, 3])))


@pytest.mark.parametrize("p", [2.0, 1.0])
def test_pdist_gives_the_condensed_distances(rng, p) -> None:
    x = rng.standard_normal((5, 3)).astype(np.float32)
    i, j = np.triu_indices(5, 1)
    check_op(lambda t: F.pdist(t, p), lambda t: jnp.linalg.norm(t[i] - t[j], ord=p, axis=1), [x], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer", [nn.AlphaDropout, nn.FeatureAlphaDropout])
def test_alpha_dropout_keeps_zero_mean_and_unit_variance(layer) -> None:
    """Dropped entries take SELU's saturation value, after the affine map that keeps standardised
    inputs standardised (PyTorch's a and b)."""
    fg.manual_seed(0)
    x = np.random.default_rng(2).standard_normal((400, 10, 50)).astype(np.float32)
    p, alpha = 0.2, 1.6732632423543772 * 1.0507009873554805
    a = ((1 - p) * (1 + p * alpha**2)) ** -0.5
    out = layer(p)(fg.tensor(x)).numpy()
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1) < 0.03
    dropped = np.isclose(out, -alpha * a + alpha * a * p, atol=1e-6)
    np.testing.assert_allclose(out[~dropped], a * x[~dropped] + alpha * a * p, rtol=1e-5, atol=1e-6)
    assert 0.15 < dropped.mean() < 0.25
    if layer is nn.FeatureAlphaDropout:
        per_channel = dropped.reshape(400, 10, 50)
        assert np.all(per_channel.all(-1) | ~per_channel.any(-1))  # whole channels at a time
    drop = layer(p)
    drop.eval()
    np.testing.assert_array_equal(drop(fg.tensor(x)).numpy(), x)


def test_upsampling_layers_use_their_modes(rng) -> None:
    x = rng.standard_normal((1, 2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(nn.UpsamplingNearest2d(scale_factor=2)(fg.tensor(x)).numpy(),
                                  x.repeat(2, axis=2).repeat(2, axis=3))
    corners = nn.UpsamplingBilinear2d(size=(5, 7))(fg.tensor(x)).numpy()
    np.testing.assert_allclose(corners[..., [0, -1], :][..., [0, -1]], x[..., [0, -1], :][..., [0, -1]], rtol=1e-6)
    np.testing.assert_allclose(corners, F.interpolate(fg.tensor(x), (5, 7), mode="bilinear", align_corners=True).numpy())
