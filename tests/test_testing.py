"""``fg.testing.assert_close``: PyTorch's default tolerances, structure and dtype checks, and a
message that locates the worst mismatch."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.testing import assert_close


def test_default_tolerances_follow_the_dtype() -> None:
    x = fg.tensor([1.0, 2.0, 3.0])
    assert_close(x, x + 5e-6)  # float32: atol 1e-5
    with pytest.raises(AssertionError, match="Mismatched elements: 3 / 3"):
        assert_close(x, x + 1e-4)
    half = fg.tensor([1.0, 2.0]).half()
    assert_close(half, (fg.tensor([1.0, 2.0]) * (1 + 5e-4)).half())  # float16: rtol 1e-3
    assert_close(fg.tensor(np.array([1, 2])), fg.tensor(np.array([1, 2])))
    with pytest.raises(AssertionError, match="not close"):
        assert_close(fg.tensor(np.array([1, 2])), fg.tensor(np.array([1, 3])))  # integers compare exactly
    assert_close(x, x + 1e-3, rtol=0.0, atol=2e-3)


def test_messages_structure_dtype_and_nan() -> None:
    a = fg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    b = a.detach().numpy().copy()
    b[1, 2] += 1.0
    with pytest.raises(AssertionError, match=r"Greatest absolute difference: 1.0 at index \(1, 2\)"):
        assert_close(a, fg.tensor(b))
    with pytest.raises(AssertionError, match=r"at \['w'\]\[1\]"):
        assert_close({"w": [a, a]}, {"w": [a, fg.tensor(b)]})
    with pytest.raises(AssertionError, match="dtypes"):
        assert_close(a, a.half())
    assert_close(a, a.half(), check_dtype=False, rtol=1e-3, atol=1e-3)
    nan = fg.tensor([float("nan"), 1.0])
    with pytest.raises(AssertionError):
        assert_close(nan, nan)
    assert_close(nan, nan, equal_nan=True)
    with pytest.raises(AssertionError, match="^custom$"):
        assert_close(a, fg.tensor(b), msg="custom")
    with pytest.raises(AssertionError, match="shapes"):
        assert_close(a, a.reshape(3, 2))


def test_seed_and_initial_seed() -> None:
    fg.manual_seed(1234)
    assert fg.initial_seed() == 1234
    fg.rand(5)
    assert fg.initial_seed() == 1234
    chosen = fg.seed()
    assert fg.initial_seed() == chosen and chosen != fg.seed()
    fg.manual_seed(chosen)
    first = fg.rand(3).numpy()
    fg.manual_seed(chosen)
    np.testing.assert_array_equal(fg.rand(3).numpy(), first)
