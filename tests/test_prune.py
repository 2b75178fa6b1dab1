"""``nn.utils.prune``: PyTorch's masks, names and hooks, iterative and global pruning, training
through the mask, and making it permanent."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F
from ferrograd import nn, optim
from ferrograd.nn.utils import prune


def _linear(seed: int = 0) -> nn.Linear:
    fg.manual_seed(seed)
    return nn.Linear(6, 4)


def test_l1_unstructured_masks_the_smallest_magnitudes_under_pytorchs_names() -> None:
    layer = _linear()
    weight = layer.weight.detach().numpy().copy()
    prune.l1_unstructured(layer, "weight", amount=0.25)
    mask = layer.weight_mask.numpy()
    assert mask.sum() == 24 - 6 and prune.is_pruned(layer)
    kept, dropped = np.abs(weight[mask == 1]), np.abs(weight[mask == 0])
    assert dropped.max() < kept.min()
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    np.testing.assert_array_equal(layer.weight.detach().numpy(), weight * mask)
    x = fg.randn(3, 6)
    out = layer(x)
    np.testing.assert_allclose(out.detach().numpy(), F.linear(x, fg.tensor(weight * mask), layer.bias).detach().numpy(),
                               rtol=1e-6)
    out.sum().backward()
    assert (layer.weight_orig.grad.numpy()[mask == 0] == 0).all()
    assert (layer.weight_orig.grad.numpy()[mask == 1] != 0).all()


def test_pruning_again_chooses_among_the_entries_still_kept() -> None:
    layer = _linear()
    weight = layer.weight.detach().numpy().copy()
    prune.l1_unstructured(layer, "weight", amount=0.5)
    first = layer.weight_mask.numpy().copy()
    prune.l1_unstructured(layer, "weight", amount=0.5)  # half of the remaining 12
    second = layer.weight_mask.numpy()
    assert first.sum() == 12 and second.sum() == 6 and (second <= first).all()
    order = np.sort(np.abs(weight).ravel())
    assert np.abs(weight[second == 1]).min() == order[18]
    prune.random_unstructured(layer, "weight", amount=2)
    assert layer.weight_mask.numpy().sum() == 4


def test_ln_structured_drops_the_weakest_output_channels_of_a_conv() -> None:
    fg.manual_seed(1)
    conv = nn.Conv2d(3, 6, 3)
    weight = conv.weight.detach().numpy().copy()
    prune.ln_structured(conv, "weight", amount=2, n=2, dim=0)
    mask = conv.weight_mask.numpy()
    norms = np.linalg.norm(weight.reshape(6, -1), axis=1)
    dropped = np.flatnonzero(mask.reshape(6, -1).sum(1) == 0)
    assert set(dropped) == set(np.argsort(norms)[:2])
    assert ((mask.reshape(6, -1).sum(1) == 0) | (mask.reshape(6, -1).sum(1) == 27)).all()  # whole channels
    prune.random_structured(conv, "weight", amount=0.25, dim=0)  # one more of the 4 left
    assert (conv.weight_mask.numpy().reshape(6, -1).sum(1) == 27).sum() == 3


def test_global_unstructured_pools_both_layers_and_custom_masks_compose() -> None:
    a, b = _linear(0), _linear(1)
    with fg.no_grad():
        b.weight.copy_(b.weight * 3.0)  # larger weights: b should lose fewer
    prune.global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune.L1Unstructured, amount=0.5)
    masks = [a.weight_mask.numpy(), b.weight_mask.numpy()]
    assert sum(m.sum() for m in masks) == 24
    assert masks[0].sum() < masks[1].sum()
    magnitudes = [np.abs(m.weight_orig.detach().numpy()) for m in (a, b)]
    dropped = max(w[m == 0].max() for w, m in zip(magnitudes, masks))
    kept = min(w[m == 1].min() for w, m in zip(magnitudes, masks))
    assert dropped <= kept
    custom = np.ones((4, 6), np.float32)
    custom[0] = 0.0
    prune.custom_from_mask(a, "weight", fg.tensor(custom))
    np.testing.assert_array_equal(a.weight_mask.numpy(), masks[0] * custom)


def test_training_keeps_pruned_weights_at_zero_and_remove_makes_it_permanent() -> None:
    fg.manual_seed(2)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    prune.l1_unstructured(model[0], "weight", amount=0.6)
    mask = model[0].weight_mask.numpy().copy()
    before = model[0].weight_orig.detach().numpy().copy()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 8)).astype(np.float32), rng.integers(0, 3, 64)
    model.fit((x, y), epochs=2, batch_size=16, optimizer=optim.SGD(model.parameters(), lr=0.1), verbose=False)
    after = model[0].weight_orig.detach().numpy()
    np.testing.assert_array_equal(after[mask == 0], before[mask == 0])  # no gradient through the mask
    assert (after[mask == 1] != before[mask == 1]).any()
    assert (model[0].weight.detach().numpy()[mask == 0] == 0).all()
    prune.remove(model[0], "weight")
    assert not prune.is_pruned(model)
    assert list(model[0].state_dict()) == ["bias", "weight"]
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), after * mask)
    assert model[0].weight.requires_grad
    with pytest.raises(ValueError, match="not pruned"):
        prune.remove(model[0], "weight")
    with pytest.raises(ValueError, match="amount"):
        prune.l1_unstructured(model[2], "weight", amount=1.5)
