"""Indexing with numpy's (and PyTorch's) rules: integer arrays broadcast together and pick one
entry per position (not the outer product), integers select views that writes reach, assignment
through integer positions, `.item()` types, clamp's gradient at the bounds, and clear errors for
malformed keys and impossible allocations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ferrograd as fg

A = np.arange(60.0, dtype=np.float32).reshape(3, 4, 5)


def _ours(item: Any) -> Any:
    return fg.tensor(np.asarray(item)) if isinstance(item, list) else item


KEYS = [
    ([0, 2], [1, 3]),                          # pairs, not the outer product
    (slice(None), [0, 1], [2, 3]),             # adjacent: the picked axis stays in place
    ([0, 2], slice(None), [1, 4]),             # separated: the picked axis goes first
    (0, slice(None), [1, 2]),                  # an integer counts as an index beside an array
    (slice(None), [[0, 1], [1, 3]]),           # a 2-D index array
    ([[0], [2]], slice(1, 3), [1, 4]),         # broadcasting [2, 1] with [2]
    (Ellipsis, [0, -1]),                       # negative positions
    ([-1, 0], None, slice(None), [3, 3]),      # None among the indices
    ([1], 2),
]


@pytest.mark.parametrize("key", KEYS, ids=[str(k) for k in KEYS])
def test_integer_array_indices_follow_numpy(key: tuple) -> None:
    want = A[tuple(np.asarray(k) if isinstance(k, list) else k for k in key)]
    got = fg.tensor(A)[tuple(_ours(k) for k in key)].numpy()
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_picking_each_rows_label_and_its_gradient() -> None:
    logits = np.arange(12.0, dtype=np.float32).reshape(4, 3)
    labels = np.array([0, 2, 1, 1])
    x = fg.tensor(logits, requires_grad=True)
    picked = x[fg.arange(4), fg.tensor(labels)]
    np.testing.assert_array_equal(picked.detach().numpy(), logits[np.arange(4), labels])
    (picked * fg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    expected = np.zeros_like(logits)
    expected[np.arange(4), labels] = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_integer_indices_select_views_that_writes_reach() -> None:
    x = fg.ones(2, 3)
    x[:, 1] = 5.0
    x[:, 0].zero_()
    x.t()[2].fill_(7.0)
    assert x.tolist() == [[0.0, 5.0, 7.0], [0.0, 5.0, 7.0]]
    y = fg.zeros(2, 3, 4)
    y[..., 0] = 1.0
    y[1, :, -1] = fg.tensor([2.0, 3.0, 4.0])
    want = np.zeros((2, 3, 4), np.float32)
    want[..., 0] = 1.0
    want[1, :, -1] = [2.0, 3.0, 4.0]
    np.testing.assert_array_equal(y.numpy(), want)


def test_assignment_through_integer_positions() -> None:
    w = fg.zeros(5)
    w[fg.tensor([1, 3, 1])] += 1.0  # a repeated position is written once, as in PyTorch
    assert w.tolist() == [0.0, 1.0, 0.0, 1.0, 0.0]
    m = fg.zeros(3, 3)
    m[fg.tensor([0, 2]), fg.tensor([1, 1])] = 7.0
    m[[1], 0] = fg.tensor([9.0])
    assert m.tolist() == [[0.0, 7.0, 0.0], [9.0, 0.0, 0.0], [0.0, 7.0, 0.0]]
    counts = fg.zeros(4, dtype="int64")
    counts[[0, 2]] = fg.tensor([3, 4])
    assert counts.dtype == "int64" and counts.tolist() == [3, 0, 4, 0]
    with pytest.raises(ValueError, match="must broadcast to the indexed shape"):
        m[fg.tensor([0, 1])] = fg.ones(2, 2)


def test_item_gives_the_python_type_of_the_dtype() -> None:
    correct = (fg.tensor([1, 2, 3]) == fg.tensor([1, 0, 3])).sum().item()
    assert correct == 2 and type(correct) is int
    assert fg.tensor([True]).item() is True
    assert fg.tensor(2**60 + 1).item() == 2**60 + 1  # exact, not through a float
    assert type(fg.tensor(1.5).item()) is float
    assert int(fg.tensor(2**60 + 1)) == 2**60 + 1


def test_clamp_passes_no_gradient_at_its_bounds() -> None:
    """PyTorch's rule: the gradient flows only strictly inside [min, max] (also one-sided)."""
    for clamp, want in [(lambda t: t.clamp(0.0, 1.0), [0, 1, 0, 0]), (lambda t: t.clamp(min=0.0), [0, 1, 1, 1]),
                        (lambda t: t.clamp(max=1.0), [1, 1, 0, 0])]:
        x = fg.tensor([0.0, 0.5, 1.0, 2.0], requires_grad=True)
        clamp(x).sum().backward()
        assert x.grad.tolist() == want


def test_malformed_keys_and_impossible_sizes_raise() -> None:
    with pytest.raises(IndexError, match="single ellipsis"):
        fg.zeros(2, 3)[..., ..., 0]
    with pytest.raises(IndexError, match="out of bounds"):
        fg.zeros(2, 3)[fg.tensor([0, 1]), fg.tensor([0, 3])]
    with pytest.raises(IndexError, match="bool mask cannot be combined"):
        fg.zeros(2, 3)[fg.tensor([True, False]), fg.tensor([0])]
    with pytest.raises(MemoryError, match="out of memory"):
        fg.empty(2**62)
    with pytest.raises(MemoryError, match="out of memory"):
        fg.randn(40000, 40000 * 1000)
    with pytest.raises(ValueError, match="element count"):
        fg.zeros(2**40, 2**40)
