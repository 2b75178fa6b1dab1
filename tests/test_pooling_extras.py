"""Max pooling with indices and max unpooling, LP pooling, the 3-D padding layers, the functional
dropout forms, the in-place activation forms, the older upsample names, and the multi-label
margin and distance-triplet losses, against numpy transcriptions of PyTorch's definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import functional as F
from ferrograd import nn


def _windows_reference(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], p: tuple[int, int],
                       d: tuple[int, int], ceil_mode: bool) -> tuple[np.ndarray, np.ndarray]:
    """Max and flat position of the first maximum of each window (PyTorch's output size rule)."""
    n, c, h, w = x.shape

    def out_size(size: int, kk: int, st: int, pp: int, dl: int) -> int:
        span = size + 2 * pp - dl * (kk - 1) - 1
        out = (-(-span // st) if ceil_mode else span // st) + 1
        if ceil_mode and (out - 1) * st >= size + pp:
            out -= 1
        return out

    oh, ow = out_size(h, k[0], s[0], p[0], d[0]), out_size(w, k[1], s[1], p[1], d[1])
    values, indices = np.zeros((n, c, oh, ow), np.float32), np.zeros((n, c, oh, ow), np.int64)
    for i in range(oh):
        for j in range(ow):
            best, where = np.full((n, c), -np.inf, np.float32), np.zeros((n, c), np.int64)
            for a in range(k[0]):
                for b in range(k[1]):
                    r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                    if 0 <= r < h and 0 <= q < w:
                        take = x[:, :, r, q] > best
                        best = np.where(take, x[:, :, r, q], best)
                        where = np.where(take, r * w + q, where)
            values[:, :, i, j], indices[:, :, i, j] = best, where
    return values, indices


@pytest.mark.parametrize("k,s,p,d,ceil", [((3, 3), (2, 2), (1, 1), (1, 1), False), ((2, 2), (2, 2), (0, 0), (1, 1), False),
                                          ((3, 3), (2, 2), (0, 0), (1, 1), True),
                                          ((2, 3), (1, 2), (1, 1), (2, 2), True)])
def test_max_pool_indices_and_unpool(k, s, p, d, ceil, rng: np.random.Generator) -> None:
    x = rng.normal(size=(2, 3, 9, 8)).astype(np.float32)
    want_values, want_indices = _windows_reference(x, k, s, p, d, ceil)
    values, indices = F.max_pool2d(fg.tensor(x), k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(values.numpy(), want_values)
    np.testing.assert_array_equal(indices.numpy(), want_indices)
    assert indices.dtype == fg.int64
    if d == (1, 1):
        t = fg.tensor(want_values, requires_grad=True)
        out = F.max_unpool2d(t, indices, k, s, p, output_size=x.shape)
        want = np.zeros((2, 3, 9 * 8), np.float32)
        np.put_along_axis(want, want_indices.reshape(2, 3, -1), want_values.reshape(2, 3, -1), 2)
        np.testing.assert_array_equal(out.detach().numpy(), want.reshape(x.shape))
        out.sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), np.ones_like(want_values))


def test_one_dimensional_and_layer_forms(rng: np.random.Generator) -> None:
    y = rng.normal(size=(2, 3, 11)).astype(np.float32)
    values, indices = F.max_pool1d(fg.tensor(y), 3, 2, 1, return_indices=True)
    want_values, want_indices = _windows_reference(y[:, :, None], (1, 3), (1, 2), (0, 1), (1, 1), False)
    np.testing.assert_array_equal(values.numpy(), want_values[:, :, 0])
    np.testing.assert_array_equal(indices.numpy(), want_indices[:, :, 0])
    restored = nn.MaxUnpool1d(3, 2, 1)(values, indices)
    assert restored.shape == (2, 3, 11)
    np.testing.assert_array_equal(np.sort(restored.numpy()[restored.numpy() != 0]), np.unique(want_values))
    pool = nn.MaxPool2d(2, return_indices=True)
    x = fg.tensor(rng.normal(size=(1, 1, 4, 4)).astype(np.float32))
    v, i = pool(x)
    np.testing.assert_array_equal(nn.MaxUnpool2d(2)(v, i).numpy() != 0, F.max_unpool2d(v, i, 2).numpy() != 0)
    volume = fg.tensor(np.arange(8, dtype=np.float32).reshape(1, 1, 1, 1, 8))
    out = nn.MaxUnpool3d((1, 1, 2))(volume[..., :4], fg.tensor(np.array([[[[[1, 2, 5, 6]]]]])))
    np.testing.assert_array_equal(out.numpy().ravel(), [0, 0, 1, 0, 0, 2, 3, 0])
    with pytest.raises(ValueError, match="max_unpool2d: argument `indices` expected positions in"):
        F.max_unpool2d(v, i + 100, 2)
    with pytest.raises(ValueError, match="max_unpool2d: argument `output_size` expected dimension 0 between"):
        F.max_unpool2d(v, i, 2, output_size=(9, 4))


def test_lp_pooling(rng: np.random.Generator) -> None:
    x = np.abs(rng.normal(size=(2, 2, 6, 7))).astype(np.float32)
    for p in (1.0, 2.0, 3.5):
        got = F.lp_pool2d(fg.tensor(x), p, 3, 2).numpy()
        windows = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), (3, 3), axis=(2, 3))[:, :, ::2, ::2]
        want = (windows**p).sum((-1, -2)) ** (1 / p)
        np.testing.assert_allclose(got, want, rtol=2e-6)
    y = np.abs(rng.normal(size=(2, 3, 9))).astype(np.float32)
    want = np.sqrt((np.lib.stride_tricks.sliding_window_view(y.astype(np.float64), 3, axis=2)[:, :, ::3] ** 2).sum(-1))
    np.testing.assert_allclose(nn.LPPool1d(2, 3)(fg.tensor(y)).numpy(), want, rtol=2e-6)
    v = np.abs(rng.normal(size=(1, 1, 4, 4, 4))).astype(np.float32)
    want = np.sqrt((v.astype(np.float64).reshape(1, 1, 2, 2, 2, 2, 2, 2) ** 2).sum((3, 5, 7)))
    np.testing.assert_allclose(nn.LPPool3d(2, 2)(fg.tensor(v)).numpy(), want, rtol=2e-6)


@pytest.mark.parametrize("layer,mode", [(nn.ZeroPad3d, "constant"), (nn.ReflectionPad3d, "reflect"),
                                        (nn.ReplicationPad3d, "edge"), (nn.CircularPad3d, "wrap")])
def test_three_dimensional_padding_layers(layer, mode, rng: np.random.Generator) -> None:
    x = rng.normal(size=(1, 2, 3, 4, 5)).astype(np.float32)
    sides = (1, 2, 0, 1, 2, 1)  # last axis first, as PyTorch
    want = np.pad(x, [(0, 0), (0, 0), (2, 1), (0, 1), (1, 2)], mode=mode)
    np.testing.assert_array_equal(layer(sides)(fg.tensor(x)).numpy(), want)
    np.testing.assert_array_equal(nn.ConstantPad3d(1, 2.5)(fg.tensor(x)).numpy(),
                                  np.pad(x, [(0, 0), (0, 0)] + [(1, 1)] * 3, constant_values=2.5))


def test_functional_dropout_forms(rng: np.random.Generator) -> None:
    x = fg.ones(64, 32, 4, 4)
    fg.manual_seed(0)
    out = F.dropout2d(x, 0.25).numpy()
    per_channel = out.reshape(64, 32, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 1 / 0.75).all(-1)).all()
    assert abs((per_channel[..., 0] == 0).mean() - 0.25) < 0.03
    np.testing.assert_array_equal(F.dropout1d(fg.ones(4, 3, 5), 0.5, training=False).numpy(), np.ones((4, 3, 5)))
    assert F.dropout3d(fg.ones(2, 3, 2, 2, 2), 0.5).shape == (2, 3, 2, 2, 2)
    z = fg.tensor(rng.normal(size=(20000,)).astype(np.float32))
    fg.manual_seed(1)
    dropped = F.alpha_dropout(z, 0.2, training=True).numpy()
    assert abs(dropped.mean()) < 0.03 and abs(dropped.std() - 1) < 0.03
    np.testing.assert_array_equal(F.alpha_dropout(z, 0.2).numpy(), z.numpy())  # training defaults to False
    channels = F.feature_alpha_dropout(fg.ones(8, 16, 3), 0.5, training=True).numpy()
    assert (channels == channels[:, :, :1]).all()
    with pytest.raises(ValueError, match=r"dropout2d: expected a \[N, C, H, W\] or \[C, H, W\] input"):
        F.dropout2d(fg.ones(3, 4), 0.5)
    with pytest.raises(ValueError, match="dropout1d: argument `p` expected a probability in"):
        F.dropout1d(fg.ones(3, 4), 1.5)


def test_in_place_activations_and_old_names(rng: np.random.Generator) -> None:
    a = rng.normal(size=(3, 4)).astype(np.float32)
    for fn, reference in [(F.relu_, np.maximum(a, 0)), (F.leaky_relu_, np.where(a > 0, a, 0.01 * a)),
                          (F.hardtanh_, np.clip(a, -1, 1)), (F.elu_, np.where(a > 0, a, np.expm1(a))),
                          (F.threshold_, np.where(a > 0.1, a, 0.1))]:
        t = fg.tensor(a)
        args = (0.1, 0.1) if fn is F.threshold_ else ()
        assert fn(t, *args) is t
        np.testing.assert_allclose(t.numpy(), reference, rtol=1e-6, atol=1e-7)
    img = fg.tensor(rng.normal(size=(1, 2, 3, 4)).astype(np.float32))
    np.testing.assert_array_equal(F.upsample(img, scale_factor=2).numpy(), F.interpolate(img, scale_factor=2).numpy())
    np.testing.assert_array_equal(F.upsample_nearest(img, size=(6, 8)).numpy(),
                                  F.interpolate(img, size=(6, 8)).numpy())
    np.testing.assert_array_equal(F.upsample_bilinear(img, scale_factor=2).numpy(),
                                  F.interpolate(img, scale_factor=2, mode="bilinear", align_corners=True).numpy())
    np.testing.assert_array_equal(F.native_channel_shuffle(img, 2).numpy(), F.channel_shuffle(img, 2).numpy())


def test_multilabel_margin_loss_counts_listed_classes(rng: np.random.Generator) -> None:
    x = rng.normal(size=(4, 5)).astype(np.float32)
    target = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [4, 4, -1, 0, 0]])
    want = np.zeros(4)
    for n in range(4):
        listed = []
        for label in target[n]:
            if label < 0:
                break
            listed.append(label)
        others = [i for i in range(5) if i not in listed]
        want[n] = sum(max(0.0, 1 - (x[n, j] - x[n, i])) for j in listed for i in others) / 5
    t = fg.tensor(x, requires_grad=True)
    got = F.multilabel_margin_loss(t, fg.tensor(target), reduction="none")
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-6)
    assert nn.MultiLabelMarginLoss()(fg.tensor(x), fg.tensor(target)).item() == pytest.approx(want.mean(), rel=1e-6)
    got.sum().backward()
    assert np.isfinite(t.grad.numpy()).all() and t.grad.numpy()[2].sum() == 0.0


def test_triplet_loss_with_any_distance(rng: np.random.Generator) -> None:
    anchor, positive, negative = (rng.normal(size=(6, 4)).astype(np.float32) for _ in range(3))

    def manhattan(a: fg.Tensor, b: fg.Tensor) -> fg.Tensor:
        return (a - b).abs().sum(-1)

    def l1(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.abs(u - v).sum(-1)

    near, far = l1(anchor, positive), np.minimum(l1(anchor, negative), l1(positive, negative))
    want = np.maximum(near - far + 0.5, 0).mean()
    got = nn.TripletMarginWithDistanceLoss(distance_function=manhattan, margin=0.5, swap=True)(
        fg.tensor(anchor), fg.tensor(positive), fg.tensor(negative))
    assert got.item() == pytest.approx(float(want), rel=1e-6)
    default = F.triplet_margin_with_distance_loss(fg.tensor(anchor), fg.tensor(positive), fg.tensor(negative))
    assert default.item() == pytest.approx(F.triplet_margin_loss(fg.tensor(anchor), fg.tensor(positive),
                                                                 fg.tensor(negative)).item(), rel=1e-6)
    with pytest.raises(ValueError, match="TripletMarginWithDistanceLoss: argument `margin` expected a value > 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)
