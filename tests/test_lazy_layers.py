"""Lazy layers: the first input fixes the input size, the parameters are drawn as the plain
layer's would be (same seed, same values), the layer becomes the plain layer (class, repr,
state dict, fused paths), keeps its hooks and training flag, and then trains like it."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn


def test_lazy_model_equals_the_plain_model_drawn_with_the_same_seed(rng: np.random.Generator) -> None:
    x = fg.tensor(rng.normal(size=(2, 3, 8, 8)).astype(np.float32))
    fg.manual_seed(7)
    lazy = nn.Sequential(nn.LazyConv2d(8, 3, padding=1), nn.ReLU(), nn.LazyBatchNorm2d(), nn.Flatten(),
                         nn.LazyLinear(10))
    assert len(list(lazy.parameters())) == 0 and lazy[0].has_uninitialized_params()
    out = lazy(x)
    fg.manual_seed(7)
    plain = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(8), nn.Flatten(),
                          nn.Linear(8 * 8 * 8, 10))
    np.testing.assert_array_equal(out.detach().numpy(), plain(x).detach().numpy())
    assert [type(m) for m in lazy] == [type(m) for m in plain]
    assert repr(lazy) == repr(plain)
    assert list(lazy.state_dict()) == list(plain.state_dict())
    for (name, a), (_, b) in zip(lazy.state_dict().items(), plain.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)


def test_lazy_layers_infer_each_input_size(rng: np.random.Generator) -> None:
    cases = [
        (nn.LazyLinear(4), (5, 7), ("in_features", 7)),
        (nn.LazyConv1d(4, 3), (2, 6, 9), ("in_channels", 6)),
        (nn.LazyConv3d(2, 1), (1, 3, 2, 2, 2), ("in_channels", 3)),
        (nn.LazyConvTranspose1d(4, 2), (2, 5, 3), ("in_channels", 5)),
        (nn.LazyConvTranspose2d(4, 2), (2, 5, 3, 3), ("in_channels", 5)),
        (nn.LazyBatchNorm1d(), (4, 6), ("num_features", 6)),
        (nn.LazyBatchNorm3d(), (2, 3, 2, 2, 2), ("num_features", 3)),
        (nn.LazyInstanceNorm1d(affine=True), (3, 5, 4), ("num_features", 5)),
        (nn.LazyInstanceNorm2d(), (1, 5, 4, 4), ("num_features", 5)),
        (nn.LazyInstanceNorm3d(), (1, 2, 3, 3, 3), ("num_features", 2)),
    ]
    for layer, shape, (attribute, size) in cases:
        layer(fg.tensor(rng.normal(size=shape).astype(np.float32)))
        assert getattr(layer, attribute) == size, (type(layer).__name__, shape)


def test_hooks_and_mode_survive_materialisation() -> None:
    seen: list[tuple[int, ...]] = []
    layer = nn.LazyBatchNorm1d()
    layer.register_forward_hook(lambda module, inputs, output: seen.append(tuple(output.shape)))
    layer.eval()
    x = fg.tensor(np.arange(12, dtype=np.float32).reshape(4, 3))
    out = layer(x)
    assert seen == [(4, 3)] and not layer.training
    # Eval mode with fresh running statistics (mean 0, variance 1): the input, up to eps.
    np.testing.assert_allclose(out.detach().numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)
    layer(x)
    assert seen == [(4, 3), (4, 3)]


def test_a_lazy_model_trains_after_a_dry_run(rng: np.random.Generator) -> None:
    x = fg.tensor(rng.normal(size=(64, 5)).astype(np.float32))
    y = fg.tensor((rng.normal(size=64) > 0).astype(np.int64))
    model = nn.Sequential(nn.LazyLinear(16), nn.ReLU(), nn.LazyLinear(2))
    model(x[:1])
    optimizer = fg.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        loss = fg.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]


def test_zero_dimensional_input_is_refused() -> None:
    with pytest.raises(ValueError, match="LazyLinear: expected an input with at least one dimension"):
        nn.LazyLinear(3)(fg.tensor(1.0))

