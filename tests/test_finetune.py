"""Fine-tuning helpers: freezing by name pattern, per-group learning rates, LoRA adapters
(start equal to the base layer, train only the adapters, merge and unmerge exactly), head
replacement, and a LoRA fine-tune of MiniLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import finetune, nn


def small_net() -> nn.Sequential:
    fg.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))


def test_freeze_unfreeze_and_param_groups_by_pattern():
    net = small_net()
    assert finetune.freeze(net, "0.*") == ["0.weight", "0.bias"]
    assert not net[0].weight.requires_grad and net[2].weight.requires_grad
    assert finetune.freeze(net, ["*.bias"]) == ["0.bias", "2.bias", "4.bias"]
    assert finetune.unfreeze(net, "0.weight") == ["0.weight"]
    assert [id(p) for p in finetune.trainable_parameters(net)] == [id(net[0].weight), id(net[2].weight), id(net[4].weight)]
    groups = finetune.param_groups(net, {"4.*": 0.1, "0.*": 0.01}, default_lr=0.001)
    assert [(len(g["params"]), g["lr"]) for g in groups] == [(1, 0.1), (1, 0.01), (1, 0.001)]
    opt = fg.optim.SGD(groups, lr=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01, 0.001]
    with pytest.raises(ValueError, match="no trainable parameter"):
        finetune.param_groups(net, {"9.*": 0.1})


def test_frozen_parameters_stay_fixed_during_fit():
    net = small_net()
    finetune.freeze(net, ["0.*", "2.*"])
    before = {n: p.detach().numpy().copy() for n, p in net.named_parameters()}
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64)
    net.fit((x, y), epochs=2, batch_size=16, optimizer=fg.optim.Adam(finetune.trainable_parameters(net), lr=0.01),
            verbose=False, seed=0)
    for n, p in net.named_parameters():
        changed = not np.array_equal(before[n], p.detach().numpy())
        assert changed == n.startswith("4."), n


def test_lora_starts_at_the_base_layer_trains_only_adapters_and_merges_exactly():
    net = small_net()
    x = fg.randn(5, 4)
    with fg.no_grad():
        reference = net(x).numpy()
    wrapped = finetune.apply_lora(net, ["2", "4"], r=2, alpha=4.0, trainable="4.base.bias")
    assert wrapped == ["2", "4"] and isinstance(net[2], finetune.LoRALinear)
    names = [n for n, p in net.named_parameters() if p.requires_grad]
    assert names == ["2.lora_A", "2.lora_B", "4.lora_A", "4.lora_B", "4.base.bias"]
    with fg.no_grad():
        np.testing.assert_allclose(net(x).numpy(), reference, atol=1e-6)  # lora_B starts at zero
    base_weight = net[2].base.weight.detach().numpy().copy()
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64))
    net.fit(data, epochs=3, batch_size=16, optimizer=fg.optim.Adam(finetune.trainable_parameters(net), lr=0.05),
            verbose=False, seed=0)
    np.testing.assert_array_equal(net[2].base.weight.detach().numpy(), base_weight)
    with fg.no_grad():
        adapted = net(x).numpy()
        assert not np.allclose(adapted, reference, atol=1e-3)
        delta = (net[2].lora_B.detach().numpy() @ net[2].lora_A.detach().numpy()) * 2.0
        finetune.merge_lora(net)
        np.testing.assert_allclose(net[2].base.weight.numpy(), base_weight + delta, atol=1e-6)
        np.testing.assert_allclose(net(x).numpy(), adapted, atol=1e-5)
        finetune.unmerge_lora(net)
        np.testing.assert_allclose(net[2].base.weight.numpy(), base_weight, atol=1e-6)
        np.testing.assert_allclose(net(x).numpy(), adapted, atol=1e-5)
    with pytest.raises(ValueError, match="no Linear"):
        finetune.apply_lora(small_net(), "*.query")
    with pytest.raises(TypeError, match="base"):
        finetune.LoRALinear(nn.ReLU())  # type: ignore[arg-type]


def test_lora_fine_tune_of_minilm_keeps_the_encoder_and_learns(minilm_dir: Path, data_dir: Path):
    tokenizer = fg.text.Tokenizer.from_pretrained(minilm_dir)
    train = fg.text.text_classification_dataset(data_dir / "sst2" / "train.tsv", tokenizer, max_length=32, limit=512)
    fg.manual_seed(0)
    model = fg.models.BertForSequenceClassification.from_pretrained(minilm_dir, num_labels=2, pooling="mean")
    model.classifier = nn.Linear(384, 2)  # replace the head
    wrapped = finetune.apply_lora(model, ["*.attention.self.query", "*.attention.self.value"], r=4, alpha=8.0,
                                  trainable="classifier.*")
    assert len(wrapped) == 12
    trainable = finetune.trainable_parameters(model)
    assert sum(p.numel() for p in trainable) == 12 * 4 * (384 + 384) + 384 * 2 + 2
    frozen = model.bert.encoder.layer[0].attention.self.query.base.weight.detach().numpy().copy()
    history = model.fit(train, epochs=2, batch_size=32, optimizer=fg.optim.AdamW(trainable, lr=2e-3), seed=0,
                        verbose=False)
    np.testing.assert_array_equal(model.bert.encoder.layer[0].attention.self.query.base.weight.detach().numpy(), frozen)
    assert history["loss"][1] < history["loss"][0] and history["accuracy"][1] > 0.6
