"""The rest of PyTorch's top-level namespace that notebooks reach for: window functions (against
numpy's), ``finfo`` / ``iinfo``, the in-place function forms (``fg.abs_(t)``), the functional
ops under their ``torch.*`` names, small conveniences (``rsub``, ``scalar_tensor``, ``fill``,
``constant_pad_nd``, ``row_stack`` ...) and the thread count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F

# numpy's windows are the symmetric ones.
NUMPY_WINDOWS = {
    "hann_window": np.hanning,
    "hamming_window": np.hamming,
    "blackman_window": np.blackman,
    "bartlett_window": np.bartlett,
    "kaiser_window": lambda n: np.kaiser(n, 12.0),
}


@pytest.mark.parametrize("name", list(NUMPY_WINDOWS))
@pytest.mark.parametrize("length", [0, 1, 2, 7, 16])
def test_windows_equal_numpys(name: str, length: int) -> None:
    make, reference = getattr(fg, name), NUMPY_WINDOWS[name]
    symmetric = make(length, periodic=False).numpy()
    np.testing.assert_allclose(symmetric, reference(length), rtol=1e-6, atol=1e-7)
    # Periodic: the symmetric window one point longer, without its last point.
    periodic = make(length).numpy()
    expected = reference(length + 1)[:-1] if length > 1 else np.ones(length)
    np.testing.assert_allclose(periodic, expected, rtol=1e-6, atol=1e-7)
    assert periodic.dtype == np.float32


def test_window_options_and_checks() -> None:
    n = np.arange(8)
    np.testing.assert_allclose(fg.hamming_window(8, False, 0.5, 0.5).numpy(), 0.5 - 0.5 * np.cos(2 * np.pi * n / 7),
                               atol=1e-7)
    np.testing.assert_allclose(fg.kaiser_window(9, False, beta=5.0).numpy(), np.kaiser(9, 5.0), rtol=1e-6)
    w = fg.hann_window(4, requires_grad=True)
    assert w.requires_grad
    with pytest.raises(ValueError, match="window_length"):
        fg.hann_window(-1)


def test_finfo_and_iinfo() -> None:
    f32 = fg.finfo()
    assert (f32.bits, f32.eps, f32.max, f32.tiny, f32.resolution) == (32, 2.0 ** -23, float(np.finfo(np.float32).max),
                                                                      2.0 ** -126, 1e-6)
    assert f32.min == -f32.max and f32.dtype == "float32"
    half = fg.finfo(fg.float16)
    assert (half.bits, half.eps, half.max, half.tiny, half.resolution) == (16, 2.0 ** -10, 65504.0, 2.0 ** -14, 1e-3)
    bf16 = fg.finfo("bfloat16")
    assert (bf16.bits, bf16.eps, bf16.tiny, bf16.resolution) == (16, 2.0 ** -7, 2.0 ** -126, 0.01)
    assert bf16.max == float(np.float32(3.3895313892515355e38))
    assert fg.finfo(fg.zeros(1, dtype=fg.float16).dtype).bits == 16
    assert (fg.iinfo(fg.int64).min, fg.iinfo(fg.int64).max) == (-(2 ** 63), 2 ** 63 - 1)
    assert (fg.iinfo(fg.uint8).min, fg.iinfo(fg.uint8).max, fg.iinfo("int8").bits) == (0, 255, 8)
    with pytest.raises(TypeError, match="dtype"):
        fg.finfo(fg.int32)
    with pytest.raises(TypeError, match="dtype"):
        fg.iinfo(fg.float32)


def test_in_place_function_forms_write_into_their_argument() -> None:
    x = fg.tensor([-1.5, 0.25, 4.0])
    fg.abs_(x)
    np.testing.assert_array_equal(x.numpy(), [1.5, 0.25, 4.0])
    fg.sqrt_(x)
    np.testing.assert_allclose(x.numpy(), np.sqrt([1.5, 0.25, 4.0]), rtol=1e-7)
    fg.clamp_(x, max=1.0)
    np.testing.assert_allclose(x.numpy(), [1.0, 0.5, 1.0])
    fg.zero_(x)
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0, 0.0])
    fg.fill_(x, 2.5)
    np.testing.assert_array_equal(x.numpy(), [2.5, 2.5, 2.5])
    assert "exp_" in fg.__all__ and fg.exp_.__doc__


def test_functional_ops_under_their_torch_names() -> None:
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose2d", "max_pool2d", "avg_pool1d", "layer_norm",
                 "group_norm", "rms_norm", "dropout", "cosine_similarity", "pairwise_distance", "pixel_shuffle",
                 "prelu", "selu", "celu", "threshold", "hardshrink", "bilinear", "channel_shuffle"):
        assert getattr(fg, name) is getattr(F, name), name
    # torch.dropout(input, p, train) reads as F.dropout's positional arguments.
    x = fg.ones(1000)
    np.testing.assert_array_equal(fg.dropout(x, 0.3, False).numpy(), x.numpy())


def test_small_conveniences() -> None:
    x = fg.tensor([1.5, -2.0])
    np.testing.assert_array_equal(fg.rsub(x, 3, alpha=2).numpy(), [0.0, 7.0])
    np.testing.assert_array_equal(fg.rsub(x, fg.tensor([1.0, 1.0])).numpy(), [-0.5, 3.0])
    s = fg.scalar_tensor(3)
    assert s.shape == () and s.dtype == "float32" and s.item() == 3.0
    assert fg.scalar_tensor(3, dtype=fg.int64).dtype == "int64"
    filled = fg.fill(x, 7.0)
    np.testing.assert_array_equal(filled.numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(x.numpy(), [1.5, -2.0])
    padded = fg.constant_pad_nd(fg.ones(2, 2), (1, 0, 0, 1), 5.0).numpy()
    np.testing.assert_array_equal(padded, [[5, 1, 1], [5, 1, 1], [5, 5, 5]])
    assert fg.is_same_size(fg.zeros(2, 3), fg.ones(2, 3)) and not fg.is_same_size(fg.zeros(2, 3), fg.zeros(3, 2))
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    assert not fg.detach(w * 2).requires_grad
    np.testing.assert_array_equal(fg.row_stack([fg.ones(2), fg.zeros(2)]).numpy(), [[1, 1], [0, 0]])


def test_the_thread_count_is_the_pool_size_fixed_at_import() -> None:
    n = fg.get_num_threads()
    assert n >= 1
    fg.set_num_threads(n)
    with pytest.raises(RuntimeError, match="RAYON_NUM_THREADS"):
        fg.set_num_threads(n + 1)
    with pytest.raises(ValueError, match="num"):
        fg.set_num_threads(0)
    env = {**os.environ, "RAYON_NUM_THREADS": "1",
           "PYTHONPATH": str(Path(fg.__file__).parents[1]) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", "import ferrograd as fg; print(fg.get_num_threads())"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "1", out.stderr


def test_in_place_samplers_follow_their_laws() -> None:
    """200,000 draws each: sample moments against the closed forms (within a few standard errors),
    supports, and a seed that repeats them."""
    fg.manual_seed(3)
    x = fg.empty(200_000)
    exp = x.exponential_(2.0).numpy().copy()
    assert exp.min() >= 0 and abs(exp.mean() - 0.5) < 0.005 and abs(exp.std() - 0.5) < 0.005
    geo = x.geometric_(0.25).numpy().copy()
    assert geo.min() == 1 and np.array_equal(geo, np.round(geo))
    assert abs(geo.mean() - 4.0) < 0.03 and abs(geo.var() - 12.0) < 0.3  # (1 - p) / p^2
    logs = np.log(x.log_normal_(0.5, 0.25).numpy())
    assert abs(logs.mean() - 0.5) < 0.002 and abs(logs.std() - 0.25) < 0.002
    cauchy = x.cauchy_(1.0, 2.0).numpy()
    # Quartiles at median -/+ sigma.
    assert np.allclose(np.percentile(cauchy, [25, 50, 75]), [-1.0, 1.0, 3.0], atol=0.05)
    ints = fg.empty(100_000, dtype=fg.int64).random_(3, 7).numpy()
    values, counts = np.unique(ints, return_counts=True)
    assert values.tolist() == [3, 4, 5, 6] and (np.abs(counts / 100_000 - 0.25) < 0.01).all()
    floats = fg.empty(10_000).random_(10).numpy()
    assert floats.min() == 0 and floats.max() == 9 and np.array_equal(floats, np.round(floats))
    fg.manual_seed(8)
    a = fg.empty(5).exponential_().numpy().copy()
    fg.manual_seed(8)
    np.testing.assert_array_equal(fg.empty(5).exponential_().numpy(), a)
    with pytest.raises(ValueError, match="lambd"):
        x.exponential_(0.0)
    with pytest.raises(ValueError, match="from < to"):
        x.random_(5, 5)


def test_method_forms_of_package_functions() -> None:
    t = fg.tensor([[1.0, float("nan")], [3.0, -4.0]])
    assert t.nansum().item() == 0.0
    np.testing.assert_array_equal(t.nanmean(dim=0).numpy(), [2.0, -4.0])
    np.testing.assert_array_equal(t.fliplr().numpy()[1], [-4.0, 3.0])
    np.testing.assert_array_equal(t.flipud().numpy()[0], [3.0, -4.0])
    np.testing.assert_array_equal(t.signbit().numpy(), [[False, False], [False, True]])
    np.testing.assert_array_equal(fg.tensor([1.0, 2.0]).diag_embed().numpy(), np.diag([1.0, 2.0]))
    np.testing.assert_array_equal(fg.tensor([1.0, 2.0]).diagflat().numpy(), np.diag([1.0, 2.0]))
    u = fg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(u.where(u > 1.5, 0.0).numpy(), [0.0, 2.0, 3.0])
    fg.manual_seed(0)
    picks = fg.tensor([0.0, 1.0, 0.0]).multinomial(4, replacement=True).numpy()
    assert (picks == 1).all()
    assert set(fg.tensor([0.0, 1.0]).bernoulli().numpy().tolist()) == {0.0, 1.0}
