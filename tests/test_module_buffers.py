"""Buffers: ``register_buffer(persistent=False)`` keeps a tensor with the module (devices,
``named_buffers``) but out of its state dict, ``None`` reserves a name, and ``nn.Buffer`` marks an
assigned tensor as a buffer, as in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn


def test_non_persistent_buffers_and_the_buffer_marker() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(2, 2)
            self.register_buffer("table", fg.arange(4).float(), persistent=False)
            self.scale = nn.Buffer(fg.ones(2))
            self.cache = nn.Buffer(fg.zeros(3), persistent=False)
            self.register_buffer("later", None)

    model = Model()
    assert sorted(name for name, _ in model.named_buffers()) == ["cache", "scale", "table"]
    # PyTorch's order: the module's own parameters, its persistent buffers, then its children.
    assert list(model.state_dict()) == ["scale", "linear.weight", "linear.bias"]
    assert model.later is None
    model.later = fg.ones(1)
    assert "later" in model.state_dict()
    model.register_buffer("table", fg.arange(4).float())  # re-registered as persistent
    assert "table" in model.state_dict()
    fresh = Model()
    fresh.later = fg.zeros(1)
    fresh.load_state_dict({k: v for k, v in model.state_dict().items() if k != "table"})
    np.testing.assert_array_equal(fresh.later.numpy(), [1.0])
    with pytest.raises(TypeError, match="register_buffer: argument `tensor` expected a Tensor or None"):
        model.register_buffer("bad", [1.0])  # type: ignore[arg-type]
