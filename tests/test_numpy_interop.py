"""numpy conversion: zero-copy views where the layout allows, copies elsewhere, dtype mapping."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg


def test_numpy_shares_memory_with_the_tensor():
    t = fg.zeros(2, 3)
    a = t.numpy()
    t[0, 1] = 5.0
    assert a[0, 1] == 5.0
    a[1, 2] = 7.0
    assert t[1, 2].item() == 7.0
    v = t.T.numpy()
    assert v.shape == (3, 2) and v[2, 1] == 7.0 and not v.flags["C_CONTIGUOUS"]
    sliced = t[:, 1:].numpy()
    np.testing.assert_array_equal(sliced, [[5.0, 0.0], [0.0, 7.0]])


def test_broadcast_views_are_copied_and_views_outlive_the_tensor():
    e = fg.ones(3).expand(2, 3).numpy()
    e[0, 0] = 9
    assert e[1, 0] == 1
    a = fg.tensor(np.arange(4, dtype=np.int64)).numpy()
    import gc

    gc.collect()
    np.testing.assert_array_equal(a, [0, 1, 2, 3])


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64, np.int32, np.uint8, np.bool_])
def test_dtypes_round_trip(dtype):
    x = (np.arange(12) % 3).astype(dtype).reshape(3, 4)
    t = fg.tensor(x)
    assert t.dtype == np.dtype(dtype).name
    np.testing.assert_array_equal(t.numpy(), x)
    assert np.asarray(t).dtype == x.dtype


def test_float64_is_narrowed_and_grad_tensors_need_detach():
    t = fg.tensor(np.array([0.1, 0.2]), requires_grad=True)
    assert t.dtype == "float32"
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    np.testing.assert_allclose(t.detach().numpy(), [0.1, 0.2], rtol=1e-7)
