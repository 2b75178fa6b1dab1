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


def test_objects_that_are_not_arrays_raise_a_type_error_naming_the_accepted_dtypes():
    class DtypeWithoutName:
        dtype = object()

    class Float16Lookalike:
        class dtype:  # noqa: N801 - mimics numpy's `dtype` attribute
            name = "float16"

    swapped = np.arange(3, dtype=">f2") if np.little_endian else np.arange(3, dtype="<f2")
    for obj in (DtypeWithoutName(), Float16Lookalike(), [1.0, 2.0], swapped):
        with pytest.raises(TypeError, match="float32, float64, float16|expected"):
            fg.Tensor.from_numpy(obj)


@pytest.mark.parametrize("code", ["f2", "f4", "f8", "i4", "i8"])
def test_tensor_reads_arrays_of_either_byte_order(code):
    for order in "<>":
        x = np.arange(-3, 3).astype(order + code)
        np.testing.assert_array_equal(fg.tensor(x).numpy(), np.arange(-3, 3))
