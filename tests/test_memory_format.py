"""Memory formats: ``channels_last`` tensors (``[N, C, H, W]`` stored as ``[N, H, W, C]``), their
strides against the values PyTorch documents, conversions and their gradients, and convolutions and
models fed channels-last inputs. On the CPU a convolution reads a channels-last input through a
row-major copy, so its values are the NCHW convolution's bit for bit; the GPU's implicit GEMM reads
and writes NHWC in place (``test_cuda.py`` and ``test_cuda_emulation.py``)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.functional as F


def test_channels_last_strides_and_predicates() -> None:
    x = fg.tensor(np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5))
    assert x.stride() == (60, 20, 5, 1) and x.stride(1) == 20 and x.stride(-1) == 1
    y = x.contiguous(memory_format=fg.channels_last)
    # torch.empty(2, 3, 4, 5).contiguous(memory_format=torch.channels_last).stride()
    assert y.stride() == (60, 1, 15, 3) and y.storage_offset() == 0
    assert y.is_contiguous(memory_format=fg.channels_last) and not y.is_contiguous()
    assert x.is_contiguous() and not x.is_contiguous(memory_format=fg.channels_last)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    # The storage holds the NHWC order: numpy's transpose, flattened.
    np.testing.assert_array_equal(y.permute(0, 2, 3, 1).contiguous().numpy().ravel(),
                                  x.numpy().transpose(0, 2, 3, 1).ravel())
    assert y.contiguous(memory_format=fg.channels_last).stride() == y.stride()
    back = y.contiguous()
    assert back.stride() == (60, 20, 5, 1)
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    z = x.to(memory_format=fg.channels_last)
    assert z.stride() == (60, 1, 15, 3)
    assert x.to(memory_format=fg.preserve_format).stride() == x.stride()
    assert x.to("float32", memory_format=fg.channels_last).stride() == (60, 1, 15, 3)
    # One channel: row-major and channels-last at once, as in PyTorch.
    single = fg.zeros(2, 1, 4, 5)
    assert single.is_contiguous() and single.is_contiguous(memory_format=fg.channels_last)
    sliced = x[:, :, 1:, ::2]
    assert sliced.stride() == (60, 20, 5, 2) and sliced.storage_offset() == 5
    assert repr(fg.channels_last) == "ferrograd.channels_last"
    assert fg.channels_last == fg.channels_last and fg.channels_last != fg.contiguous_format


def test_channels_last_conversion_passes_gradients() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    w = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    x = fg.tensor(a, requires_grad=True)
    y = x.contiguous(memory_format=fg.channels_last)
    assert y.grad_fn is not None
    (y * fg.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), w)


def test_bad_memory_format_arguments_raise() -> None:
    x = fg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"memory_format.*rank-4 \[N, C, H, W\].*\[2, 3\]"):
        x.contiguous(memory_format=fg.channels_last)
    with pytest.raises(ValueError, match="preserve_format"):
        fg.zeros(1, 2, 3, 4).contiguous(memory_format=fg.preserve_format)
    with pytest.raises(ValueError, match="preserve_format"):
        fg.zeros(1, 2, 3, 4).is_contiguous(memory_format=fg.preserve_format)
    with pytest.raises(TypeError):
        fg.zeros(1, 2, 3, 4).contiguous(memory_format="channels_last")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="memory_format must be a ferrograd.memory_format.*'nhwc'"):
        fg.nn.Conv2d(1, 2, 3).to(memory_format="nhwc")  # type: ignore[arg-type]


@pytest.mark.parametrize("groups,stride,dilation", [(1, 1, 1), (2, 2, 2)])
def test_convolution_of_a_channels_last_input_matches_the_nchw_one(groups: int, stride: int, dilation: int) -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((6, 4 // groups, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    outs, grads = [], []
    for fmt in (fg.contiguous_format, fg.channels_last):
        x = fg.tensor(a, requires_grad=True)
        wt, bt = fg.tensor(w, requires_grad=True), fg.tensor(b, requires_grad=True)
        y = F.conv2d(x.contiguous(memory_format=fmt), wt, bt, stride, 1, dilation, groups)
        (y * y).sum().backward()
        outs.append(y.detach().numpy())
        grads.append([x.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()])
    np.testing.assert_array_equal(outs[1], outs[0])
    for g1, g0 in zip(grads[1], grads[0]):
        np.testing.assert_array_equal(g1, g0)


def test_pointwise_ops_and_batch_norm_keep_channels_last() -> None:
    """Pointwise ops (with broadcasting) and batch norm return channels-last results for a
    channels-last input, as PyTorch does, with the NCHW computation's values and gradients (batch
    norm sums each channel in another order: within 1e-5)."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 3, 5, 6)).astype(np.float32)
    bias = rng.standard_normal((3, 1, 1)).astype(np.float32)
    results = {}
    for fmt in (fg.contiguous_format, fg.channels_last):
        x = fg.tensor(a, requires_grad=True)
        bn = fg.nn.BatchNorm2d(3)
        h = bn(F.relu(x.contiguous(memory_format=fmt)) * 2.0 + fg.tensor(bias))
        y = F.gelu(h + x.contiguous(memory_format=fmt))
        expect_cl = fmt == fg.channels_last
        assert h.is_contiguous(memory_format=fg.channels_last) == expect_cl
        assert y.is_contiguous(memory_format=fg.channels_last) == expect_cl and y.is_contiguous() != expect_cl
        (y * y).sum().backward()
        results[fmt] = (y.detach().numpy(), x.grad.numpy(), bn.weight.grad.numpy(), bn.running_var.numpy())
    for got, want in zip(results[fg.channels_last], results[fg.contiguous_format]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def _small_cnn() -> fg.nn.Module:
    n = fg.nn
    return n.Sequential(n.Conv2d(1, 4, 3), n.ReLU(), n.MaxPool2d(2), n.Conv2d(4, 6, 3), n.ReLU(), n.Flatten(),
                        n.Linear(6 * 11 * 11, 10))


def test_a_model_moved_to_channels_last_trains_like_the_nchw_one(mnist: dict) -> None:
    """``model.to(memory_format=channels_last)`` makes each Conv2d bring its input to NHWC (so the
    convolutions see channels-last tensors), in the Python forward and in ``fit``'s Rust loop; on
    the CPU that changes no value, so a channels-last run's History equals the NCHW run's."""
    x, y = mnist["x_train"][:512], mnist["y_train"][:512]
    histories, outputs = [], []
    for fmt in (None, fg.channels_last):
        fg.manual_seed(0)
        model = _small_cnn()
        if fmt is not None:
            assert model.to(memory_format=fmt) is model
            assert all(m.input_format == fmt for m in model.modules() if isinstance(m, fg.nn.Conv2d))
            pooled = model[2](model[1](model[0](fg.tensor(x[:2]))))
            assert model[3]._formatted(pooled).stride() == (4 * 13 * 13, 1, 13 * 4, 4)
        h = model.fit((x, y), epochs=1, batch_size=64, seed=0, verbose=False)
        histories.append({k: v for k, v in h.history.items() if k != "time"})
        outputs.append(model(fg.tensor(x[:8])).detach().numpy())
    assert histories[1] == histories[0]
    np.testing.assert_array_equal(outputs[1], outputs[0])
    model.to(memory_format=fg.contiguous_format)
    assert model[0].input_format == fg.contiguous_format
