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
