"""Module registration the PyTorch way: register_parameter (frozen ones too), get_parameter /
get_buffer, and extra state carried by the state dict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn


class _Scaled(nn.Module):
    """A custom module with a trainable scale, a frozen offset, an optional bias and a counter kept
    as extra state."""

    def __init__(self) -> None:
        super().__init__()
        self.register_parameter("scale", nn.Parameter(fg.ones(3)))
        self.register_parameter("offset", nn.Parameter(fg.zeros(3) + 0.5, requires_grad=False))
        self.register_parameter("bias", None)
        self.register_buffer("count", fg.zeros(()))
        self.calls = 0

    def forward(self, x: fg.Tensor) -> fg.Tensor:
        self.calls += 1
        return x * self.scale + self.offset

    def get_extra_state(self) -> Any:
        return {"calls": self.calls}

    def set_extra_state(self, state: Any) -> None:
        self.calls = state["calls"]


def test_register_parameter_and_lookups() -> None:
    m = nn.Sequential(nn.Linear(3, 3), _Scaled())
    own = m[1]
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias", "1.scale", "1.offset"]
    assert own.bias is None and not own.offset.requires_grad
    assert m.get_parameter("1.scale") is own.scale and m.get_parameter("0.weight") is m[0].weight
    assert m.get_buffer("1.count") is own.count
    with pytest.raises(AttributeError, match="no parameter 'nope'"):
        m.get_parameter("1.nope")
    with pytest.raises(KeyError, match="without '.'"):
        own.register_parameter("a.b", None)
    out = m(fg.randn(2, 3))
    out.sum().backward()
    assert own.scale.grad is not None and own.offset.grad is None


def test_extra_state_travels_with_the_state_dict() -> None:
    fg.manual_seed(0)
    a = nn.Sequential(nn.Linear(3, 3), _Scaled())
    for _ in range(3):
        a(fg.randn(2, 3))
    state = a.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.scale", "1.offset", "1.count", "1._extra_state"]
    assert state["1._extra_state"] == {"calls": 3}
    b = nn.Sequential(nn.Linear(3, 3), _Scaled())
    b.load_state_dict(state)
    assert b[1].calls == 3
    np.testing.assert_array_equal(b[0].weight.detach().numpy(), a[0].weight.detach().numpy())
    with pytest.raises(RuntimeError, match="no extra state"):
        nn.Linear(2, 2).get_extra_state()


def test_dirac_and_sparse_initialisation() -> None:
    conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)
    x = fg.randn(2, 3, 5, 5)
    out = conv(x).detach().numpy()
    np.testing.assert_allclose(out[:, :3], x.numpy(), rtol=1e-6)  # identity on the first 3 channels
    assert (out[:, 3] == 0).all()
    grouped = fg.zeros(4, 2, 3)
    nn.init.dirac_(grouped, groups=2)
    assert grouped.numpy()[:, :, 1].tolist() == [[1, 0], [0, 1], [1, 0], [0, 1]]
    w = fg.zeros(10, 6)
    nn.init.sparse_(w, sparsity=0.3, std=0.5, generator=fg.Generator().manual_seed(0))
    zeros_per_column = (w.numpy() == 0).sum(0)
    assert (zeros_per_column == 3).all()
    assert 0.2 < w.numpy()[w.numpy() != 0].std() < 0.8
    with pytest.raises(ValueError, match="2-D"):
        nn.init.sparse_(fg.zeros(3), 0.1)
